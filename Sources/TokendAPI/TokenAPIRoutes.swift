import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
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
struct TokenAPIRoutes: Sendable {
    let service: TokenAPIService

    func register(on router: Router<BasicRequestContext>) {
        router.get("/v1/status") { request, _ in
            let query = request.uri.queryParameters
            let filter = ReportFilter(
                organisation: query.get("organisation"), library: query.get("library"), user: query.get("user"))
            return Self.json(try service.statusReport(filter: filter))
        }
        for kind in GrantKind.allCases {
            let segment = kind == .library ? "libraries" : "users"
            router.get("/v1/organisations/{org}/\(segment)/{subject}/token") { _, context in
                let (organisation, subject) = try Self.names(context)
                switch try service.token(organisation: organisation, kind: kind, subject: subject) {
                case .valid(let answer): return Self.json(answer, noStore: true)
                case .notValid(let answer): return Self.json(answer, status: .serviceUnavailable)
                case .notFound(let reason): return Self.json(ErrorAnswer(error: "not_found", reason: reason), status: .notFound)
                }
            }
            router.delete("/v1/organisations/{org}/\(segment)/{subject}") { _, context in
                let (organisation, subject) = try Self.names(context)
                guard let answer = try await service.revoke(organisation: organisation, kind: kind, subject: subject) else {
                    return Self.json(ErrorAnswer(error: "not_found", reason: "no grant for \(kind.rawValue) \(subject) of organisation \(organisation)"), status: .notFound)
                }
                return Self.json(answer)
            }
            router.post("/v1/organisations/{org}/\(segment)/{subject}/schedule") { _, context in
                let (organisation, subject) = try Self.names(context)
                guard let answer = try service.schedule(organisation: organisation, kind: kind, subject: subject) else {
                    return Self.json(ErrorAnswer(error: "not_found", reason: "no grant for \(kind.rawValue) \(subject) of organisation \(organisation)"), status: .notFound)
                }
                return Self.json(answer)
            }
        }
        router.post("/v1/refresh") { request, context in
            try await refresh(request, context: context)
        }
    }

    /// `POST /v1/refresh`: a JSON body `{"organisation", "library" | "user", "wait"}` or
    /// `{"grants": [{"organisation", "library" | "user"}, …], "wait"}`, or the same as query parameters.
    func refresh(_ request: Request, context: BasicRequestContext) async throws -> Response {
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
        var grants = body.grants ?? []
        if let organisation = body.organisation {
            grants.append(.init(organisation: organisation, library: body.library, user: body.user))
        }
        guard !grants.isEmpty else { return Self.badRequest("name a grant: organisation with library or user") }
        var named: [(organisation: String, kind: GrantKind, subject: String)] = []
        for grant in grants {
            switch (grant.library, grant.user) {
            case let (library?, nil): named.append((grant.organisation, .library, library))
            case let (nil, user?): named.append((grant.organisation, .user, user))
            default: return Self.badRequest("each grant needs organisation and exactly one of library or user")
            }
        }
        guard named.count <= 1000 else { return Self.badRequest("at most 1000 grants per request") }
        let results = try await service.refresh(named, wait: body.wait ?? 0)
        let allMissing = results.allSatisfy { $0.outcome == "not_found" }
        return Self.json(RefreshAnswer(results: results), status: allMissing ? .notFound : .ok)
    }

    static func names(_ context: BasicRequestContext) throws -> (String, String) {
        guard let organisation = context.parameters.get("org")?.removingPercentEncoding,
              let subject = context.parameters.get("subject")?.removingPercentEncoding,
              !organisation.isEmpty, !subject.isEmpty
        else { throw HTTPError(.badRequest, message: "organisation and library or user are needed") }
        return (organisation, subject)
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
