import Foundation

/// What an authorisation that went out to iManage was for.
enum AuthorizationPurpose: Sendable, Equatable, Codable {
    /// A person authorises their own account ("My integrations → Authorise").
    case user
    /// An NRTADMIN signs in to the Tracker page; the tokens are used to list libraries, then dropped.
    case trackerSignIn
    /// A library is authorised by the person with `email` (sent as `login_hint`), asked for by the
    /// NRTADMIN `requestedBy` on the Tracker page.
    case library(id: String, email: String, requestedBy: String)
}

/// An authorisation on its way through iManage. It travels sealed in a cookie of the browser
/// that started it (see ``AuthorisationStates``), and comes back with the callback.
struct PendingAuthorization: Sendable, Equatable, Codable {
    var organisation: String
    var purpose: AuthorizationPurpose
    /// The PKCE verifier, when the organisation uses PKCE.
    var codeVerifier: String?
    var createdAt: Date
}

/// Why a callback's `state` was not accepted.
enum StateProblem: Error, Equatable {
    /// Not made by this daemon (a forged link, or `key_file` replaced in between).
    case unknown
    /// Already presented once (a reload, a second tab, or a replay).
    case alreadyUsed
    /// Older than the lifetime.
    case expired
    /// The browser presenting it is not the one that started the authorisation.
    case otherBrowser
}
