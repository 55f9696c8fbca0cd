import Foundation
import NIOCore
import Synchronization

/// The states already presented at the callback, so that a reload or a replay is told "already
/// used": the only thing the daemon keeps per sign-in, and only once it completes.
///
/// Bounded in count, and cheap however many arrive: entries come in time order, so a FIFO ring
/// beside a set gives O(1) amortised insertion and expiry (the oldest go first, never a scan).
/// An entry is kept for `keepFor` (the state lifetime): after that the state reads as expired
/// anyway. When full, the oldest entry goes; its state could then be presented once more, and
/// would still fail at iManage, whose codes work once.
final class SpentStates: Sendable {
    let capacity: Int
    let keepFor: TimeInterval

    private struct Book {
        var members: Set<StateID> = []
        var order = CircularBuffer<(id: StateID, spentAt: Date)>()
    }
    private let book = Mutex(Book())

    init(keepFor: TimeInterval, capacity: Int = 65_536) {
        self.keepFor = keepFor
        self.capacity = max(1, capacity)
    }

    /// How many states are remembered now.
    var count: Int { book.withLock { $0.members.count } }

    func contains(_ id: StateID, now: Date) -> Bool {
        book.withLock { book in
            Self.expire(&book, now: now, keepFor: keepFor)
            return book.members.contains(id)
        }
    }

    /// Records `id` as spent; false when it already was (a second callback racing the first).
    func spend(_ id: StateID, now: Date) -> Bool {
        book.withLock { book in
            Self.expire(&book, now: now, keepFor: keepFor)
            guard book.members.insert(id).inserted else { return false }
            book.order.append((id, now))
            while book.order.count > capacity { book.members.remove(book.order.removeFirst().id) }
            return true
        }
    }

    private static func expire(_ book: inout Book, now: Date, keepFor: TimeInterval) {
        while let oldest = book.order.first, now.timeIntervalSince(oldest.spentAt) > keepFor {
            book.members.remove(book.order.removeFirst().id)
        }
    }
}
