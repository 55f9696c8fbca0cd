import ServiceLifecycle

/// The engine as a service of the daemon's group: refreshes until graceful shutdown, then takes
/// no new work and gives the refreshes in flight `grace` to be recorded; those still out then
/// are abandoned (recorded as in flight, so the next start retries them first).
public struct RefreshEngineService: Service {
    public let engine: RefreshEngine
    public let grace: Duration

    public init(engine: RefreshEngine, grace: Duration) {
        self.engine = engine
        self.grace = grace
    }

    public func run() async {
        let engine = self.engine
        let grace = self.grace
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await engine.run() }
            group.addTask {
                // Cancelled (the group is cancelled, or the engine ended on its own): stop all the same.
                try? await gracefulShutdown()
                engine.stop()
                try? await Task.sleep(for: grace)
            }
            // The engine's loop has ended (its refreshes in flight recorded), or the grace is over.
            _ = await group.next()
            group.cancelAll()
        }
    }
}
