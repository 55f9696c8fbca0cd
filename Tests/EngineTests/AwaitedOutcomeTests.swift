import Foundation
import IManageEmulator
import Testing
import TokendPolicy
import TokendStore
@testable import TokendEngine

/// `POST /v1/refresh` with `wait` (and so `refresh`) awaits the engine's word on the outcome
/// instead of polling the store.
@Suite("Awaited refresh outcomes", .serialized)
struct AwaitedOutcomeTests {
    let key = GrantKey.library("ACTIVE", of: "demo")

    @Test("a ticket taken before the request is answered when the attempt's outcome is written: refreshed, then failed")
    func answeredWhenWritten() async throws {
        let (fixture, _) = try await EngineFixture.start(accessTokenLifetime: 600, minimumInterval: 0.1, grants: [("demo", "ACTIVE")])
        try await fixture.closing {
            try #require(try await fixture.wait(upTo: 10) { try fixture.store.record(for: key)?.lastRefreshAt != nil })
            let id = try #require(try fixture.store.record(for: key)?.id)
            try await Task.sleep(for: .milliseconds(150))  // past the minimum interval of that first refresh

            let ticket = fixture.engine.expectRefresh(ofGrant: id)
            _ = try await fixture.engine.requestRefresh(key)
            let started = ContinuousClock.now
            let refreshed = await fixture.engine.refreshOutcome(ticket, timeout: .seconds(10))
            #expect(refreshed == .written(status: .authorized, refreshed: true))
            #expect(ContinuousClock.now - started < .seconds(5), "answered by the timeout, not the outcome")

            try fixture.emulator.addFault(Fault(.serverError(status: 503), on: .token))
            try await Task.sleep(for: .milliseconds(150))
            let second = fixture.engine.expectRefresh(ofGrant: id)
            _ = try await fixture.engine.requestRefresh(key)
            #expect(await fixture.engine.refreshOutcome(second, timeout: .seconds(10)) == .written(status: .retrying, refreshed: false))
            #expect(fixture.engine.refreshTicketsHeld == 0, "an answered ticket was kept")
        }
    }

    @Test("no attempt within the wait: nil at the timeout, and the ticket is given back")
    func timesOut() async throws {
        let waiters = RefreshWaiters()
        let ticket = waiters.expect(7)
        let started = ContinuousClock.now
        #expect(await waiters.outcome(of: ticket, timeout: .milliseconds(100)) == nil)
        #expect(ContinuousClock.now - started < .seconds(5))
        #expect(waiters.held == 0)
    }

    @Test("an end written before it is awaited still answers; an attempt that began before the ticket does not")
    func orderOfEvents() async {
        let waiters = RefreshWaiters()
        let early = waiters.beginAttempt()  // already out when the request came
        let ticket = waiters.expect(7)
        waiters.finish(.written(status: .retrying, refreshed: false), grantID: 7, attempt: early)
        waiters.finish(.written(status: .authorized, refreshed: true), grantID: 8, attempt: waiters.beginAttempt())  // another grant
        let mine = waiters.beginAttempt()
        waiters.finish(.written(status: .authorized, refreshed: true), grantID: 7, attempt: mine)
        #expect(await waiters.outcome(of: ticket, timeout: .seconds(5)) == .written(status: .authorized, refreshed: true))

        // A grant revoked meanwhile answers every ticket of it, whenever it was taken.
        let revoked = waiters.expect(9)
        waiters.finish(.grantGone, grantID: 9, attempt: nil)
        #expect(await waiters.outcome(of: revoked, timeout: .seconds(5)) == .grantGone)
        #expect(waiters.held == 0)
    }

    @Test("a waiter whose task is cancelled stops waiting at once")
    func cancelled() async {
        let waiters = RefreshWaiters()
        let ticket = waiters.expect(7)
        let waiting = Task { await waiters.outcome(of: ticket, timeout: .seconds(60)) }
        try? await Task.sleep(for: .milliseconds(50))
        let started = ContinuousClock.now
        waiting.cancel()
        #expect(await waiting.value == nil)
        #expect(ContinuousClock.now - started < .seconds(5))
        #expect(waiters.held == 0)
    }
}
