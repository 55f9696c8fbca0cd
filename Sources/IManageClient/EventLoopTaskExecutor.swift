import NIOCore

/// Runs Swift tasks on one NIO event loop, the one the task's HTTP requests use: an answer then
/// resumes its task on the thread that read it, with no hop to the concurrency pool and back.
/// The engine's refresh workers and the bulk import's verifications run on these.
public final class EventLoopTaskExecutor: TaskExecutor {
    public let loop: any EventLoop

    public init(_ loop: any EventLoop) {
        self.loop = loop
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        loop.execute { job.runSynchronously(on: executor) }
    }
}
