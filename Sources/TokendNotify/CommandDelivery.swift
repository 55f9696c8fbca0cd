import Foundation

/// Runs `[notify] command` once for one notification: no shell, only the notification's
/// environment, output discarded, stopped after its timeout. Exit status 0 is a delivery.
struct CommandDelivery: Sendable {
    let command: [String]
    let timeout: TimeInterval

    func deliver(_ facts: NotificationFacts) async throws(DeliveryFailure) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        process.environment = facts.environment
        process.currentDirectoryURL = URL(fileURLWithPath: "/")
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        let exited = AsyncStream<Int32>.makeStream(of: Int32.self, bufferingPolicy: .bufferingNewest(1))
        process.terminationHandler = { finished in
            exited.continuation.yield(finished.terminationStatus)
            exited.continuation.finish()
        }
        do { try process.run() } catch {
            throw DeliveryFailure("the command \(command[0]) could not be started: \(error.localizedDescription)")
        }
        let pid = process.processIdentifier
        let timer = Task {
            try await Task.sleep(for: .seconds(timeout))
            kill(pid, SIGKILL)
        }
        defer { timer.cancel() }
        var statuses = exited.stream.makeAsyncIterator()
        guard let status = await statuses.next() else {
            throw DeliveryFailure("the command \(command[0]) was abandoned as the daemon stops")
        }
        if process.terminationReason == .uncaughtSignal {
            throw DeliveryFailure("the command \(command[0]) was killed by signal \(status)\(status == SIGKILL ? " (ran longer than command_timeout_seconds?)" : "")")
        }
        guard status == 0 else { throw DeliveryFailure("the command \(command[0]) exited with status \(status)") }
    }
}

/// Why a delivery failed, in words safe for the journal (no secret, no body).
struct DeliveryFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
