import Foundation
import Testing
import TokendPolicy
@testable import TokendStore

/// The token endpoints found down, kept for `status` on any node: the same promise of every store.
@Suite("Store contract: endpoints found down")
struct StoreContractOutageTests {
    @Test("an outage is saved, replaced at each probe, seen by a second handle, and removed one or all",
          arguments: StoreFactory.available)
    func outagesRoundTrip(_ factory: StoreFactory) async throws {
        try await withStore(factory) { subject in
            let store = subject.store
            let since = Date(timeIntervalSince1970: 1_800_000_000.25)
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

            let second = try await subject.another()
            #expect(try await second.endpointOutages() == [outage, other])
            try await store.removeEndpointOutage(endpoint: outage.endpoint)
            #expect(try await second.endpointOutages() == [other])
            try await store.removeEndpointOutage(endpoint: nil)
            #expect(try await second.endpointOutages().isEmpty)
        }
    }
}
