import Foundation
import IManageClient
import Testing
import TokendPolicy
import TokendTestSupport

@Suite("TLS to iManage")
struct TLSTests {
    @Test func aPrivateCAIsRefusedByDefaultAndTrustedWithTheTrustRootsFile() async throws {
        let certificates = try TestCertificates.make()
        defer { certificates.remove() }
        let body = #"{"data":{"user":{"id":"JSMITH","customer_id":"1"}}}"#
        let server = try await TestIManageServer.start(tls: try certificates.serverContext()) { _ in jsonAnswer(body) }
        do {
            let untrusted = try await withClient { client in
                await client.discover(discoveryURL: server.url("/api"), accessToken: TestSecrets.accessToken)
            }
            let failure = try #require(untrusted.failure)
            #expect(failure.failureClass == .transient)
            #expect(failure.detail.hasPrefix("TLS failure with 127.0.0.1: certificate verify failed"))
            #expect(server.requests.isEmpty)

            let settings = IManageClientSettings(
                connectTimeout: 2, requestTimeout: 5, trustRootsFile: certificates.caFile)
            let trusted = try await withClient(settings) { client in
                await client.discover(discoveryURL: server.url("/api"), accessToken: TestSecrets.accessToken)
            }
            #expect(trusted.success == IManageIdentity(userID: "JSMITH", email: nil, name: nil, customerID: "1"))
            #expect(server.requests.first?.headers["x-auth-token"] == TestSecrets.accessToken)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    @Test func plainHTTPToATLSPortSaysSo() async throws {
        let certificates = try TestCertificates.make()
        defer { certificates.remove() }
        let server = try await TestIManageServer.start(tls: try certificates.serverContext()) { _ in jsonAnswer("{}") }
        let result = try await withClient(IManageClientSettings(connectTimeout: 2, requestTimeout: 2)) { client in
            await client.discover(
                discoveryURL: URL(string: "https://127.0.0.1:\(server.port)/api")!.withScheme("http"),
                accessToken: TestSecrets.accessToken)
        }
        await server.stop()
        #expect(result.failure?.failureClass == .transient)
        #expect(result.failure?.detail.contains("if that port speaks TLS, the URL must start with https") == true,
                "\(result.failure?.detail ?? "no failure")")
    }

    @Test func anUnreadableTrustRootsFileStopsTheClientFromStarting() throws {
        #expect(throws: TrustRootsError.self) {
            _ = try IManageHTTPClient(
                settings: IManageClientSettings(trustRootsFile: "/nonexistent/ca.pem"), logger: LogCapture().logger)
        }
        let error = try #require(throws: TrustRootsError.self) {
            _ = try IManageHTTPClient(
                settings: IManageClientSettings(trustRootsFile: "/etc/hostname"), logger: LogCapture().logger)
        }
        #expect(error.description.contains("/etc/hostname"))
    }
}

private extension URL {
    func withScheme(_ scheme: String) -> URL {
        var components = URLComponents(url: self, resolvingAgainstBaseURL: false)!
        components.scheme = scheme
        return components.url!
    }
}
