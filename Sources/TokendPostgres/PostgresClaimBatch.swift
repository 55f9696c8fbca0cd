import Foundation
import PostgresNIO
import Synchronization
import TokendPolicy
import TokendStore

/// Claims of due grants go to PostgreSQL in batches: the claims that arrive while a batch is being
/// claimed (a wave of grants falling due together, as the scheduler hands them out) wait and go
/// together in the next one, as the SQLite store's group commit does with its writes. One batch is
/// one transaction: one `SELECT … WHERE id = ANY(…) FOR UPDATE SKIP LOCKED` (a row another daemon is
/// claiming right now is simply not ours) and one `UPDATE … FROM unnest(…)` that sets each claim's
/// owner, lease and fencing version. A lone claim waits for nothing. Written here because no
/// package batches calls this way; postgres-nio runs one query at a time per connection.
final class PostgresClaimBatcher: Sendable {
    struct Request: Sendable {
        var id: Int64
        var owner: String
        var now: Date
        var lease: TimeInterval
        var ownerIsGone: @Sendable (String) -> Bool
        var answer: CheckedContinuation<ClaimedRefresh?, any Error>
    }

    private struct State {
        var queued: [Request] = []
        var claiming = false
    }

    private let state = Mutex(State())
    /// At most this many claims in one transaction.
    static let largestBatch = 500
    /// Batches claimed so far (for tests: claims that arrive together share one).
    let batches = Atomic<Int>(0)

    /// Queues a claim; the first claimer of an idle batcher claims every batch that gathers meanwhile.
    func claim(_ request: Request, in store: PostgresGrantStore) {
        let leads = state.withLock { state -> Bool in
            state.queued.append(request)
            guard !state.claiming else { return false }
            state.claiming = true
            return true
        }
        guard leads else { return }
        Task {
            while true {
                let batch = state.withLock { state -> [Request] in
                    let taken = Array(state.queued.prefix(Self.largestBatch))
                    state.queued.removeFirst(taken.count)
                    if taken.isEmpty { state.claiming = false }
                    return taken
                }
                if batch.isEmpty { return }
                batches.add(1, ordering: .relaxed)
                do {
                    let outcome = try await store.claimBatch(batch)
                    for (index, request) in batch.enumerated() {
                        if let error = outcome.refused[index] {
                            request.answer.resume(throwing: error)
                        } else {
                            request.answer.resume(returning: outcome.claimed[index])
                        }
                    }
                } catch {
                    for request in batch { request.answer.resume(throwing: error) }
                }
            }
        }
    }
}

extension PostgresGrantStore {
    /// Claims `requests` in one transaction; returns the claims made, and the errors of grants whose
    /// stored token could not be opened (a grant of its own: it does not fail the others), by the
    /// request's index. A failure of the database fails the whole batch.
    func claimBatch(
        _ requests: [PostgresClaimBatcher.Request]
    ) async throws -> (claimed: [Int: ClaimedRefresh], refused: [Int: any Error]) {
        let cipher = try self.cipher
        // One claim per grant per batch: the first request for a grant may have it, the others
        // find it claimed (as they would one transaction later).
        var chosen: [Int64: Int] = [:]
        for (index, request) in requests.enumerated() where chosen[request.id] == nil { chosen[request.id] = index }
        let ids = Array(chosen.keys)
        let (made, refused): ([(ClaimedRefresh, Int64, String, Int)], [Int: any Error]) = try await transaction { db in
            // A claim batch holds every claim of this daemon behind it: a server that stalls fails it
            // (and its callers, who retry) instead of holding them all.
            try await db.query("SET LOCAL statement_timeout = 15000", logger: logger)
            let rows = try await db.query("""
                SELECT \(unescaped: Self.recordColumns), refresh_token,
                    extract(epoch FROM clock_timestamp() - claimed_at)::double precision
                FROM grants WHERE id = ANY(\(ids)) FOR UPDATE SKIP LOCKED
                """, logger: logger).collect { (try Self.record(from: $0), try $0.bytes(27), try $0.double(28)) }
            var claims: [(claim: ClaimedRefresh, request: PostgresClaimBatcher.Request, index: Int)] = []
            var refused: [Int: any Error] = [:]
            for (record, sealedToken, claimAge) in rows {
                guard let index = chosen[record.id], let sealed = sealedToken else { continue }
                let request = requests[index]
                let leaseRanOut = claimAge.map { $0 > request.lease } ?? true
                var abandoned: (owner: String, since: Date)?
                if let since = record.inFlightSince, let holder = record.inFlightOwner {
                    // A claim of our own still standing is an earlier attempt whose outcome could not be written.
                    if holder != request.owner {
                        guard leaseRanOut || request.ownerIsGone(holder) else { continue }
                    }
                    abandoned = (holder, since)
                }
                let refreshToken: String
                do {
                    refreshToken = try cipher.open(sealed, for: record.key, field: .refreshToken)
                } catch {
                    refused[index] = error
                    continue
                }
                claims.append((ClaimedRefresh(record: record, refreshToken: refreshToken, abandonedClaim: abandoned), request, index))
            }
            guard !claims.isEmpty else { return ([], refused) }
            let claimIDs = claims.map(\.request.id)
            let owners = claims.map(\.request.owner)
            let moments = claims.map { $0.request.now.timeIntervalSince1970 }
            let leases = claims.map(\.request.lease)
            let versions = try await db.query("""
                UPDATE grants SET in_flight_since = c.moment, in_flight_owner = c.owner, claimed_at = clock_timestamp(),
                    lease_expires_at = clock_timestamp() + make_interval(secs => c.lease),
                    last_attempt_at = c.moment, updated_at = c.moment, version = grants.version + 1
                FROM unnest(\(claimIDs)::bigint[], \(owners)::text[], \(moments)::double precision[], \(leases)::double precision[])
                    AS c(id, owner, moment, lease)
                WHERE grants.id = c.id RETURNING grants.id, grants.version
                """, logger: logger).collect { (try $0.int64(0), try $0.int64(1)) }
            let versionByID = Dictionary(versions, uniquingKeysWith: { first, _ in first })
            return (claims.map { ($0.claim, versionByID[$0.request.id] ?? 0, $0.request.owner, $0.index) }, refused)
        }
        var result: [Int: ClaimedRefresh] = [:]
        fences.withLock { fences in
            for (claim, version, owner, index) in made {
                fences[claim.record.id] = Fence(owner: owner, version: version, key: claim.record.key, status: claim.record.status)
                result[index] = claim
            }
        }
        return (result, refused)
    }
}
