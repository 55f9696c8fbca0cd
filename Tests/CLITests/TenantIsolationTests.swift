import Foundation
import Testing

/// Two iManage customers on one host, as cloud customers share cloudimanage.com: the people of
/// customer 2 (ADMIN2, NRTADMIN of its own ACTIVE and ARCHIVE; USER2) can store, replace or remove
/// nothing in an organisation of customer 1, while customer 1's people can. Real binaries, real HTTP.
@Suite("Tenant isolation: an organisation is one iManage customer", .serialized)
struct TenantIsolationTests {
    /// The libraries and users of `status --json`, by id.
    private func grants(_ harness: DaemonHarness) async throws -> (libraries: [String: [String: Any]], users: [String: [String: Any]]) {
        let object = try await harness.statusJSON()
        func byID(_ key: String) -> [String: [String: Any]] {
            Dictionary(((object[key] as? [[String: Any]]) ?? []).map { ($0["id"] as? String ?? "", $0) }, uniquingKeysWith: { first, _ in first })
        }
        return (byID("libraries"), byID("users"))
    }

    @Test("import: the first authorisation pins the customer; another customer's NRTADMIN and user are refused and store nothing")
    func importAcrossCustomers() async throws {
        let harness = try await DaemonHarness(emulatorArguments: ["--customers", "2"])
        try await harness.importGrant(["--library", "ACTIVE"], user: "ALICE")
        let organisation = try #require((try await harness.statusJSON()["organisations"] as? [[String: Any]])?.first)
        #expect(organisation["customer_id"] as? String == "1")
        #expect(organisation["customer_pinned"] as? Bool == true)

        // ADMIN2 is NRTADMIN of customer 2's ACTIVE: the same library id, another firm.
        let replace = try await harness.importGrant(["--library", "ACTIVE"], user: "ADMIN2", expectSuccess: false)
        #expect(replace.status == 1)
        #expect(replace.stderr.contains("you signed in to iManage customer 2; this organisation (demo) is customer 1"), "\(replace.stderr)")
        #expect(replace.stderr.contains("nothing was stored"))
        let create = try await harness.importGrant(["--library", "ARCHIVE"], user: "ADMIN2", expectSuccess: false)
        #expect(create.status == 1)
        let user = try await harness.importGrant(["--user", "USER2"], user: "USER2", expectSuccess: false)
        #expect(user.status == 1)
        #expect(user.stderr.contains("customer 2"))

        var stored = try await grants(harness)
        #expect(Set(stored.libraries.keys) == ["ACTIVE"])
        #expect((stored.libraries["ACTIVE"]?["authorized_by"] as? [String: Any])?["id"] as? String == "ALICE")
        #expect(stored.users.isEmpty)

        // Customer 1's own people still can.
        try await harness.importGrant(["--user", "BOB"], user: "BOB")
        try await harness.importGrant(["--library", "ARCHIVE"], user: "ALICE")
        stored = try await grants(harness)
        #expect(Set(stored.libraries.keys) == ["ACTIVE", "ARCHIVE"])
        #expect(Set(stored.users.keys) == ["BOB"])
    }

    @Test("import: a configured customer_id refuses another customer from the first authorisation on")
    func configuredCustomer() async throws {
        let harness = try await DaemonHarness(emulatorArguments: ["--customers", "2"], organisationExtra: "customer_id = \"2\"")
        let alice = try await harness.importGrant(["--library", "ACTIVE"], user: "ALICE", expectSuccess: false)
        #expect(alice.status == 1)
        #expect(alice.stderr.contains("you signed in to iManage customer 1; this organisation (demo) is customer 2"), "\(alice.stderr)")
        try await harness.importGrant(["--library", "ACTIVE"], user: "ADMIN2")
        let stored = try await grants(harness)
        #expect((stored.libraries["ACTIVE"]?["authorized_by"] as? [String: Any])?["id"] as? String == "ADMIN2")
        let organisation = try #require((try await harness.statusJSON()["organisations"] as? [[String: Any]])?.first)
        #expect(organisation["customer_id"] as? String == "2")
        #expect(organisation["customer_pinned"] as? Bool == false)
    }

    @Test("the periodic NRTADMIN check compares the customer: a library whose token is of another customer stops as not_nrtadmin")
    func periodicCheckComparesCustomer() async throws {
        let harness = try await DaemonHarness(accessTokenLifetime: 4, emulatorArguments: ["--customers", "2"])
        try await harness.importGrant(["--library", "ACTIVE"], user: "ALICE")
        // The administrator now says this organisation is customer 2: ALICE's grant is not of it.
        let text = try String(contentsOfFile: harness.config, encoding: .utf8)
        try text.replacingOccurrences(of: "[refresh]\n", with: "[refresh]\nnrtadmin_check_hours = 0.0001\n")
            .replacingOccurrences(of: "client_secret_file = \"secret\"\n", with: "client_secret_file = \"secret\"\ncustomer_id = \"2\"\n")
            .write(toFile: harness.config, atomically: true, encoding: .utf8)
        try await harness.startDaemon()
        let expected = "belongs to iManage customer 1, but this organisation is customer 2"
        var history = ""
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline, !history.contains(expected) {
            try await Task.sleep(for: .milliseconds(200))
            history = try await harness.tokend(["history", "--organisation", "demo", "--library", "ACTIVE"]).stdout
        }
        let (_, log) = try await harness.stopDaemon()
        #expect(history.contains(expected), "the periodic check did not stop a library of another customer: \(history) \(log.suffix(1500))")
        #expect(history.contains("authorized → not_nrtadmin"))
        let entry = try #require((try await harness.statusJSON()["libraries"] as? [[String: Any]])?.first)
        #expect(entry["status"] as? String == "not_nrtadmin")
        #expect(entry["next_refresh_at"] is NSNull, "a stopped grant is not refreshed any more")
    }

    @Test("a wrong key_file: run and import refuse it (exit 78) and write nothing; status says it cannot tell")
    func wrongKeyFile() async throws {
        let harness = try await DaemonHarness()
        try await harness.importGrant(["--library", "ACTIVE"], user: "ALICE")
        let historyBefore = try await harness.tokend(["history"]).stdout
        let keyFile = harness.directory.appendingPathComponent("token.key")
        let rightKey = try Data(contentsOf: keyFile)
        _ = FileManager.default.createFile(
            atPath: keyFile.path,
            contents: Data((0..<32).map { _ in UInt8.random(in: 0...255) }), attributes: [.posixPermissions: 0o600])

        let run = try await harness.tokend(["run"])
        #expect(run.status == 78)
        #expect(run.stderr.contains("key_file is not the key the database"), "\(run.stderr)")
        let imported = try await harness.importGrant(["--library", "ARCHIVE"], user: "ALICE", expectSuccess: false)
        #expect(imported.status == 78)
        let status = try await harness.tokend(["status"])
        #expect(status.status == 3)
        // With the right key back, every event is as it was: nothing was written under the wrong one.
        try rightKey.write(to: keyFile)
        #expect(try await harness.tokend(["history"]).stdout == historyBefore)
        #expect(try await harness.tokend(["status"]).status == 2)  // grants to refresh, no daemon: as before
    }

    @Test("status and history need no key or secret: a configuration whose key_file and secrets cannot be read still reports")
    func reportsWithoutSecrets() async throws {
        let harness = try await DaemonHarness()
        try await harness.importGrant(["--library", "ACTIVE"], user: "ALICE")
        try FileManager.default.removeItem(at: harness.directory.appendingPathComponent("token.key"))
        try FileManager.default.removeItem(at: harness.directory.appendingPathComponent("secret"))
        let status = try await harness.tokend(["status", "--json"])
        #expect(status.status == 2, "\(status.stderr)")  // grants to refresh and no daemon running
        let object = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any] ?? [:]
        #expect((object["libraries"] as? [[String: Any]])?.first?["status"] as? String == "authorized")
        let history = try await harness.tokend(["history"])
        #expect(history.status == 0, "\(history.stderr)")
        #expect(history.stdout.contains("ACTIVE"))
        let check = try await harness.tokend(["check-config"])
        #expect(check.status == 78, "check-config reads every secret, so it must still find them missing")
    }
}

@Suite("The daemon keeps its memory out of core dumps")
struct CoreDumpTests {
    @Test("run sets its core size limit to 0 before reading a secret")
    func noCoreDumps() async throws {
        let harness = try await DaemonHarness()
        try await harness.startDaemon()
        let pid = try #require(harness.daemon?.processIdentifier)
        let limits = try String(contentsOfFile: "/proc/\(pid)/limits", encoding: .utf8)
        _ = try await harness.stopDaemon()
        let line = try #require(limits.split(separator: "\n").first { $0.hasPrefix("Max core file size") })
        #expect(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst(4).prefix(2) == ["0", "0"], "\(line)")
    }
}
