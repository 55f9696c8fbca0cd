import Foundation
import IManageClient
import Testing
import TokendPolicy

@Suite("TLS: an organisation's own CA is trusted for its hosts only")
struct TrustRootsPerHostTests {
    @Test func aCAGivenForOneHostIsNotTrustedForAnother() async throws {
        let certificates = try TestCertificates.make()
        defer { certificates.remove() }
        let body = #"{"data":{"user":{"id":"JSMITH","customer_id":"1"}}}"#
        let server = try await TestIManageServer.start(tls: try certificates.serverContext()) { _ in jsonAnswer(body) }
        // The test certificate names 127.0.0.1. Its CA given for another host (another firm's server)
        // must not make 127.0.0.1 trusted; given for 127.0.0.1 it does.
        let elsewhere = IManageClientSettings(connectTimeout: 2, requestTimeout: 5, trustRootsByHost: ["dms.other-firm.example": certificates.caFile])
        let refused = try await withClient(elsewhere) { client in
            await client.discover(discoveryURL: server.url("/api"), accessToken: TestSecrets.accessToken)
        }
        let here = IManageClientSettings(connectTimeout: 2, requestTimeout: 5, trustRootsByHost: ["127.0.0.1": certificates.caFile])
        let trusted = try await withClient(here) { client in
            await client.discover(discoveryURL: server.url("/api"), accessToken: TestSecrets.accessToken)
        }
        await server.stop()
        #expect(refused.failure?.detail.hasPrefix("TLS failure with 127.0.0.1: certificate verify failed") == true, "\(refused)")
        #expect(trusted.success?.customerID == "1")
    }
}
