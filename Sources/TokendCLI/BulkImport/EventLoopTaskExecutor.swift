import NIOCore

/// Runs Swift tasks on one NIO event loop, the one the task's HTTP client uses: a request's
/// answer then resumes its task on the thread that read it, with no hop to the concurrency
/// pool and back for each of the three requests a bulk-imported grant makes. (The daemon's
/// refresh workers stay on the pool: their store calls block.) Written here because no package
/// offers a `TaskExecutor` over an event loop.
final class EventLoopTaskExecutor: TaskExecutor {
    let loop: any EventLoop

    init(_ loop: any EventLoop) {
        self.loop = loop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        loop.execute { job.runSynchronously(on: executor) }
    }
}
