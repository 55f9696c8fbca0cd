import Hummingbird
import IManageWire

/// `POST /auth/oauth2/token`: the `authorization_code` and `refresh_token` grants, with the
/// client's id and secret in the form body.
struct TokenEndpoint: Sendable {
    let core: EmulatorCore

    /// The largest form accepted; a real token request is a few hundred bytes.
    static let maximumBodySize = 16 * 1024

    func register(on router: Router<EmulatorRequestContext>) {
        router.post("/auth/oauth2/token") { request, context in
            try await handle(request, context: context)
        }
    }

    func handle(_ request: Request, context: EmulatorRequestContext) async throws -> Response {
        // Read first, so a refresh counts as in flight for its chain while a fault holds it too.
        let read: Result<[String: String], OAuthError>
        do { read = .success(try await readForm(request)) } catch { read = .failure(error) }
        let chain = (try? read.get()).flatMap(beginRefresh)
        defer { if let chain { core.state.withLock { $0.chainWatch.end(grant: chain) } } }
        if let fault = try await core.injectedFault(for: .token, context: context) { return fault }
        let result: Result<TokenGrantAnswer, OAuthError>
        do {
            let form = try read.get()
            result = core.state.withLock { state in
                state.issued?.recordVerifier(form["code_verifier"])
                let result = Result { () throws(OAuthError) -> TokenGrantAnswer in try grant(form, state: &state) }
                if case .success(let answer) = result { state.issued?.record(answer) }
                return result
            }
        } catch {
            result = .failure(error)
        }
        switch result {
        case .success(let answer):
            core.counters.record(.token, .success)
            return HTTPAnswers.json(Self.body(of: answer), noStore: true)
        case .failure(let error):
            core.counters.record(.token, error.outcome)
            return HTTPAnswers.oauthError(error)
        }
    }

    /// For a `refresh_token` request with a token this emulator issued: notes the token as
    /// presented and the request as in flight for its grant (`RefreshChainWatch`); the grant.
    private func beginRefresh(_ form: [String: String]) -> Int? {
        guard form["grant_type"] == "refresh_token", let text = form["refresh_token"], let key = TokenKey(text: text) else { return nil }
        return core.state.withLock { state in
            guard let grant = state.ledger.markPresented(key) else { return nil }
            state.chainWatch.begin(grant: grant)
            return grant
        }
    }

    /// The request's form parameters, or `invalid_request`.
    private func readForm(_ request: Request) async throws(OAuthError) -> [String: String] {
        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        guard contentType.hasPrefix("application/x-www-form-urlencoded") else {
            throw .invalidRequest("the body must be application/x-www-form-urlencoded")
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: Self.maximumBodySize)
        } catch {
            throw .invalidRequest("the body is too large or could not be read")
        }
        do {
            return try FormEncoding.parse(String(buffer: body), limits: .emulator)
        } catch .repeated(let name) {
            throw .invalidRequest("parameter \(name) is repeated")
        } catch {
            throw .invalidRequest("the form is malformed")
        }
    }

    /// Authenticates the client and runs the grant the form asks for.
    private func grant(_ form: [String: String], state: inout EmulatorState) throws(OAuthError) -> TokenGrantAnswer {
        let client = try state.authenticateClient(id: form["client_id"], secret: form["client_secret"])
        switch form["grant_type"] {
        case "authorization_code":
            guard let code = form["code"], !code.isEmpty else { throw .invalidRequest("code is missing") }
            guard let redirectURI = form["redirect_uri"], !redirectURI.isEmpty else {
                throw .invalidRequest("redirect_uri is missing")
            }
            return try state.exchangeCode(
                code, redirectURI: redirectURI, codeVerifier: form["code_verifier"], client: client)
        case "refresh_token":
            guard let token = form["refresh_token"], !token.isEmpty else {
                throw .invalidRequest("refresh_token is missing")
            }
            guard client.issueRefreshTokens else {
                throw OAuthError(code: .unauthorizedClient, description: "the client may not use refresh tokens")
            }
            return try state.refresh(token, client: client)
        case nil, "":
            throw .invalidRequest("grant_type is missing")
        default:
            throw OAuthError(code: .unsupportedGrantType, description: "grant_type is not supported")
        }
    }

    /// The JSON of a successful answer (built by hand: this is the hot path of the benchmark).
    static func body(of answer: TokenGrantAnswer) -> String {
        var body = "{\"access_token\":\"" + answer.accessToken.text + "\",\"token_type\":\"Bearer\""
        if let expiresIn = answer.expiresIn { body += ",\"expires_in\":" + String(expiresIn) }
        if let refresh = answer.refreshToken { body += ",\"refresh_token\":\"" + refresh.text + "\"" }
        return body + "}"
    }
}
