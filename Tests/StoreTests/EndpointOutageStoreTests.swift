import Foundation
import Testing
import TokendPolicy
@testable import TokendStore

/// What the contract suite (`StoreContractOutageTests`) does not cover: `status` opens SQLite
/// read-only and without the key, and must still see the endpoints found down.
@Suite("The store keeps the token endpoints found down, for status")
struct EndpointOutageStoreTests {
    @Test("an outage written by the daemon is read back by a read-only store without the key, as status opens it")
    func readOnlyStatusSeesIt() async throws {
        let database = TemporaryDatabase()
        defer { database.cleanUp() }
        try FileManager.default.createDirectory(at: database.directory, withIntermediateDirectories: true)
        let store = try database.open()
        let since = Date(timeIntervalSince1970: 1_800_000_000)
        let outage = EndpointOutage(
            endpoint: "https://acme.example.com/auth/oauth2/token", organisations: ["acme"], since: since,
            lastFailure: RefreshFailure(.transient, httpStatus: 503, detail: "iManage answered 503"),
            nextProbeAt: since.addingTimeInterval(30))
        try await store.saveEndpointOutage(outage, now: since)

        let reader = try SQLiteGrantStore(path: database.path, key: nil, mode: .readOnly)
        #expect(try reader.endpointOutages() == [outage])
        try await store.removeEndpointOutage(endpoint: nil)
        #expect(try reader.endpointOutages().isEmpty)
    }
}
