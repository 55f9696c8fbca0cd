import Foundation
import Testing
import TokendPolicy
@testable import TokendStore

@Suite("The store keeps the token endpoints found down, for status")
struct EndpointOutageStoreTests {
    @Test("an outage is saved, replaced at each probe, read back by a read-only store (as status opens it), and removed")
    func roundTrip() async throws {
        let database = TemporaryDatabase()
        defer { database.cleanUp() }
        try FileManager.default.createDirectory(at: database.directory, withIntermediateDirectories: true)
        let store = try database.open()
        let since = Date(timeIntervalSince1970: 1_800_000_000)
        var outage = EndpointOutage(
            endpoint: "https://acme.example.com/auth/oauth2/token", organisations: ["acme", "acme-eu"], since: since,
            lastFailure: RefreshFailure(.transient, httpStatus: 503, detail: "iManage answered 503"),
            nextProbeAt: since.addingTimeInterval(30))
        try await store.saveEndpointOutage(outage, now: since)
        outage.failedProbes = 3
        outage.waitingGrants = 41
        outage.nextProbeAt = nil
        outage.lastFailure = RefreshFailure(.transient, detail: "the connection timed out")
        try await store.saveEndpointOutage(outage, now: since.addingTimeInterval(60))
        let other = EndpointOutage(
            endpoint: "https://beta.example.com/auth/oauth2/token", organisations: ["beta"], since: since,
            lastFailure: RefreshFailure(.transient, httpStatus: 429, detail: "too many requests"), nextProbeAt: since)
        try await store.saveEndpointOutage(other, now: since)

        let reader = try SQLiteGrantStore(path: database.path, key: nil, mode: .readOnly)
        #expect(try reader.endpointOutages() == [outage, other])
        try await store.removeEndpointOutage(endpoint: outage.endpoint)
        #expect(try reader.endpointOutages() == [other])
        try await store.removeEndpointOutage(endpoint: nil)
        #expect(try reader.endpointOutages().isEmpty)
    }
}
