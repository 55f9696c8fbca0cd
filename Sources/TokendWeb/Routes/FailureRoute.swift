import Hummingbird

/// `GET /oauth/failed`: the page of a callback that went wrong, at an address without the code
/// and state. What it shows comes sealed in a short-lived cookie (``FailureNote``); without one
/// it says there is nothing to show.
struct FailureRoute: Sendable {
    let environment: WebEnvironment

    func register(on router: Router<BasicRequestContext>) {
        router.get(RouterPath(FailureNote.path)) { request, _ in
            guard let note = environment.failureNote(request) else {
                return PageRenderer.failure(.noFailureToShow, organisation: nil)
            }
            return PageRenderer.failure(note.failure, organisation: note.organisation)
        }
    }
}
