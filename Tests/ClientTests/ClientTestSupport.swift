import Foundation
import IManageClient
import Logging
import Synchronization
import TokendPolicy
#if canImport(Glibc)
import Glibc
#endif

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

/// Collects every log message and metadata value the client writes, at every level.
final class LogCapture: Sendable {
    private let lines = Mutex<[String]>([])

    var all: [String] { lines.withLock { $0 } }

    func append(_ line: String) { lines.withLock { $0.append(line) } }

    var logger: Logger {
        var logger = Logger(label: "client-test") { _ in CapturingLogHandler(capture: self) }
        logger.logLevel = .trace
        return logger
    }
}

private struct CapturingLogHandler: LogHandler {
    let capture: LogCapture
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let fields = metadata.merging(event.metadata ?? [:]) { _, new in new }
        capture.append("\(event.message) \(fields) \(event.error.map { "\($0)" } ?? "")")
    }
}

/// Runs `body` with a client, always shutting it down afterwards.
func withClient<Value>(
    _ settings: IManageClientSettings = IManageClientSettings(connectTimeout: 2, requestTimeout: 5),
    logs: LogCapture = LogCapture(),
    _ body: (IManageHTTPClient) async throws -> Value
) async throws -> Value {
    let client = try IManageHTTPClient(settings: settings, logger: logs.logger)
    do {
        let value = try await body(client)
        await client.shutdown()
        return value
    } catch {
        await client.shutdown()
        throw error
    }
}

/// Runs `body` with a test server, always stopping it afterwards.
func withServer<Value>(
    _ handler: @escaping TestIManageServer.Handler,
    _ body: (TestIManageServer) async throws -> Value
) async throws -> Value {
    let server = try await TestIManageServer.start(handler)
    do {
        let value = try await body(server)
        await server.stop()
        return value
    } catch {
        await server.stop()
        throw error
    }
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

/// A TCP port on 127.0.0.1 that is bound but not listening: connecting to it is refused.
final class RefusingPort {
    let port: Int
    private let descriptor: CInt

    init() throws {
        let descriptor = socket(AF_INET, CInt(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Bool in
                bind(descriptor, pointer, length) == 0 && getsockname(descriptor, pointer, &length) == 0
            }
        }
        guard bound else {
            close(descriptor)
            throw POSIXError(.EADDRINUSE)
        }
        self.descriptor = descriptor
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(descriptor) }
}
