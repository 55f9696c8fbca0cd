import Foundation

/// Runs `operation`, failing with `RequestDeadlineExceeded` if it has not finished within
/// `seconds`; the operation is then cancelled.
///
/// AsyncHTTPClient's own deadline covers only the wait for the response head; this one also
/// covers reading the body, so a server that trickles or stalls mid-answer cannot hold a refresh.
func withRequestDeadline<Value: Sendable>(
    seconds: TimeInterval, _ operation: @escaping @Sendable () async throws -> Value
) async throws -> Value {
    try await withThrowingTaskGroup(of: Value.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(for: .milliseconds(Int64(max(seconds, 0) * 1000)))
            throw RequestDeadlineExceeded()
        }
        defer { group.cancelAll() }
        guard let first = try await group.next() else { throw RequestDeadlineExceeded() }
        return first
    }
}
