import AsyncHTTPClient
import Foundation
import IManageEmulator
import Testing

@Suite("Injected faults")
struct FaultTests {
    @Test("5xx limited to the next two requests, then normal service")
    func countLimitedServerError() async throws {
        try await withEmulator { h in
            let refresh = try #require(try await h.authorizedTokens()["refresh_token"] as? String)
            let added = try await h.postJSON("/_emulator/faults", #"{"endpoint":"token","kind":"server_error","status":502,"count":2}"#)
            #expect(added.status == 201)
            #expect(try added.json()["id"] is Int)
            #expect(try await h.refresh(refresh).status == 502)
            #expect(try await h.refresh(refresh).status == 502)
            #expect(try await h.refresh(refresh).status == 200)
            #expect((try await h.get("/_emulator/faults").json()["faults"] as? [Any])?.isEmpty == true)
            #expect(h.emulator.stats().count(.token, .faultServerError) == 2)
        }
    }

    @Test("429 carries Retry-After")
    func tooManyRequests() async throws {
        try await withEmulator { h in
            try h.emulator.addFault(Fault(.tooManyRequests(retryAfterSeconds: 42), on: .token))
            let refresh = "x"
            let answer = try await h.refresh(refresh)
            #expect(answer.status == 429)
            #expect(answer.header("Retry-After") == "42")
            h.emulator.clearFaults()
            #expect(try await h.refresh(refresh).status == 400)
        }
    }

    @Test("A hanging request is let go with 504 when the fault is cleared")
    func hangThenClear() async throws {
        try await withEmulator { h in
            try await h.postJSON("/_emulator/faults", #"{"endpoint":"api","kind":"hang","seconds":60}"#).status.isOK201()
            let started = ContinuousClock.now
            async let held = h.get("/api", token: "whatever")
            try await Task.sleep(for: .milliseconds(300))
            // Other endpoints are unaffected while the API hangs.
            #expect(try await h.refresh("x").status == 400)
            #expect(try await h.request(.DELETE, "/_emulator/faults").status == 200)
            let answer = try await held
            #expect(answer.status == 504)
            #expect(ContinuousClock.now - started < .seconds(10))
            #expect(try await h.get("/api", token: "whatever").status == 401)
        }
    }

    @Test("A hang with a time limit ends by itself; with then=drop the connection closes unanswered")
    func hangThenDrop() async throws {
        try await withEmulator { h in
            try h.emulator.addFault(Fault(.hang(seconds: 0.2, then: .drop), on: .token, count: 1))
            // Closed unanswered: the client sees the connection end, not an HTTP answer.
            let error = await #expect(throws: HTTPClientError.self) {
                _ = try await h.refresh("x")
            }
            #expect(error == .remoteConnectionClosed, "\(String(describing: error))")
            try h.emulator.addFault(Fault(.hang(seconds: 0.2, then: .gatewayTimeout), on: .token, count: 1))
            #expect(try await h.refresh("x").status == 504)
            #expect(try await h.refresh("x").status == 400)
            #expect(h.emulator.stats().count(.token, .faultHang) == 2)
        }
    }

    @Test("Stopping the emulator lets a hanging request go")
    func stopReleasesHang() async throws {
        let emulator = try await IManageEmulator.start(.demo)
        let h = Harness(emulator: emulator)
        try emulator.addFault(Fault(.hang(seconds: 600, then: .gatewayTimeout), on: .all))
        let started = ContinuousClock.now
        async let held = h.get("/api")
        try await Task.sleep(for: .milliseconds(200))
        await emulator.stop()
        // Let go, the held request gets the fault's ending (504) at once, not after 600 s.
        let answer = try await held
        #expect(answer.status == 504)
        #expect(ContinuousClock.now - started < .seconds(10))
    }

    @Test("A non-JSON 200 (an HTML proxy page)")
    func nonJSON() async throws {
        try await withEmulator { h in
            try h.emulator.addFault(Fault(.nonJSON, on: .token, count: 1))
            let answer = try await h.refresh("x")
            #expect(answer.status == 200)
            #expect(answer.header("Content-Type")?.hasPrefix("text/html") == true)
            #expect((try? JSONSerialization.jsonObject(with: Data(answer.body.utf8))) == nil)
        }
    }

    @Test("invalid_grant, invalid_client and unauthorized_client on demand, even for a good token")
    func oauthErrorFaults() async throws {
        try await withEmulator { h in
            let refresh = try #require(try await h.authorizedTokens()["refresh_token"] as? String)
            for (kind, status) in [("invalid_grant", 400), ("invalid_client", 401), ("unauthorized_client", 400)] {
                try await h.postJSON("/_emulator/faults", "{\"endpoint\":\"token\",\"kind\":\"\(kind)\",\"count\":1}").status.isOK201()
                let answer = try await h.refresh(refresh)
                #expect(answer.status == status)
                #expect(answer.oauthError == kind)
            }
            // The faults did not touch the real grant.
            #expect(try await h.refresh(refresh).status == 200)
        }
    }

    @Test("Faults hit only their endpoint; 'all' hits every endpoint; faults are listed and removable")
    func targeting() async throws {
        try await withEmulator { h in
            let access = try #require(try await h.authorizedTokens()["access_token"] as? String)
            let id = try h.emulator.addFault(Fault(.serverError(status: 500), on: .members))
            #expect(try await h.get("/work/api/v2/customers/1/libraries", token: access).status == 200)
            #expect(try await h.get("/work/api/v2/customers/1/libraries/ACTIVE/groups/NRTADMIN/members", token: access).status == 500)
            let listed = try #require(try await h.get("/_emulator/faults").json()["faults"] as? [[String: Any]])
            #expect(listed.first?["id"] as? Int == id)
            #expect(listed.first?["endpoint"] as? String == "members")
            #expect(try await h.request(.DELETE, "/_emulator/faults/\(id)").status == 200)
            #expect(try await h.request(.DELETE, "/_emulator/faults/\(id)").status == 404)

            try h.emulator.addFault(Fault(.serverError(status: 503), on: .all))
            #expect(try await h.get("/api", token: access).status == 503)
            #expect(try await h.get(h.authorizeQuery()).status == 503)
            #expect(try await h.refresh("x").status == 503)
            // The control API is never faulted.
            #expect(try await h.get("/_emulator/stats").status == 200)
            h.emulator.clearFaults()
            #expect(try await h.get("/api", token: access).status == 200)
        }
    }

    @Test("Bad fault descriptions are refused with a reason")
    func invalidFaults() async throws {
        try await withEmulator { h in
            for body in [
                #"{"endpoint":"token","kind":"server_error","status":404}"#,
                #"{"endpoint":"nowhere","kind":"server_error"}"#,
                #"{"endpoint":"token","kind":"explode"}"#,
                #"{"endpoint":"token","kind":"too_many_requests"}"#,
                #"{"endpoint":"token","kind":"hang","seconds":-1}"#,
                #"{"endpoint":"token","kind":"invalid_grant","count":0}"#,
                #"{"endpoint":"token","kind":"invalid_grant","cuont":1}"#,
                #"{"endpoint":"token"}"#,
                "not json",
            ] {
                let answer = try await h.postJSON("/_emulator/faults", body)
                #expect(answer.status == 400, "\(body)")
                #expect(try answer.json()["message"] is String)
            }
            #expect(throws: EmulatorError.self) { try h.emulator.addFault(Fault(.serverError(status: 200), on: .token)) }
        }
    }
}

extension Int {
    func isOK201(sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(self == 201, sourceLocation: sourceLocation)
    }
}
