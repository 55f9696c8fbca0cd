import Foundation
import Hummingbird
import NIOCore
import Logging
import TokendConfig
import TokendEngine
import TokendPolicy
import TokendStore

/// What every route needs: the running configuration (through the engine, so SIGHUP reloads
/// apply), the store, the flow, the sign-ins in progress, the cookie sealers, the log and the clock.
struct WebEnvironment: Sendable {
    let publicURL: URL
    let redirectURL: URL
    /// Cookies get `Secure` when the pages are reached over https.
    let secureCookies: Bool
    let store: any GrantStore
    let engine: RefreshEngine
    let flow: AuthorizationFlow
    let states: AuthorizationStates
    let sessions: SessionSigner
    /// Seals the failure shown on `/oauth/failed` after a callback (``FailureNote``).
    let failureNotes: CookieSealer
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
    /// The status a grant's page shows: the effective one, as `status`, `/v1/status` and the token
    /// API show it (a stored `authorized` whose access token ran out is `expired`).
    func shownStatus(of record: GrantRecord) -> GrantStatus {
        let configuration = engine.configuration
        return GrantLifecycle(settings: configuration.refresh).effectiveStatus(
            of: record, organisationEnabled: configuration.organisation(named: record.key.organisation)?.enabled == true, now: now())
    }

    func organisation(_ name: String, mustBeEnabled: Bool = true) throws(WebFailure) -> OrganisationConfig {
        guard let organisation = engine.organisation(named: name) else { throw WebFailure.unknownOrganisation(name) }
        guard organisation.enabled || !mustBeEnabled else { throw WebFailure.organisationDisabled(name) }
        return organisation
    }

    /// Base path of an organisation's pages (organisation names are URL-safe by the configuration's rules).
    static func base(_ organisation: String) -> String { "/organisations/\(organisation)" }

    // MARK: Cookies

    /// SameSite=Lax, not Strict: the callback and the redirect after it arrive as a navigation
    /// started on iManage's site, and Strict cookies would not be sent with them. Every POST
    /// carries a CSRF token besides.
    func cookie(_ name: String, value: String, path: String, maxAge: Int) -> Cookie {
        Cookie(name: name, value: value, maxAge: maxAge, path: path, secure: secureCookies, httpOnly: true, sameSite: .lax)
    }

    /// The cookie of a sign-in in progress (see ``AuthorisationStates``): sent back with the callback only.
    func flowCookie(_ started: AuthorizationStates.Started) -> Cookie {
        cookie(started.cookieName, value: started.cookieValue, path: "/oauth/callback", maxAge: Int(states.lifetime))
    }

    func clearedFlowCookie(_ name: String) -> Cookie {
        cookie(name, value: "", path: "/oauth/callback", maxAge: 0)
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

    /// Seals a new pending authorisation into its cookie and builds the redirect to the
    /// organisation's authorize URL. The `state` and the cookie are always made here, never
    /// taken from the browser; nothing is kept in the daemon.
    func startAuthorization(
        _ purpose: AuthorizationPurpose, organisation: OrganisationConfig, loginHint: String? = nil
    ) throws(WebFailure) -> Response {
        let pkce = organisation.pkce ? PKCEPair() : nil
        guard let started = states.begin(PendingAuthorization(
            organisation: organisation.name, purpose: purpose, codeVerifier: pkce?.verifier, createdAt: now()))
        else { throw WebFailure.internalError }
        var parameters: [(String, String)] = [
            ("response_type", "code"), ("client_id", organisation.clientID),
            ("redirect_uri", redirectURL.absoluteString), ("state", started.state), ("scope", "user"),
        ]
        if let pkce { parameters += [("code_challenge", pkce.challenge), ("code_challenge_method", "S256")] }
        if let loginHint { parameters.append(("login_hint", loginHint)) }
        let location = organisation.authorizeURL.absoluteString + "?" + FormCoding.encode(parameters)
        var response = Response(status: .seeOther, headers: [.location: location])
        response.setCookie(flowCookie(started))
        return response
    }

    /// Runs a route body: a `WebFailure` becomes its page (and a log line), so nothing half-done is shown.
    func respond(
        organisation: String?, _ body: () async throws(WebFailure) -> Response
    ) async -> Response {
        do throws(WebFailure) {
            return try await body()
        } catch {
            logRefusal(error, organisation: organisation)
            return PageRenderer.failure(error, organisation: organisation)
        }
    }

    /// The journal line of a refused page: its title, why, and the organisation.
    private func logRefusal(_ failure: WebFailure, organisation: String?) {
        var metadata: Logger.Metadata = ["TOKEND_WEB_FAILURE": "\(failure.reason)"]
        if let organisation { metadata["TOKEND_ORGANISATION"] = "\(organisation)" }
        logger.notice("web page refused: \(failure.title)", metadata: metadata)
    }

    /// Runs the callback's body like ``respond(organisation:_:)``, but a failure is not shown at the
    /// callback's address (which holds the code and state): the answer is a redirect to
    /// `/oauth/failed`, with the failure sealed in a short-lived cookie.
    func respondAfterCallback(
        organisation: String?, _ body: () async throws(WebFailure) -> Response
    ) async -> Response {
        do throws(WebFailure) {
            return try await body()
        } catch {
            logRefusal(error, organisation: organisation)
            return failureRedirect(error, organisation: organisation)
        }
    }

    /// A 303 to `/oauth/failed` that shows `failure` there.
    func failureRedirect(_ failure: WebFailure, organisation: String?) -> Response {
        guard let json = try? JSONEncoder().encode(FailureNote(failure, organisation: organisation)),
              let sealed = failureNotes.seal(json, boundTo: FailureNote.cookieName)
        else { return PageRenderer.failure(failure, organisation: organisation) }
        var response = PageRenderer.redirect(to: FailureNote.path)
        response.setCookie(cookie(FailureNote.cookieName, value: sealed, path: FailureNote.path, maxAge: FailureNote.lifetime))
        return response
    }

    /// The failure sealed in the browser's `/oauth/failed` cookie, when there is a good one.
    func failureNote(_ request: Request) -> FailureNote? {
        guard let json = failureNotes.open(request.cookies[FailureNote.cookieName]?.value, boundTo: FailureNote.cookieName) else { return nil }
        return try? JSONDecoder().decode(FailureNote.self, from: json)
    }
}
