import AsyncHTTPClient
import Foundation
import IManageEmulator
import NIOCore
import NIOHTTP1
import Testing
import TokendTestSupport

/// What came back from the emulator.
struct HTTPAnswer: Sendable {
    let status: Int
    let headers: HTTPHeaders
    let body: String

    func header(_ name: String) -> String? { headers.first(name: name) }

    /// The body as a JSON object (the test fails if it is not one).
    func json(sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(body.utf8))
        return try #require(object as? [String: Any], "not a JSON object: \(body)", sourceLocation: sourceLocation)
    }

    /// `error` of an OAuth error answer.
    var oauthError: String? {
        (try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])?["error"] as? String
    }
}

/// A running emulator plus HTTP helpers that speak to it as a client would.
struct Harness: Sendable {
    let emulator: IManageEmulator
    static let clientID = "tokend-demo"
    static let clientSecret = "demo-secret"
    static let redirectURI = "http://127.0.0.1:9999/oauth/callback"

    var base: String { emulator.baseURL }

    func request(
        _ method: HTTPMethod, _ path: String, headers: [(String, String)] = [], body: String? = nil,
        timeout: TimeAmount = .seconds(30)
    ) async throws -> HTTPAnswer {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        let response = try await testHTTPClient.execute(request, timeout: timeout)
        let buffer = try await response.body.collect(upTo: 64 * 1024 * 1024)
        return HTTPAnswer(status: Int(response.status.code), headers: response.headers, body: String(buffer: buffer))
    }

    func get(_ path: String, token: String? = nil) async throws -> HTTPAnswer {
        try await request(.GET, path, headers: token.map { [("X-Auth-Token", $0)] } ?? [])
    }

    func postForm(_ path: String, _ fields: [(String, String)]) async throws -> HTTPAnswer {
        try await request(
            .POST, path, headers: [("Content-Type", "application/x-www-form-urlencoded")], body: formEncode(fields))
    }

    func postJSON(_ path: String, _ json: String, method: HTTPMethod = .POST) async throws -> HTTPAnswer {
        try await request(method, path, headers: [("Content-Type", "application/json")], body: json)
    }

    // MARK: OAuth

    func authorizeQuery(
        state: String = "st-123", loginHint: String? = nil, challenge: String? = nil,
        clientID: String = Harness.clientID, redirectURI: String = Harness.redirectURI, responseType: String = "code"
    ) -> String {
        var fields = [
            ("response_type", responseType), ("client_id", clientID), ("redirect_uri", redirectURI),
            ("state", state), ("scope", "user"),
        ]
        if let loginHint { fields.append(("login_hint", loginHint)) }
        if let challenge { fields += [("code_challenge", challenge), ("code_challenge_method", "S256")] }
        return "/auth/oauth2/authorize?" + formEncode(fields)
    }

    /// Goes through the sign-in page like a browser: GET the form, POST its hidden fields with the
    /// credentials. Returns the POST's answer (a 302 on success).
    func submitSignIn(
        email: String, password: String, action: String = "sign_in", state: String = "st-123",
        challenge: String? = nil
    ) async throws -> HTTPAnswer {
        let page = try await get(authorizeQuery(state: state, challenge: challenge))
        #expect(page.status == 200)
        var fields = hiddenFields(in: page.body)
        fields += [("email", email), ("password", password), ("action", action)]
        return try await postForm("/auth/oauth2/authorize", fields)
    }

    /// Signs in and returns the authorization code from the redirect.
    func signIn(
        email: String = "alice@example.com", password: String = "alice-password", challenge: String? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> String {
        let answer = try await submitSignIn(email: email, password: password, challenge: challenge)
        #expect(answer.status == 302, sourceLocation: sourceLocation)
        let location = try #require(answer.header("Location"), sourceLocation: sourceLocation)
        let query = queryItems(of: location)
        #expect(query["state"] == "st-123", sourceLocation: sourceLocation)
        return try #require(query["code"], "no code in \(location)", sourceLocation: sourceLocation)
    }

    func exchange(code: String, verifier: String? = nil, secret: String = Harness.clientSecret) async throws -> HTTPAnswer {
        var fields = [
            ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", Harness.redirectURI),
            ("client_id", Harness.clientID), ("client_secret", secret),
        ]
        if let verifier { fields.append(("code_verifier", verifier)) }
        return try await postForm("/auth/oauth2/token", fields)
    }

    func refresh(_ refreshToken: String, secret: String = Harness.clientSecret) async throws -> HTTPAnswer {
        try await postForm("/auth/oauth2/token", [
            ("grant_type", "refresh_token"), ("refresh_token", refreshToken),
            ("client_id", Harness.clientID), ("client_secret", secret),
        ])
    }

    /// Signs ALICE in and exchanges the code: the token answer as JSON.
    func authorizedTokens(email: String = "alice@example.com", password: String = "alice-password") async throws
        -> [String: Any]
    {
        let code = try await signIn(email: email, password: password)
        let answer = try await exchange(code: code)
        #expect(answer.status == 200, "\(answer.body)")
        return try answer.json()
    }

    func inspectState(_ refreshToken: String) async throws -> String? {
        let answer = try await postJSON("/_emulator/inspect", "{\"refresh_token\":\"\(refreshToken)\"}")
        return try answer.json()["state"] as? String
    }
}

/// Starts an emulator on a free port, runs `body`, and always stops it.
func withEmulator(
    _ configuration: EmulatorConfiguration = .demo, _ body: (Harness) async throws -> Void
) async throws {
    let emulator = try await IManageEmulator.start(configuration)
    try await withTeardown({ await emulator.stop() }) { try await body(Harness(emulator: emulator)) }
}

/// A PKCE verifier and its S256 challenge, computed independently of the emulator's code.
func pkcePair() -> (verifier: String, challenge: String) {
    // RFC 7636 appendix B's example.
    ("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
}
