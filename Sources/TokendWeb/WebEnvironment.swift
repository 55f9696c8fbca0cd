import Foundation
import Hummingbird
import NIOCore
import Logging
import TokendConfig
import TokendEngine
import TokendPolicy
import TokendStore

/// What every route needs: the running configuration (through the engine, so SIGHUP reloads
/// apply), the store, the flow, the pending states, the cookie signer, the log and the clock.
struct WebEnvironment: Sendable {
    let publicURL: URL
    let redirectURL: URL
    /// Cookies get `Secure` when the pages are reached over https.
    let secureCookies: Bool
    let store: GrantStore
    let engine: RefreshEngine
    let flow: AuthorisationFlow
    let states: AuthorisationStateStore
    let sessions: SessionSigner
    let logger: Logger
    let now: @Sendable () -> Date

    /// The origin of `publicURL` (`scheme://host[:port]`), which the browser sends as `Origin` on our forms.
    var publicOrigin: String { Self.origin(of: publicURL) }

    static func origin(of url: URL) -> String {
        var origin = "\(url.scheme ?? "https")://\(url.host ?? "")"
        if let port = url.port { origin += ":\(port)" }
        return origin
    }

    /// The configured organisation `name`; with `enabled`, it must also be switched on.
    func organisation(_ name: String, mustBeEnabled: Bool = true) throws(WebFailure) -> OrganisationConfig {
        guard let organisation = engine.organisation(named: name) else { throw WebFailure.unknownOrganisation(name) }
        guard organisation.enabled || !mustBeEnabled else { throw WebFailure.organisationDisabled(name) }
        return organisation
    }

    /// Base path of an organisation's pages (organisation names are URL-safe by the configuration's rules).
    static func base(_ organisation: String) -> String { "/organisations/\(organisation)" }

    // MARK: Cookies

    static let flowCookie = "tokend_flow"

    /// The cookie binding authorisations to this browser: kept when present, otherwise new.
    func flowBinding(_ request: Request) -> String {
        if let value = request.cookies[Self.flowCookie]?.value, value.count == 43, Base64URL.decode(value) != nil {
            return value
        }
        return RandomToken.make()
    }

    /// SameSite=Lax, not Strict: the callback and the redirect after it arrive as a navigation
    /// started on iManage's site, and Strict cookies would not be sent with them. Every POST
    /// carries a CSRF token besides.
    func cookie(_ name: String, value: String, path: String, maxAge: Int) -> Cookie {
        Cookie(name: name, value: value, maxAge: maxAge, path: path, secure: secureCookies, httpOnly: true, sameSite: .lax)
    }

    func flowCookie(_ binding: String) -> Cookie {
        cookie(Self.flowCookie, value: binding, path: "/oauth/callback", maxAge: Int(states.lifetime))
    }

    func sessionCookie(_ session: WebSession) -> Cookie {
        cookie(session.kind.cookieName, value: sessions.seal(session), path: Self.base(session.organisation), maxAge: Int(session.kind.lifetime))
    }

    func clearedCookie(_ kind: WebSession.Kind, organisation: String) -> Cookie {
        cookie(kind.cookieName, value: "", path: Self.base(organisation), maxAge: 0)
    }

    func session(_ request: Request, kind: WebSession.Kind, organisation: String) -> WebSession? {
        sessions.open(request.cookies[kind.cookieName]?.value, kind: kind, organisation: organisation, now: now())
    }

    func newSession(_ kind: WebSession.Kind, organisation: String, identity: (userID: String, name: String, email: String, customerID: String), libraries: [String] = []) -> WebSession {
        WebSession(
            kind: kind, organisation: organisation, userID: identity.userID, name: identity.name, email: identity.email,
            customerID: identity.customerID, libraries: libraries, csrf: RandomToken.make(),
            expires: Int64(now().timeIntervalSince1970 + kind.lifetime))
    }

    // MARK: Forms

    /// Reads a POSTed form and checks its CSRF token against the session, and `Origin` when the browser sends one.
    func checkedForm(_ request: Request, session: WebSession?) async throws(WebFailure) -> [String: String] {
        // Browsers send `Origin: null` under `Referrer-Policy: no-referrer`; any other foreign origin is refused.
        if let origin = request.headers[.origin], origin != publicOrigin, origin != "null" { throw WebFailure.csrfRejected }
        let text: String
        do {
            text = String(buffer: try await request.body.collect(upTo: 16 * 1024))
        } catch {
            throw WebFailure.badRequest("The form is too large.")
        }
        let form = try FormCoding.parse(text)
        guard let session, let token = form["csrf"], ConstantTime.equals(Array(token.utf8), Array(session.csrf.utf8)) else {
            throw WebFailure.csrfRejected
        }
        return form
    }

    // MARK: Sending people to iManage

    /// Registers a pending authorisation and builds the redirect to the organisation's authorize URL.
    func startAuthorisation(
        _ purpose: AuthorisationPurpose, organisation: OrganisationConfig, binding: String, loginHint: String? = nil
    ) -> Response {
        let pkce = organisation.pkce ? PKCEPair() : nil
        let state = states.begin(PendingAuthorisation(
            organisation: organisation.name, purpose: purpose, codeVerifier: pkce?.verifier,
            bindingHash: AuthorisationStateStore.bindingHash(binding), createdAt: now()))
        var parameters: [(String, String)] = [
            ("response_type", "code"), ("client_id", organisation.clientID),
            ("redirect_uri", redirectURL.absoluteString), ("state", state), ("scope", "user"),
        ]
        if let pkce { parameters += [("code_challenge", pkce.challenge), ("code_challenge_method", "S256")] }
        if let loginHint { parameters.append(("login_hint", loginHint)) }
        let location = organisation.authorizeURL.absoluteString + "?" + FormCoding.encode(parameters)
        var response = Response(status: .seeOther, headers: [.location: location])
        response.setCookie(flowCookie(binding))
        return response
    }

    /// Runs a route body: a `WebFailure` becomes its page (and a log line), so nothing half-done is shown.
    func respond(
        organisation: String?, _ body: () async throws(WebFailure) -> Response
    ) async -> Response {
        do throws(WebFailure) {
            return try await body()
        } catch {
            var metadata: Logger.Metadata = ["TOKEND_WEB_FAILURE": "\(error.reason)"]
            if let organisation { metadata["TOKEND_ORGANISATION"] = "\(organisation)" }
            logger.notice("web page refused: \(error.title)", metadata: metadata)
            return PageRenderer.failure(error, organisation: organisation)
        }
    }
}
