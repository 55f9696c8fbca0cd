import Foundation
import Hummingbird
import TokendPolicy
import TokendStore

/// `/organisations/{org}/me`: the signed-in person's own authorisation (and nobody else's), with
/// Disconnect, which asks to confirm on a page of its own first. The person is whoever authorised
/// in this browser (the `me` session cookie).
struct MeRoutes: Sendable {
    let environment: WebEnvironment

    func register(on router: Router<BasicRequestContext>) {
        router.get("/organisations/:org/me") { request, context in
            let name = context.parameters.get("org") ?? ""
            return await environment.respond(organisation: name) { () async throws(WebFailure) -> Response in
                _ = try environment.organisation(name, mustBeEnabled: false)
                let query = (try? FormCoding.parse(request.uri.query ?? "")) ?? [:]
                return try await show(organisation: name, session: environment.session(request, kind: .me, organisation: name),
                                justAuthorized: query["authorised"] == "1")
            }
        }
        router.get("/organisations/:org/me/disconnect") { request, context in
            let name = context.parameters.get("org") ?? ""
            return await environment.respond(organisation: name) { () async throws(WebFailure) -> Response in
                _ = try environment.organisation(name, mustBeEnabled: false)
                guard let session = environment.session(request, kind: .me, organisation: name) else {
                    return try await show(organisation: name, session: nil, justAuthorized: false)
                }
                return confirmDisconnect(session)
            }
        }
        router.post("/organisations/:org/me/disconnect") { request, context in
            let name = context.parameters.get("org") ?? ""
            return await environment.respond(organisation: name) { () async throws(WebFailure) -> Response in
                _ = try environment.organisation(name, mustBeEnabled: false)
                let session = environment.session(request, kind: .me, organisation: name)
                _ = try await environment.checkedForm(request, session: session)
                guard let session else { throw WebFailure.csrfRejected }
                return try await disconnect(session)
            }
        }
    }

    private func show(organisation: String, session: WebSession?, justAuthorized: Bool) async throws(WebFailure) -> Response {
        let base = WebEnvironment.base(organisation)
        guard let session else {
            let body = """
                <h1>Your iManage authorisation</h1>
                <p>You are not signed in here. Authorise once with your iManage account, and this service keeps your access to iManage Work alive from then on.</p>
                <p><a class="button" href="\(HTML.escape(base))/authorise">Authorise with iManage</a></p>
                """
            return PageRenderer.response(PageRenderer.page(title: "Your iManage authorisation", organisation: organisation, body: body))
        }
        let record: GrantRecord?
        do { record = try await environment.store.record(for: .user(session.userID, of: organisation)) } catch { throw WebFailure.internalError }
        let now = environment.now()
        var body: String
        if let record {
            let status = environment.shownStatus(of: record)
            let name = record.authorizedBy?.name ?? session.name
            body = justAuthorized
                ? "<h1>Authorised as \(HTML.escape(name))</h1>\n<div class=\"notice notice-ok\"><p>Your iManage account is authorised. This service now refreshes your access on its own; you do not need to sign in again.</p></div>"
                : "<h1>Your iManage authorisation</h1>"
            body += """

                <dl class="facts">
                <dt>Signed in as</dt><dd>\(HTML.escape(name)) (\(HTML.escape(record.authorisedBy?.email ?? session.email)), iManage id \(HTML.escape(session.userID)))</dd>
                <dt>Status</dt><dd>\(status.badge)</dd>
                <dt>Access valid until</dt><dd>\(HTML.escape(TimeText.describe(record.accessExpiresAt, now: now)))</dd>
                <dt>Next refresh</dt><dd>\(HTML.escape(TimeText.describe(record.nextRefreshAt, now: now)))</dd>
                <dt>Last refresh</dt><dd>\(HTML.escape(TimeText.describe(record.lastRefreshAt, now: now)))</dd>
                <dt>Authorisation lasts until</dt><dd>\(HTML.escape(TimeText.describe(record.refreshTokenExpiresAt, now: now)))</dd>
                </dl>
                """
            if let error = record.lastError, status != .authorized {
                body += "\n<div class=\"notice notice-error\"><p>Last problem: \(HTML.escape(error))</p></div>"
            }
            if GrantAdvice.waitsForAPerson(status) {
                body += "\n<p>This authorisation needs you: authorise again to restore it.</p>"
            } else if status.severity == .critical {
                body += "\n<p>\(HTML.escape(Self.sentence(GrantAdvice.whatToDo(status, record.key))))</p>"
            }
        } else {
            body = """
                <h1>Your iManage authorisation</h1>
                <p>\(HTML.escape(session.name)), your account is not authorised here (it was disconnected or never completed).</p>
                """
        }
        body += """

            <div class="actions">
            <a class="button" href="\(HTML.escape(base))/authorise">\(record == nil ? "Authorise with iManage" : "Authorise again")</a>
            """
        if record != nil {
            body += """

                <a class="button secondary" href="\(HTML.escape(base))/me/disconnect">Disconnect</a>
                """
        }
        body += "\n</div>"
        return PageRenderer.response(PageRenderer.page(title: "Your iManage authorisation", organisation: organisation, body: body))
    }

    /// "the access token ran out…" as a sentence: capitalised, with a full stop.
    static func sentence(_ text: String) -> String {
        guard let first = text.first else { return text }
        return first.uppercased() + text.dropFirst() + (text.hasSuffix(".") ? "" : ".")
    }

    /// The confirmation step of Disconnect: what it does, the button that does it, and a way back.
    private func confirmDisconnect(_ session: WebSession) -> Response {
        let base = WebEnvironment.base(session.organisation)
        let title = "Disconnect your iManage authorisation?"
        let body = """
            <h1>\(title)</h1>
            <p>\(HTML.escape(session.name)), this service will then no longer keep your access to iManage Work alive, and the integrations that use it stop working for you until you authorise again.</p>
            <div class="actions">
            <form method="post" action="\(HTML.escape(base))/me/disconnect">\(HTML.csrfField(session.csrf))<button class="secondary" type="submit">Disconnect</button></form>
            <a class="button cancel" href="\(HTML.escape(base))/me">Cancel</a>
            </div>
            """
        return PageRenderer.response(PageRenderer.page(title: title, organisation: session.organisation, body: body))
    }

    private func disconnect(_ session: WebSession) async throws(WebFailure) -> Response {
        let key = GrantKey.user(session.userID, of: session.organisation)
        do {
            // Through the engine: the grant's timer is dropped and the change is logged with its journal fields.
            try await environment.engine.revoke(key, message: "disconnected by \(session.name) on the web page")
        } catch {
            throw WebFailure.storeFailed(retry: nil)
        }
        let base = WebEnvironment.base(session.organisation)
        let body = """
            <h1>Disconnected</h1>
            <div class="notice notice-ok"><p>\(HTML.escape(session.name)), your iManage authorisation was removed from this service. It no longer acts for you.</p></div>
            <p><a class="button" href="\(HTML.escape(base))/authorise">Authorise again</a></p>
            """
        var response = PageRenderer.response(PageRenderer.page(title: "Disconnected", organisation: session.organisation, body: body))
        response.setCookie(environment.clearedCookie(.me, organisation: session.organisation))
        return response
    }
}
