import Foundation
import Synchronization
import Testing
import TokendPolicy
@testable import TokendStore

/// Claims, leases and fencing: each grant refreshed by one owner at a time, whichever process or
/// daemon asks, and an outcome written only by the claim it came from.
@Suite("Store contract: claims and outcomes")
struct StoreContractClaimTests {
    let key = GrantKey.library("ACTIVE", of: "acme")
    static let short: TimeInterval = 0.3

    func saved(_ store: any GrantStore) async throws -> Int64 {
        _ = try await store.saveAuthorization(authorization(key, refresh: "r1", access: "a1"), now: Date())
        return try #require(try await store.record(for: key)).id
    }

    func refreshed(_ token: String) -> GrantUpdate {
        var update = GrantUpdate(status: .authorized, message: "refreshed", nextRefreshAt: Date().addingTimeInterval(900))
        update.succeeded = true
        update.newAccessToken = IssuedToken(token: "a-\(token)", issuedAt: Date(), expiresAt: Date().addingTimeInterval(1800))
        update.newRefreshToken = IssuedToken(token: token, issuedAt: Date(), expiresAt: Date().addingTimeInterval(86_400))
        return update
    }

    func claim(_ store: any GrantStore, _ id: Int64, _ owner: String, lease: TimeInterval = 60,
               gone: @escaping @Sendable (String) -> Bool = { _ in false }) async throws -> ClaimedRefresh? {
        try await store.claimRefresh(id: id, owner: owner, now: Date(), lease: lease, ownerIsGone: gone)
    }

    @Test("one claim at a time; after its lease, or when its owner is gone, it is taken over and reported",
          arguments: StoreFactory.available)
    func leases(_ factory: StoreFactory) async throws {
        try await withStore(factory) { subject in
            let store = subject.store
            let other = try await subject.another()
            let id = try await saved(store)
            let first = try #require(try await claim(store, id, "daemon:a", lease: 60))
            #expect(first.refreshToken == "r1" && first.abandonedClaim == nil)
            let record = try #require(try await store.record(for: key))
            #expect(record.inFlightOwner == "daemon:a" && record.inFlightSince != nil && record.lastAttemptAt != nil)
            // Another daemon gets nothing while the claim is younger than its lease…
            #expect(try await claim(other, id, "daemon:b", lease: 60) == nil)
            // …and takes it over once the claim is older than its lease, told the earlier outcome is uncertain.
            try await Task.sleep(for: .milliseconds(Int(Self.short * 1000) + 250))
            let takeover = try #require(try await claim(other, id, "daemon:b", lease: Self.short))
            #expect(takeover.abandonedClaim?.owner == "daemon:a")
            #expect(try await claim(store, id, "daemon:a", lease: 60) == nil, "the lease is the new owner's now")
            // An owner known to be gone is taken over at once.
            let restart = try #require(try await claim(store, id, "daemon:c", lease: 60, gone: { $0 == "daemon:b" }))
            #expect(restart.abandonedClaim?.owner == "daemon:b")
            // Its own claim left standing (its outcome could not be written) is just as uncertain.
            let again = try #require(try await claim(store, id, "daemon:c", lease: 60))
            #expect(again.abandonedClaim?.owner == "daemon:c")
            #expect(try await claim(store, id + 1000, "daemon:c") == nil, "an unknown grant")
        }
    }

    @Test("an outcome is written only by the claim's owner, releases it, and keeps the refresh token when none came",
          arguments: StoreFactory.available)
    func claimLost(_ factory: StoreFactory) async throws {
        try await withStore(factory) { subject in
            let store = subject.store
            let id = try await saved(store)
            _ = try #require(try await claim(store, id, "daemon:a"))
            var update = GrantUpdate(status: .authorized, message: "refreshed", nextRefreshAt: Date().addingTimeInterval(900))
            update.succeeded = true
            update.newAccessToken = IssuedToken(token: "a2", issuedAt: Date(), expiresAt: Date().addingTimeInterval(1800))
            await #expect(throws: StoreError.claimLost(grant: key.description)) {
                _ = try await store.apply(update, toGrant: id, claimedBy: "daemon:someone-else", now: Date())
            }
            let transition = try await store.apply(update, toGrant: id, claimedBy: "daemon:a", now: Date())
            #expect(!transition.changed)
            let record = try #require(try await store.record(for: key))
            #expect(record.inFlightOwner == nil && record.inFlightSince == nil && record.lastRefreshAt != nil)
            #expect(try await store.tokens(for: key) == GrantTokens(refreshToken: "r1", accessToken: "a2"))
            #expect(try await store.events(EventFilter()).count == 1, "a routine refresh records no event")
            // Released: the claim's owner cannot write a second outcome, and the grant is free to claim.
            await #expect(throws: StoreError.claimLost(grant: key.description)) {
                _ = try await store.apply(update, toGrant: id, claimedBy: "daemon:a", now: Date())
            }
            #expect(try await claim(store, id, "daemon:b") != nil)
        }
    }

    /// The outcome of a claim is written in one statement on PostgreSQL, the status before it
    /// read in the same statement: events must still name the status before, with the failure, and
    /// a status set while the claim was out must neither void the claim nor be named wrongly.
    @Test("claimed outcomes record their events with the status before; a status set meanwhile does not void the claim",
          arguments: StoreFactory.available)
    func claimedOutcomeEvents(_ factory: StoreFactory) async throws {
        try await withStore(factory) { subject in
            let store = subject.store
            let id = try await saved(store)
            _ = try #require(try await claim(store, id, "daemon:a"))
            var failed = GrantUpdate(status: .retrying, message: "refresh failed, retrying", nextRefreshAt: Date().addingTimeInterval(30))
            failed.failure = RefreshFailure(.transient, httpStatus: 503, detail: "busy")
            let transition = try await store.apply(failed, toGrant: id, claimedBy: "daemon:a", now: Date())
            #expect(transition.previous == .authorized && transition.current == .retrying)
            var events = try await store.events(EventFilter())
            #expect(events.last?.status == .retrying && events.last?.previousStatus == .authorized)
            #expect(events.last?.httpStatus == 503 && events.last?.errorClass == "transient")
            let record = try #require(try await store.record(for: key))
            #expect(record.consecutiveFailures == 1 && record.lastHTTPStatus == 503 && record.inFlightOwner == nil)

            // The same status again records nothing, unless the update asks for it.
            _ = try #require(try await claim(store, id, "daemon:a"))
            var again = refreshed("r2")
            again.status = .authorized
            _ = try await store.apply(again, toGrant: id, claimedBy: "daemon:a", now: Date())
            _ = try #require(try await claim(store, id, "daemon:a"))
            _ = try await store.apply(refreshed("r3"), toGrant: id, claimedBy: "daemon:a", now: Date())
            _ = try #require(try await claim(store, id, "daemon:a"))
            var interrupted = refreshed("r4")
            interrupted.alwaysRecordEvent = true
            interrupted.message = "refreshed after an interrupted refresh"
            _ = try await store.apply(interrupted, toGrant: id, claimedBy: "daemon:a", now: Date())
            events = try await store.events(EventFilter())
            #expect(events.map(\.status) == [.authorized, .retrying, .authorized, .authorized])
            #expect(events.last?.message == "refreshed after an interrupted refresh" && events.last?.previousStatus == .authorized)
            #expect(try await store.tokens(for: key)?.refreshToken == "r4")

            // A status set while the claim is out (another daemon parking the grant behind its
            // organisation's probe) must not void the claim: its answer, perhaps a rotated refresh
            // token, is the newer truth, and the event names the status it replaced.
            _ = try #require(try await claim(store, id, "daemon:a"))
            _ = try await store.setStatus(.clientError, ofGrants: [id], message: "paused", failure: nil, nextRefreshAt: nil, now: Date())
            _ = try await store.requestRefresh(ofGrant: id, at: Date(), now: Date())
            let recovered = try await store.apply(refreshed("r5"), toGrant: id, claimedBy: "daemon:a", now: Date())
            #expect(recovered.previous == .clientError && recovered.current == .authorized)
            #expect(try await store.tokens(for: key)?.refreshToken == "r5")
            #expect(try await store.events(EventFilter()).last?.previousStatus == .clientError)
            // A grant revoked while its claim is out: the outcome finds nothing to write.
            _ = try await store.remove(key, message: "revoked", now: Date())
            await #expect(throws: StoreError.grantNotFound(grant: "grant #\(id)")) {
                _ = try await store.apply(refreshed("r6"), toGrant: id, claimedBy: "daemon:a", now: Date())
            }
        }
    }

    /// The fencing promise: daemon A claims, stalls past its lease (a pause, a partition), B takes
    /// over and writes the rotated token; A's late answer must not overwrite it, nor B's own claim.
    @Test("a daemon paused past its lease can never overwrite a newer outcome", arguments: StoreFactory.available)
    func pausedPastLease(_ factory: StoreFactory) async throws {
        try await withStore(factory) { subject in
            let a = subject.store
            let b = try await subject.another()
            let id = try await saved(a)
            _ = try #require(try await claim(a, id, "daemon:a", lease: Self.short))
            try await Task.sleep(for: .milliseconds(Int(Self.short * 1000) + 250))
            _ = try #require(try await claim(b, id, "daemon:b", lease: Self.short))
            // While B's refresh is out, A's late outcome is refused…
            await #expect(throws: StoreError.claimLost(grant: key.description)) {
                _ = try await a.apply(refreshed("from-a"), toGrant: id, claimedBy: "daemon:a", now: Date())
            }
            _ = try await b.apply(refreshed("from-b"), toGrant: id, claimedBy: "daemon:b", now: Date())
            // …and so it is after B's outcome is written.
            await #expect(throws: StoreError.claimLost(grant: key.description)) {
                _ = try await a.apply(refreshed("from-a"), toGrant: id, claimedBy: "daemon:a", now: Date())
            }
            #expect(try await a.tokens(for: key)?.refreshToken == "from-b")
            // A new claim by A of the same name, after B's, is a new claim: its outcome is written.
            _ = try #require(try await claim(a, id, "daemon:a"))
            _ = try await a.apply(refreshed("from-a-again"), toGrant: id, claimedBy: "daemon:a", now: Date())
            #expect(try await b.tokens(for: key)?.refreshToken == "from-a-again")
        }
    }

    @Test("many daemons claiming one grant at once: exactly one gets it", arguments: StoreFactory.available)
    func concurrentClaims(_ factory: StoreFactory) async throws {
        try await withStore(factory) { subject in
            let id = try await saved(subject.store)
            var handles: [any GrantStore] = [subject.store]
            for _ in 0..<3 { handles.append(try await subject.another()) }
            let winners = try await withThrowingTaskGroup(of: Int.self) { group in
                for attempt in 0..<24 {
                    let store = handles[attempt % handles.count]
                    group.addTask {
                        try await store.claimRefresh(id: id, owner: "daemon:\(attempt)", now: Date(), lease: 60, ownerIsGone: { _ in false }) == nil ? 0 : 1
                    }
                }
                return try await group.reduce(0, +)
            }
            #expect(winners == 1)
        }
    }

    @Test("two first authorisations of different customers at once: one is stored and pins, the other is refused",
          arguments: StoreFactory.available)
    func customerPinningRace(_ factory: StoreFactory) async throws {
        try await withStore(factory) { subject in
            let stores: [any GrantStore] = [subject.store, try await subject.another()]
            for round in 0..<5 {
                let organisation = "firm\(round)"
                let outcomes = await withTaskGroup(of: String.self) { group in
                    for (index, customer) in ["100", "200"].enumerated() {
                        group.addTask {
                            var grant = authorization(.user("U\(index)", of: organisation), refresh: "r", access: "a")
                            grant.identity.customerID = customer
                            do {
                                _ = try await stores[index].saveAuthorization(grant, now: Date())
                                return "stored \(customer)"
                            } catch let error as StoreError {
                                if case .otherCustomer = error { return "refused" }
                                return "\(error)"
                            } catch { return "\(error)" }
                        }
                    }
                    return await group.reduce(into: [String]()) { $0.append($1) }.sorted()
                }
                #expect(outcomes.count == 2 && outcomes[0] == "refused" && outcomes[1].hasPrefix("stored"), "\(outcomes)")
                let pin = try #require(try await subject.store.pinnedCustomer(of: organisation))
                #expect("stored \(pin.customerID)" == outcomes[1])
                #expect(try await subject.store.records(organisation: organisation, kind: nil).count == 1)
            }
            #expect(try await subject.store.pinnedCustomers().map(\.organisation) == (0..<5).map { "firm\($0)" })
        }
    }

    @Test("setting the status of several grants reports each, with an event only where it changed",
          arguments: StoreFactory.available)
    func setStatus(_ factory: StoreFactory) async throws {
        try await withStore(factory) { subject in
            let store = subject.store
            let id = try await saved(store)
            let other = GrantKey.library("OTHER", of: "acme")
            _ = try await store.saveAuthorization(authorization(other, refresh: "r", access: "a"), now: Date())
            let otherID = try #require(try await store.record(for: other)).id
            _ = try await store.setStatus(.disabled, ofGrants: [otherID], message: "off", failure: nil, nextRefreshAt: nil, now: Date())
            let failure = RefreshFailure(.clientRefused, httpStatus: 401, detail: "bad secret")
            let transitions = try await store.setStatus(
                .disabled, ofGrants: [id, otherID, id + 1000], message: "organisation disabled", failure: failure, nextRefreshAt: nil, now: Date())
            #expect(transitions.map(\.changed) == [true, false])
            #expect(try await store.events(EventFilter()).filter { $0.status == .disabled }.count == 2)
            let record = try #require(try await store.record(for: key))
            #expect(record.status == .disabled && record.nextRefreshAt == nil && record.lastHTTPStatus == 401)
        }
    }
}
