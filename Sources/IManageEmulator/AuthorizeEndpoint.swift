import Hummingbird
import IManageWire

/// `GET` and `POST /auth/oauth2/authorize`: the sign-in page and its form.
struct AuthorizeEndpoint: Sendable {
    let core: EmulatorCore
    var issuer: EmulatorConfiguration.IssuerParameter = .none

    /// The `iss` pair added to every redirect back to the client, if any.
    private func issuerPairs(_ request: Request) -> [(String, String)] {
        switch issuer {
        case .none: []
        case .own: [("iss", "http://" + (request.head.authority ?? "127.0.0.1"))]
        case .fixed(let value): [("iss", value)]
        }
    }

    func register(on router: Router<EmulatorRequestContext>) {
        router.get("/auth/oauth2/authorize") { request, context in
            try await showForm(request, context: context)
        }
        router.post("/auth/oauth2/authorize") { request, context in
            try await submitForm(request, context: context)
        }
    }

    /// The GET: checks the request and shows the sign-in form.
    func showForm(_ request: Request, context: EmulatorRequestContext) async throws -> Response {
        if let fault = try await core.injectedFault(for: .authorize, context: context) { return fault }
        let parameters: [String: String]
        do {
            parameters = try FormEncoding.parse(request.uri.query ?? "", limits: .emulator)
        } catch {
            return reject("The request's parameters are malformed or repeated.")
        }
        return answer(parameters: parameters, issuer: issuerPairs(request)) { authorization, _ in
            core.counters.record(.authorize, .success)
            return HTTPAnswers.html(SignInPage.form(for: authorization, email: authorization.loginHint, error: nil))
        }
    }

    /// The POST of the form: Sign in or Deny.
    func submitForm(_ request: Request, context: EmulatorRequestContext) async throws -> Response {
        if let fault = try await core.injectedFault(for: .authorize, context: context) { return fault }
        let parameters: [String: String]
        do {
            let body = try await request.body.collect(upTo: 64 * 1024)
            parameters = try FormEncoding.parse(String(buffer: body), limits: .emulator)
        } catch {
            return reject("The submitted form is malformed or too large.")
        }
        let iss = issuerPairs(request)
        return answer(parameters: parameters, issuer: iss) { authorization, state in
            if parameters["action"] == "deny" {
                core.counters.record(.authorize, .accessDenied)
                return HTTPAnswers.redirect(to: authorization.redirect(with: [
                    ("error", "access_denied"), ("error_description", "the user denied access"),
                ] + iss))
            }
            let email = parameters["email"] ?? ""
            let password = parameters["password"] ?? ""
            guard let userID = state.directory.userID(named: email),
                let person = state.directory.person(userID),
                constantTimeEquals(person.user.password, password)
            else {
                core.counters.record(.authorize, .signInFailed)
                return HTTPAnswers.html(SignInPage.form(
                    for: authorization, email: email, error: "The email or password is not correct."))
            }
            guard person.isEnabled else {
                core.counters.record(.authorize, .signInFailed)
                return HTTPAnswers.html(SignInPage.form(
                    for: authorization, email: email, error: "This account is disabled. Ask your administrator."))
            }
            let code = state.issueCode(
                userID: userID, clientID: authorization.clientID, redirectURI: authorization.redirectURI,
                codeChallenge: authorization.codeChallenge)
            core.counters.record(.authorize, .success)
            return HTTPAnswers.redirect(to: authorization.redirect(with: [("code", code.text)] + iss))
        }
    }

    /// Checks the parameters; a bad client or redirect URI gets a 400 page, a bad response
    /// type or PKCE parameter an error redirect, and a good request is handed to `serve`.
    private func answer(
        parameters: [String: String], issuer: [(String, String)],
        serve: (AuthorizationRequest, inout EmulatorState) -> Response
    ) -> Response {
        core.state.withLock { state in
            let authorization: AuthorizationRequest
            do throws(AuthorizationRequest.Rejection) {
                authorization = try AuthorizationRequest(parameters: parameters, directory: state.directory)
            } catch {
                return reject(error.message)
            }
            do throws(AuthorizationRequest.RedirectedError) {
                try authorization.validateForRedirect(requirePKCE: state.settings.requirePKCE)
            } catch {
                core.counters.record(.authorize, error.code == "invalid_request" ? .invalidRequest : .unsupportedResponseType)
                return HTTPAnswers.redirect(to: authorization.redirect(with: [
                    ("error", error.code), ("error_description", error.description),
                ] + issuer))
            }
            return serve(authorization, &state)
        }
    }

    private func reject(_ message: String) -> Response {
        core.counters.record(.authorize, .rejected)
        return HTTPAnswers.html(SignInPage.rejection(message), status: .badRequest)
    }
}
