import Foundation

/// Runs blocking work (a child process, its pipes) on a thread of its own, so it never holds one of
/// the few threads Swift concurrency shares among the tests running in parallel.
public func offThePool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}
