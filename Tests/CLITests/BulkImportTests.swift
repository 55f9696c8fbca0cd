import Foundation
import Testing
import TokendStore

/// `import --from FILE`: JSON lines, each verified as `import` verifies one, one result per line.
@Suite("Bulk import", .serialized)
struct BulkImportTests {
    private func mint(_ harness: DaemonHarness, _ user: String) async throws -> String {
        let minted = try await harness.curl(["-X", "POST", harness.base + "/_emulator/grants", "-d", #"{"user":"\#(user)","client_id":"tokend-demo","count":1}"#])
        return try #require((try JSONSerialization.jsonObject(with: Data(minted.utf8)) as? [String])?.first)
    }

    private func line(_ fields: [String: String]) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys]), as: UTF8.self)
    }

    @Test("good lines are stored; a forged token, a non-NRTADMIN, another customer, a malformed line and a duplicate are refused, each on its own line")
    func mixedFile() async throws {
        let harness = try await DaemonHarness(emulatorArguments: ["--customers", "2"])
        let alice = try await mint(harness, "ALICE"), bob = try await mint(harness, "BOB"), carol = try await mint(harness, "CAROL")
        let admin2 = try await mint(harness, "ADMIN2"), user2 = try await mint(harness, "USER2"), again = try await mint(harness, "ALICE")
        let forged = "forged-" + String(repeating: "x", count: 40)
        let input = [
            try line(["organisation": "demo", "library": "ACTIVE", "refresh_token": alice]),       // 1 imported
            try line(["organisation": "demo", "user": "bob@example.com", "refresh_token": bob]),   // 2 imported (by email)
            try line(["organisation": "demo", "library": "FORGED", "refresh_token": forged]),      // 3 forged
            try line(["organisation": "demo", "library": "LITIGATION", "refresh_token": carol]),   // 4 not NRTADMIN
            "{\"organisation\": \"demo\", \"library\": ",                                          // 5 malformed
            "",                                                                                     // 6 empty: no result
            try line(["organisation": "demo", "library": "ACTIVE", "refresh_token": again]),       // 7 duplicate of 1
            try line(["organisation": "demo", "library": "ARCHIVE", "refresh_token": admin2]),     // 8 customer 2
            try line(["organisation": "demo", "user": "USER2", "refresh_token": user2]),           // 9 customer 2
            try line(["organisation": "nope", "user": "BOB", "refresh_token": "t"]),               // 10 unknown organisation
        ].joined(separator: "\n") + "\n"
        let file = harness.directory.appendingPathComponent("grants.jsonl")
        _ = FileManager.default.createFile(atPath: file.path, contents: Data(input.utf8), attributes: [.posixPermissions: 0o600])

        let outcome = try await harness.tokend(["import", "--from", file.path, "--concurrency", "4"])
        #expect(outcome.status == 1, "some lines were refused: \(outcome.stderr)")
        let results = outcome.stdout.split(separator: "\n").map(String.init)
        #expect(results.count == 9, "\(results)")
        #expect(results.map { $0.split(separator: ":").first.map(String.init) ?? "" }
                == ["line 1", "line 2", "line 3", "line 4", "line 5", "line 7", "line 8", "line 9", "line 10"])
        #expect(results[0] == "line 1: imported library ACTIVE of demo, authorised by Alice Admin (ALICE)")
        #expect(results[1] == "line 2: imported user BOB of demo, authorised by Bob Barrister (BOB)")
        #expect(results[2].contains("refused: the refresh token could not be verified"), "\(results[2])")
        #expect(results[3].contains("refused: Carol Clerk (carol@example.com) is not an NRTADMIN of library LITIGATION"), "\(results[3])")
        #expect(results[4].contains("refused: not a JSON object"))
        #expect(results[5].contains("refused: the same grant as line 1"))
        #expect(results[6].contains("refused: you signed in to iManage customer 2; this organisation (demo) is customer 1"), "\(results[6])")
        #expect(results[7].contains("refused: you signed in to iManage customer 2"))
        #expect(results[8].contains("refused: no organisation nope"))
        #expect(outcome.stderr.contains("2 of 9 lines imported, 7 refused"), "\(outcome.stderr)")
        for token in [alice, bob, carol, admin2, user2, again, forged] {
            #expect(!outcome.stdout.contains(token) && !outcome.stderr.contains(token), "a token was printed")
        }

        let status = try await harness.statusJSON()
        let libraries = (status["libraries"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        let users = (status["users"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        #expect(libraries == ["ACTIVE"])
        #expect(users == ["BOB"])
        // The duplicate was never sent: its token still works for a single import.
        let file2 = harness.directory.appendingPathComponent("again")
        _ = FileManager.default.createFile(atPath: file2.path, contents: Data(again.utf8), attributes: [.posixPermissions: 0o600])
        let single = try await harness.tokend(["import", "--organisation", "demo", "--library", "ARCHIVE", "--refresh-token-file", file2.path])
        #expect(single.status == 0, "\(single.stderr)")
    }

    @Test("--json prints one object per line; a running daemon is told once and schedules them")
    func jsonAndDaemon() async throws {
        let harness = try await DaemonHarness()
        try await harness.startDaemon()
        let input = [
            try line(["organisation": "demo", "library": "ACTIVE", "refresh_token": try await mint(harness, "ALICE")]),
            try line(["organisation": "demo", "library": "LITIGATION", "refresh_token": try await mint(harness, "ALICE")]),
        ].joined(separator: "\n")
        let file = harness.directory.appendingPathComponent("grants.jsonl")
        _ = FileManager.default.createFile(atPath: file.path, contents: Data(input.utf8), attributes: [.posixPermissions: 0o600])
        let outcome = try await harness.tokend(["import", "--from", file.path, "--json"])
        _ = try await harness.stopDaemon()
        let objects = outcome.stdout.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        #expect(objects.count == 2)
        #expect(objects.first?["result"] as? String == "imported")
        #expect(objects.first?["line"] as? Int == 1)
        #expect(objects.last?["result"] as? String == "refused")
        #expect((objects.last?["reason"] as? String)?.contains("not an NRTADMIN of library LITIGATION") == true)
        #expect(outcome.stderr.contains("the running daemon has scheduled them"), "\(outcome.stderr)")
    }

    private func write(_ lines: [String], in harness: DaemonHarness) -> URL {
        let file = harness.directory.appendingPathComponent("grants.jsonl")
        _ = FileManager.default.createFile(atPath: file.path, contents: Data((lines.joined(separator: "\n") + "\n").utf8), attributes: [.posixPermissions: 0o600])
        return file
    }

    @Test("a 429's Retry-After pauses every verification of the organisation, not just the line answered; then all are imported")
    func tooManyRequestsPausesTheOrganisation() async throws {
        let harness = try await DaemonHarness(emulatorArguments: ["--libraries", "6"])
        var lines: [String] = []
        for index in 1...6 {
            lines.append(try line(["organisation": "demo", "library": String(format: "LIB%05d", index), "refresh_token": try await mint(harness, "ALICE")]))
        }
        let file = write(lines, in: harness)
        let pause: TimeInterval = 3
        try await harness.fault(#"{"endpoint":"token","kind":"too_many_requests","retry_after":\#(Int(pause)),"count":1}"#)
        let started = Date()
        let outcome = try await harness.tokend(["import", "--from", file.path, "--concurrency", "2"])
        #expect(outcome.status == 0, "\(outcome.stdout)\(outcome.stderr)")
        #expect(outcome.stdout.split(separator: "\n").filter { $0.contains(": imported library LIB0000") }.count == 6, "\(outcome.stdout)")

        let store = try SQLiteGrantStore(path: harness.directory.appendingPathComponent("tokend.sqlite").path, key: nil, mode: .readOnly)
        let stored = try store.records().map(\.createdAt)
        #expect(stored.count == 6)
        // Only the line whose request was already out when the 429 came may be stored before the
        // pause ends; a pause of the one line answered would let the other five through at once.
        let duringPause = stored.filter { $0 < started.addingTimeInterval(pause) }
        #expect(duringPause.count <= 1, "\(duringPause.count) grants were verified while the organisation was paused")
    }

    @Test("a passing failure after the refresh (a 429 on GET /api) is retried with the tokens in hand: the grant is imported")
    func tooManyRequestsAfterTheRefresh() async throws {
        let harness = try await DaemonHarness()
        let file = write([try line(["organisation": "demo", "library": "ACTIVE", "refresh_token": try await mint(harness, "ALICE")])], in: harness)
        try await harness.fault(#"{"endpoint":"api","kind":"too_many_requests","retry_after":1,"count":1}"#)
        let outcome = try await harness.tokend(["import", "--from", file.path])
        #expect(outcome.status == 0, "\(outcome.stdout)\(outcome.stderr)")
        #expect(outcome.stdout == "line 1: imported library ACTIVE of demo, authorised by Alice Admin (ALICE)\n")
    }

    @Test("--from goes with none of the single-grant flags")
    func flags() async throws {
        let harness = try await DaemonHarness()
        let outcome = try await harness.tokend(["import", "--from", "-", "--organisation", "demo"])
        #expect(outcome.status == 64)
        #expect(outcome.stderr.contains("--from reads organisation"))
    }
}
