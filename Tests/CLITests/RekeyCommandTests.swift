import Foundation
import Testing

/// `imanage-tokend rekey`: refused while the daemon runs, then every token under the new key.
@Suite("imanage-tokend rekey", .serialized)
struct RekeyCommandTests {
    func writeKey(_ harness: DaemonHarness, _ name: String, mode: Int = 0o600) -> (path: String, bytes: Data) {
        let path = harness.directory.appendingPathComponent(name).path
        let bytes = Data((0..<32).map { _ in UInt8.random(in: 0...255) })
        _ = FileManager.default.createFile(atPath: path, contents: bytes, attributes: [.posixPermissions: mode])
        chmod(path, mode_t(mode))
        return (path, bytes)
    }

    @Test("refused while the daemon runs; afterwards the old key is refused by run and import, the new one opens every token")
    func rekeyWithTheDaemonStopped() async throws {
        let harness = try await DaemonHarness(accessTokenLifetime: 30)
        try await harness.importGrant(["--library", "ACTIVE"])
        try await harness.importGrant(["--user", "ALICE"])
        let new = writeKey(harness, "new.key")
        try await harness.startDaemon()
        let whileRunning = try await harness.tokend(["rekey", "--new-key-file", new.path])
        #expect(whileRunning.status == 75)
        #expect(whileRunning.stderr.contains("stop the daemon first"), "\(whileRunning.stderr)")
        #expect(try await harness.stopDaemon().status == 0)

        // The new key is checked like any secret.
        chmod(new.path, 0o644)
        let open = try await harness.tokend(["rekey", "--new-key-file", new.path])
        #expect(open.status == 78)
        #expect(open.stderr.contains("a secret must be private"), "\(open.stderr)")
        chmod(new.path, 0o600)
        let short = writeKey(harness, "short.key")
        _ = FileManager.default.createFile(atPath: short.path, contents: short.bytes.prefix(31), attributes: [.posixPermissions: 0o600])
        #expect(try await harness.tokend(["rekey", "--new-key-file", short.path]).status == 78)

        let rekeyed = try await harness.tokend(["rekey", "--new-key-file", new.path])
        #expect(rekeyed.status == 0, "\(rekeyed.stderr)")
        #expect(rekeyed.stdout.contains("re-sealed 4 tokens of 2 grants"), "\(rekeyed.stdout)")
        #expect(rekeyed.stdout.contains("cp \(new.path) "))

        // key_file still holds the old key: refused, nothing written.
        let run = try await harness.tokend(["run"])
        #expect(run.status == 78)
        #expect(run.stderr.contains("key_file is not the key"), "\(run.stderr)")
        let imported = try await harness.importGrant(["--library", "OTHER"], expectSuccess: false)
        #expect(imported.status == 78)
        #expect(imported.stderr.contains("key_file is not the key"))

        // The new key in key_file's place: every token opens (backup verifies each), and the daemon serves them.
        try new.bytes.write(to: harness.directory.appendingPathComponent("token.key"))
        let backup = try await harness.tokend(["backup", "--to", harness.directory.appendingPathComponent("after.sqlite").path])
        #expect(backup.status == 0, "\(backup.stderr)")
        #expect(backup.stdout.contains("2 grants"))
        try await harness.startDaemon()
        let token = try await harness.tokend(["token", "--organisation", "demo", "--user", "ALICE"])
        #expect(token.status == 0, "\(token.stderr)")
        #expect(try await harness.stopDaemon().status == 0)
    }

    @Test("--swap puts the new key at key_file and keeps the old one as KEY.old, 0600; a second swap will not overwrite it")
    func swap() async throws {
        let harness = try await DaemonHarness(accessTokenLifetime: 30)
        try await harness.importGrant(["--library", "ACTIVE"])
        let keyFile = harness.directory.appendingPathComponent("token.key").path
        let old = try Data(contentsOf: URL(fileURLWithPath: keyFile))
        let new = writeKey(harness, "new.key")
        let swapped = try await harness.tokend(["rekey", "--new-key-file", new.path, "--swap"])
        #expect(swapped.status == 0, "\(swapped.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: keyFile)) == new.bytes)
        #expect(try Data(contentsOf: URL(fileURLWithPath: keyFile + ".old")) == old)
        for path in [keyFile, keyFile + ".old"] {
            #expect(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int == 0o600, "\(path)")
        }
        try await harness.startDaemon()
        let token = try await harness.tokend(["token", "--organisation", "demo", "--library", "ACTIVE"])
        #expect(token.status == 0, "\(token.stderr)")
        #expect(try await harness.stopDaemon().status == 0)

        let another = writeKey(harness, "another.key")
        let again = try await harness.tokend(["rekey", "--new-key-file", another.path, "--swap"])
        #expect(again.status == 78)
        #expect(again.stderr.contains("exists already"), "\(again.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: keyFile)) == new.bytes, "a refused swap changed the key")
    }
}
