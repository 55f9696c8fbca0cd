import Foundation

/// What a person should do next, in the words every surface uses (status report, token API,
/// pages, events, journal): written once here.
public enum GrantAdvice {
    /// The organisation's client credentials were refused.
    public static let clientRefused = "the organisation's client id or secret was refused: check client_id and client_secret_file"

    /// What a person should do about a status that needs one (`""` for those that need nobody).
    public static func whatToDo(_ status: GrantStatus, _ key: GrantKey) -> String {
        let who = key.kind == .library ? "an NRTADMIN of library \(key.subject)" : "user \(key.subject)"
        return switch status {
        case .needsReauth: "the refresh token was refused: \(who) must authorise again"
        case .clientError: "iManage refused organisation \(key.organisation)'s client id or secret: check client_id and client_secret_file"
        case .notNrtadmin: "the authoriser is no longer an NRTADMIN of library \(key.subject): an NRTADMIN of it must authorise it"
        case .expired: "the access token ran out while refreshing kept failing: check that iManage is reachable"
        case .unauthorized: "never authorised, or revoked: \(who) must authorise"
        case .authorized, .retrying, .disabled: ""
        }
    }

    /// Whether only a person authorising again can help a grant in `status` (a refresh cannot).
    public static func waitsForAPerson(_ status: GrantStatus) -> Bool {
        switch status {
        case .needsReauth, .notNrtadmin, .unauthorized: true
        case .authorized, .retrying, .expired, .clientError, .disabled: false
        }
    }

    /// The refresh token is inside its warning window.
    public static func refreshTokenExpiring(at expiry: Date) -> String {
        "the refresh token expires at \(expiry.formatted(.iso8601)): authorise again before then"
    }

    /// A library grant's token turned out to be of another iManage customer at a periodic check.
    public static func libraryOfOtherCustomer(_ library: String, reported: String, expected: String) -> String {
        "the token of library \(library) belongs to iManage customer \(reported), but this organisation "
            + "is customer \(expected): an NRTADMIN of this firm's library must authorise it"
    }

    /// A library's authoriser left its NRTADMIN group (seen at a periodic check).
    public static func noLongerNrtadmin(_ who: String, library: String) -> String {
        "\(who) is no longer an NRTADMIN of library \(library): an NRTADMIN of it must authorise it again"
    }
}
