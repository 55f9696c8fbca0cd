import Synchronization

/// The iManage endpoints the emulator serves, as named in stats and fault targets.
public enum EmulatorEndpoint: String, CaseIterable, Sendable {
    /// `GET` and `POST /auth/oauth2/authorize`
    case authorize
    /// `POST /auth/oauth2/token`
    case token
    /// `GET /api`
    case api
    /// `GET /work/api/v2/customers/{cid}/libraries`
    case libraries
    /// `GET /work/api/v2/customers/{cid}/libraries/{lib}/groups/NRTADMIN/members`
    case members
}

/// How one request to an iManage endpoint ended, as counted in stats.
public enum RequestOutcome: String, CaseIterable, Sendable {
    case success
    // OAuth errors (token endpoint, and authorize redirects)
    case invalidRequest = "invalid_request"
    case invalidClient = "invalid_client"
    case invalidGrant = "invalid_grant"
    case unauthorizedClient = "unauthorized_client"
    case unsupportedGrantType = "unsupported_grant_type"
    case unsupportedResponseType = "unsupported_response_type"
    // Sign-in page
    /// The authorize request itself was unacceptable (unknown client, redirect URI not allowed): a 400 page.
    case rejected
    case signInFailed = "sign_in_failed"
    case accessDenied = "access_denied"
    // API
    /// 401: missing, unknown, expired or revoked access token.
    case unauthorized
    case notFound = "not_found"
    /// An API call on another customer's data.
    case forbidden
    // Injected faults
    case faultServerError = "fault_server_error"
    case faultTooManyRequests = "fault_too_many_requests"
    case faultHang = "fault_hang"
    case faultInvalidGrant = "fault_invalid_grant"
    case faultInvalidClient = "fault_invalid_client"
    case faultUnauthorizedClient = "fault_unauthorized_client"
    case faultNonJSON = "fault_non_json"
}

/// Request counts per endpoint and outcome since the emulator started or the stats were reset.
public struct EmulatorStats: Sendable, Equatable {
    /// Counts, only for pairs seen at least once.
    public var counts: [EmulatorEndpoint: [RequestOutcome: Int]]

    /// Requests to `endpoint` that ended with `outcome`.
    public func count(_ endpoint: EmulatorEndpoint, _ outcome: RequestOutcome) -> Int {
        counts[endpoint]?[outcome] ?? 0
    }

    /// All requests to `endpoint`.
    public func total(_ endpoint: EmulatorEndpoint) -> Int {
        counts[endpoint]?.values.reduce(0, +) ?? 0
    }

    /// JSON: `{"endpoints":{"token":{"total":3,"success":2,"invalid_grant":1},…}}`; every endpoint appears.
    var json: String {
        var endpoints: [String] = []
        for endpoint in EmulatorEndpoint.allCases {
            var members = [JSONText.string("total") + ":" + String(total(endpoint))]
            for outcome in RequestOutcome.allCases {
                let value = count(endpoint, outcome)
                if value > 0 { members.append(JSONText.string(outcome.rawValue) + ":" + String(value)) }
            }
            endpoints.append(JSONText.string(endpoint.rawValue) + ":{" + members.joined(separator: ",") + "}")
        }
        return "{\"endpoints\":{" + endpoints.joined(separator: ",") + "}}"
    }
}

/// Thread-safe counters behind ``EmulatorStats``: one flat array, one short lock per request.
final class RequestCounters: Sendable {
    private static let outcomeCount = RequestOutcome.allCases.count
    private static let outcomeIndex: [RequestOutcome: Int] = Dictionary(
        uniqueKeysWithValues: RequestOutcome.allCases.enumerated().map { ($1, $0) })
    private static let endpointIndex: [EmulatorEndpoint: Int] = Dictionary(
        uniqueKeysWithValues: EmulatorEndpoint.allCases.enumerated().map { ($1, $0) })

    private let counts = Mutex([Int](repeating: 0, count: EmulatorEndpoint.allCases.count * RequestOutcome.allCases.count))

    func record(_ endpoint: EmulatorEndpoint, _ outcome: RequestOutcome) {
        let index = Self.endpointIndex[endpoint]! * Self.outcomeCount + Self.outcomeIndex[outcome]!
        counts.withLock { $0[index] += 1 }
    }

    func snapshot() -> EmulatorStats {
        let values = counts.withLock { $0 }
        var result: [EmulatorEndpoint: [RequestOutcome: Int]] = [:]
        for (endpointOffset, endpoint) in EmulatorEndpoint.allCases.enumerated() {
            for (outcomeOffset, outcome) in RequestOutcome.allCases.enumerated() {
                let value = values[endpointOffset * Self.outcomeCount + outcomeOffset]
                if value > 0 { result[endpoint, default: [:]][outcome] = value }
            }
        }
        return EmulatorStats(counts: result)
    }

    func reset() {
        counts.withLock { values in
            for index in values.indices { values[index] = 0 }
        }
    }
}
