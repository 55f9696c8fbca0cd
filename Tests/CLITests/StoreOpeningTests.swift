import Foundation
import Testing
import TokendConfig
import TokendPolicy
import TokendStore
@testable import TokendCLI

/// `StoreOpening`: each command gets the configured database the way it needs it, through the
/// protocol: the daemon and `import` write with the key, `status` reads with it (so a wrong
/// `key_file` is told), the metrics read without it (never a token).
@Suite("Opening the configured store")
struct StoreOpeningTests {
    /// A configuration in a directory of its own, with a fresh key of its own.
    struct Setup {
        let directory: URL
        let configuration: TokendConfiguration

        init(directory: URL? = nil) throws {
            let directory = directory ?? URL(fileURLWithPath: "/tmp/tokend-opening-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let key = (0..<32).map { _ in UInt8.random(in: 0...255) }
            let keyFile = directory.appendingPathComponent("token.key").path
            try? FileManager.default.removeItem(atPath: keyFile)
            _ = FileManager.default.createFile(atPath: keyFile, contents: Data(key), attributes: [.posixPermissions: 0o600])
            configuration = try TokendConfiguration.load(
                contents: Array("public_url = \"https://tokend.example.com\"\nkey_file = \"token.key\"\ndatabase = \"tokend.sqlite\"\n".utf8),
                path: directory.appendingPathComponent("tokend.toml").path, environment: [:])
            self.directory = directory
        }
    }

    static let grant = GrantKey.library("ACTIVE", of: "acme")

    static func authorize(_ store: any GrantStore) async throws {
        let now = Date()
        try await store.saveAuthorization(NewAuthorization(
            key: grant, identity: AuthorizedIdentity(userID: "ALICE", email: "alice@example.com", name: "Alice", customerID: "1"),
            refreshToken: IssuedToken(token: "rt-never-shown", issuedAt: now, expiresAt: now.addingTimeInterval(86_400)),
            accessToken: IssuedToken(token: "at-never-shown", issuedAt: now, expiresAt: now.addingTimeInterval(1_800)),
            nextRefreshAt: now.addingTimeInterval(900), message: "imported"), now: now)
    }

    @Test("read-write creates the configured database; a report's read-only store reads what it wrote, tokens too")
    func writtenThenRead() async throws {
        let setup = try Setup()
        defer { try? FileManager.default.removeItem(at: setup.directory) }
        #expect(!StoreOpening.exists(configuration: setup.configuration))

        let writing = try await StoreOpening.open(configuration: setup.configuration, mode: .readWrite)
        #expect(StoreOpening.exists(configuration: setup.configuration))
        try await Self.authorize(writing)

        let reading = try await StoreOpening.open(configuration: setup.configuration, mode: .readOnly)
        #expect(try await reading.record(for: Self.grant)?.status == .authorized)
        #expect(try await reading.tokens(for: Self.grant)?.accessToken == "at-never-shown")
        // Read-only means read-only: a write is refused, and the grant stays.
        await #expect(throws: (any Error).self) {
            _ = try await reading.remove(Self.grant, message: "must not happen", now: Date())
        }
        #expect(try await writing.record(for: Self.grant) != nil)
    }

    @Test("the metrics' store reads every grant but never a token")
    func keylessReadsNoToken() async throws {
        let setup = try Setup()
        defer { try? FileManager.default.removeItem(at: setup.directory) }
        try await Self.authorize(try await StoreOpening.open(configuration: setup.configuration, mode: .readWrite))

        let scrapes = try await StoreOpening.open(configuration: setup.configuration, mode: .readOnlyWithoutKey)
        #expect(try await scrapes.records(organisation: nil, kind: nil).map(\.key) == [Self.grant])
        await #expect(throws: StoreError.noKey(path: setup.configuration.database)) {
            _ = try await scrapes.tokens(for: Self.grant)
        }
    }

    @Test("a key_file that is not the database's is refused for reading and writing; the keyless store still opens")
    func wrongKeyIsTold() async throws {
        let setup = try Setup()
        defer { try? FileManager.default.removeItem(at: setup.directory) }
        try await Self.authorize(try await StoreOpening.open(configuration: setup.configuration, mode: .readWrite))

        // The same database, another key: what `status` turns into exit 3 and `run` into exit 78.
        let other = try Setup(directory: setup.directory)
        let database = other.configuration.database
        await #expect(throws: StoreError.wrongKey(path: database)) {
            _ = try await StoreOpening.open(configuration: other.configuration, mode: .readOnly)
        }
        await #expect(throws: StoreError.wrongKey(path: database)) {
            _ = try await StoreOpening.open(configuration: other.configuration, mode: .readWrite)
        }
        let scrapes = try await StoreOpening.open(configuration: other.configuration, mode: .readOnlyWithoutKey)
        #expect(try await scrapes.record(for: Self.grant)?.status == .authorized)
    }
}
