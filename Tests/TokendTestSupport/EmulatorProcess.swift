import Dispatch
import Foundation
import Synchronization

/// The `imanage-emulator` binary as a child process, on a port the kernel picks (`--port 0`):
/// its address comes from the banner it prints, read for a bounded time.
public enum EmulatorProcess {
    public static var binary: URL { BuiltProduct.url("imanage-emulator") }

    /// Starts the emulator with `arguments` (without `--port`) and returns it with its base URL.
    /// Fails, with the emulator stopped, when no banner came within `seconds`.
    public static func start(_ arguments: [String], upTo seconds: Double = 20) async throws -> (process: Process, base: String) {
        let process = Process()
        process.executableURL = binary
        process.arguments = ["--port", "0"] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = Pipe()
        try process.run()
        let base = try await address(from: output.fileHandleForReading, of: process, upTo: seconds)
        return (process, base)
    }

    /// Reads the emulator's "listening on URL" banner from `handle`; after `seconds` without it the
    /// process is stopped (which ends the read) and this throws with what was printed.
    public static func address(from handle: FileHandle, of process: Process, upTo seconds: Double) async throws -> String {
        let found = BannerSeen()
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds) {
            if !found.value.withLock({ $0 }), process.isRunning { process.terminate() }
        }
        let text = try await offThePool { readLine(containing: "listening on ", from: handle) }
        found.value.withLock { $0 = true }
        guard let line = text.split(separator: "\n").first(where: { $0.contains("listening on ") }),
              let base = line.components(separatedBy: "listening on ").last?.trimmingCharacters(in: .whitespaces),
              base.hasPrefix("http://")
        else {
            if process.isRunning { process.terminate() }
            throw EmulatorDidNotStart(seconds: seconds, printed: text)
        }
        return base
    }

    /// What `handle` gives until a line contains `marker`, or until it closes.
    private static func readLine(containing marker: String, from handle: FileHandle) -> String {
        var text = ""
        while true {
            let data = handle.availableData
            if data.isEmpty { return text }
            text += String(decoding: data, as: UTF8.self)
            if text.split(separator: "\n").contains(where: { $0.contains(marker) }) { return text }
        }
    }
}

/// The emulator process printed no address in time: what it printed says why (a port taken, a bad argument).
public struct EmulatorDidNotStart: Error, CustomStringConvertible {
    public let seconds: Double
    public let printed: String
    public var description: String { "the emulator printed no address within \(seconds) s: \(printed)" }
}

/// Whether the banner was read, shared with the watchdog that stops a silent emulator.
private final class BannerSeen: Sendable {
    let value = Mutex(false)
}
