import TokendPolicy
import TokendStore

/// A user grant named by iManage user id or by email, the one way every surface finds it (the
/// token API, `revoke`, `history`). An email that more than one grant of the organisation has is
/// refused with the user ids to use instead: guessing would hand out one person's token for another's.
public enum UserLookup {
    public enum Outcome: Equatable, Sendable {
        case found(GrantRecord)
        case none
        /// The email matches several user grants: these user ids, sorted.
        case ambiguous([String])
    }

    /// The user grant of `records` (one organisation's) named `name`: by id first (ignoring case), then by email.
    public static func find(_ name: String, among records: [GrantRecord]) -> Outcome {
        let users = records.filter { $0.key.kind == .user }
        if let byID = users.first(where: { $0.key.subject.caseInsensitiveCompare(name) == .orderedSame }) { return .found(byID) }
        let byEmail = users.filter { $0.authorizedBy.map { !$0.email.isEmpty && $0.email.caseInsensitiveCompare(name) == .orderedSame } == true }
        switch byEmail.count {
        case 0: return .none
        case 1: return .found(byEmail[0])
        default: return .ambiguous(byEmail.map(\.key.subject).sorted())
        }
    }

    /// What to say when `email` is ambiguous in `organisation`.
    public static func ambiguityMessage(_ email: String, organisation: String, ids: [String]) -> String {
        "\(email) is the email of \(ids.count) users of organisation \(organisation) (\(ids.joined(separator: ", "))): "
            + "name the user by id instead, for example --user \(ids[0])"
    }
}

/// An email that names several user grants (see ``UserLookup``).
public struct AmbiguousUser: Error, Sendable, CustomStringConvertible {
    public var email: String
    public var organisation: String
    public var ids: [String]

    public init(email: String, organisation: String, ids: [String]) {
        self.email = email
        self.organisation = organisation
        self.ids = ids
    }

    public var description: String { UserLookup.ambiguityMessage(email, organisation: organisation, ids: ids) }
}
