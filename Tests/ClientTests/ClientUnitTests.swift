import AsyncHTTPClient
import Foundation
import NIOCore
import Testing
import TokendPolicy
@testable import IManageClient

@Suite("client building blocks")
struct ClientUnitTests {
    @Test func loopbackHostsAreRecognised() {
        for host in ["localhost", "127.0.0.1", "127.1.2.3", "::1", "[::1]", "app.localhost"] {
            #expect(RequestTarget.isLoopback(host), "\(host)")
        }
        for host in ["acme.cloudimanage.com", "127.0.0.1.evil.example", "10.0.0.1", "128.0.0.1", "localhost.example"] {
            #expect(!RequestTarget.isLoopback(host), "\(host)")
        }
    }

    @Test func boringSSLReasonsAreExtracted() {
        let text = "handshakeFailed(sslError([Error: 268435581 error:1000007d:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED at file.c:1]))"
        #expect(TransportFailure.boringSSLReasons(in: text) == ["CERTIFICATE_VERIFY_FAILED"])
    }

    @Test func transportErrorsSayWhatHappenedAndWhere() {
        let settings = IManageClientSettings(connectTimeout: 10, requestTimeout: 30)
        let detail = { (error: any Error) in
            TransportFailure.detail(for: error, host: "acme.cloudimanage.com", port: nil, settings: settings)
        }
        #expect(detail(HTTPClientError.connectTimeout)
            .hasPrefix("could not connect to acme.cloudimanage.com within 10 s"))
        #expect(detail(ChannelError.connectTimeout(.seconds(10)))
            .hasPrefix("could not connect to acme.cloudimanage.com within 10 s"))
        #expect(detail(HTTPClientError.deadlineExceeded)
            .hasPrefix("no complete answer from acme.cloudimanage.com within 30 s"))
        #expect(detail(HTTPClientError.tlsHandshakeTimeout).hasPrefix("TLS failure with acme.cloudimanage.com"))
        #expect(detail(IOError(errnoCode: ECONNRESET, reason: "read"))
            == "could not connect to acme.cloudimanage.com: connection reset by the server or a firewall")
        #expect(TransportFailure.detail(
            for: IOError(errnoCode: ECONNREFUSED, reason: "connect"), host: "::1", port: 8443, settings: settings
        ).hasPrefix("could not connect to [::1]:8443: connection refused"))
    }
}
