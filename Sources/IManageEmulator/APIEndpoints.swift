import Hummingbird

/// The iManage Work REST API subset the daemon uses: discovery, libraries, NRTADMIN
/// members. Every call needs a current access token in `X-Auth-Token`.
struct APIEndpoints: Sendable {
    let core: EmulatorCore

    func register(on router: Router<EmulatorRequestContext>) {
        router.get("/api") { request, context in
            try await discovery(request, context: context)
        }
        router.get("/work/api/v2/customers/{customer}/libraries") { request, context in
            try await libraries(request, context: context)
        }
        router.get("/work/api/v2/customers/{customer}/libraries/{library}/groups/{group}/members") { request, context in
            try await groupMembers(request, context: context)
        }
    }

    /// `GET /api`: who the token belongs to, and the customer id.
    func discovery(_ request: Request, context: EmulatorRequestContext) async throws -> Response {
        try await authenticated(.api, request, context) { person, state in
            let user = JSONText.object([
                "id": JSONText.string(person.user.id),
                "email": JSONText.string(person.user.email),
                "name": JSONText.string(person.user.name),
                "customer_id": JSONText.string(person.customerID),
            ])
            let version = JSONText.object([
                "name": JSONText.string("work"), "version": JSONText.string("2"),
                "url": JSONText.string("/work/api/v2"),
            ])
            return .success("{\"data\":{\"user\":" + user + ",\"versions\":[" + version + "]}}")
        }
    }

    /// `GET /work/api/v2/customers/{cid}/libraries`
    func libraries(_ request: Request, context: EmulatorRequestContext) async throws -> Response {
        let customer = context.parameters.get("customer") ?? ""
        return try await authenticated(.libraries, request, context) { person, state in
            if let refusal = Self.customerRefusal(customer, person: person, directory: state.directory) { return .failure(refusal) }
            let entries = state.directory.libraries(of: customer).map { entry in
                JSONText.object([
                    "id": JSONText.string(entry.library.id),
                    "type": JSONText.string(entry.library.type),
                    "is_hidden": JSONText.bool(entry.library.isHidden),
                ])
            }
            return .success("{\"data\":" + JSONText.array(entries) + "}")
        }
    }

    /// `GET /work/api/v2/customers/{cid}/libraries/{lib}/groups/NRTADMIN/members`
    func groupMembers(_ request: Request, context: EmulatorRequestContext) async throws -> Response {
        let customer = context.parameters.get("customer") ?? ""
        let libraryID = context.parameters.get("library") ?? ""
        let group = context.parameters.get("group") ?? ""
        return try await authenticated(.members, request, context) { person, state in
            if let refusal = Self.customerRefusal(customer, person: person, directory: state.directory) { return .failure(refusal) }
            guard let library = state.directory.library(libraryID, customer: customer) else {
                return .failure(.notFound("LIBRARY_NOT_FOUND", "No such library."))
            }
            guard group.uppercased() == "NRTADMIN" else {
                return .failure(.notFound("GROUP_NOT_FOUND", "No such group."))
            }
            let members = library.nrtAdmins.compactMap { state.directory.person($0) }.map { person in
                JSONText.object([
                    "id": JSONText.string(person.user.id),
                    "email": JSONText.string(person.user.email),
                    "full_name": JSONText.string(person.user.name),
                ])
            }
            return .success("{\"data\":" + JSONText.array(members) + "}")
        }
    }

    /// Why a person may not read the paths of `customer`: it does not exist (404), or it is not
    /// theirs (403, as iManage refuses a token of one customer on another's data).
    static func customerRefusal(_ customer: String, person: Directory.Person, directory: Directory) -> APIFailure? {
        guard directory.hasCustomer(customer) else { return .notFound("CUSTOMER_NOT_FOUND", "No such customer.") }
        guard customer == person.customerID else { return .forbidden("ACCESS_DENIED", "The user has no access to this customer.") }
        return nil
    }

    /// An API error other than authentication.
    enum APIFailure: Error {
        case notFound(String, String)
        case forbidden(String, String)
    }

    /// Applies faults, checks the access token, then answers with what `body` builds.
    private func authenticated(
        _ endpoint: EmulatorEndpoint, _ request: Request, _ context: EmulatorRequestContext,
        body: (Directory.Person, EmulatorState) -> Result<String, APIFailure>
    ) async throws -> Response {
        if let fault = try await core.injectedFault(for: endpoint, context: context) { return fault }
        let token = request.headers[HTTPAnswers.authTokenHeader]
        let result: Result<String, APIAnswerError> = core.state.withLock { state in
            switch state.authenticateAccess(token) {
            case .failure(let refusal):
                return .failure(.refused(refusal))
            case .success(let person):
                return body(person, state).mapError { .failed($0) }
            }
        }
        switch result {
        case .success(let json):
            core.counters.record(endpoint, .success)
            return HTTPAnswers.json(json)
        case .failure(.refused(let refusal)):
            core.counters.record(endpoint, .unauthorized)
            return HTTPAnswers.apiError(status: .unauthorized, code: refusal.code, message: refusal.message)
        case .failure(.failed(.notFound(let code, let message))):
            core.counters.record(endpoint, .notFound)
            return HTTPAnswers.apiError(status: .notFound, code: code, message: message)
        case .failure(.failed(.forbidden(let code, let message))):
            core.counters.record(endpoint, .forbidden)
            return HTTPAnswers.apiError(status: .forbidden, code: code, message: message)
        }
    }

    private enum APIAnswerError: Error {
        case refused(AccessRefusal)
        case failed(APIFailure)
    }
}
