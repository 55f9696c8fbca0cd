import Foundation
import Synchronization

/// Says once a minute or so per peer uid that the token API refused it, not once per request:
/// a misconfigured client retrying in a loop must not flood the journal.
final class ForbiddenNotices: Sendable {
    static let interval: TimeInterval = 60
    private let lastSaid = Mutex<[uid_t: Date]>([:])

    /// Whether to log a refusal of `uid` now; remembers that it was.
    func shouldSay(uid: uid_t, now: Date) -> Bool {
        lastSaid.withLock { lastSaid in
            if let last = lastSaid[uid], now.timeIntervalSince(last) < Self.interval { return false }
            if lastSaid.count > 1000 { lastSaid = lastSaid.filter { now.timeIntervalSince($0.value) < Self.interval } }
            lastSaid[uid] = now
            return true
        }
    }
}
