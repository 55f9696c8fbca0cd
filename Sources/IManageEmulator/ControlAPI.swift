import Foundation
import HTTPTypes
import Hummingbird

/// The HTTP control API under `/_emulator/`, for tests, the benchmark and the fault matrix.
/// JSON in and out; errors are `{"error":"code","message":"…"}` with 400 or 404.
/// `GET /_emulator/` lists the operations.
struct ControlAPI: Sendable {
    let core: EmulatorCore

    func register(on router: Router<EmulatorRequestContext>) {
        let group = router.group("/_emulator")
        group.get("/") { _, _ in HTTPAnswers.text(Self.index) }

        group.get("/faults") { _, _ in faultList() }
        group.post("/faults") { request, _ in await addFault(request) }
        group.delete("/faults") { _, _ in
            core.clearFaults()
            return faultList()
        }
        group.delete("/faults/{id}") { _, context in
            guard let id = context.parameters.get("id", as: Int.self), core.removeFault(id: id) else {
                return HTTPAnswers.controlError("unknown_fault", "no fault with that id", status: .notFound)
            }
            return faultList()
        }

        group.post("/users/{user}/revoke") { _, context in
            userAction(context) { user throws(EmulatorError) in try core.revokeUser(user) }
        }
        group.post("/users/{user}/restore") { _, context in
            userAction(context) { user throws(EmulatorError) in try core.restoreUser(user) }
        }

        group.put("/libraries/{library}/nrtadmin/{user}") { _, context in nrtAdmin(true, context) }
        group.delete("/libraries/{library}/nrtadmin/{user}") { _, context in nrtAdmin(false, context) }

        group.get("/settings") { _, _ in settingsAnswer(core.settings()) }
        group.patch("/settings") { request, _ in await changeSettings(request) }
        group.post("/settings") { request, _ in await changeSettings(request) }

        group.post("/grants") { request, _ in await mintGrants(request) }
        group.get("/grants") { _, _ in HTTPAnswers.json(core.grantSummary().json) }
        group.post("/inspect") { request, _ in await inspect(request) }
        group.post("/revoke") { request, _ in await revokeGrant(request) }

        group.get("/secrets") { _, _ in issuedSecrets() }

        group.get("/stats") { _, _ in HTTPAnswers.json(core.counters.snapshot().json) }
        group.delete("/stats") { _, _ in resetStats() }
        group.post("/stats/reset") { _, _ in resetStats() }

        group.post("/clock") { request, _ in await advanceClock(request) }
    }

    // MARK: Faults

    private struct FaultBody: Decodable {
        var endpoint: String
        var kind: String
        var status: Int?
        var retryAfter: Int?
        var seconds: Double?
        var then: String?
        var count: Int?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case endpoint, kind, status, seconds, then, count
            case retryAfter = "retry_after"
        }

        func fault() throws(EmulatorError) -> Fault {
            guard let target = Fault.Target(rawValue: endpoint) else {
                throw .invalidArgument("endpoint must be one of \(Fault.Target.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let kind: Fault.Kind
            switch self.kind {
            case "server_error": kind = .serverError(status: status ?? 503)
            case "too_many_requests":
                guard let retryAfter else { throw .invalidArgument("too_many_requests needs retry_after") }
                kind = .tooManyRequests(retryAfterSeconds: retryAfter)
            case "hang":
                guard let seconds else { throw .invalidArgument("hang needs seconds") }
                guard let ending = Fault.HangEnding(rawValue: then ?? "gateway_timeout") else {
                    throw .invalidArgument("then must be gateway_timeout or drop")
                }
                kind = .hang(seconds: seconds, then: ending)
            case "invalid_grant": kind = .invalidGrant
            case "invalid_client": kind = .invalidClient
            case "unauthorized_client": kind = .unauthorizedClient
            case "non_json": kind = .nonJSON
            default:
                throw .invalidArgument(
                    "kind must be server_error, too_many_requests, hang, invalid_grant, invalid_client, unauthorized_client or non_json")
            }
            let fault = Fault(kind, on: target, count: count)
            if let problem = fault.problem { throw .invalidArgument(problem) }
            return fault
        }
    }

    private func addFault(_ request: Request) async -> Response {
        do throws(EmulatorError) {
            let body = try await ControlBody.decode(FaultBody.self, from: request, keys: FaultBody.CodingKeys.allCases)
            let id = core.faults.add(try body.fault())
            return HTTPAnswers.json("{\"id\":\(id)}", status: .created)
        } catch {
            return HTTPAnswers.controlError(error)
        }
    }

    private func faultList() -> Response {
        let entries = core.faults.list().map { entry in
            var members = ["\"id\":\(entry.id)", "\"endpoint\":" + JSONText.string(entry.fault.target.rawValue)]
            switch entry.fault.kind {
            case .serverError(let status): members += ["\"kind\":\"server_error\"", "\"status\":\(status)"]
            case .tooManyRequests(let seconds): members += ["\"kind\":\"too_many_requests\"", "\"retry_after\":\(seconds)"]
            case .hang(let seconds, let ending):
                members += ["\"kind\":\"hang\"", "\"seconds\":\(seconds)", "\"then\":" + JSONText.string(ending.rawValue)]
            case .invalidGrant: members.append("\"kind\":\"invalid_grant\"")
            case .invalidClient: members.append("\"kind\":\"invalid_client\"")
            case .unauthorizedClient: members.append("\"kind\":\"unauthorized_client\"")
            case .nonJSON: members.append("\"kind\":\"non_json\"")
            }
            if let remaining = entry.remaining { members.append("\"remaining\":\(remaining)") }
            return "{" + members.joined(separator: ",") + "}"
        }
        return HTTPAnswers.json("{\"faults\":" + JSONText.array(entries) + "}")
    }

    // MARK: Users and libraries

    private func userAction(
        _ context: EmulatorRequestContext, _ action: (String) throws(EmulatorError) -> Void
    ) -> Response {
        let user = context.parameters.get("user") ?? ""
        do {
            try action(user)
        } catch {
            return HTTPAnswers.controlError(error)
        }
        let enabled = core.state.withLock { state in
            state.directory.userID(named: user).map { state.directory.isEnabled($0) } ?? false
        }
        return HTTPAnswers.json(JSONText.object([
            "user": JSONText.string(user.uppercased()), "enabled": JSONText.bool(enabled),
        ]))
    }

    private func nrtAdmin(_ member: Bool, _ context: EmulatorRequestContext) -> Response {
        let library = context.parameters.get("library") ?? ""
        let user = context.parameters.get("user") ?? ""
        do throws(EmulatorError) {
            let members = try core.setNRTAdmin(member, user: user, library: library)
            return HTTPAnswers.json(JSONText.object([
                "library": JSONText.string(library.uppercased()),
                "nrtadmin": JSONText.array(members.map(JSONText.string)),
            ]))
        } catch {
            return HTTPAnswers.controlError(error)
        }
    }

    // MARK: Settings and clock

    private func changeSettings(_ request: Request) async -> Response {
        do throws(EmulatorError) {
            let change = try await ControlBody.decode(
                EmulatorSettingsChange.self, from: request, keys: EmulatorSettings.CodingKeys.allCases)
            return settingsAnswer(try core.updateSettings { $0 = change.applied(to: $0) })
        } catch {
            return HTTPAnswers.controlError(error)
        }
    }

    private func settingsAnswer(_ settings: EmulatorSettings) -> Response {
        let data = (try? JSONEncoder.sorted.encode(settings)) ?? Data("{}".utf8)
        return HTTPAnswers.json(String(decoding: data, as: UTF8.self))
    }

    private struct ClockBody: Decodable {
        var advanceSeconds: Double
        enum CodingKeys: String, CodingKey, CaseIterable { case advanceSeconds = "advance_seconds" }
    }

    private func advanceClock(_ request: Request) async -> Response {
        do throws(EmulatorError) {
            let body = try await ControlBody.decode(ClockBody.self, from: request, keys: ClockBody.CodingKeys.allCases)
            let offset = try core.advanceClock(by: body.advanceSeconds)
            return HTTPAnswers.json("{\"offset_seconds\":\(offset)}")
        } catch {
            return HTTPAnswers.controlError(error)
        }
    }

    // MARK: Grants

    private struct MintBody: Decodable {
        var user: String
        var clientID: String
        var count: Int
        var format: String?
        enum CodingKeys: String, CodingKey, CaseIterable {
            case user, count, format
            case clientID = "client_id"
        }
    }

    /// Answers the refresh tokens as a JSON array, or one per line when `Accept: text/plain`
    /// or `"format":"text"` (cheaper to read for a million).
    private func mintGrants(_ request: Request) async -> Response {
        do throws(EmulatorError) {
            let body = try await ControlBody.decode(MintBody.self, from: request, keys: MintBody.CodingKeys.allCases)
            let asText: Bool
            switch body.format {
            case nil: asText = request.headers[.accept]?.lowercased().hasPrefix("text/plain") ?? false
            case "text": asText = true
            case "json": asText = false
            default: throw EmulatorError.invalidArgument("format must be json or text")
            }
            let keys = try core.mintGrantKeys(user: body.user, clientID: body.clientID, count: body.count)
            var buffer = ByteBuffer()
            buffer.reserveCapacity(keys.count * (TokenKey.textLength + 3) + 2)
            if asText {
                for key in keys {
                    buffer.writeString(key.text)
                    buffer.writeString("\n")
                }
            } else {
                buffer.writeString("[")
                for (index, key) in keys.enumerated() {
                    buffer.writeString(index == 0 ? "\"" : ",\"")
                    buffer.writeString(key.text)
                    buffer.writeString("\"")
                }
                buffer.writeString("]")
            }
            let contentType = asText ? "text/plain; charset=utf-8" : "application/json; charset=utf-8"
            return Response(status: .ok, headers: [.contentType: contentType], body: ResponseBody(byteBuffer: buffer))
        } catch {
            return HTTPAnswers.controlError(error)
        }
    }

    private struct RefreshTokenBody: Decodable {
        var refreshToken: String
        enum CodingKeys: String, CodingKey, CaseIterable { case refreshToken = "refresh_token" }
    }

    private func inspect(_ request: Request) async -> Response {
        do throws(EmulatorError) {
            let body = try await ControlBody.decode(
                RefreshTokenBody.self, from: request, keys: RefreshTokenBody.CodingKeys.allCases)
            let inspection = core.inspect(refreshToken: body.refreshToken)
            return HTTPAnswers.json(JSONText.object([
                "state": JSONText.string(inspection.state.rawValue),
                "user": inspection.user.map(JSONText.string) ?? "null",
                "client_id": inspection.clientID.map(JSONText.string) ?? "null",
            ]))
        } catch {
            return HTTPAnswers.controlError(error)
        }
    }

    private func revokeGrant(_ request: Request) async -> Response {
        do throws(EmulatorError) {
            let body = try await ControlBody.decode(
                RefreshTokenBody.self, from: request, keys: RefreshTokenBody.CodingKeys.allCases)
            guard core.revokeGrant(refreshToken: body.refreshToken) else {
                return HTTPAnswers.controlError("unknown_token", "no grant has that refresh token", status: .notFound)
            }
            return HTTPAnswers.json("{\"revoked\":true}")
        } catch {
            return HTTPAnswers.controlError(error)
        }
    }

    private func issuedSecrets() -> Response {
        guard let issued = core.state.withLock({ $0.issued }) else {
            return HTTPAnswers.controlError(
                "not_recording", "secrets are recorded only when the emulator starts with --record-secrets", status: .notFound)
        }
        return HTTPAnswers.json(issued.json, noStore: true)
    }

    private func resetStats() -> Response {
        core.counters.reset()
        return HTTPAnswers.json(core.counters.snapshot().json)
    }

    static let index = """
        iManage Work emulator control API (JSON bodies and answers)

        GET    /_emulator/stats                      request counts per endpoint and outcome
        DELETE /_emulator/stats                      reset the counts (also POST /_emulator/stats/reset)
        GET    /_emulator/faults                     installed faults
        POST   /_emulator/faults                     {"endpoint":"token|authorize|api|libraries|members|all",
                                                      "kind":"server_error","status":503,"count":2}
                                                     kinds: server_error (status), too_many_requests (retry_after),
                                                     hang (seconds, then: gateway_timeout|drop), invalid_grant,
                                                     invalid_client, unauthorized_client, non_json
        DELETE /_emulator/faults                     remove all faults (held requests are let go)
        DELETE /_emulator/faults/{id}                remove one fault
        POST   /_emulator/users/{id}/revoke          revoke all grants of a user and refuse their sign-in
        POST   /_emulator/users/{id}/restore         allow sign-in again
        PUT    /_emulator/libraries/{lib}/nrtadmin/{user}   add to the NRTADMIN group
        DELETE /_emulator/libraries/{lib}/nrtadmin/{user}   remove from it
        GET    /_emulator/settings                   token policy
        PATCH  /_emulator/settings                   {"rotation":true,"grace_seconds":30,"access_token_lifetime":60,
                                                      "expires_in":false,"refresh_token_lifetime":86400,
                                                      "refresh_token_lifetime_restarts":false,"require_pkce":false}
        POST   /_emulator/grants                     {"user":"ALICE","client_id":"tokend-demo","count":1000}
                                                     -> JSON array of refresh tokens (text with Accept: text/plain)
        GET    /_emulator/grants                     {"grants":…,"active":…,"revoked":…,"expired":…,"reuse_revocations":…,
                                                      "reuse_by_second_refresher":…,"reuse_after_lost_answer":…,
                                                      "overlapping_refreshes":…}
        POST   /_emulator/inspect                    {"refresh_token":"…"} -> {"state":"active|rotated|revoked|expired|unknown",…}
        POST   /_emulator/revoke                     {"refresh_token":"…"} revoke that grant
        POST   /_emulator/clock                      {"advance_seconds":3600} move the emulator's clock forward
        GET    /_emulator/secrets                    every access and refresh token issued, authorization code handed
                                                     out and PKCE verifier received (only with --record-secrets)

        """
}

/// Reads a control API JSON body strictly: an object, only known keys, right types.
enum ControlBody {
    static let maximumSize = 64 * 1024

    static func decode<Body: Decodable, Key: CodingKey>(
        _ type: Body.Type, from request: Request, keys: [Key]
    ) async throws(EmulatorError) -> Body {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: maximumSize)
        } catch {
            throw .invalidArgument("the body is too large or could not be read")
        }
        let data = buffer.readableBytes == 0 ? Data("{}".utf8) : Data(buffer.readableBytesView)
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw .invalidArgument("the body must be a JSON object")
        }
        let known = Set(keys.map(\.stringValue))
        if let unknown = object.keys.sorted().first(where: { !known.contains($0) }) {
            throw .invalidArgument("unknown field \(unknown); known fields: \(known.sorted().joined(separator: ", "))")
        }
        do {
            return try JSONDecoder().decode(Body.self, from: data)
        } catch DecodingError.keyNotFound(let key, _) {
            throw .invalidArgument("field \(key.stringValue) is missing")
        } catch DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context) {
            throw .invalidArgument("field \(context.codingPath.map(\.stringValue).joined(separator: ".")) has the wrong type")
        } catch {
            throw .invalidArgument("the body could not be read")
        }
    }
}

extension JSONEncoder {
    /// An encoder with sorted keys, for stable control API answers.
    static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }
}
