import Foundation
import TokendPolicy

/// The token endpoints the daemon found down, kept so that `status` (which reads the database, not
/// the daemon's memory) can say so. Written when an endpoint goes down, at each failed probe, and
/// removed when it answers again.
extension SQLiteGrantStore {
    /// The endpoints down now, by name.
    public func endpointOutages() throws -> [EndpointOutage] {
        try read { db in
            let row = try db.prepare("""
                SELECT endpoint, organisations, since, error_class, http_status, error_detail, next_probe_at,
                       failed_probes, waiting_grants
                FROM endpoint_outages ORDER BY endpoint
                """)
            var result: [EndpointOutage] = []
            while try row.step() {
                let failure = RefreshFailure(
                    FailureClass(rawValue: row.string(3) ?? "") ?? .transient, httpStatus: row.int(4), detail: row.string(5) ?? "")
                result.append(EndpointOutage(
                    endpoint: row.string(0) ?? "",
                    organisations: (row.string(1) ?? "").split(separator: "\n").map(String.init),
                    since: row.date(2) ?? .distantPast, lastFailure: failure, nextProbeAt: row.date(6),
                    failedProbes: row.int(7) ?? 0, waitingGrants: row.int(8) ?? 0))
            }
            return result
        }
    }

    /// Records `outage` (replacing what was kept of the same endpoint).
    public func saveEndpointOutage(_ outage: EndpointOutage, now: Date) async throws {
        try await write { db in
            try db.prepare("""
                INSERT OR REPLACE INTO endpoint_outages (endpoint, organisations, since, error_class, http_status,
                    error_detail, next_probe_at, failed_probes, waiting_grants, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """).bind(
                    outage.endpoint, outage.organisations.joined(separator: "\n"), outage.since,
                    outage.lastFailure.failureClass.rawValue, outage.lastFailure.httpStatus, outage.lastFailure.detail,
                    outage.nextProbeAt, outage.failedProbes, outage.waitingGrants, now
                ).run()
        }
    }

    /// Forgets the outage of `endpoint`, or of every endpoint when `nil` (a daemon starting over).
    public func removeEndpointOutage(endpoint: String?) async throws {
        try await write { db in
            if let endpoint {
                try db.prepare("DELETE FROM endpoint_outages WHERE endpoint = ?").bind(endpoint).run()
            } else {
                try db.execute("DELETE FROM endpoint_outages")
            }
        }
    }
}
