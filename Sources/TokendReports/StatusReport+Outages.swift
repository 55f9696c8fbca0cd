import Foundation
import TokendPolicy

extension StatusReport {
    /// Adds the token endpoints the running daemon holds down (as the store keeps them): only those
    /// of organisations this report shows, each with a note saying since when, the last error, the
    /// next probe, and that the grants waiting for it need nothing from a person. A warning.
    public mutating func showEndpointsDown(_ outages: [EndpointOutage]) {
        let shown = Set(organisations.map(\.name))
        endpointsDown = daemon.running ? outages.filter { !shown.isDisjoint(with: $0.organisations) } : []
        for outage in endpointsDown {
            let probe = outage.nextProbeAt.map { "next probe \(RelativeTime.describe($0, now: generatedAt))" } ?? "a probe is out now"
            let waiting = outage.waitingGrants == 1 ? "1 grant waits" : "\(outage.waitingGrants) grants wait"
            notes.append(
                "token endpoint \(outage.endpoint) (\(outage.organisations.joined(separator: ", "))) is down since "
                    + "\(RelativeTime.describe(outage.since, now: generatedAt)): \(outage.lastFailure); one grant probes it, \(probe); "
                    + "\(waiting), sending nothing, and are refreshed as soon as it answers (nothing to do here unless it lasts: ask iManage)")
        }
    }
}

/// One down endpoint in `status --json` and `GET /v1/status` (`endpoints_down`).
struct EndpointOutageJSON: Encodable {
    let outage: EndpointOutage

    enum CodingKeys: String, CodingKey {
        case endpoint, organisations, since, lastError = "last_error", errorClass = "error_class", httpStatus = "http_status"
        case nextProbeAt = "next_probe_at", failedProbes = "failed_probes", waitingGrants = "waiting_grants"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(outage.endpoint, forKey: .endpoint)
        try container.encode(outage.organisations, forKey: .organisations)
        try container.encode(RFC3339.string(outage.since), forKey: .since)
        try container.encode(outage.lastFailure.description, forKey: .lastError)
        try container.encode(outage.lastFailure.failureClass.rawValue, forKey: .errorClass)
        try container.encode(outage.lastFailure.httpStatus, forKey: .httpStatus)
        try container.encode(RFC3339.string(outage.nextProbeAt), forKey: .nextProbeAt)
        try container.encode(outage.failedProbes, forKey: .failedProbes)
        try container.encode(outage.waitingGrants, forKey: .waitingGrants)
    }
}
