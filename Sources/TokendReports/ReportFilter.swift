import TokendPolicy
import TokendStore

/// Which grants a report is about: `--organisation`, `--library`, `--user` (an iManage user id or
/// email). Unset parts match everything; a library filter keeps libraries only, a user filter users only.
public struct ReportFilter: Sendable, Equatable {
    public var organisation: String?
    public var library: String?
    public var user: String?

    public init(organisation: String? = nil, library: String? = nil, user: String? = nil) {
        self.organisation = organisation
        self.library = library
        self.user = user
    }

    /// The kind of grant asked for, if the filter names one.
    public var kind: GrantKind? {
        if library != nil { return .library }
        if user != nil { return .user }
        return nil
    }

    /// Whether `record` is one of the grants asked for. Users match by id or by email, ignoring case.
    public func matches(_ record: GrantRecord) -> Bool {
        if let organisation, record.key.organisation != organisation { return false }
        if let library {
            return record.key.kind == .library && record.key.subject == library
        }
        if let user {
            guard record.key.kind == .user else { return false }
            return record.key.subject.caseInsensitiveCompare(user) == .orderedSame
                || (record.authorizedBy?.email).map { $0.caseInsensitiveCompare(user) == .orderedSame } == true
        }
        return true
    }
}
