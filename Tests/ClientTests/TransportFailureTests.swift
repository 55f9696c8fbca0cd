import Foundation
import Hummingbird
import IManageClient
import NIOCore
import Testing
import TokendPolicy
import TokendTestSupport

@Suite("failures without a usable answer")
struct TransportFailureTests {
    private let shortTimeouts = IManageClientSettings(connectTimeout: 1, requestTimeout: 1)

    @Test func aHangingServerTimesOutWithinTheRequestTimeout() async throws {
        try await withServer({ _ in
            try await Task.sleep(for: .seconds(4))
            return jsonAnswer("{}")
        }) { server in
            // Only the request is timed (not the client's start and shutdown): the server answers after 4 s.
            let (result, elapsed) = try await withClient(shortTimeouts) { client in
                let started = ContinuousClock.now
                let result = await client.refresh(
                    tokenURL: server.url("/auth/oauth2/token"), credentials: TestSecrets.credentials,
                    refreshToken: TestSecrets.refreshToken)
                return (result, ContinuousClock.now - started)
            }
            let failure = try #require(result.failure)
            #expect(failure.failureClass == .transient)
            #expect(failure.httpStatus == nil)
            #expect(failure.detail.contains("no complete answer from 127.0.0.1 within 1 s"))
            #expect(elapsed < .seconds(3))
        }
    }

    @Test func aServerStallingMidAnswerTimesOut() async throws {
        try await withServer({ _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody { writer in
                try await writer.write(ByteBuffer(string: #"{"access_token":"#))
                try await Task.sleep(for: .seconds(4))
                try await writer.write(ByteBuffer(string: #""late"}"#))
                try await writer.finish(nil)
            })
        }) { server in
            let (result, elapsed) = try await withClient(shortTimeouts) { client in
                let started = ContinuousClock.now
                let result = await client.refresh(
                    tokenURL: server.url("/auth/oauth2/token"), credentials: TestSecrets.credentials,
                    refreshToken: TestSecrets.refreshToken)
                return (result, ContinuousClock.now - started)
            }
            let failure = try #require(result.failure)
            #expect(failure.failureClass == .transient)
            #expect(failure.detail.contains("within 1 s"))
            // The rest of the answer comes 4 s after its start; the 1 s deadline must end it well before
            // (not by 3 s: a loaded machine took 3.1).
            #expect(elapsed < .seconds(3.8), "waited for the rest of the answer, which came after 4 s")
        }
    }

    @Test func anOversizeAnswerIsNotReadAndIsPassing() async throws {
        let big = #"{"access_token":""# + String(repeating: "a", count: 100_000) + #""}"#
        try await withServer({ _ in jsonAnswer(big) }) { server in
            let result = try await withClient { client in
                await client.refresh(
                    tokenURL: server.url("/auth/oauth2/token"), credentials: TestSecrets.credentials,
                    refreshToken: TestSecrets.refreshToken)
            }
            let failure = try #require(result.failure)
            #expect(failure.failureClass == .transient)
            #expect(failure.detail.contains("larger than 65536 bytes"))
        }
    }

    @Test func anOversizeChunkedAnswerStopsAtTheCap() async throws {
        try await withServer({ _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody { writer in
                for _ in 0..<64 { try await writer.write(ByteBuffer(string: String(repeating: "x", count: 4096))) }
                try await writer.finish(nil)
            })
        }) { server in
            let settings = IManageClientSettings(requestTimeout: 5, maximumBodySize: 10_000)
            let result = try await withClient(settings) { client in
                await client.discover(discoveryURL: server.url("/api"), accessToken: TestSecrets.accessToken)
            }
            let failure = try #require(result.failure)
            #expect(failure.failureClass == .transient)
            #expect(failure.detail.contains("larger than 10000 bytes"))
        }
    }

    @Test func aRefusedConnectionNamesTheHost() async throws {
        let refusing = try LocalPort()
        let result = try await withClient(shortTimeouts) { client in
            await client.refresh(
                tokenURL: URL(string: "http://127.0.0.1:\(refusing.port)/auth/oauth2/token")!,
                credentials: TestSecrets.credentials, refreshToken: TestSecrets.refreshToken)
        }
        let failure = try #require(result.failure)
        #expect(failure.failureClass == .transient)
        #expect(failure.detail.hasPrefix("could not connect to 127.0.0.1:\(refusing.port): connection refused"))
    }

    @Test func plainHTTPToARemoteHostIsRefusedBeforeSending() async throws {
        let result = try await withClient { client in
            await client.refresh(
                tokenURL: URL(string: "http://acme.cloudimanage.com/auth/oauth2/token")!,
                credentials: TestSecrets.credentials, refreshToken: TestSecrets.refreshToken)
        }
        let failure = try #require(result.failure)
        #expect(failure.failureClass == .transient)
        #expect(failure.detail.contains("refusing to send credentials to acme.cloudimanage.com over plain http"))
    }

    @Test func aURLWithoutHostIsRefused() async throws {
        let result = try await withClient { client in
            await client.discover(discoveryURL: URL(string: "file:///etc/passwd")!, accessToken: TestSecrets.accessToken)
        }
        #expect(result.failure?.detail.contains("not an http(s) URL") == true)
    }

    @Test func requestsAfterShutdownFailPassingly() async throws {
        let client = try IManageHTTPClient(settings: shortTimeouts, logger: LogCapture().logger)
        await client.shutdown()
        let result = await client.discover(
            discoveryURL: URL(string: "http://127.0.0.1:1/api")!, accessToken: TestSecrets.accessToken)
        #expect(result.failure?.failureClass == .transient)
        #expect(result.failure?.detail == "the request to 127.0.0.1 was not sent: the HTTP client is already shut down",
                "\(result.failure?.detail ?? "no failure")")
        await client.shutdown()
    }
}
