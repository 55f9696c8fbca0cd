import Foundation
import Hummingbird
import IManageClient
import Testing
import TokendPolicy

@Suite("token endpoint")
struct TokenEndpointTests {
    @Test func refreshSendsTheFormAndReturnsTheParsedToken() async throws {
        let answer = #"{"access_token":"\#(TestSecrets.accessToken)","refresh_token":"\#(TestSecrets.rotatedRefreshToken)","token_type":"Bearer","expires_in":1200}"#
        try await withServer({ _ in jsonAnswer(answer) }) { server in
            let result = try await withClient { client in
                await client.refresh(
                    tokenURL: server.url("/auth/oauth2/token"), credentials: TestSecrets.credentials,
                    refreshToken: TestSecrets.refreshToken)
            }
            #expect(result.success == TokenResponse(
                accessToken: TestSecrets.accessToken, refreshToken: TestSecrets.rotatedRefreshToken,
                expiresIn: 1200, tokenType: "Bearer"))

            let request = try #require(server.requests.first)
            #expect(server.requests.count == 1)
            #expect(request.method == "POST")
            #expect(request.path == "/auth/oauth2/token")
            #expect(request.query == nil || request.query == "")
            #expect(!request.uri.contains("secret") && !request.uri.contains("token="))
            #expect(request.headers["content-type"] == "application/x-www-form-urlencoded")
            #expect(request.headers["accept"] == "application/json")
            #expect(request.headers["x-auth-token"] == nil)
            #expect(request.form == [
                "grant_type": "refresh_token", "refresh_token": TestSecrets.refreshToken,
                "client_id": "tokend-client", "client_secret": TestSecrets.clientSecret,
            ])
            // Reserved characters are percent-encoded, so the secret's `&`, `=`, `+` and space survive.
            let raw = String(decoding: request.body, as: UTF8.self)
            #expect(raw.contains("client_secret=s3cr%26t%3D%2B%20%2F%C3%A9%25-very-secret"))
        }
    }

    @Test func anAnswerWithoutRefreshTokenKeepsTheOldOne() async throws {
        try await withServer({ _ in jsonAnswer(#"{"access_token":"\#(TestSecrets.accessToken)"}"#) }) { server in
            let result = try await withClient { client in
                await client.refresh(
                    tokenURL: server.url("/auth/oauth2/token"), credentials: TestSecrets.credentials,
                    refreshToken: TestSecrets.refreshToken)
            }
            let token = try #require(result.success)
            #expect(token.refreshToken == nil)
            #expect(token.expiresIn == 1800)
        }
    }

    @Test func exchangeCodeSendsCodeRedirectAndVerifier() async throws {
        let answer = #"{"access_token":"\#(TestSecrets.accessToken)","refresh_token":"\#(TestSecrets.refreshToken)","expires_in":1800}"#
        try await withServer({ _ in jsonAnswer(answer) }) { server in
            try await withClient { client in
                let withVerifier = await client.exchangeCode(
                    tokenURL: server.url("/auth/oauth2/token"), credentials: TestSecrets.credentials,
                    code: TestSecrets.code, redirectURI: "https://tokend.example.com/oauth/callback",
                    codeVerifier: TestSecrets.verifier)
                #expect(withVerifier.success?.refreshToken == TestSecrets.refreshToken)
                let withoutVerifier = await client.exchangeCode(
                    tokenURL: server.url("/auth/oauth2/token"), credentials: TestSecrets.credentials,
                    code: TestSecrets.code, redirectURI: "https://tokend.example.com/oauth/callback",
                    codeVerifier: nil)
                #expect(withoutVerifier.success != nil)
            }
            let requests = server.requests
            try #require(requests.count == 2)
            #expect(requests[0].form == [
                "grant_type": "authorization_code", "code": TestSecrets.code,
                "redirect_uri": "https://tokend.example.com/oauth/callback",
                "client_id": "tokend-client", "client_secret": TestSecrets.clientSecret,
                "code_verifier": TestSecrets.verifier,
            ])
            #expect(requests[1].form["code_verifier"] == nil)
            #expect(requests[1].form["code"] == TestSecrets.code)
        }
    }

    @Test func invalidGrantMeansTheGrantIsDead() async throws {
        let failure = try await refreshFailure(jsonAnswer(400, #"{"error":"invalid_grant","error_description":"expired"}"#))
        #expect(failure.failureClass == .grantDead)
        #expect(failure.httpStatus == 400)
        #expect(failure.oauthError == "invalid_grant")
        #expect(failure.detail.contains("127.0.0.1") && failure.detail.contains("authorise again"))
    }

    @Test func invalidGrantOnACodeTellsToStartAgain() async throws {
        try await withServer({ _ in jsonAnswer(400, #"{"error":"invalid_grant"}"#) }) { server in
            let result = try await withClient { client in
                await client.exchangeCode(
                    tokenURL: server.url("/auth/oauth2/token"), credentials: TestSecrets.credentials,
                    code: TestSecrets.code, redirectURI: "https://x.example/oauth/callback", codeVerifier: nil)
            }
            let failure = try #require(result.failure)
            #expect(failure.failureClass == .grantDead)
            #expect(failure.detail.contains("authorisation code"))
        }
    }

    @Test func invalidClientMeansTheClientIsRefused() async throws {
        let failure = try await refreshFailure(jsonAnswer(401, #"{"error":"invalid_client"}"#))
        #expect(failure.failureClass == .clientRefused)
        #expect(failure.httpStatus == 401)
        #expect(failure.detail.contains("client_secret_file"))
    }

    @Test func serviceUnavailableIsPassing() async throws {
        let failure = try await refreshFailure(textAnswer(503, "<html>maintenance</html>"))
        #expect(failure.failureClass == .transient)
        #expect(failure.httpStatus == 503)
        #expect(failure.responseExcerpt == "<html>maintenance</html>")
    }

    @Test func tooManyRequestsCarriesRetryAfter() async throws {
        let failure = try await refreshFailure(jsonAnswer(429, #"{"error":"slow_down"}"#, headers: ["Retry-After": "120"]))
        #expect(failure.failureClass == .transient)
        #expect(failure.httpStatus == 429)
        #expect(failure.retryAfter == 120)
        // Said once: "asked us to slow down (HTTP 429, slow_down)", not "(HTTP 429) (HTTP 429, …)".
        #expect("\(failure)".components(separatedBy: "HTTP 429").count == 2, "\(failure)")
        #expect("\(failure)".hasSuffix("asked us to slow down (HTTP 429, slow_down)"), "\(failure)")
    }

    @Test func aNonJSONSuccessIsPassing() async throws {
        let failure = try await refreshFailure(textAnswer(200, "<html>login page</html>"))
        #expect(failure.failureClass == .transient)
        #expect(failure.detail.contains("not a JSON object"))
        #expect(failure.detail.hasPrefix("127.0.0.1"))
    }

    @Test func aRedirectIsNotFollowed() async throws {
        var headers = HTTPFields()
        headers[.location] = "http://127.0.0.1:1/elsewhere"
        let failure = try await refreshFailure(Response(status: .found, headers: headers))
        #expect(failure.failureClass == .transient)
        #expect(failure.httpStatus == 302)
        #expect(failure.detail.contains("redirect"))
    }

    /// Refreshes once against a server giving `answer`, and returns the failure.
    private func refreshFailure(_ answer: Response) async throws -> RefreshFailure {
        try await withServer({ _ in answer }) { server in
            let result = try await withClient { client in
                await client.refresh(
                    tokenURL: server.url("/auth/oauth2/token"), credentials: TestSecrets.credentials,
                    refreshToken: TestSecrets.refreshToken)
            }
            #expect(server.requests.count == 1)
            let failure = try #require(result.failure)
            for secret in TestSecrets.all { #expect(!failure.allTexts.contains(secret)) }
            return failure
        }
    }
}
