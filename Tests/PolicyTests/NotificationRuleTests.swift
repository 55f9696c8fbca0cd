import Foundation
import Testing
import TokendPolicy

@Suite("Notification rule: which status change tells a person")
struct NotificationRuleTests {
    let library = GrantKey.library("ACTIVE", of: "acme")
    let user = GrantKey.user("BOB", of: "acme")

    @Test("a change into a status that needs a person is a problem of the grant", arguments: [
        GrantStatus.needsReauth, .notNrtadmin, .expired,
    ])
    func problemOfTheGrant(_ status: GrantStatus) throws {
        let cause = try #require(NotificationRule.decide(key: library, previous: .authorized, current: status))
        #expect(cause.event == .problem)
        #expect(cause.subject == .grant(library))
        #expect(cause.topic == status.rawValue)
        #expect(!cause.reason.isEmpty)
    }

    @Test("client_error is the organisation's, once for all its grants, and so is its recovery")
    func clientErrorIsTheOrganisations() throws {
        let first = try #require(NotificationRule.decide(key: library, previous: .authorized, current: .clientError))
        let second = try #require(NotificationRule.decide(key: user, previous: .retrying, current: .clientError))
        #expect(first.subject == .organisation("acme"))
        #expect(first.subject == second.subject && first.topic == second.topic)
        #expect(first.subject.kind == "organisation" && first.subject.id == "acme")
        let recovery = try #require(NotificationRule.decide(key: user, previous: .clientError, current: .authorized))
        #expect(recovery.event == .recovery && recovery.subject == .organisation("acme"))
    }

    @Test("a return to authorized from a problem is a recovery; from retrying or new it is not")
    func recovery() throws {
        for previous in [GrantStatus.needsReauth, .notNrtadmin, .expired] {
            let cause = try #require(NotificationRule.decide(key: user, previous: previous, current: .authorized))
            #expect(cause.event == .recovery && cause.subject == .grant(user))
            #expect(cause.reason.contains(previous.rawValue))
        }
        #expect(NotificationRule.decide(key: user, previous: .retrying, current: .authorized) == nil)
        #expect(NotificationRule.decide(key: user, previous: nil, current: .authorized) == nil)
        #expect(NotificationRule.decide(key: user, previous: .unauthorized, current: .authorized) == nil)
    }

    @Test("no change, retrying, disabled and revocation tell nobody")
    func quietChanges() {
        #expect(NotificationRule.decide(key: library, previous: .needsReauth, current: .needsReauth) == nil)
        #expect(NotificationRule.decide(key: library, previous: .authorized, current: .authorized) == nil)
        #expect(NotificationRule.decide(key: library, previous: .authorized, current: .retrying) == nil)
        #expect(NotificationRule.decide(key: library, previous: .authorized, current: .disabled) == nil)
        #expect(NotificationRule.decide(key: library, previous: .needsReauth, current: .unauthorized) == nil)
    }

    @Test("a refresh-token warning of an authorized grant is told")
    func refreshTokenWarning() throws {
        let cause = try #require(NotificationRule.decide(
            key: library, previous: .authorized, current: .authorized, refreshTokenWarning: true))
        #expect(cause.event == .refreshTokenExpiring && cause.subject == .grant(library))
    }

    @Test("a repeat within the interval is suppressed, after it is told again")
    func repeats() {
        let now = Date(timeIntervalSince1970: 1_000_000)
        #expect(!NotificationRule.isRepeat(lastAnnounced: nil, now: now, repeatAfter: 3600))
        #expect(NotificationRule.isRepeat(lastAnnounced: now.addingTimeInterval(-3599), now: now, repeatAfter: 3600))
        #expect(!NotificationRule.isRepeat(lastAnnounced: now.addingTimeInterval(-3600), now: now, repeatAfter: 3600))
        #expect(!NotificationRule.isRepeat(lastAnnounced: now, now: now, repeatAfter: 0))
    }

    @Test("delivery retries back off exponentially up to the maximum")
    func backoff() {
        #expect(NotificationRule.retryDelay(afterFailures: 1, initial: 1, maximum: 300) == 1)
        #expect(NotificationRule.retryDelay(afterFailures: 2, initial: 1, maximum: 300) == 2)
        #expect(NotificationRule.retryDelay(afterFailures: 5, initial: 1, maximum: 300) == 16)
        #expect(NotificationRule.retryDelay(afterFailures: 50, initial: 1, maximum: 300) == 300)
    }
}
