import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization
import Testing
import TokendTestSupport

/// What came back.
struct PageAnswer: Sendable {
    let url: String
    let status: Int
    let headers: HTTPHeaders
    let body: String

    func header(_ name: String) -> String? { headers.first(name: name) }
    var location: String? { header("Location") }
    var setCookies: [String] { headers["Set-Cookie"] }

    /// The `Set-Cookie` line of cookie `name`.
    func setCookie(_ name: String) -> String? { setCookies.first { $0.hasPrefix(name + "=") } }

    /// The `Set-Cookie` lines of cookies whose names start with `prefix`.
    func setCookies(prefix: String) -> [String] { setCookies.filter { $0.hasPrefix(prefix) } }
}

/// A browser as far as these pages need one: a cookie jar per host (path and expiry honoured
/// by name only: Max-Age=0 deletes), forms posted url-encoded, redirects followed by the test.
/// Every page body it receives is kept, so tests can check that no secret ever appeared in one.
final class TestBrowser: Sendable {
    private let jar = Mutex<[String: [String: String]]>([:])
    private let seen = Mutex<[PageAnswer]>([])
    /// Sent as `Origin` on POSTs, as browsers do; `nil` sends none.
    let origin: String?

    init(origin: String? = nil) { self.origin = origin }

    var pages: [PageAnswer] { seen.withLock { $0 } }

    func cookie(_ name: String, host: String) -> String? { jar.withLock { $0[host]?[name] } }

    /// The names of the cookies kept for `host`.
    func cookieNames(host: String) -> [String] { jar.withLock { ($0[host] ?? [:]).keys.sorted() } }

    func setCookie(_ name: String, _ value: String, host: String) { jar.withLock { $0[host, default: [:]][name] = value } }

    func get(_ url: String) async throws -> PageAnswer {
        try await send(.GET, url, body: nil)
    }

    func head(_ url: String) async throws -> PageAnswer {
        try await send(.HEAD, url, body: nil)
    }

    func post(_ url: String, _ fields: [(String, String)], origin: String? = nil) async throws -> PageAnswer {
        try await send(.POST, url, body: formEncode(fields), origin: origin ?? self.origin)
    }

    private func send(_ method: HTTPMethod, _ url: String, body: String?, origin: String? = nil) async throws -> PageAnswer {
        let host = try #require(URLComponents(string: url)?.host.map { "\($0):\(URLComponents(string: url)?.port ?? 80)" })
        var request = HTTPClientRequest(url: url)
        request.method = method
        let cookies = jar.withLock { $0[host] ?? [:] }
        if !cookies.isEmpty {
            request.headers.add(name: "Cookie", value: cookies.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "; "))
        }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            request.body = .bytes(ByteBuffer(string: body))
        }
        if let origin { request.headers.add(name: "Origin", value: origin) }
        let response = try await testHTTPClient.execute(request, timeout: .seconds(30))
        let buffer = try await response.body.collect(upTo: 4 * 1024 * 1024)
        let answer = PageAnswer(url: url, status: Int(response.status.code), headers: response.headers, body: String(buffer: buffer))
        jar.withLock { jar in
            for line in answer.setCookies {
                let first = line.split(separator: ";", maxSplits: 1)[0]
                let parts = first.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard parts.count == 2 else { continue }
                let name = String(parts[0]).trimmingCharacters(in: .whitespaces)
                if line.lowercased().contains("max-age=0") {
                    jar[host]?[name] = nil
                } else {
                    jar[host, default: [:]][name] = String(parts[1])
                }
            }
        }
        seen.withLock { $0.append(answer) }
        return answer
    }
}
