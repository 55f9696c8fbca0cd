import Foundation
import PostgresNIO
import TokendPolicy
import TokendStore

extension PostgresGrantStore {
    static var recordColumns: String { GrantColumns.record }

    static func record(from row: ResultRow) throws -> GrantRecord {
        var identity: AuthorizedIdentity?
        if let userID = try row.string(5) {
            identity = AuthorizedIdentity(
                userID: userID, email: try row.string(6) ?? "", name: try row.string(7) ?? "", customerID: try row.string(8) ?? "")
        }
        return GrantRecord(
            id: try row.int64(0), key: GrantKey(try row.string(1), try row.string(2), try row.string(3)),
            status: GrantStatus(rawValue: try row.string(4) ?? "") ?? .unauthorized,
            authorizedBy: identity,
            accessIssuedAt: try row.date(9), accessExpiresAt: try row.date(10), nextRefreshAt: try row.date(11),
            refreshTokenIssuedAt: try row.date(12), refreshTokenExpiresAt: try row.date(13),
            refreshTokenFingerprint: try row.string(14), lastRefreshAt: try row.date(15), lastAttemptAt: try row.date(16),
            consecutiveFailures: try row.int(17) ?? 0, lastError: try row.string(18), lastErrorClass: try row.string(19),
            lastHTTPStatus: try row.int(20), nrtadminCheckedAt: try row.date(21), inFlightSince: try row.date(22),
            inFlightOwner: try row.string(23), hasRefreshToken: try row.bool(24),
            createdAt: try row.date(25) ?? .distantPast, updatedAt: try row.date(26) ?? .distantPast)
    }

    public func record(for key: GrantKey) async throws -> GrantRecord? {
        try await query("""
            SELECT \(unescaped: Self.recordColumns) FROM grants
            WHERE organisation = \(key.organisation) AND kind = \(key.kind.rawValue) AND subject = \(key.subject)
            """).first(Self.record(from:))
    }

    public func record(id: Int64) async throws -> GrantRecord? {
        try await query("SELECT \(unescaped: Self.recordColumns) FROM grants WHERE id = \(id)").first(Self.record(from:))
    }

    public func records(organisation: String? = nil, kind: GrantKind? = nil) async throws -> [GrantRecord] {
        try await query("""
            SELECT \(unescaped: Self.recordColumns) FROM grants
            WHERE (\(organisation)::text IS NULL OR organisation = \(organisation))
              AND (\(kind?.rawValue)::text IS NULL OR kind = \(kind?.rawValue))
            ORDER BY organisation COLLATE "C", kind COLLATE "C", subject COLLATE "C"
            """).collect(Self.record(from:))
    }

    public func forEachScheduleEntry(_ body: (ScheduleEntry) -> Void) async throws {
        let rows = try await query("""
            SELECT id, organisation, status, next_refresh_at, access_expires_at, in_flight_since IS NOT NULL FROM grants
            """)
        try await mapErrors {
            for try await raw in rows {
                let row = ResultRow(raw)
                body(ScheduleEntry(
                    id: try row.int64(0), organisation: try row.string(1) ?? "",
                    status: GrantStatus(rawValue: try row.string(2) ?? "") ?? .unauthorized,
                    nextRefreshAt: try row.date(3), accessExpiresAt: try row.date(4), refreshWasInFlight: try row.bool(5)))
            }
        }
    }

    public func tokens(for key: GrantKey) async throws -> GrantTokens? {
        let cipher = try self.cipher
        let sealed = try await query("""
            SELECT refresh_token, access_token FROM grants
            WHERE organisation = \(key.organisation) AND kind = \(key.kind.rawValue) AND subject = \(key.subject)
            """).first { (try $0.bytes(0), try $0.bytes(1)) }
        guard let sealed else { return nil }
        return GrantTokens(
            refreshToken: try sealed.0.map { ciphertext throws(StoreError) in try cipher.open(ciphertext, for: key, field: .refreshToken) },
            accessToken: try sealed.1.map { ciphertext throws(StoreError) in try cipher.open(ciphertext, for: key, field: .accessToken) })
    }

    public func events(_ filter: EventFilter = EventFilter()) async throws -> [GrantEvent] {
        let limit = filter.limit.map(Int64.init)
        return try await query("""
            SELECT * FROM (
                SELECT id, at, organisation, kind, subject, status, previous_status, error_class, http_status, message
                FROM events
                WHERE (\(filter.organisation)::text IS NULL OR organisation = \(filter.organisation))
                  AND (\(filter.kind?.rawValue)::text IS NULL OR kind = \(filter.kind?.rawValue))
                  AND (\(filter.subject)::text IS NULL OR subject = \(filter.subject))
                  AND (\(filter.since.epoch)::double precision IS NULL OR at >= \(filter.since.epoch))
                ORDER BY at DESC, id DESC LIMIT \(limit)) newest
            ORDER BY at, id
            """).collect { row in
                GrantEvent(
                    id: try row.int64(0), at: try row.date(1) ?? .distantPast,
                    key: GrantKey(try row.string(2), try row.string(3), try row.string(4)),
                    status: GrantStatus(rawValue: try row.string(5) ?? "") ?? .unauthorized,
                    previousStatus: try row.string(6).flatMap(GrantStatus.init(rawValue:)),
                    errorClass: try row.string(7), httpStatus: try row.int(8), message: try row.string(9) ?? "")
            }
    }

    public func pinnedCustomer(of organisation: String) async throws -> PinnedCustomer? {
        try await query("SELECT name, customer_id, pinned_at, pinned_by FROM organisations WHERE name = \(organisation)")
            .first(Self.pin(from:))
    }

    public func pinnedCustomers() async throws -> [PinnedCustomer] {
        try await query("SELECT name, customer_id, pinned_at, pinned_by FROM organisations ORDER BY name COLLATE \"C\"")
            .collect(Self.pin(from:))
    }

    static func pin(from row: ResultRow) throws -> PinnedCustomer {
        PinnedCustomer(
            organisation: try row.string(0) ?? "", customerID: try row.string(1) ?? "",
            pinnedAt: try row.date(2) ?? .distantPast, pinnedBy: try row.string(3) ?? "")
    }

    /// A PostgreSQL database is never a restored backup in the sense of `imanage-tokend backup`
    /// (PostgreSQL's own backups are the administrator's): `nil`.
    public func grantsUnconfirmedSinceRestore() async throws -> (takenAt: Date, count: Int)? { nil }
}

extension PostgresGrantStore {
    /// Every stored ciphertext, as the database holds it (for the contract suite's "tokens sealed").
    public func rawSealedTokens() async throws -> [[UInt8]] {
        try await query("SELECT refresh_token, access_token FROM grants").collect { row in
            [try row.bytes(0), try row.bytes(1)].compactMap { $0 }
        }.flatMap { $0 }
    }
}
