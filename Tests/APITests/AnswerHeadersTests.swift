import Foundation
import Testing
import TokendPolicy
import TokendStore

/// README: token answers carry `Cache-Control: no-store`; errors are `{"error": "not_found" | "bad_request", "reason": …}`.
/// Read with curl over the socket, as a program using the API would, headers included.
@Suite("The token API's answers as a client sees them", .serialized)
struct AnswerHeadersTests {
    /// `curl -i` over the Unix socket: the status line and headers, then the body.
    static func curl(_ socket: String, _ arguments: [String]) throws -> (head: String, body: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["curl", "-s", "-i", "--max-time", "10", "--unix-socket", socket] + arguments
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let parts = text.components(separatedBy: "\r\n\r\n")
        return (parts.first ?? "", parts.dropFirst().joined(separator: "\r\n\r\n"))
    }

    @Test("a token answer has Cache-Control: no-store; unknown grant and bad request answer the error shape")
    func headersAndErrorShape() async throws {
        let fixture = try await APIFixture.start(accessTokenLifetime: 600)
        let key = GrantKey.library("ACTIVE", of: "demo")
        do {
            try #require(try await fixture.wait(upTo: 15) { try fixture.store.tokens(for: key)?.accessToken != nil })
            let socket = fixture.socketPath
            let token = try Self.curl(socket, ["http://localhost/v1/organisations/demo/libraries/ACTIVE/token"])
            #expect(token.head.hasPrefix("HTTP/1.1 200"), "\(token.head)")
            #expect(token.head.lowercased().contains("\r\ncache-control: no-store"), "\(token.head)")

            let unknown = try Self.curl(socket, ["http://localhost/v1/organisations/demo/libraries/NOPE/token"])
            #expect(unknown.head.hasPrefix("HTTP/1.1 404"), "\(unknown.head)")
            let notFound = try #require(try JSONSerialization.jsonObject(with: Data(unknown.body.utf8)) as? [String: Any])
            #expect(notFound["error"] as? String == "not_found" && (notFound["reason"] as? String)?.isEmpty == false, "\(unknown.body)")

            let bad = try Self.curl(socket, ["-X", "POST", "-H", "Content-Type: application/json", "-d", "{not json", "http://localhost/v1/refresh"])
            #expect(bad.head.hasPrefix("HTTP/1.1 400"), "\(bad.head)")
            let badRequest = try #require(try JSONSerialization.jsonObject(with: Data(bad.body.utf8)) as? [String: Any])
            #expect(badRequest["error"] as? String == "bad_request" && (badRequest["reason"] as? String)?.isEmpty == false, "\(bad.body)")
            await fixture.stop()
        } catch {
            await fixture.stop()
            throw error
        }
    }
}
