import Foundation
import Synchronization
import Testing
import TokendTestSupport

/// `scripts/demo` as a newcomer runs it, on the binaries already built (`--bin`), with ports from the kernel.
@Suite("scripts/demo shows the daemon at work", .serialized)
struct RunCommandDemoTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test("--bin runs the built binaries: a clear import line, then one info line per refresh; Ctrl-C stops it with 0",
          .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/curl")))
    func demoShowsRefreshes() async throws {
        let directory = URL(fileURLWithPath: "/tmp/tokend-demo-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: directory) }
        let script = Process()
        script.executableURL = Self.repository.appendingPathComponent("scripts/demo")
        script.arguments = ["--bin", TokendProcess.binary.deletingLastPathComponent().path]
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "JOURNAL_STREAM")
        environment.merge([
            "DEMO_DIR": directory.path, "DEMO_EMULATOR_PORT": "\(try LocalPort.free())", "DEMO_WEB_PORT": "\(try LocalPort.free())",
            "DEMO_ACCESS_TOKEN_SECONDS": "10",
        ]) { $1 }
        script.environment = environment
        let output = Pipe()
        script.standardOutput = output
        script.standardError = output
        let text = Mutex("")
        output.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            text.withLock { $0 += String(decoding: data, as: UTF8.self) }
        }
        try script.run()
        defer { if script.isRunning { script.terminate() } }

        // The log line, not the banner that announces it: `… info refreshed library ACTIVE of demo, next in 5 s …`.
        let logLine = " info refreshed library ACTIVE of demo, next in "
        for _ in 0..<200 where !text.withLock({ $0.contains(logLine) }) {
            #expect(script.isRunning, "the demo stopped by itself")
            try await Task.sleep(for: .milliseconds(200))
        }
        let seen = text.withLock { $0 }
        #expect(seen.contains("== imported library ACTIVE of demo, authorised by Alice Admin"), "\(seen)")
        #expect(!seen.contains("the daemon is not running"), "the import line must not read like a warning: \(seen)")
        #expect(!seen.contains("== building"), "--bin must not build")
        #expect(seen.contains(logLine), "\(seen)")

        // Ctrl-C reaches the daemon (the script waits on it in the foreground).
        let lock = try String(contentsOfFile: directory.appendingPathComponent("tokend.sqlite.lock").path, encoding: .utf8)
        let pid = try #require(Int32(lock.trimmingCharacters(in: .whitespacesAndNewlines)))
        kill(pid, SIGINT)
        try await offThePool { script.waitUntilExit() }
        output.fileHandleForReading.readabilityHandler = nil
        #expect(script.terminationStatus == 0)
        #expect(text.withLock { $0 }.contains("== stopped (exit 0)"))
    }
}
