import Foundation
import Logging
import NIOSSL
import PostgresNIO
import TokendConfig

/// How to reach the shared database: the checked URL, the password read from
/// `database_password_file`, and the CA file that `sslmode=verify-full` checks the server against.
public struct PostgresConnectionSettings: Sendable {
    public var url: PostgresURL
    public var password: String?
    /// PEM file of the CA that signed the server's certificate (`ca_file`); `nil`: the system's roots.
    public var caFile: String?
    /// Connections the pool may open (each daemon).
    public var maximumConnections: Int

    public init(url: PostgresURL, password: String?, caFile: String? = nil, maximumConnections: Int = 10) {
        self.url = url
        self.password = password
        self.caFile = caFile
        self.maximumConnections = maximumConnections
    }

    /// What error messages and logs call the database: the URL, which never holds the password.
    public var location: String { url.description }

    func clientConfiguration() throws -> PostgresClient.Configuration {
        var configuration: PostgresClient.Configuration
        if url.host.hasPrefix("/") {
            configuration = PostgresClient.Configuration(
                unixSocketPath: "\(url.host)/.s.PGSQL.\(url.port)", username: url.user, password: password, database: url.database)
        } else {
            configuration = PostgresClient.Configuration(
                host: url.host, port: url.port, username: url.user, password: password, database: url.database, tls: try tls())
            configuration.options.tlsServerName = tlsServerName
        }
        configuration.options.maximumConnections = maximumConnections
        configuration.options.connectTimeout = .seconds(10)
        return configuration
    }

    /// The name TLS sends (SNI) and checks the certificate against: the host, unless it is an IP
    /// address, which SNI cannot carry; then the certificate is checked against the address (its IP SAN).
    var tlsServerName: String? {
        var v4 = in_addr(), v6 = in6_addr()
        let isAddress = inet_pton(AF_INET, url.host, &v4) == 1 || inet_pton(AF_INET6, url.host, &v6) == 1
        return isAddress ? nil : url.host
    }

    private func tls() throws -> PostgresClient.Configuration.TLS {
        guard let configuration = try tlsConfiguration() else { return .disable }
        return .require(configuration)
    }

    /// The TLS of `sslmode`: none, encrypted only (`require`), or the server's certificate checked
    /// against `ca_file` (or the system's roots) and its host name (`verify-full`).
    func tlsConfiguration() throws -> TLSConfiguration? {
        switch url.tls {
        case .disable:
            return nil
        case .require:
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.certificateVerification = .none
            return tls
        case .verifyFull:
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.certificateVerification = .fullVerification
            if let caFile { tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile)) }
            return tls
        }
    }

    /// Opens one connection and closes it: the pool retries quietly, so a wrong password, a
    /// refused connection or a certificate problem is only told by a connection of its own.
    func probe(logger: Logger) async throws {
        var configuration: PostgresConnection.Configuration
        if url.host.hasPrefix("/") {
            configuration = PostgresConnection.Configuration(
                unixSocketPath: "\(url.host)/.s.PGSQL.\(url.port)", username: url.user, password: password, database: url.database)
        } else {
            let tls: PostgresConnection.Configuration.TLS = try tlsConfiguration().map { .require(try NIOSSLContext(configuration: $0)) } ?? .disable
            configuration = PostgresConnection.Configuration(
                host: url.host, port: url.port, username: url.user, password: password, database: url.database, tls: tls)
            configuration.options.tlsServerName = tlsServerName
        }
        configuration.options.connectTimeout = .seconds(10)
        let connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
        try await connection.close()
    }
}

extension PostgresConnectionSettings {
    /// The settings of a configuration whose `database` is a PostgreSQL URL (`nil` for SQLite):
    /// its URL, the password of `database_password_file`, and `ca_file` for `sslmode=verify-full`.
    public init?(configuration: TokendConfiguration) {
        guard let url = configuration.postgres else { return nil }
        self.init(url: url, password: configuration.databasePassword?.reveal(), caFile: configuration.caFile)
    }
}
