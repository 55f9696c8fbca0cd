import NIOCore

/// How much one HTTP listener lets its clients take: written once, used by the web pages
/// (`listen`) and by the token API (`api_socket`).
///
/// - `idleTimeout`: a connection with no request in progress for this long is closed, so clients
///   that connect and send nothing (or hold a connection open) do not keep their slot.
/// - `maximumConnections`: connections beyond this many open at once are closed at once.
/// - `maximumBodySize`: a request body longer than this gets `413` without being read.
/// - `maximumHeaderFieldSize` / `maximumHeaderListSize` / `maximumHeaderFieldCount`: bounds on
///   the request head, enforced by NIO's HTTP decoder (the connection is closed when passed).
public struct ListenerLimits: Sendable, Equatable {
    public var idleTimeout: TimeAmount
    public var maximumConnections: Int
    public var maximumBodySize: Int
    public var maximumHeaderFieldSize: Int
    public var maximumHeaderListSize: Int
    public var maximumHeaderFieldCount: Int

    public init(
        idleTimeout: TimeAmount = .seconds(30), maximumConnections: Int, maximumBodySize: Int = 64 * 1024,
        maximumHeaderFieldSize: Int = 16 * 1024, maximumHeaderListSize: Int = 32 * 1024, maximumHeaderFieldCount: Int = 100
    ) {
        self.idleTimeout = idleTimeout
        self.maximumConnections = maximumConnections
        self.maximumBodySize = maximumBodySize
        self.maximumHeaderFieldSize = maximumHeaderFieldSize
        self.maximumHeaderListSize = maximumHeaderListSize
        self.maximumHeaderFieldCount = maximumHeaderFieldCount
    }

    /// The web pages: browsers open several connections each.
    public static let web = ListenerLimits(maximumConnections: 256)
    /// The token API: a few local programs.
    public static let api = ListenerLimits(maximumConnections: 64)
}
