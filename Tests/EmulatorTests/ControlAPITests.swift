import Foundation
import IManageEmulator
import Testing

@Suite("Control API: minting grants, inspect, stats, settings, lifecycle")
struct ControlAPITests {
    @Test("Minting grants answers usable refresh tokens, as JSON or one per line")
    func mintGrants() async throws {
        try await withEmulator { h in
            let json = try await h.postJSON("/_emulator/grants", #"{"user":"ALICE","client_id":"tokend-demo","count":3}"#)
            #expect(json.status == 200)
            let tokens = try #require(try JSONSerialization.jsonObject(with: Data(json.body.utf8)) as? [String])
            #expect(tokens.count == 3 && Set(tokens).count == 3)
            for token in tokens {
                #expect(try await h.inspectState(token) == "active")
            }
            let refreshed = try await h.refresh(tokens[0])
            #expect(refreshed.status == 200)
            let access = try #require(try refreshed.json()["access_token"] as? String)
            let me = try await h.get("/api", token: access).json()["data"] as? [String: Any]
            #expect((me?["user"] as? [String: Any])?["id"] as? String == "ALICE")

            let text = try await h.request(
                .POST, "/_emulator/grants", headers: [("Accept", "text/plain")],
                body: #"{"user":"bob@example.com","client_id":"tokend-demo","count":5}"#)
            #expect(text.header("Content-Type")?.hasPrefix("text/plain") == true)
            let lines = text.body.split(separator: "\n").map(String.init)
            #expect(lines.count == 5)
            #expect(try await h.postJSON("/_emulator/inspect", "{\"refresh_token\":\"\(lines[4])\"}").json()["user"] as? String == "BOB")

            #expect(try await h.postJSON("/_emulator/grants", #"{"user":"NOBODY","client_id":"tokend-demo","count":1}"#).status == 404)
            #expect(try await h.postJSON("/_emulator/grants", #"{"user":"ALICE","client_id":"nope","count":1}"#).status == 404)
            #expect(try await h.postJSON("/_emulator/grants", #"{"user":"ALICE","client_id":"tokend-demo","count":0}"#).status == 400)
            #expect(try await h.postJSON("/_emulator/grants", #"{"user":"ALICE","count":1}"#).status == 400)
        }
    }

    // The throughput figures (1,000,000 grants minted in 1.2 s, about 11,900 refreshes per second) are
    // measured by hand with a release build, as the README says; this test holds only what they rely on.
    @Test("Minting many grants in process gives distinct, active tokens that refresh over HTTP, also concurrently")
    func mintMany() async throws {
        try await withEmulator { h in
            let tokens = try h.emulator.mintGrants(user: "ALICE", clientID: "tokend-demo", count: 10_000)
            #expect(tokens.count == 10_000 && Set(tokens).count == 10_000)
            #expect(h.emulator.inspect(refreshToken: tokens[9_999]).state == .active)
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<16 { group.addTask { try await h.refresh(tokens[index * 601]).status } }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses == Array(repeating: 200, count: 16))
        }
    }

    @Test("Inspect reports unknown tokens without consuming anything")
    func inspectUnknown() async throws {
        try await withEmulator { h in
            #expect(try await h.inspectState("nope") == "unknown")
            #expect(try await h.inspectState(String(repeating: "B", count: 43)) == "unknown")
            #expect(try await h.postJSON("/_emulator/inspect", "{}").status == 400)
            let token = try h.emulator.mintGrants(user: "CAROL", clientID: "tokend-demo", count: 1)[0]
            for _ in 0..<3 { #expect(try await h.inspectState(token) == "active") }
            #expect(try await h.postJSON("/_emulator/revoke", "{\"refresh_token\":\"\(token)\"}").status == 200)
            #expect(try await h.inspectState(token) == "revoked")
            #expect(try await h.refresh(token).oauthError == "invalid_grant")
        }
    }

    @Test("Stats count requests per endpoint and outcome, and reset")
    func stats() async throws {
        try await withEmulator { h in
            let tokens = try await h.authorizedTokens()
            let access = try #require(tokens["access_token"] as? String)
            _ = try await h.refresh("bogus")
            _ = try await h.refresh(try #require(tokens["refresh_token"] as? String), secret: "wrong")
            _ = try await h.get("/api", token: access)
            _ = try await h.get("/api")

            let stats = try await h.get("/_emulator/stats").json()
            let endpoints = try #require(stats["endpoints"] as? [String: [String: Int]])
            #expect(endpoints["authorize"]?["total"] == 2)
            #expect(endpoints["token"]?["total"] == 3)
            #expect(endpoints["token"]?["success"] == 1)
            #expect(endpoints["token"]?["invalid_grant"] == 1)
            #expect(endpoints["token"]?["invalid_client"] == 1)
            #expect(endpoints["api"]?["success"] == 1)
            #expect(endpoints["api"]?["unauthorized"] == 1)
            #expect(endpoints["members"]?["total"] == 0)
            #expect(h.emulator.stats().total(.token) == 3)

            #expect(try await h.request(.DELETE, "/_emulator/stats").status == 200)
            let reset = try await h.get("/_emulator/stats").json()["endpoints"] as? [String: [String: Int]]
            #expect(reset?["token"]?["total"] == 0)
            _ = try await h.get("/api")
            h.emulator.resetStats()
            #expect(h.emulator.stats().total(.api) == 0)
        }
    }

    @Test("Settings can be read and changed at run time; bad values are refused")
    func settings() async throws {
        try await withEmulator { h in
            let initial = try await h.get("/_emulator/settings").json()
            #expect(initial["rotation"] as? Bool == false)
            #expect(initial["access_token_lifetime"] as? Int == 1800)
            #expect(initial["expires_in"] as? Bool == true)

            let changed = try await h.postJSON(
                "/_emulator/settings", #"{"rotation":true,"grace_seconds":30,"access_token_lifetime":60,"expires_in":false}"#,
                method: .PATCH)
            #expect(changed.status == 200)
            #expect(h.emulator.settings.rotatesRefreshTokens)
            #expect(h.emulator.settings.rotationGraceSeconds == 30)
            #expect(h.emulator.settings.accessTokenLifetime == 60)
            #expect(!h.emulator.settings.includesExpiresIn)

            #expect(try await h.postJSON("/_emulator/settings", #"{"access_token_lifetime":0}"#, method: .PATCH).status == 400)
            #expect(try await h.postJSON("/_emulator/settings", #"{"rotaton":true}"#, method: .PATCH).status == 400)
            #expect(try await h.postJSON("/_emulator/settings", #"{"rotation":"yes"}"#, method: .PATCH).status == 400)
            #expect(h.emulator.settings.accessTokenLifetime == 60)
            #expect(throws: EmulatorError.self) { try h.emulator.updateSettings { $0.rotationGraceSeconds = -1 } }

            let tokens = try await h.authorizedTokens()
            #expect(tokens["expires_in"] == nil)
            let refresh = try #require(tokens["refresh_token"] as? String)
            #expect(try await h.refresh(refresh).json()["refresh_token"] is String)
        }
    }

    @Test("The clock can be moved forward over HTTP")
    func clock() async throws {
        try await withEmulator { h in
            let access = try #require(try await h.authorizedTokens()["access_token"] as? String)
            let moved = try await h.postJSON("/_emulator/clock", #"{"advance_seconds":1801}"#)
            #expect(try moved.json()["offset_seconds"] as? Double == 1801)
            #expect(try await h.get("/api", token: access).status == 401)
            #expect(try await h.postJSON("/_emulator/clock", #"{"advance_seconds":-5}"#).status == 400)
        }
    }

    @Test("Two emulators run side by side on their own ports; a bad configuration is refused")
    func lifecycle() async throws {
        let first = try await IManageEmulator.start(.demo)
        let second = try await IManageEmulator.start(.demo)
        #expect(first.port != second.port)
        #expect(first.baseURL == "http://127.0.0.1:\(first.port)")
        let token = try first.mintGrants(user: "ALICE", clientID: "tokend-demo", count: 1)[0]
        #expect(second.inspect(refreshToken: token).state == .unknown)
        await first.stop()
        await second.stop()

        var bad = EmulatorConfiguration.demo
        bad.libraries.append(.init(id: "X", nrtAdmins: ["NOBODY"]))
        await #expect(throws: EmulatorError.self) { _ = try await IManageEmulator.start(bad) }

        var taken = EmulatorConfiguration.demo
        let holder = try await IManageEmulator.start(.demo)
        taken.port = holder.port
        await #expect(throws: (any Error).self) { let e = try await IManageEmulator.start(taken); await e.stop() }
        await holder.stop()
    }
}
