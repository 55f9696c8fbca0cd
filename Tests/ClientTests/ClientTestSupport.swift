import Foundation
import IManageClient
import Logging
import TokendPolicy
import TokendTestSupport

/// Values a test uses as secrets; none of them may appear in a failure or a log line.
enum TestSecrets {
    static let refreshToken = "rt-9f8e7d6c5b4a39281706f5e4d3c2b1a0ZYXWVU"
    static let rotatedRefreshToken = "rt-rotated-0a1b2c3d4e5f60718293a4b5c6d7e8f9"
    static let accessToken = "at-1234567890abcdefghijklmnopqrstuvwxyzABCD"
    static let clientSecret = "s3cr&t=+ /é%-very-secret-client-secret-value"
    static let code = "code-aabbccddeeff00112233445566778899"
    static let verifier = "verifier-0123456789abcdefghijklmnopqrstuvwxyz"
    static let all = [refreshToken, rotatedRefreshToken, accessToken, clientSecret, code, verifier]

    static let credentials = ClientCredentials(clientID: "tokend-client", clientSecret: clientSecret)
}

/// Runs `body` with a client, always shutting it down afterwards.
func withClient<Value>(
    _ settings: IManageClientSettings = IManageClientSettings(connectTimeout: 2, requestTimeout: 5),
    logs: LogCapture = LogCapture(),
    _ body: (IManageHTTPClient) async throws -> Value
) async throws -> Value {
    let client = try IManageHTTPClient(settings: settings, logger: logs.logger)
    return try await withTeardown({ await client.shutdown() }) { try await body(client) }
}

/// Runs `body` with a test server, always stopping it afterwards.
func withServer<Value>(
    _ handler: @escaping TestIManageServer.Handler,
    _ body: (TestIManageServer) async throws -> Value
) async throws -> Value {
    let server = try await TestIManageServer.start(handler)
    return try await withTeardown({ await server.stop() }) { try await body(server) }
}

extension Result {
    var failure: Failure? {
        if case .failure(let failure) = self { return failure }
        return nil
    }

    var success: Success? {
        if case .success(let value) = self { return value }
        return nil
    }
}

extension RefreshFailure {
    /// Every text of the failure that could reach a person.
    var allTexts: String { [description, detail, responseExcerpt ?? "", "\(self)"].joined(separator: "\n") }
}
