import Foundation

/// A fresh directory for one test's daemon files (configuration, key, client secrets, database),
/// removed by `remove()`. Under `/tmp` with a short name when the test opens a Unix socket in it
/// (its path must fit in 108 bytes), else in the temporary directory.
public struct DaemonDirectory: Sendable {
    public let url: URL
    public var path: String { url.path }
    /// Where the configuration is written by ``writeConfiguration(_:)``.
    public var configPath: String { self.path("tokend.toml") }

    /// - Parameters:
    ///   - prefix: the start of the directory's name, saying whose it is (`tokend-api`).
    ///   - forSockets: a short path under `/tmp`, for `api.sock`.
    ///   - mode: e.g. 0700, private to the daemon's user (the API socket then needs no group); `nil` leaves the umask's.
    public init(_ prefix: String, forSockets: Bool = false, mode: Int? = nil) throws {
        url = forSockets
            ? URL(fileURLWithPath: "/tmp/\(prefix)-\(UUID().uuidString.prefix(8))")
            : FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        if let mode { chmod(url.path, mode_t(mode)) }
    }

    public func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    /// Writes `token.key`, 32 random bytes at 0600; returns them (to open the store with).
    @discardableResult
    public func writeKey(_ key: [UInt8] = randomStoreKey()) -> [UInt8] {
        write("token.key", Data(key))
        return key
    }

    /// Writes a client secret file at 0600.
    public func writeSecret(_ name: String = "secret", _ secret: String = "demo-secret") {
        write(name, Data(secret.utf8))
    }

    /// Writes `configuration` as `tokend.toml`; returns its path.
    @discardableResult
    public func writeConfiguration(_ configuration: TestConfiguration) throws -> String {
        try configuration.text.write(toFile: configPath, atomically: true, encoding: .utf8)
        return configPath
    }

    public func write(_ name: String, _ contents: Data, mode: Int = 0o600) {
        _ = FileManager.default.createFile(atPath: path(name), contents: contents, attributes: [.posixPermissions: mode])
    }

    public func remove() { try? FileManager.default.removeItem(at: url) }
}

/// A random 32-byte token encryption key.
public func randomStoreKey() -> [UInt8] { (0..<32).map { _ in UInt8.random(in: 0...255) } }
