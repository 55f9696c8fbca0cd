import Foundation
import Synchronization

/// A clock a test sets by hand, for the `now:` of GrantRefresher and RefreshEngine: a timing rule is
/// then checked to the millisecond at the moment it is about, without waiting for it.
final class TestClock: Sendable {
    private let current: Mutex<Date>

    init(_ start: Date) { current = Mutex(start) }

    /// 23:59 UTC on 30 November 2026: one minute before a UTC midnight.
    static let beforeMidnightUTC = Date(timeIntervalSince1970: 1_796_083_140)

    var now: Date { current.withLock { $0 } }

    /// The closure to inject.
    var reading: @Sendable () -> Date { { [self] in now } }

    /// `clock`'s reading, or the wall clock's when there is no test clock.
    static func reading(of clock: TestClock?) -> @Sendable () -> Date {
        guard let clock else { return { Date() } }
        return clock.reading
    }

    func advance(by seconds: TimeInterval) { current.withLock { $0 = $0.addingTimeInterval(seconds) } }

    func set(_ date: Date) { current.withLock { $0 = date } }
}
