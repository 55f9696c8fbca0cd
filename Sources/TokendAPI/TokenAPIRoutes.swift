import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import TokendConfig
import TokendPolicy
import TokendReports

/// The routes of the local token API (PRODUCT.md), plus two the CLI needs:
///
/// - `GET /v1/status` (`?organisation=&library=&user=`): the status report, as `status --json`.
/// - `GET /v1/organisations/{org}/libraries/{library}/token`,
///   `GET /v1/organisations/{org}/users/{user}/token`: `200` a valid access token; `503` the
///   status and why there is none; `404` no such grant.
/// - `POST /v1/refresh`: refresh now (minimum interval respected, backoff reset).
/// - `DELETE /v1/organisations/{org}/libraries/{library}`, `…/users/{user}`: revoke.
/// - `POST /v1/organisations/{org}/libraries/{library}/schedule`, `…/users/{user}/schedule`:
///   schedule a grant that `import` stored.
///
/// Every route first asks `access` whether the peer may (`403 {"error": "forbidden", "reason"}` if not).
struct TokenAPIRoutes: Sendable {
    let service: TokenAPIService
    let access: APIAccessGate

    func register(on router: Router<TokenAPIRequestContext>) {
        router.get("/v1/status") { request, context in
            let query = request.uri.queryParameters
            let filter = ReportFilter(
                organisation: query.get("organisation"), library: query.get("library"), user: query.get("user"))
            let decision = await access.decide(.status(organisation: filter.organisation), context: context)
            guard case .allowed(let visible) = decision else { return Self.forbidden(decision) }
            return Self.json(try await service.statusReport(filter: filter, visible: visible))
        }
        for kind in GrantKind.allCases {
            let segment = kind == .library ? "libraries" : "users"
            router.get("/v1/organisations/{org}/\(segment)/{subject}/token") { _, context in try await Self.namingOneUser {
                let (organisation, subject) = try Self.names(context)
                if let refusal = await refusal(.token(organisation: organisation), context) { return refusal }
                switch try await service.token(organisation: organisation, kind: kind, subject: subject) {
                case .valid(let answer): return Self.json(answer, noStore: true)
                case .notValid(let answer): return Self.json(answer, status: .serviceUnavailable)
                case .notFound(let reason): return Self.json(ErrorAnswer(error: "not_found", reason: reason), status: .notFound)
                }
            } }
            router.delete("/v1/organisations/{org}/\(segment)/{subject}") { _, context in try await Self.namingOneUser {
                let (organisation, subject) = try Self.names(context)
                if let refusal = await refusal(.revoke(organisation: organisation), context) { return refusal }
                guard let answer = try await service.revoke(organisation: organisation, kind: kind, subject: subject) else {
                    return Self.json(ErrorAnswer(error: "not_found", reason: "no grant for \(kind.rawValue) \(subject) of organisation \(organisation)"), status: .notFound)
                }
                return Self.json(answer)
            } }
            router.post("/v1/organisations/{org}/\(segment)/{subject}/schedule") { _, context in try await Self.namingOneUser {
                let (organisation, subject) = try Self.names(context)
                if let refusal = await refusal(.schedule(organisation: organisation), context) { return refusal }
                guard let answer = try await service.schedule(organisation: organisation, kind: kind, subject: subject) else {
                    return Self.json(ErrorAnswer(error: "not_found", reason: "no grant for \(kind.rawValue) \(subject) of organisation \(organisation)"), status: .notFound)
                }
                return Self.json(answer)
            } }
        }
        router.post("/v1/refresh") { request, context in
            try await Self.namingOneUser { try await refresh(request, context: context) }
        }
        router.post("/v1/schedule") { request, context in
            try await Self.namingOneUser { try await scheduleMany(request, context: context) }
        }
    }

    /// `POST /v1/refresh`: a JSON body `{"organisation", "library" | "user", "wait"}` or
    /// `{"grants": [{"organisation", "library" | "user"}, …], "wait"}`, or the same as query parameters.
    func refresh(_ request: Request, context: TokenAPIRequestContext) async throws -> Response {
        // Whether the peer may refresh anything, before reading the body; which organisations, after.
        if let refusal = await refusal(.refresh(organisations: []), context) { return refusal }
        var request = request
        let data = try await request.collectBody(upTo: 64 * 1024)
        var body = RefreshRequestBody()
        if data.readableBytes > 0 {
            do {
                body = try JSONDecoder().decode(RefreshRequestBody.self, from: Data(data.readableBytesView))
            } catch {
                return Self.badRequest("the body is not JSON of the form {\"organisation\": …, \"library\" or \"user\": …}")
            }
        }
        let query = request.uri.queryParameters
        body.organisation = body.organisation ?? query.get("organisation")
        body.library = body.library ?? query.get("library")
        body.user = body.user ?? query.get("user")
        body.wait = body.wait ?? query.get("wait").flatMap(Double.init)
        let named: [(organisation: String, kind: GrantKind, subject: String)]
        switch Self.namedGrants(body) {
        case .success(let found): named = found
        case .failure(let refusal): return refusal.response
        }
        if let refusal = await refusal(.refresh(organisations: named.map(\.organisation)), context) { return refusal }
        let results = try await service.refresh(named, wait: body.wait ?? 0)
        let allMissing = results.allSatisfy { $0.outcome == "not_found" }
        return Self.json(RefreshAnswer(results: results), status: allMissing ? .notFound : .ok)
    }

    /// `POST /v1/schedule` with `{"grants": [{"organisation", "library" | "user"}, …]}`: schedules
    /// grants another process stored (bulk `import --from` tells the daemon once, not per grant).
    func scheduleMany(_ request: Request, context: TokenAPIRequestContext) async throws -> Response {
        var request = request
        let data = try await request.collectBody(upTo: 1024 * 1024)
        let body: RefreshRequestBody
        do {
            body = try JSONDecoder().decode(RefreshRequestBody.self, from: Data(data.readableBytesView))
        } catch {
            return Self.badRequest("the body is not JSON of the form {\"grants\": [{\"organisation\": …, \"library\" or \"user\": …}]}")
        }
        let named: [(organisation: String, kind: GrantKind, subject: String)]
        switch Self.namedGrants(body, limit: 10_000) {
        case .success(let found): named = found
        case .failure(let refusal): return refusal.response
        }
        for organisation in Set(named.map(\.organisation)).sorted() {
            if let refusal = await refusal(.schedule(organisation: organisation), context) { return refusal }
        }
        var scheduled: [GrantChangeAnswer] = []
        var missing: [String] = []
        for grant in named {
            if let answer = try await service.schedule(organisation: grant.organisation, kind: grant.kind, subject: grant.subject) {
                scheduled.append(answer)
            } else {
                missing.append("\(grant.kind.rawValue) \(grant.subject) of \(grant.organisation)")
            }
        }
        return Self.json(ScheduleManyAnswer(scheduled: scheduled, notFound: missing))
    }

    /// A refusal that is already an answer.
    struct BadRequest: Error {
        let response: Response
    }

    /// The grants a refresh or schedule body names (one, or a `grants` list), or a `400`.
    static func namedGrants(
        _ body: RefreshRequestBody, limit: Int = 1000
    ) -> Result<[(organisation: String, kind: GrantKind, subject: String)], BadRequest> {
        var grants = body.grants ?? []
        if let organisation = body.organisation {
            grants.append(.init(organisation: organisation, library: body.library, user: body.user))
        }
        guard !grants.isEmpty else { return .failure(BadRequest(response: badRequest("name a grant: organisation with library or user"))) }
        var named: [(organisation: String, kind: GrantKind, subject: String)] = []
        for grant in grants {
            switch (grant.library, grant.user) {
            case let (library?, nil): named.append((grant.organisation, .library, library))
            case let (nil, user?): named.append((grant.organisation, .user, user))
            default: return .failure(BadRequest(response: badRequest("each grant needs organisation and exactly one of library or user")))
            }
        }
        guard named.count <= limit else { return .failure(BadRequest(response: badRequest("at most \(limit) grants per request"))) }
        return .success(named)
    }

    /// The `403` answer when the peer may not ask `route`, or `nil` when it may.
    func refusal(_ route: APIRoute, _ context: TokenAPIRequestContext) async -> Response? {
        let decision = await access.decide(route, context: context)
        if case .allowed = decision { return nil }
        return Self.forbidden(decision)
    }

    static func forbidden(_ decision: APIAccessDecision) -> Response {
        guard case .forbidden(let reason) = decision else { return json(ErrorAnswer(error: "forbidden", reason: "not allowed"), status: .forbidden) }
        return json(ErrorAnswer(error: "forbidden", reason: reason), status: .forbidden)
    }

    static func names(_ context: TokenAPIRequestContext) throws -> (String, String) {
        guard let organisation = context.parameters.get("org")?.removingPercentEncoding,
              let subject = context.parameters.get("subject")?.removingPercentEncoding,
              !organisation.isEmpty, !subject.isEmpty
        else { throw HTTPError(.badRequest, message: "organisation and library or user are needed") }
        return (organisation, subject)
    }

    /// Runs a route; an email that names several users is `400` with the ids to use instead.
    static func namingOneUser(_ body: () async throws -> Response) async throws -> Response {
        do {
            return try await body()
        } catch let ambiguous as AmbiguousUser {
            return badRequest(ambiguous.description)
        }
    }

    static func badRequest(_ reason: String) -> Response {
        json(ErrorAnswer(error: "bad_request", reason: reason), status: .badRequest)
    }

    /// A JSON answer; `noStore` for answers that carry a token.
    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok, noStore: Bool = false) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]
        if noStore { headers[.cacheControl] = "no-store" }
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}
