import Foundation
import Testing
import TokendTestSupport

/// A browser made of curl and a cookie jar file (curl honours the cookies' paths), for the
/// daemon's pages and the emulator's sign-in page. Redirects are followed by the test. Every
/// answer of the daemon's pages (status, headers with `Location` and `Set-Cookie`, body) is
/// recorded in the session; the emulator's answers are iManage's, not the daemon's.
struct CurlBrowser {
    let session: SecretSession
    let jar: String

    init(session: SecretSession, name: String) {
        self.session = session
        jar = session.directory.appendingPathComponent("cookies-\(name)").path
    }

    func get(_ url: String) async throws -> HTTPExchange {
        try await send(url, ["-i", "-c", jar, "-b", jar, url])
    }

    func post(_ url: String, _ fields: [(String, String)]) async throws -> HTTPExchange {
        let data = fields.flatMap { ["--data-urlencode", "\($0.0)=\($0.1)"] }
        return try await send(url, ["-i", "-c", jar, "-b", jar] + data + [url])
    }

    private func send(_ url: String, _ arguments: [String]) async throws -> HTTPExchange {
        let answer = HTTPExchange(url: url, raw: try await session.curl(arguments))
        if url.hasPrefix(session.webBase) {
            let path = String(url.dropFirst(session.webBase.count).prefix { $0 != "?" })
            session.record("web page \(arguments.contains("--data-urlencode") ? "POST" : "GET") \(path) (HTTP \(answer.status))", answer.raw)
        }
        return answer
    }

    // MARK: Through iManage

    /// Follows the daemon's redirect to iManage's sign-in page, signs in, and returns the URL
    /// iManage sends the browser back to (the daemon's callback, with the code).
    func signInAtIManage(_ redirect: HTTPExchange, email: String, password: String) async throws -> String {
        let authorize = try #require(redirect.location, "expected a redirect to iManage, got HTTP \(redirect.status)")
        let page = try await get(authorize)
        let fields = hiddenFields(in: page.body) + [("email", email), ("password", password), ("action", "sign_in")]
        let signedIn = try await post(session.emulatorBase + "/auth/oauth2/authorize", fields)
        let back = try #require(signedIn.location, "iManage did not send the browser back: HTTP \(signedIn.status)")
        #expect(back.hasPrefix(session.webBase + "/oauth/callback?"))
        return back
    }

    /// The CSRF token of a page of the daemon.
    func csrf(on path: String) async throws -> String {
        let page = try await get(session.webBase + path)
        return try #require(hiddenFields(in: page.body).first { $0.0 == "csrf" }?.1, "no CSRF field on \(path)")
    }
}
