import Foundation
import Testing
import TokendPolicy
import TokendPostgres
import TokendTestSupport
@testable import TokendStore

/// TLS to PostgreSQL against a real server that accepts only TLS (`hostssl`), its certificate
/// made for the run by `openssl` and signed by a CA of its own: `sslmode=require` encrypts,
/// `verify-full` checks the certificate against `ca_file` and the host name, and a connection
/// that cannot be made says what to check and stores nothing.
@Suite("PostgreSQL store over TLS", .enabled(if: PostgreSQLTestServer.tlsIsPossible, "no PostgreSQL server or openssl here: apt-get install postgresql openssl"))
struct PostgresTLSTests {
    static let key = [UInt8](repeating: 7, count: 32)

    /// Stores one grant through `settings` and reads it back, tokens and all.
    static func storesAndReads(_ settings: PostgresConnectionSettings) async throws {
        let store = try await PostgresGrantStore.open(settings, key: key)
        defer { store.close() }
        let grant = GrantKey.library("TLS", of: "acme")
        _ = try await store.saveAuthorization(authorization(grant, refresh: "rt-tls", access: "at-tls"), now: Date())
        #expect(try await store.tokens(for: grant) == GrantTokens(refreshToken: "rt-tls", accessToken: "at-tls"))
    }

    @Test("sslmode=require connects to the TLS-only server, and the store works")
    func requireConnects() async throws {
        let (settings, _) = try await PostgreSQLTestServer.newTLSDatabase()
        try await Self.storesAndReads(settings)
    }

    @Test("verify-full with ca_file = the CA that signed the server's certificate connects, to 127.0.0.1 and to localhost (its SAN)")
    func verifyFullWithTheRightCA() async throws {
        let (base, server) = try await PostgreSQLTestServer.newTLSDatabase()
        let tls = try #require(server.tls)
        for host in ["127.0.0.1", "localhost"] {
            var settings = base
            settings.url.host = host
            settings.url.tls = .verifyFull
            settings.caFile = tls.caFile
            try await Self.storesAndReads(settings)
        }
    }

    @Test("verify-full with another CA is refused, says to check ca_file, and stores nothing")
    func verifyFullWithAnotherCA() async throws {
        let (base, server) = try await PostgreSQLTestServer.newTLSDatabase()
        let tls = try #require(server.tls)
        var wrong = base
        wrong.url.tls = .verifyFull
        wrong.caFile = tls.otherCAFile
        let error = await #expect(throws: StoreError.self) {
            let store = try await PostgresGrantStore.open(wrong, key: Self.key)
            _ = try await store.saveAuthorization(authorization(.library("NEVER", of: "acme"), refresh: "r", access: "a"), now: Date())
        }
        let text = "\(String(describing: error))"
        #expect(text.contains("ca_file") && text.contains(tls.otherCAFile) && text.contains("certificate"), "\(text)")
        // Nothing was made or stored: the database has no schema yet.
        let store = try await PostgresGrantStore.open(base, key: Self.key, mode: .schemaOnly)
        defer { store.close() }
        #expect(try await store.records().isEmpty)
    }

    @Test("verify-full to an address the certificate does not name (its IP SAN is 127.0.0.1 only) is refused, though its CA is right; require does not check names")
    func verifyFullChecksTheAddress() async throws {
        let (base, server) = try await PostgreSQLTestServer.newTLSDatabase()
        let tls = try #require(server.tls)
        var unnamed = base
        unnamed.url.host = PostgreSQLTestServer.unnamedAddress
        unnamed.url.tls = .verifyFull
        unnamed.caFile = tls.caFile
        let error = await #expect(throws: StoreError.self) {
            _ = try await PostgresGrantStore.open(unnamed, key: Self.key)
        }
        let text = "\(String(describing: error))"
        #expect(text.contains("the certificate names \(PostgreSQLTestServer.unnamedAddress)") && text.contains("ca_file"), "\(text)")
        unnamed.url.tls = .require
        try await Self.storesAndReads(unnamed)
    }

    @Test("sslmode=disable against the hostssl-only server is refused, naming pg_hba.conf and sslmode")
    func plainConnectionRefused() async throws {
        let (base, _) = try await PostgreSQLTestServer.newTLSDatabase()
        var plain = base
        plain.url.tls = .disable
        let error = await #expect(throws: StoreError.self) {
            _ = try await PostgresGrantStore.open(plain, key: Self.key)
        }
        let text = "\(String(describing: error))"
        #expect(text.contains("no pg_hba.conf entry") && text.contains("no encryption") && text.contains("sslmode"), "\(text)")
    }
}
