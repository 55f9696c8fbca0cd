import Foundation

/// A listener the daemon could not open at start: the web pages on `listen`, or the token API
/// socket. The daemon runs on without it (refreshes keep every grant alive) and says so in
/// `status` (exit 1), in systemd's `STATUS=` line, and once in the journal.
public struct MissingListener: Sendable, Equatable, Codable {
    /// `web pages` or `token API`.
    public var listener: String
    /// `127.0.0.1:8080`, or the socket's path.
    public var address: String
    /// Why it could not be opened (never a secret: an address and an error).
    public var reason: String

    public init(listener: String, address: String, reason: String) {
        self.listener = listener
        self.address = address
        self.reason = reason
    }

    /// One sentence for `status`, the journal and `STATUS=`, with what to do.
    public var note: String {
        "\(listener) not served: cannot listen on \(address) (\(reason)); grants are still refreshed; "
            + "free it or change the configuration, then systemctl restart imanage-tokend"
    }
}

/// The file `DATABASE.listeners`, where the running daemon writes the listeners it could not open,
/// so that `status` (which reads the database read-only, and cannot ask a daemon whose API socket
/// may be the very thing missing) tells of them. It carries the daemon's pid: a file left by a
/// daemon that died is not believed.
public enum MissingListenersFile {
    struct Contents: Codable {
        var pid: Int32
        var missing: [MissingListener]
    }

    public static func path(database: String) -> String { database + ".listeners" }

    /// Writes `missing` for the daemon `pid`, replacing the file at once (or removes it when none
    /// is missing). Readable by all: it holds addresses and errors, nothing secret.
    public static func write(_ missing: [MissingListener], pid: Int32, database: String) throws {
        let path = path(database: database)
        guard !missing.isEmpty else {
            remove(database: database)
            return
        }
        let data = try JSONEncoder().encode(Contents(pid: pid, missing: missing))
        let temporary = path + ".\(pid).tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: data, attributes: [.posixPermissions: 0o644]) else {
            throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: temporary])
        }
        guard rename(temporary, path) == 0 else {
            let code = errno
            unlink(temporary)
            throw POSIXError(POSIXErrorCode(rawValue: code) ?? .EIO)
        }
    }

    public static func remove(database: String) {
        unlink(path(database: database))
    }

    /// The listeners the daemon `pid` could not open; none when the file is absent, unreadable,
    /// or written by another process.
    public static func read(database: String, pid: Int32?) -> [MissingListener] {
        guard let pid, let data = FileManager.default.contents(atPath: path(database: database)), data.count <= 64 * 1024,
              let contents = try? JSONDecoder().decode(Contents.self, from: data), contents.pid == pid
        else { return [] }
        return contents.missing
    }
}
