import Hummingbird

/// `GET /organisations/{org}/authorise`: a person's own authorisation starts here and goes to iManage.
struct AuthorizeRoutes: Sendable {
    let environment: WebEnvironment

    func register(on router: Router<BasicRequestContext>) {
        router.get("/organisations/:org/authorise") { request, context in
            let name = context.parameters.get("org") ?? ""
            return await environment.respond(organisation: name) { () async throws(WebFailure) -> Response in
                let organisation = try environment.organisation(name)
                return try environment.startAuthorization(.user, organisation: organisation)
            }
        }
    }
}
