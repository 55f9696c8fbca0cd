import Foundation
import Hummingbird
import TokendPolicy
import TokendStore

/// `/organisations/{org}/tracker`: the library authorization page of the iManage Tracker model.
/// An NRTADMIN signs in, sees each library where they are NRTADMIN with its status, and
/// authorizes (by email, sent as `login_hint`) or deauthorizes it (after confirming on a page of its own).
struct TrackerRoutes: Sendable {
    let environment: WebEnvironment

    func register(on router: Router<BasicRequestContext>) {
        router.get("/organisations/:org/tracker") { request, context in
            let name = context.parameters.get("org") ?? ""
            return await environment.respond(organisation: name) { () async throws(WebFailure) -> Response in
                _ = try environment.organisation(name)
                let query = (try? FormCoding.parse(request.uri.query ?? "")) ?? [:]
                return try await show(organisation: name, session: environment.session(request, kind: .tracker, organisation: name), query: query)
            }
        }
        router.get("/organisations/:org/tracker/sign-in") { request, context in
            let name = context.parameters.get("org") ?? ""
            return await environment.respond(organisation: name) { () async throws(WebFailure) -> Response in
                let organisation = try environment.organisation(name)
                return try environment.startAuthorization(.trackerSignIn, organisation: organisation)
            }
        }
        router.post("/organisations/:org/tracker/sign-out") { request, context in
            let name = context.parameters.get("org") ?? ""
            return await environment.respond(organisation: name) { () async throws(WebFailure) -> Response in
                _ = try await environment.checkedForm(request, session: environment.session(request, kind: .tracker, organisation: name))
                var response = PageRenderer.redirect(to: WebEnvironment.base(name) + "/tracker")
                response.setCookie(environment.clearedCookie(.tracker, organisation: name))
                return response
            }
        }
        router.post("/organisations/:org/tracker/libraries/:library/authorise") { request, context in
            let name = context.parameters.get("org") ?? ""
            let library = context.parameters.get("library")?.removingPercentEncoding ?? ""  // Hummingbird leaves the path encoded
            return await environment.respond(organisation: name) { () async throws(WebFailure) -> Response in
                let organisation = try environment.organisation(name)
                let (session, form) = try await offered(request, organisation: name, library: library)
                let email = (form["email"] ?? "").trimmingCharacters(in: .whitespaces)
                guard Self.looksLikeEmail(email) else {
                    throw WebFailure.badRequest("That is not an email address. Enter the email of the NRTADMIN who authorizes \(library).")
                }
                return try environment.startAuthorization(
                    .library(id: library, email: email, requestedBy: session.userID), organisation: organisation, loginHint: email)
            }
        }
        router.get("/organisations/:org/tracker/libraries/:library/deauthorise") { request, context in
            let name = context.parameters.get("org") ?? ""
            let library = context.parameters.get("library")?.removingPercentEncoding ?? ""  // Hummingbird leaves the path encoded
            return await environment.respond(organisation: name) { () async throws(WebFailure) -> Response in
                _ = try environment.organisation(name, mustBeEnabled: false)
                guard let session = environment.session(request, kind: .tracker, organisation: name) else {
                    return PageRenderer.redirect(to: WebEnvironment.base(name) + "/tracker")
                }
                guard session.libraries.contains(library) else {
                    throw WebFailure.libraryNotOffered(library, retry: ("Back to library authorization", WebEnvironment.base(name) + "/tracker"))
                }
                return confirmDeauthorize(library, session: session)
            }
        }
        router.post("/organisations/:org/tracker/libraries/:library/deauthorise") { request, context in
            let name = context.parameters.get("org") ?? ""
            let library = context.parameters.get("library")?.removingPercentEncoding ?? ""  // Hummingbird leaves the path encoded
            return await environment.respond(organisation: name) { () async throws(WebFailure) -> Response in
                _ = try environment.organisation(name, mustBeEnabled: false)
                let (session, _) = try await offered(request, organisation: name, library: library)
                do {
                    try await environment.engine.revoke(
                        .library(library, of: name), message: "deauthorized by \(session.name) (\(session.userID)) on the Tracker page")
                } catch {
                    throw WebFailure.storeFailed(retry: nil)
                }
                return PageRenderer.redirect(to: WebEnvironment.base(name) + "/tracker?deauthorised=" + FormCoding.escape(library))
            }
        }
    }

    /// The session and form of a POST about `library`: CSRF checked, and the library one of the session's.
    private func offered(_ request: Request, organisation: String, library: String) async throws(WebFailure) -> (WebSession, [String: String]) {
        let session = environment.session(request, kind: .tracker, organisation: organisation)
        let form = try await environment.checkedForm(request, session: session)
        guard let session else { throw WebFailure.csrfRejected }
        guard session.libraries.contains(library) else {
            throw WebFailure.libraryNotOffered(library, retry: ("Back to library authorization", WebEnvironment.base(organisation) + "/tracker"))
        }
        return (session, form)
    }

    /// The confirmation step of Deauthorize: what it does, the button that does it, and a way back.
    private func confirmDeauthorize(_ library: String, session: WebSession) -> Response {
        let base = WebEnvironment.base(session.organisation)
        let title = "Deauthorize library \(library)?"
        let body = """
            <h1>\(HTML.escape(title))</h1>
            <p>The authorization of library <strong>\(HTML.escape(library))</strong> is removed from this service: what uses it stops working until an NRTADMIN authorizes the library again.</p>
            <div class="actions">
            <form method="post" action="\(HTML.escape(base))/tracker/libraries/\(HTML.escape(FormCoding.escape(library)))/deauthorise">\(HTML.csrfField(session.csrf))<button class="secondary" type="submit">Deauthorize</button></form>
            <a class="button cancel" href="\(HTML.escape(base))/tracker">Cancel</a>
            </div>
            """
        return PageRenderer.response(PageRenderer.page(title: title, organisation: session.organisation, body: body))
    }

    static func looksLikeEmail(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        return text.utf8.count <= 254 && parts.count == 2 && !parts[0].isEmpty && parts[1].contains(".")
            && !text.contains(where: { $0.isWhitespace || $0.asciiValue.map { $0 < 0x20 || $0 == 0x7f } == true })
    }

    private func show(organisation: String, session: WebSession?, query: [String: String]) async throws(WebFailure) -> Response {
        let base = WebEnvironment.base(organisation)
        let title = "Library authorization"
        guard let session else {
            let body = """
                <h1>\(title)</h1>
                <p>Libraries are authorized by one of their NRTADMINs. Sign in with your iManage account to see the libraries where you are NRTADMIN and their status.</p>
                <p><a class="button" href="\(HTML.escape(base))/tracker/sign-in">Sign in with iManage</a></p>
                """
            return PageRenderer.response(PageRenderer.page(title: title, organisation: organisation, body: body))
        }
        let now = environment.now()
        var body = """
            <h1>\(title)</h1>
            <div class="actions"><p>Signed in as <strong>\(HTML.escape(session.name))</strong> (\(HTML.escape(session.email))).</p>
            <form class="inline" method="post" action="\(HTML.escape(base))/tracker/sign-out">\(HTML.csrfField(session.csrf))<button class="link" type="submit">Sign out</button></form></div>
            """
        if let library = query["authorised"], session.libraries.contains(library) {
            body += "\n<div class=\"notice notice-ok\"><p>Library \(HTML.escape(library)) is authorized.</p></div>"
        }
        if let library = query["deauthorised"], session.libraries.contains(library) {
            body += "\n<div class=\"notice\"><p>Library \(HTML.escape(library)) was deauthorized.</p></div>"
        }
        body += """

            <p class="muted">Authorize asks iManage to sign in the NRTADMIN whose email you enter; their authorization then serves the library. Only libraries where you are NRTADMIN are listed.</p>
            <table>
            <thead><tr><th>Library</th><th>Status</th><th>Authorized by</th><th>Next refresh</th><th>Actions</th></tr></thead>
            <tbody>
            """
        for library in session.libraries {
            let record: GrantRecord?
            do { record = try await environment.store.record(for: .library(library, of: organisation)) } catch { throw WebFailure.internalError }
            let libraryPath = "\(base)/tracker/libraries/\(FormCoding.escape(library))"
            let status = record.map { environment.shownStatus(of: $0) } ?? .unauthorized
            let authorizedBy = record?.authorizedBy.map { "\(HTML.escape($0.name))<br><span class=\"muted\">\(HTML.escape($0.email))</span>" } ?? "—"
            var actions = """
                <form class="authorise" method="post" action="\(HTML.escape(libraryPath))/authorise">\(HTML.csrfField(session.csrf))<input type="email" name="email" required aria-label="Email of the NRTADMIN who authorizes \(HTML.escape(library))" value="\(HTML.escape(session.email))"><button type="submit">Authorize</button></form>
                """
            if record != nil {
                actions += """
                    <a class="button secondary" href="\(HTML.escape(libraryPath))/deauthorise">Deauthorize</a>
                    """
            }
            body += """

                <tr><td><strong>\(HTML.escape(library))</strong></td><td>\(status.badge)</td><td>\(authorisedBy)</td><td>\(HTML.escape(TimeText.describe(record?.nextRefreshAt, now: now)))</td><td><div class="actions">\(actions)</div></td></tr>
                """
        }
        body += "\n</tbody>\n</table>"
        return PageRenderer.response(PageRenderer.page(title: title, organisation: organisation, body: body))
    }
}
