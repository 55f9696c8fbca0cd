import Foundation
import Hummingbird
import IManageClient
import Testing
import TokendPolicy
import TokendTestSupport

@Suite("nothing secret leaks")
struct SecretHygieneTests {
    @Test func credentialsNeverShowTheSecret() {
        let credentials = TestSecrets.credentials
        var dumped = ""
        dump(credentials, to: &dumped)
        for text in ["\(credentials)", String(describing: credentials), String(reflecting: credentials), dumped] {
            #expect(!text.contains(TestSecrets.clientSecret))
            #expect(text.contains("tokend-client"))
        }
    }

    /// A hostile server echoes everything it received into its answers; no failure, and no log
    /// line of the client, may carry a token, the code or the secret.
    @Test func failuresAndLogsNeverCarrySecretsEvenWhenTheServerEchoesThem() async throws {
        let answers: [@Sendable (RecordedRequest) -> Response] = [
            { jsonAnswer(400, #"{"error":"invalid_grant","echo":"\#(String(decoding: $0.body, as: UTF8.self))"}"#) },
            { jsonAnswer(401, #"{"error":"invalid_client","client_secret":"\#($0.form["client_secret"] ?? "")"}"#) },
            { textAnswer(500, "failed for \($0.form["refresh_token"] ?? "") and \($0.headers["x-auth-token"] ?? "")") },
            { jsonAnswer(200, #"{"access_token":"","refresh_token":"\#($0.form["refresh_token"] ?? "")"}"#) },
            { jsonAnswer(200, #"{"access_token":"x","expires_in":"\#($0.form["code"] ?? "soon")"}"#) },
            { jsonAnswer(401, #"{"error":{"code":"BAD","code_message":"token \#($0.headers["x-auth-token"] ?? "")"}}"#) },
            { jsonAnswer(200, #"{"data":{"user":{"id":"\#($0.headers["x-auth-token"] ?? "")\n","customer_id":"1"}}}"#) },
            // The secret as the error code itself: token-shaped, so it must not pass for a code.
            { jsonAnswer(400, #"{"error":"\#($0.form["refresh_token"] ?? $0.form["code"] ?? $0.headers["x-auth-token"] ?? "")"}"#) },
            { jsonAnswer(401, #"{"error":{"code":"\#($0.headers["x-auth-token"] ?? $0.form["code_verifier"] ?? $0.form["refresh_token"] ?? "")"}}"#) },
        ]
        let logs = LogCapture()
        var failures: [RefreshFailure] = []
        for answer in answers {
            let collected = try await withServer({ request in answer(request) }) { server in
                try await withClient(logs: logs) { client in
                    [
                        await client.refresh(
                            tokenURL: server.url("/auth/oauth2/token"), credentials: TestSecrets.credentials,
                            refreshToken: TestSecrets.refreshToken).failure,
                        await client.exchangeCode(
                            tokenURL: server.url("/auth/oauth2/token"), credentials: TestSecrets.credentials,
                            code: TestSecrets.code, redirectURI: "https://x.example/cb",
                            codeVerifier: TestSecrets.verifier).failure,
                        await client.discover(discoveryURL: server.url("/api"), accessToken: TestSecrets.accessToken)
                            .failure,
                    ].compactMap { $0 }
                }
            }
            failures += collected
        }
        #expect(failures.count >= answers.count * 2)
        #expect(!logs.all.isEmpty)
        for secret in TestSecrets.all {
            for failure in failures { #expect(!failure.allTexts.contains(secret), "\(failure.detail)") }
            for line in logs.all { #expect(!line.contains(secret), "\(line)") }
        }
    }
}
