import Dispatch
import Foundation
import Synchronization

/// SIGTERM and SIGINT, delivered through Dispatch rather than a C signal handler. Made at the very
/// start of `run`, so a stop asked for while the daemon is still starting (found by the fault
/// matrix: a SIGTERM just after the socket appeared killed the process outright) is kept and
/// answered with a clean stop as soon as the daemon is up.
public final class TerminationSignals: Sendable {
    private let stream: AsyncStream<Int32>
    /// Kept (in a Mutex only to be Sendable) so the sources live as long as this object.
    private let sources: Mutex<[any DispatchSourceSignal]>

    public init() {
        let (stream, continuation) = AsyncStream.makeStream(of: Int32.self)
        self.stream = stream
        let queue = DispatchQueue(label: "imanage-tokend.signals")
        sources = Mutex([SIGTERM, SIGINT].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { @Sendable in continuation.yield(number) }
            source.resume()
            return source
        })
    }

    deinit { sources.withLock { $0.forEach { $0.cancel() } } }

    /// The first signal that asked the process to stop (at once if one came while starting).
    public func next() async -> Int32 {
        for await number in stream { return number }
        return SIGTERM
    }
}
