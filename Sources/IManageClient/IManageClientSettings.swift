import Foundation

/// How the client talks to iManage: timeouts, the largest answer it reads, and extra trusted CAs.
public struct IManageClientSettings: Sendable, Equatable {
    /// The longest wait for a TCP (and TLS) connection to be established.
    public var connectTimeout: TimeInterval
    /// The longest wait for a whole request: connection, sending, and reading the complete answer.
    public var requestTimeout: TimeInterval
    /// Answers larger than this many bytes are not read further and count as a passing failure.
    public var maximumBodySize: Int
    /// A PEM file of extra CA certificates to trust besides the system's (an on-premise server
    /// with a private CA). `nil` trusts the system's roots only.
    public var trustRootsFile: String?
    /// PEM files of extra CA certificates trusted for one host only (lower-case host name to
    /// file), instead of `trustRootsFile`: an on-premise firm's private CA is trusted for that
    /// firm's server, never for cloudimanage.com or another firm's.
    public var trustRootsByHost: [String: String]
    /// Lifetime assumed for an access token whose answer has no `expires_in`.
    public var defaultAccessTokenLifetime: TimeInterval
    /// Sent as `User-Agent`, so iManage administrators can tell the daemon's requests apart.
    public var userAgent: String
    /// Connections kept open to one host: as many as refreshes may be in flight, so none waits
    /// in the pool for another's answer (AsyncHTTPClient's default is 8).
    public var connectionsPerHost: Int

    public init(
        connectTimeout: TimeInterval = 10,
        requestTimeout: TimeInterval = 30,
        maximumBodySize: Int = 64 * 1024,
        trustRootsFile: String? = nil,
        trustRootsByHost: [String: String] = [:],
        defaultAccessTokenLifetime: TimeInterval = 1800,
        userAgent: String = "imanage-tokend",
        connectionsPerHost: Int = 8
    ) {
        self.connectTimeout = connectTimeout
        self.requestTimeout = requestTimeout
        self.maximumBodySize = maximumBodySize
        self.trustRootsFile = trustRootsFile
        self.trustRootsByHost = trustRootsByHost
        self.defaultAccessTokenLifetime = defaultAccessTokenLifetime
        self.userAgent = userAgent
        self.connectionsPerHost = connectionsPerHost
    }
}
