import Foundation
import Testing
import TokendPolicy
import TokendTestSupport
import TokendPostgres
@testable import TokendStore

/// One implementation of `GrantStore` under the contract suite: a fresh, empty database, a way to
/// open it again (another daemon or command on the same database) and to look at its raw bytes.
struct StoreUnderTest: Sendable {
    let store: any GrantStore
    /// Opens the same database again, with this key or another (`wrongKey` checks).
    let open: @Sendable (_ key: [UInt8]) async throws -> any GrantStore
    /// The stored `refresh_token` and `access_token` columns, as the database holds them.
    let sealedTokens: @Sendable () async throws -> [[UInt8]]
    let key: [UInt8]
    let cleanUp: @Sendable () async -> Void

    /// A second handle on the same database with the same key: another daemon.
    func another() async throws -> any GrantStore { try await open(key) }
}

/// The stores every contract test runs against: SQLite always, PostgreSQL when a server can be started.
enum StoreFactory: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgresql

    static var available: [StoreFactory] { PostgreSQLTestServer.isInstalled ? allCases : [.sqlite] }

    var testDescription: String { rawValue }

    func make() async throws -> StoreUnderTest {
        let key = (0..<32).map { _ in UInt8.random(in: 0...255) }
        switch self {
        case .sqlite:
            let db = TemporaryDatabase()
            let path = db.path
            return StoreUnderTest(
                store: try SQLiteGrantStore(path: path, key: key),
                open: { key in try SQLiteGrantStore(path: path, key: key) },
                sealedTokens: {
                    let raw = try SQLiteConnection(path: path, readOnly: true)
                    let row = try raw.prepare("SELECT refresh_token, access_token FROM grants")
                    var result: [[UInt8]] = []
                    while try row.step() { result += [row.bytes(0), row.bytes(1)].compactMap { $0 } }
                    return result
                },
                key: key, cleanUp: { db.cleanUp() })
        case .postgresql:
            let settings = try await PostgreSQLTestServer.newDatabase()
            let store = try await PostgresGrantStore.open(settings, key: key)
            return StoreUnderTest(
                store: store,
                open: { key in try await PostgresGrantStore.open(settings, key: key) },
                sealedTokens: { try await store.rawSealedTokens() },
                key: key, cleanUp: { store.close() })
        }
    }
}

/// Runs `body` with a fresh store of `factory`, cleaning up however it ends.
func withStore(_ factory: StoreFactory, _ body: (StoreUnderTest) async throws -> Void) async throws {
    let subject = try await factory.make()
    do {
        try await body(subject)
    } catch {
        await subject.cleanUp()
        throw error
    }
    await subject.cleanUp()
}
