import Logging
import NIOCore
import Synchronization

/// Counts the open connections of one listener (across its event loops).
public final class ConnectionCounter: Sendable {
    private let count = Atomic<Int>(0)

    public init() {}

    /// The connections open now.
    public var open: Int { count.load(ordering: .relaxed) }

    func opened() -> Int { count.wrappingAdd(1, ordering: .relaxed).newValue }
    func closed() { count.wrappingSubtract(1, ordering: .relaxed) }
}

/// Closes a connection at once when its listener already has `maximum` open.
///
/// Written by hand because Hummingbird's `MaximumAvailableConnections` does something else at
/// the limit: it stops accepting, so new clients wait unanswered in the kernel's backlog until
/// a slot frees (and a backlog full of idle clients is invisible). Closing tells an over-limit
/// client at once, and the connections already open go on being served.
final class ConnectionLimitHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private let counter: ConnectionCounter
    private let maximum: Int
    private let logger: Logger
    private var counted = false

    init(counter: ConnectionCounter, maximum: Int, logger: Logger) {
        self.counter = counter
        self.maximum = maximum
        self.logger = logger
    }

    func channelActive(context: ChannelHandlerContext) {
        counted = true
        let open = counter.opened()
        guard open <= maximum else {
            logger.warning("too many connections (\(open - 1) open, at most \(maximum)): closing the new one")
            context.close(promise: nil)
            return
        }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if counted {
            counted = false
            counter.closed()
        }
        context.fireChannelInactive()
    }
}
