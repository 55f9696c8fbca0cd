import Foundation
import Synchronization
import TokendEngine
import TokendPolicy
import TokendStore

/// Gathers the verified grants of `import --from` and stores them in batches: while one batch is
/// being committed the next gathers, so a durable commit carries every grant verified meanwhile
/// (`GrantStore.saveAuthorisations`: one transaction, each grant standing or falling alone).
/// Verifications hand their grant over and go on to their next line; they wait only when
/// `backlog` grants are already waiting for the disk.
final class AuthorizationBatcher<Item: Sendable>: Sendable {
    /// Told once per batch, after its commit: each grant with what became of it.
    typealias Stored = @Sendable ([(item: Item, authorization: NewAuthorization, result: Result<StatusTransition, AdmissionFailure>)]) -> Void

    private struct State {
        var pending: [(Item, NewAuthorization)] = []
        var writing = false
        var waitingForRoom: [CheckedContinuation<Void, Never>] = []
        var finished: [CheckedContinuation<Void, Never>] = []
    }

    private let store: any GrantStore
    private let stored: Stored
    private let state = Mutex(State())
    /// The most grants one transaction carries.
    let maximumBatch: Int
    /// Grants waiting for the disk beyond which a verification waits before handing over another.
    let backlog: Int

    init(store: any GrantStore, maximumBatch: Int = 1000, backlog: Int = 4000, stored: @escaping Stored) {
        self.store = store
        self.maximumBatch = maximumBatch
        self.backlog = backlog
        self.stored = stored
    }

    /// Hands over a verified grant; `stored` is told once it is durable, or why it was refused.
    func submit(_ item: Item, _ authorization: NewAuthorization) async {
        let (startWriting, full) = state.withLock { state -> (Bool, Bool) in
            state.pending.append((item, authorization))
            let start = !state.writing
            state.writing = true
            return (start, state.pending.count >= backlog)
        }
        if startWriting { Task { await self.drain() } }
        if full {
            await withCheckedContinuation { continuation in
                let roomAlready = state.withLock { state -> Bool in
                    guard state.pending.count >= backlog else { return true }
                    state.waitingForRoom.append(continuation)
                    return false
                }
                if roomAlready { continuation.resume() }
            }
        }
    }

    /// Returns when every grant handed over has been written (or refused).
    func finish() async {
        await withCheckedContinuation { continuation in
            let done = state.withLock { state -> Bool in
                guard state.writing || !state.pending.isEmpty else { return true }
                state.finished.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }

    private func drain() async {
        while true {
            let (batch, room, finished) = state.withLock { state -> ([(Item, NewAuthorization)], [CheckedContinuation<Void, Never>], [CheckedContinuation<Void, Never>]) in
                let batch = Array(state.pending.prefix(maximumBatch))
                state.pending.removeFirst(batch.count)
                let room = state.waitingForRoom
                state.waitingForRoom = []
                guard batch.isEmpty else { return (batch, room, []) }
                state.writing = false
                let finished = state.finished
                state.finished = []
                return (batch, room, finished)
            }
            room.forEach { $0.resume() }
            if batch.isEmpty {
                finished.forEach { $0.resume() }
                return
            }
            await write(batch)
        }
    }

    private func write(_ batch: [(Item, NewAuthorization)]) async {
        do {
            let results = try await store.saveAuthorizations(batch.map(\.1), now: Date())
            stored(zip(batch, results).map { ($0.0.0, $0.0.1, $0.1.mapError { AdmissionFailure(storing: $0) }) })
        } catch {
            // The transaction could not commit: none of the batch is stored.
            stored(batch.map { ($0.0, $0.1, .failure(AdmissionFailure(storing: error))) })
        }
    }
}
