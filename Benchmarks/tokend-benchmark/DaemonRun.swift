import Foundation
import TokendConfig
import TokendStore

/// Runs the real daemon (`imanage-tokend run`, next to this binary) over the seeded grants and
/// reports what the issue's targets are about, from outside: start-up (until its API socket is
/// there), resident memory, CPU, refreshes per second, and grants whose access token ran out.
struct DaemonRun {
    let configurationPath: String
    let configuration: TokendConfiguration
    let seconds: Double
    let refreshed: () async throws -> Int

    func run(store: SQLiteGrantStore) async throws {
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("imanage-tokend")
        let daemon = Process()
        daemon.executableURL = binary
        daemon.arguments = ["run", "--config", configurationPath]
        let log = URL(fileURLWithPath: configurationPath).deletingLastPathComponent().appendingPathComponent("daemon.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let logHandle = try FileHandle(forWritingTo: log)
        daemon.standardOutput = logHandle
        daemon.standardError = logHandle
        let started = Date()
        try daemon.run()
        defer { if daemon.isRunning { daemon.terminate(); daemon.waitUntilExit() } }
        while !FileManager.default.fileExists(atPath: configuration.apiSocket) {
            guard daemon.isRunning, Date().timeIntervalSince(started) < 120 else {
                throw DaemonRunError(message: "the daemon did not open \(configuration.apiSocket); see \(log.path)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        let pid = daemon.processIdentifier
        print("daemon start-up (until its API socket is there): \(format(Date().timeIntervalSince(started))) s, "
            + "\(format(Self.cpuSeconds(pid))) s CPU, resident \(Self.residentMiB(pid)) MiB")
        let cpuBefore = Self.cpuSeconds(pid), refreshedBefore = try await refreshed(), windowStart = Date()
        var elapsed = 0.0
        while elapsed < seconds {
            try await Task.sleep(for: .seconds(min(30, seconds - elapsed)))
            elapsed = Date().timeIntervalSince(windowStart)
            let done = try await refreshed() - refreshedBefore
            print("  after \(Int(elapsed)) s: \(format(Double(done) / elapsed)) refreshes/s, "
                + "\(format((Self.cpuSeconds(pid) - cpuBefore) / Double(max(done, 1)) * 1_000_000)) µs CPU each, resident \(Self.residentMiB(pid)) MiB")
        }
        let now = Date()
        let lapsed = try store.records().filter { ($0.accessExpiresAt ?? .distantPast) < now }.count
        print("daemon \(Int(elapsed)) s: grants whose access token ran out: \(lapsed); peak resident \(Self.residentMiB(pid, field: "VmHWM")) MiB")
    }

    private func format(_ value: Double) -> String { String(format: "%.2f", value) }

    static func cpuSeconds(_ pid: Int32) -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the command: state is field 3, utime 14 and stime 15 (1-based over the whole line).
        let ticks = (Double(fields[11]) ?? 0) + (Double(fields[12]) ?? 0)
        return ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    static func residentMiB(_ pid: Int32, field: String = "VmRSS") -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix(field + ":") }),
              let kib = Int(line.split(separator: " ").dropFirst().first ?? "") else { return 0 }
        return kib / 1024
    }
}

struct DaemonRunError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
