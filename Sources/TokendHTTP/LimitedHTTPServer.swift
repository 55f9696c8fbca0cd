import Hummingbird
import HummingbirdCore
import Logging
import NIOCore

extension HTTPServerBuilder {
    /// An HTTP/1.1 server held to `limits`: Hummingbird's own idle timeout and NIO's header
    /// bounds, request bodies of at most `limits.maximumBodySize` (`tooLarge` words the `413`),
    /// and at most `limits.maximumConnections` connections open at once (`counter` counts them;
    /// one counter per listener).
    public static func limited(
        _ limits: ListenerLimits, counter: ConnectionCounter = ConnectionCounter(),
        tooLarge: @escaping @Sendable (Int) -> (contentType: String, body: String) = RequestSizeLimit.plainText,
        logger: Logger
    ) -> HTTPServerBuilder {
        .init { responder in
            let responder = RequestSizeLimit(maximumBodySize: limits.maximumBodySize, answer: tooLarge).wrap(responder)
            let configuration = HTTP1Channel.Configuration(
                idleTimeout: limits.idleTimeout,
                httpDecoderConfiguration: .init(
                    maxHeaderFieldSize: limits.maximumHeaderFieldSize, maxHeaderListSize: limits.maximumHeaderListSize,
                    maxHeaderFieldCount: limits.maximumHeaderFieldCount))
            return ConnectionLimitedHTTP1Channel(
                base: HTTP1Channel(responder: responder, configuration: configuration),
                counter: counter, maximum: limits.maximumConnections, logger: logger)
        }
    }
}

/// `HTTP1Channel` with a `ConnectionLimitHandler` first in each connection's pipeline.
struct ConnectionLimitedHTTP1Channel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value

    let base: HTTP1Channel
    let counter: ConnectionCounter
    let maximum: Int
    let logger: Logger

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        do {
            try channel.pipeline.syncOperations.addHandler(
                ConnectionLimitHandler(counter: counter, maximum: maximum, logger: self.logger))
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
        return base.setup(channel: channel, logger: logger)
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}
