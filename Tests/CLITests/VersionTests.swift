import Foundation
import Testing

/// The one version string (Sources/TokendReports/Version.swift) as an administrator meets it:
/// `--version`, the daemon's start-up line, `status` and its JSON, the token API, the package.
@Suite("The version: --version, the start-up line, status, the token API and the Debian package", .serialized)
struct VersionTests {
    /// The constant as written in the sources, so these tests compare what is shown with the one place it is set.
    static func versionInSources() throws -> String {
        let source = try String(contentsOf: ScriptRun.repository.appendingPathComponent("Sources/TokendReports/Version.swift"), encoding: .utf8)
        let match = try #require(source.firstMatch(of: /static let current = "([^"]+)"/), "no version constant in Version.swift")
        return String(match.1)
    }

    @Test("imanage-tokend --version prints the version of the sources, a semantic version, and exits 0")
    func versionFlag() throws {
        let version = try Self.versionInSources()
        #expect(version.wholeMatch(of: /[0-9]+\.[0-9]+\.[0-9]+/) != nil, "not MAJOR.MINOR.PATCH: \(version)")
        let outcome = try TokendProcess.run(["--version"])
        #expect(outcome.status == 0)
        #expect(outcome.stdout == version + "\n", "--version printed \(outcome.stdout.debugDescription)")
    }

    @Test("the start-up line, the status header, status --json and GET /v1/status name the version")
    func daemonShowsVersion() async throws {
        let version = try Self.versionInSources()
        let harness = try await DaemonHarness()
        _ = try await harness.importGrant(["--library", "ACTIVE"])

        let stopped = try await harness.tokend(["status"])
        #expect(stopped.stdout.hasPrefix("daemon: NOT running, imanage-tokend \(version)\n"), "\(stopped.stdout)")
        #expect((try await harness.statusJSON()["daemon"] as? [String: Any])?["version"] as? String == version,
                "daemon.version with no daemon running")

        try await harness.startDaemon()
        let running = try await harness.tokend(["status"])
        let pid = harness.daemon?.processIdentifier ?? 0
        #expect(running.stdout.hasPrefix("daemon: running (pid \(pid)), imanage-tokend \(version)\n"), "\(running.stdout)")
        let daemon = try #require(try await harness.statusJSON()["daemon"] as? [String: Any])
        #expect(daemon["version"] as? String == version && daemon["running"] as? Bool == true, "\(daemon)")
        let api = try await harness.curl(["-sS", "--unix-socket", harness.socket, "http://localhost/v1/status"])
        let apiDaemon = (try JSONSerialization.jsonObject(with: Data(api.utf8)) as? [String: Any])?["daemon"] as? [String: Any]
        #expect(apiDaemon?["version"] as? String == version, "GET /v1/status: \(api.prefix(300))")

        let (status, log) = try await harness.stopDaemon()
        #expect(status == 0)
        #expect(log.contains("imanage-tokend started: version \(version), "), "the start-up line: \(log.prefix(600))")
    }
}

/// `scripts/package-deb --bin-path` on the built binaries: the package's name, version and contents.
@Suite("scripts/package-deb: a Debian package of the built binaries")
struct PackageVersionTests {
    @Test("the .deb is named and versioned after the binary, holds the unit, the conffile and the maintainer scripts")
    func packageOfTheBuild() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/dpkg-deb") else {
            Issue.record("dpkg-deb is missing (apt-get install dpkg): the package cannot be built")
            return
        }
        let version = try VersionTests.versionInSources()
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("tokend-deb-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        let build = try ScriptRun.run(ScriptRun.repository.appendingPathComponent("scripts/package-deb").path,
                                      ["--bin-path", TokendProcess.binary.deletingLastPathComponent().path, "--output", output, "--compression", "gzip"])
        #expect(build.status == 0, "scripts/package-deb: \(build.output)")
        let architecture = try ScriptRun.run("dpkg", ["--print-architecture"]).output.trimmingCharacters(in: .whitespacesAndNewlines)
        let deb = "\(output)/imanage-tokend_\(version)_\(architecture).deb"
        #expect(FileManager.default.fileExists(atPath: deb), "no \(deb): \(build.output.suffix(500))")

        let field = try ScriptRun.run("dpkg-deb", ["--field", deb, "Package", "Version", "Architecture"])
        #expect(field.output == "Package: imanage-tokend\nVersion: \(version)\nArchitecture: \(architecture)\n", "\(field.output)")
        let contents = try ScriptRun.run("dpkg-deb", ["--contents", deb]).output
        for path in ["./usr/bin/imanage-tokend", "./lib/systemd/system/imanage-tokend.service", "./usr/lib/sysusers.d/imanage-tokend.conf",
                     "./usr/lib/tmpfiles.d/imanage-tokend.conf", "./usr/share/man/man1/imanage-tokend.1.gz",
                     "./usr/share/bash-completion/completions/imanage-tokend", "./usr/share/doc/imanage-tokend/copyright",
                     "./usr/share/doc/imanage-tokend/changelog.gz", "./etc/imanage-tokend/imanage-tokend.toml"] {
            #expect(contents.contains(" \(path)\n"), "the package lacks \(path)")
        }
        #expect(contents.contains("-rwxr-xr-x root/root") && !contents.contains("token.key"), "the key is made on the server, never shipped")
        let conffiles = try ScriptRun.run("dpkg-deb", ["--info", deb, "conffiles"]).output
        #expect(conffiles == "/etc/imanage-tokend/imanage-tokend.toml\n", "conffiles: \(conffiles)")
        let postinst = try ScriptRun.run("dpkg-deb", ["--info", deb, "postinst"]).output
        #expect(postinst.contains("try-restart") && postinst.contains("systemd-sysusers"), "postinst: \(postinst.prefix(400))")
        let unit = try ScriptRun.run("/bin/sh", ["-c", "dpkg-deb --fsys-tarfile '\(deb)' | tar -xOf - ./lib/systemd/system/imanage-tokend.service"]).output
        #expect(unit.contains("ExecStart=/usr/bin/imanage-tokend run --config /etc/imanage-tokend/imanage-tokend.toml"), "the unit runs the packaged binary")
    }
}
