import Foundation

/// Whether `condition` comes to hold within `seconds`, asked every `interval`: a bounded wait for
/// something another task or process does, asked one last time at the deadline.
public func eventually(
    upTo seconds: Double, every interval: Duration = .milliseconds(50), _ condition: () async throws -> Bool
) async throws -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: interval)
    }
    return try await condition()
}
