import Foundation
import Hummingbird
import IManageClient
import Logging
import TokendConfig
import TokendPolicy
import TokendStore
import TokendWebInput

/// `GET /oauth/callback`: iManage sends the browser back here with a code (or an error) and the
/// `state`. The state is taken (it works once), the code exchanged, the person identified, and
/// then, by what the authorisation was for, a user grant stored, a Tracker session opened, or a
/// library grant stored after the NRTADMIN check. Every answer is a redirect to a URL without the
/// code: the page of the result, or `/oauth/failed` saying what went wrong.
struct CallbackRoute: Sendable {
    let environment: WebEnvironment

    func register(on router: Router<BasicRequestContext>) {
        router.get("/oauth/callback") { request, _ in
            await callback(request)
        }
    }

    func callback(_ request: Request) async -> Response {
        let query: CallbackQuery
        let issuer: String?
        do throws(FormError) {
            let read = try CallbackQuery.readWithIssuer(request.uri.query ?? "")
            (query, issuer) = (read.decision, read.issuer)
        } catch {
            return environment.failureRedirect(WebFailure.badRequest(error.message), organisation: nil)
        }
        guard let state = query.state else {
            return await environment.respondAfterCallback(organisation: nil) { () async throws(WebFailure) -> Response in
                throw WebFailure.badRequest("The link back from iManage has no state: it did not come from a sign-in started here.")
            }
        }
        // The sign-in's cookie is cleared by whatever the callback answers.
        let flowCookie = AuthorizationStates.cookieName(for: state)
        var response: Response
        switch environment.states.take(state: state, cookie: request.cookies[flowCookie]?.value, now: environment.now()) {
        case .success(let pending):
            response = await environment.respondAfterCallback(organisation: pending.organisation) { () async throws(WebFailure) -> Response in
                try await complete(pending, query: query, issuer: issuer)
            }
        case .failure(let problem):
            response = await environment.respondAfterCallback(organisation: nil) { () async throws(WebFailure) -> Response in
                throw WebFailure.state(problem)
            }
        }
        response.setCookie(environment.clearedFlowCookie(flowCookie))
        return response
    }

    private func complete(_ pending: PendingAuthorization, query: CallbackQuery, issuer: String?) async throws(WebFailure) -> Response {
        let base = WebEnvironment.base(pending.organisation)
        let retry: RetryLink = pending.purpose == .user
            ? ("Authorise again", base + "/authorise") : ("Back to library authorization", base + "/tracker")
        let organisation = try environment.organisation(pending.organisation)
        // Mix-up defence (RFC 9207): an `iss` that is not this organisation's server, on a code or
        // an error alike, and nothing is used. An absent `iss` is accepted (iManage does not document it).
        let expectedIssuer = organisation.authorizationBase.absoluteString
        if let issuer, !IssuerIdentifier.same(issuer, as: expectedIssuer) {
            throw WebFailure.issuerMismatch(presented: issuer, expected: expectedIssuer, organisation: organisation.name, retry: retry)
        }
        let code: String
        switch query {
        case .refused(_, let error):
            if error == "access_denied" { throw WebFailure.consentDenied(retry: retry) }
            throw WebFailure.authorizeError(ErrorCode.sanitised(error), retry: retry)
        case .noState, .neither:
            throw WebFailure.badRequest("The link back from iManage has neither a code nor an error.")
        case .code(_, let found):
            code = found
        }
        let flow = environment.flow
        let tokens = try await flow.exchange(code: code, verifier: pending.codeVerifier, organisation: organisation, retry: retry)
        let identity = try await flow.identify(tokens, organisation: organisation, retry: retry)
        let now = environment.now()
        let person = (userID: identity.userID, name: identity.name ?? identity.userID, email: identity.email ?? "", customerID: identity.customerID)

        switch pending.purpose {
        case .user:
            let record = try await flow.save(
                .user(named: nil), identity: identity, tokens: tokens, organisation: organisation, now: now,
                message: "authorised by \(person.name) on the web page", retry: retry)
            scheduled(record)
            var response = PageRenderer.redirect(to: base + "/me?authorised=1")
            response.setCookie(environment.sessionCookie(environment.newSession(.me, organisation: organisation.name, identity: person)))
            return response

        case .trackerSignIn:
            let libraries = try await flow.nrtadminLibraries(identity, accessToken: tokens.accessToken, organisation: organisation, retry: retry)
            guard !libraries.isEmpty else { throw WebFailure.notNrtadminAnywhere(describe(person), retry: retry) }
            environment.logger.info("\(organisation.name): \(person.userID) signed in to the Tracker page (\(libraries.count) libraries)",
                                    metadata: ["TOKEND_ORGANISATION": "\(organisation.name)"])
            var response = PageRenderer.redirect(to: base + "/tracker")
            response.setCookie(environment.sessionCookie(
                environment.newSession(.tracker, organisation: organisation.name, identity: person, libraries: libraries)))
            return response

        case .library(let library, let email, let requestedBy):
            guard person.email.caseInsensitiveCompare(email) == .orderedSame else {
                throw WebFailure.differentPerson(expected: email, actual: describe(person), retry: retry)
            }
            let record = try await flow.save(
                .library(library), identity: identity, tokens: tokens, organisation: organisation, now: now,
                message: "authorised by \(person.name) on the Tracker page (asked by \(requestedBy))", retry: retry)
            scheduled(record)
            return PageRenderer.redirect(to: base + "/tracker?authorised=" + FormCoding.escape(library))
        }
    }

    private func describe(_ person: (userID: String, name: String, email: String, customerID: String)) -> String {
        person.email.isEmpty ? "\(person.name) (\(person.userID))" : "\(person.name) (\(person.email))"
    }

    /// Hands the new grant to the engine and logs it with the journal fields.
    private func scheduled(_ record: GrantRecord) {
        if let next = record.nextRefreshAt { environment.engine.schedule(record.id, at: next) }
        let key = record.key
        environment.logger.info(
            "\(key.organisation) \(key.kind.rawValue) \(key.subject): authorised by \(record.authorisedBy?.userID ?? "?") on the web page",
            metadata: [
                "TOKEND_ORGANISATION": "\(key.organisation)",
                (key.kind == .library ? "TOKEND_LIBRARY" : "TOKEND_USER"): "\(key.subject)",
                "TOKEND_STATUS": "\(record.status.rawValue)",
            ])
    }
}
