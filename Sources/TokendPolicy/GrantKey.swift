/// Whether a grant serves a whole library (the Tracker model) or one person.
public enum GrantKind: String, Sendable, CaseIterable, Codable {
    case library
    case user
}

/// The identity of a grant: one refresh-token chain for one library or one user of one organisation.
///
/// For a library, `subject` is the library id (`ACTIVE`); for a user, it is the iManage user id.
public struct GrantKey: Hashable, Sendable, Codable, CustomStringConvertible {
    public var organisation: String
    public var kind: GrantKind
    public var subject: String

    public init(organisation: String, kind: GrantKind, subject: String) {
        self.organisation = organisation
        self.kind = kind
        self.subject = subject
    }

    public static func library(_ library: String, of organisation: String) -> GrantKey {
        GrantKey(organisation: organisation, kind: .library, subject: library)
    }

    public static func user(_ user: String, of organisation: String) -> GrantKey {
        GrantKey(organisation: organisation, kind: .user, subject: user)
    }

    public var description: String { "\(organisation)/\(kind.rawValue)/\(subject)" }
}
