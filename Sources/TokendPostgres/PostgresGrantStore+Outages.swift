import Foundation
import PostgresNIO
import TokendPolicy

/// The token endpoints found down, as SQLite keeps them (`SQLiteGrantStore+Outages`): shared by
/// every daemon of the database, so `status` on any node says an endpoint is down.
extension PostgresGrantStore {
    public func endpointOutages() async throws -> [EndpointOutage] {
        try await query("""
            SELECT endpoint, organisations, since, error_class, http_status, error_detail, next_probe_at,
                   failed_probes, waiting_grants
            FROM endpoint_outages ORDER BY endpoint COLLATE "C"
            """).collect { row in
            let failure = RefreshFailure(
                FailureClass(rawValue: try row.string(3) ?? "") ?? .transient, httpStatus: try row.int(4),
                detail: try row.string(5) ?? "")
            return EndpointOutage(
                endpoint: try row.string(0) ?? "",
                organisations: (try row.string(1) ?? "").split(separator: "\n").map(String.init),
                since: try row.date(2) ?? .distantPast, lastFailure: failure, nextProbeAt: try row.date(6),
                failedProbes: try row.int(7) ?? 0, waitingGrants: try row.int(8) ?? 0)
        }
    }

    public func saveEndpointOutage(_ outage: EndpointOutage, now: Date) async throws {
        let organisations = outage.organisations.joined(separator: "\n")
        let since = outage.since.timeIntervalSince1970
        let errorClass = outage.lastFailure.failureClass.rawValue
        let httpStatus = outage.lastFailure.httpStatus
        let detail = outage.lastFailure.detail
        let nextProbe = outage.nextProbeAt?.timeIntervalSince1970
        let updated = now.timeIntervalSince1970
        try await transaction { db in
            try await db.query("""
                INSERT INTO endpoint_outages (endpoint, organisations, since, error_class, http_status, error_detail,
                    next_probe_at, failed_probes, waiting_grants, updated_at)
                VALUES (\(outage.endpoint), \(organisations), \(since), \(errorClass), \(httpStatus), \(detail),
                    \(nextProbe), \(outage.failedProbes), \(outage.waitingGrants), \(updated))
                ON CONFLICT (endpoint) DO UPDATE SET organisations = EXCLUDED.organisations, since = EXCLUDED.since,
                    error_class = EXCLUDED.error_class, http_status = EXCLUDED.http_status,
                    error_detail = EXCLUDED.error_detail, next_probe_at = EXCLUDED.next_probe_at,
                    failed_probes = EXCLUDED.failed_probes, waiting_grants = EXCLUDED.waiting_grants,
                    updated_at = EXCLUDED.updated_at
                """, logger: logger)
        }
    }

    public func removeEndpointOutage(endpoint: String?) async throws {
        try await transaction { db in
            if let endpoint {
                try await db.query("DELETE FROM endpoint_outages WHERE endpoint = \(endpoint)", logger: logger)
            } else {
                try await db.query("DELETE FROM endpoint_outages", logger: logger)
            }
        }
    }
}
