import TokendEngine
import TokendPolicy

extension WebFailure {
    /// A person of another iManage customer tried to authorise into this organisation.
    static func otherCustomer(organisation: String, expected: String, reported: String, retry: RetryLink?) -> WebFailure {
        WebFailure(
            status: .forbidden, title: "Another firm's iManage account",
            explanation: "You signed in to iManage customer \(reported); this organisation (\(organisation)) is customer \(expected). "
                + "Nothing was stored.",
            nextStep: "Sign out of iManage (or use a private window) and sign in with your account at this firm, "
                + "or use the page of your own firm's organisation.",
            retry: retry, reason: "other customer: signed in to customer \(reported), organisation is customer \(expected)")
    }

    /// The page for a grant the admission refused.
    static func admission(_ failure: AdmissionFailure, organisation: String, retry: RetryLink?) -> WebFailure {
        switch failure {
        case .discoveryFailed(var failure), .librariesFailed(var failure), .nrtadminCheckFailed(_, var failure):
            // The code was good: a refused API call is iManage's trouble, not a dead grant.
            failure.failureClass = .transient
            return fromIManage(failure, organisation: organisation, retry: retry)
        case let .otherCustomer(organisation, expected, reported):
            return otherCustomer(organisation: organisation, expected: expected, reported: reported, retry: retry)
        case let .notNrtadmin(person, library):
            return notNrtadmin(person, library: library, retry: retry)
        case let .otherUser(wanted, actual):
            return differentPerson(expected: wanted, actual: actual, retry: retry)
        case .noRefreshToken:
            return noRefreshToken(retry: retry)
        case .storeFailed(let reason):
            var page = storeFailed(retry: retry)
            page.reason += ": \(reason)"
            return page
        }
    }
}
