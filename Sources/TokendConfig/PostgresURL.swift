import Foundation

/// A `database = "postgresql://user@host:port/db?sslmode=…"` setting, checked: where the shared
/// database is and how its connection is protected. It never holds a password (that is
/// `database_password_file`); a URL with one is refused, so it cannot leak into logs or `ps`.
public struct PostgresURL: Sendable, Equatable, CustomStringConvertible {
    /// How the connection is protected, as libpq names it.
    public enum TLSMode: String, Sendable, Equatable, CaseIterable {
        /// No TLS: only for a server on this machine (a loopback address or a Unix socket directory).
        case disable
        /// TLS, the server's certificate not checked (protects against listeners, not impostors).
        case require
        /// TLS, the certificate checked against `ca_file` (or the system's roots) and the host name.
        case verifyFull = "verify-full"
    }

    /// What is wrong with a setting, and what to write instead.
    public struct Problem: Error, Equatable, CustomStringConvertible {
        public let message: String
        init(_ message: String) { self.message = message }
        public var description: String { message }
    }

    public var user: String
    /// A host name, an IP address, or (starting with `/`) the directory of the server's Unix socket.
    public var host: String
    public var port: Int
    public var database: String
    public var tls: TLSMode

    public init(user: String, host: String, port: Int = 5432, database: String, tls: TLSMode) {
        self.user = user
        self.host = host
        self.port = port
        self.database = database
        self.tls = tls
    }

    /// Whether a setting names PostgreSQL rather than an SQLite file.
    public static func isPostgres(_ setting: String) -> Bool {
        setting.hasPrefix("postgresql://") || setting.hasPrefix("postgres://")
    }

    /// The URL as written in the configuration (there is no password to hide).
    public var description: String {
        let hostPart = host.hasPrefix("/") ? "" : (host.contains(":") ? "[\(host)]" : host)
        let socket = host.hasPrefix("/") ? "&host=\(host)" : ""
        return "postgresql://\(user)@\(hostPart):\(port)/\(database)?sslmode=\(tls.rawValue)\(socket)"
    }

    /// Whether the server is on this machine, where `sslmode=disable` is allowed.
    public var isLocal: Bool {
        host.hasPrefix("/") || host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// Parses and checks a setting; the error says what is wrong and what to write instead.
    public init(parsing text: String) throws(Problem) {
        let example = "postgresql://tokend@db.example.com:5432/tokend?sslmode=verify-full"
        guard Self.isPostgres(text) else { throw Problem("is not a PostgreSQL URL: expected for example \(example)") }
        guard let components = URLComponents(string: text) else {
            throw Problem("is not a valid URL (check the port, and percent-encode special characters): expected for example \(example)")
        }
        if components.password != nil {
            throw Problem("holds a password: remove it from the URL and put it in database_password_file (mode 0600)")
        }
        guard let user = components.user, !user.isEmpty else {
            throw Problem("names no user: write the database user before the host, as in \(example)")
        }
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        guard !path.isEmpty, !path.contains("/") else {
            throw Problem("names no database: write it after the host and port, as in \(example)")
        }
        var socketDirectory: String?
        var mode: TLSMode?
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let value = item.value, let parsed = TLSMode(rawValue: value) else {
                    throw Problem(
                        "has sslmode=\(item.value ?? ""): expected one of \(TLSMode.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                mode = parsed
            case "host":
                guard let value = item.value, value.hasPrefix("/") else {
                    throw Problem("has host=\(item.value ?? ""): only the directory of a Unix socket (starting with /) goes there")
                }
                socketDirectory = value
            default:
                throw Problem("has the parameter \(item.name), which imanage-tokend does not know: only sslmode (and host, for a Unix socket) are read")
            }
        }
        let host = socketDirectory ?? components.host ?? ""
        guard !host.isEmpty else { throw Problem("names no host: expected for example \(example)") }
        let port = components.port ?? 5432
        guard (1...65535).contains(port) else { throw Problem("has port \(port): expected 1 to 65535") }
        self.init(user: user, host: host, port: port, database: path, tls: mode ?? .verifyFull)
        if tls == .disable, !isLocal {
            throw Problem(
                "has sslmode=disable for \(host), another machine: the tokens' key and grants would cross the network unprotected; use sslmode=verify-full (with ca_file) or sslmode=require")
        }
    }
}
