import HTTPTypes

/// A link to start again: its label and path.
typealias RetryLink = (label: String, href: String)
import TokendPolicy

/// Something went wrong on a page, told the way a person can act on: what happened, and what to do.
/// Nothing is stored when one is shown. No token, code or secret is ever part of one.
struct WebFailure: Error, Sendable {
    var status: HTTPResponse.Status
    var title: String
    var explanation: String
    var nextStep: String
    /// Where to start again, when there is such a place.
    var retry: RetryLink?
    /// A short reason for the log line.
    var reason: String

    static func unknownOrganisation(_ name: String) -> WebFailure {
        WebFailure(
            status: .notFound, title: "No such organisation",
            explanation: "This daemon has no organisation called “\(name)”.",
            nextStep: "Check the link you followed, or ask your administrator for the right one.", reason: "unknown organisation")
    }

    static func organisationDisabled(_ name: String) -> WebFailure {
        WebFailure(
            status: .forbidden, title: "Integration switched off",
            explanation: "The iManage integration of “\(name)” is switched off (enabled = false), so nothing can be authorised for it now.",
            nextStep: "Ask your administrator to enable the organisation, then try again.", reason: "organisation disabled")
    }

    static func consentDenied(retry: RetryLink?) -> WebFailure {
        WebFailure(
            status: .forbidden, title: "Access was not allowed",
            explanation: "You chose not to allow access on the iManage sign-in page, so nothing was authorised.",
            nextStep: "If that was a mistake, start again and choose Sign in / Allow.", retry: retry, reason: "consent denied")
    }

    /// iManage sent the browser back with an error; `code` is nil when it did not read as an
    /// error code (see ``ErrorCode``), and is then not repeated.
    static func authorizeError(_ code: String?, retry: RetryLink?) -> WebFailure {
        WebFailure(
            status: .badGateway, title: "iManage refused the request",
            explanation: "iManage answered the authorisation request with "
                + (code.map { "the error “\($0)”" } ?? "an error that is not a plain error code") + ". Nothing was authorised.",
            nextStep: "Try again; if it happens again, give this error to your administrator (the application's registration in iManage Control Center may need checking).",
            retry: retry, reason: "authorize error \(code ?? "(not a plain code)")")
    }

    static func state(_ problem: StateProblem) -> WebFailure {
        let (title, explanation): (String, String)
        switch problem {
        case .expired:
            (title, explanation) = ("This sign-in has expired",
                                    "The sign-in took longer than allowed (10 minutes), so it was not accepted. Nothing was authorised.")
        case .alreadyUsed:
            (title, explanation) = ("This sign-in was already used",
                                    "This link back from iManage was already used once (a reload, a second tab or the back button), and it works only once. Nothing more was authorised.")
        case .unknown:
            (title, explanation) = ("This sign-in is not known",
                                    "This link back from iManage does not belong to a sign-in started here (it was changed, or the daemon's key was replaced in between). Nothing was authorised.")
        case .otherBrowser:
            (title, explanation) = ("This sign-in was started in another browser",
                                    "The link back from iManage must be opened in the browser that started the sign-in. Nothing was authorised.")
        }
        return WebFailure(
            status: .badRequest, title: title, explanation: explanation,
            nextStep: "Go back to the page where you started (Authorise, or the Tracker page) and start again.",
            reason: "state \(problem)")
    }

    /// The authorization response names another server as its issuer (`iss`, RFC 9207): it may
    /// be a mix-up attack, with a code from another identity server. `presented` is cut short.
    static func issuerMismatch(presented: String, expected: String, organisation: String, retry: RetryLink?) -> WebFailure {
        let shown = presented.count > 200 ? String(presented.prefix(200)) + "…" : presented
        return WebFailure(
            status: .badRequest, title: "The answer came from another server",
            explanation: "The link back says it was issued by “\(shown)”, but “\(organisation)” signs in at “\(expected)”. "
                + "It may come from another sign-in server (a mix-up attack), so its code was not used. Nothing was stored.",
            nextStep: "Start again from this page. If it happens again, tell your administrator: the link you followed, or the authorization_url configured for “\(organisation)”, may be wrong.",
            retry: retry, reason: "issuer mismatch")
    }

    static let noFailureToShow = WebFailure(
        status: .notFound, title: "Nothing to show here",
        explanation: "This page shows why a sign-in did not work, for a few minutes after it. There is nothing to show now (it was too long ago, or cookies are blocked).",
        nextStep: "Go back to the page where you started (Authorise, or the Tracker page) and start again.",
        reason: "no failure to show")

    static func codeRefused(_ failure: RefreshFailure, retry: RetryLink?) -> WebFailure {
        WebFailure(
            status: .badGateway, title: "iManage refused the authorisation",
            explanation: "iManage's token endpoint did not accept the authorisation code (it may have expired or been used already). Nothing was stored.",
            nextStep: "Start again; sign-ins must be finished within a minute or so.", retry: retry,
            reason: "code refused: \(failure.description)")
    }

    static func clientRefused(_ failure: RefreshFailure, organisation: String) -> WebFailure {
        WebFailure(
            status: .badGateway, title: "iManage refused this daemon's client credentials",
            explanation: "iManage did not accept the client id or client secret configured for “\(organisation)”. Nothing was stored.",
            nextStep: "Tell your administrator: the application's client id and secret (client_id, client_secret_file) must match its registration in iManage Control Center.",
            reason: "client refused: \(failure.description)")
    }

    static func unreachable(_ failure: RefreshFailure, retry: RetryLink?) -> WebFailure {
        WebFailure(
            status: .badGateway, title: "iManage could not be reached",
            explanation: "The daemon could not complete the authorisation with iManage: \(failure.detail). Nothing was stored.",
            nextStep: "Try again in a few minutes. If it keeps failing, tell your administrator.", retry: retry,
            reason: "iManage unreachable: \(failure.description)")
    }

    /// Sorts a failed call to iManage into the three cases a person can tell apart.
    static func fromIManage(_ failure: RefreshFailure, organisation: String, retry: RetryLink?) -> WebFailure {
        switch failure.failureClass {
        case .transient: unreachable(failure, retry: retry)
        case .clientRefused: clientRefused(failure, organisation: organisation)
        case .grantDead: codeRefused(failure, retry: retry)
        }
    }

    static func noRefreshToken(retry: RetryLink?) -> WebFailure {
        WebFailure(
            status: .badGateway, title: "iManage issued no refresh token",
            explanation: "iManage signed you in but gave no refresh token, so the daemon could not keep the authorisation alive. Nothing was stored.",
            nextStep: "Ask your iManage administrator to set “Allow Refresh Token” to Yes for this application in Control Center, then try again.",
            retry: retry, reason: "no refresh token issued")
    }

    static func differentPerson(expected: String, actual: String, retry: RetryLink?) -> WebFailure {
        WebFailure(
            status: .forbidden, title: "A different person signed in",
            explanation: "The authorisation was asked for \(expected), but \(actual) signed in to iManage. Nothing was stored.",
            nextStep: "Sign out of iManage (or use a private window), then start again and sign in as \(expected).",
            retry: retry, reason: "different person signed in")
    }

    static func notNrtadmin(_ who: String, library: String, retry: RetryLink?) -> WebFailure {
        WebFailure(
            status: .forbidden, title: "Not an NRTADMIN of \(library)",
            explanation: "\(who) is not a member of the NRTADMIN group of library \(library), so that account cannot authorise it. Nothing was stored.",
            nextStep: "Authorise with the email of an NRTADMIN of \(library), or ask an iManage administrator to add the account to its NRTADMIN group (role changes can take hours to apply).",
            retry: retry, reason: "not NRTADMIN of \(library)")
    }

    static func notNrtadminAnywhere(_ who: String, retry: RetryLink?) -> WebFailure {
        WebFailure(
            status: .forbidden, title: "No library to authorise",
            explanation: "\(who) is not an NRTADMIN of any library of this iManage server, so there is nothing here to authorise.",
            nextStep: "Sign in with an account that is in a library's NRTADMIN group, or ask an iManage administrator to add yours.",
            retry: retry, reason: "not NRTADMIN of any library")
    }

    static let csrfRejected = WebFailure(
        status: .forbidden, title: "The form was not accepted",
        explanation: "The form was out of date, came from another site, or your session ended. Nothing was changed.",
        nextStep: "Reload the page and try again.", reason: "CSRF check failed")

    static func libraryNotOffered(_ library: String, retry: RetryLink?) -> WebFailure {
        WebFailure(
            status: .forbidden, title: "Library not offered",
            explanation: "Library \(library) is not one where you were found to be an NRTADMIN when you signed in. Nothing was changed.",
            nextStep: "Sign out and sign in again if your role changed.", retry: retry, reason: "library not offered")
    }

    static func badRequest(_ message: String) -> WebFailure {
        WebFailure(
            status: .badRequest, title: "This request is not valid", explanation: message,
            nextStep: "Go back to the page where you started and try again.",
            // The message may quote a parameter's name; what a person typed never reaches the journal.
            reason: "bad request")
    }

    static func storeFailed(retry: RetryLink?) -> WebFailure {
        WebFailure(
            status: .internalServerError, title: "The authorisation could not be saved",
            explanation: "The daemon's database refused the write. Nothing was stored.",
            nextStep: "Try again; if it fails again, tell your administrator (the daemon's log says why).", retry: retry,
            reason: "store write failed")
    }

    static let notFound = WebFailure(
        status: .notFound, title: "Page not found", explanation: "There is no page at this address.",
        nextStep: "Check the link you followed.", reason: "not found")

    static let internalError = WebFailure(
        status: .internalServerError, title: "Something went wrong",
        explanation: "The daemon hit an unexpected error. Nothing was stored.",
        nextStep: "Try again; if it happens again, tell your administrator (the daemon's log says why).", reason: "internal error")
}
