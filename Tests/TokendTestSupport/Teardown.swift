/// Runs `body`, then awaits `teardown`, also when `body` throws: a test's listeners and engine are
/// stopped before it returns, so nothing of it runs on into the next serialized test (a
/// `defer { Task { … } }` would let the teardown run whenever).
public func withTeardown<T>(_ teardown: () async -> Void, _ body: () async throws -> T) async throws -> T {
    do {
        let result = try await body()
        await teardown()
        return result
    } catch {
        await teardown()
        throw error
    }
}
