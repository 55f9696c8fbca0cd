import Synchronization
import TokendPolicy

/// How a refresh someone waited for ended.
public enum RefreshEnd: Sendable, Equatable {
    /// The attempt's outcome was written: the grant's stored status now, and whether it refreshed.
    case written(status: GrantStatus, refreshed: Bool)
    /// The grant was removed (revoked) before it could be refreshed.
    case grantGone
    /// The outcome could not be written (the database refused): why, with what to do.
    case notRecorded(String)
}

/// A place in the queue of those waiting for a grant's next refresh (from ``RefreshEngine/expectRefresh(ofGrant:)``).
public struct RefreshTicket: Sendable, Hashable {
    let grantID: Int64
    let id: UInt64
    /// Attempts numbered up to this one had begun before the ticket: they do not answer it.
    let after: UInt64
}

/// Whoever asked for a refresh and waits for its outcome (`POST /v1/refresh` with `wait`, and so
/// `refresh`), per grant: the engine tells them when an attempt that began after they asked is
/// written. No polling: each waiter is a continuation resumed by ``finish(_:grantID:attempt:)``.
final class RefreshWaiters: Sendable {
    private enum Slot {
        /// Taken, not yet awaited.
        case pending
        case waiting(CheckedContinuation<RefreshEnd?, Never>)
        case done(RefreshEnd)
        /// The waiter stopped waiting (timeout or cancellation).
        case cancelled
    }

    private struct State {
        var attemptsBegun: UInt64 = 0
        var ticketsIssued: UInt64 = 0
        var slots: [Int64: [UInt64: (after: UInt64, slot: Slot)]] = [:]
    }

    private let state = Mutex(State())

    /// Before asking for the refresh: a ticket that the next attempt to begin answers.
    func expect(_ grantID: Int64) -> RefreshTicket {
        state.withLock { state in
            state.ticketsIssued += 1
            let ticket = RefreshTicket(grantID: grantID, id: state.ticketsIssued, after: state.attemptsBegun)
            state.slots[grantID, default: [:]][ticket.id] = (ticket.after, .pending)
            return ticket
        }
    }

    /// The number of an attempt about to begin.
    func beginAttempt() -> UInt64 {
        state.withLock { state in
            state.attemptsBegun += 1
            return state.attemptsBegun
        }
    }

    /// An attempt's end: answers the tickets of `grantID` taken before attempt number `attempt`
    /// began (`nil`: every ticket of the grant, for an end that holds whatever began when).
    func finish(_ end: RefreshEnd, grantID: Int64, attempt: UInt64?) {
        let resumed: [CheckedContinuation<RefreshEnd?, Never>] = state.withLock { state in
            guard var slots = state.slots[grantID] else { return [] }
            var resumed: [CheckedContinuation<RefreshEnd?, Never>] = []
            for (id, entry) in slots where attempt.map({ entry.after < $0 }) ?? true {
                switch entry.slot {
                case .pending: slots[id] = (entry.after, .done(end))
                case .waiting(let continuation):
                    resumed.append(continuation)
                    slots[id] = (entry.after, .done(end))
                case .done, .cancelled: break
                }
            }
            state.slots[grantID] = slots
            return resumed
        }
        for continuation in resumed { continuation.resume(returning: end) }
    }

    /// The end that answers `ticket`, or `nil` when none came within `timeout`. Forgets the ticket.
    func outcome(of ticket: RefreshTicket, timeout: Duration) async -> RefreshEnd? {
        defer { forget(ticket) }
        return await withTaskGroup(of: RefreshEnd?.self) { group in
            group.addTask { await self.wait(for: ticket) }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }

    /// Drops a ticket no longer waited for.
    func forget(_ ticket: RefreshTicket) {
        let waiting: CheckedContinuation<RefreshEnd?, Never>? = state.withLock { state in
            let entry = state.slots[ticket.grantID]?.removeValue(forKey: ticket.id)
            if state.slots[ticket.grantID]?.isEmpty == true { state.slots[ticket.grantID] = nil }
            if case .waiting(let continuation) = entry?.slot { return continuation }
            return nil
        }
        waiting?.resume(returning: nil)
    }

    /// How many tickets are held (tests: none may leak).
    var held: Int { state.withLock { $0.slots.values.reduce(0) { $0 + $1.count } } }

    private func wait(for ticket: RefreshTicket) async -> RefreshEnd? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<RefreshEnd?, Never>) in
                // `.some(x)`: answer at once with x; `nil`: parked until finished, forgotten or cancelled.
                let ready: RefreshEnd?? = state.withLock { state in
                    guard let entry = state.slots[ticket.grantID]?[ticket.id] else { return .some(nil) }
                    switch entry.slot {
                    case .done(let end): return .some(end)
                    case .cancelled, .waiting: return .some(nil)
                    case .pending:
                        state.slots[ticket.grantID]?[ticket.id] = (entry.after, .waiting(continuation))
                        return nil
                    }
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            let waiting: CheckedContinuation<RefreshEnd?, Never>? = state.withLock { state in
                guard let entry = state.slots[ticket.grantID]?[ticket.id] else { return nil }
                switch entry.slot {
                case .waiting(let continuation):
                    state.slots[ticket.grantID]?[ticket.id] = (entry.after, .cancelled)
                    return continuation
                case .pending:
                    state.slots[ticket.grantID]?[ticket.id] = (entry.after, .cancelled)
                    return nil
                case .done, .cancelled:
                    return nil
                }
            }
            waiting?.resume(returning: nil)
        }
    }
}
