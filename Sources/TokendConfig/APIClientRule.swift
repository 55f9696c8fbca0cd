import Foundation

/// What a local program may ask of the token API.
public enum APIPermission: String, CaseIterable, Sendable, Comparable {
    /// `GET …/token`: read a grant's access token.
    case token
    /// `GET /v1/status`: the status report (of the organisations allowed).
    case status
    /// `POST /v1/refresh`.
    case refresh
    /// `DELETE /v1/organisations/…`: revoke a grant.
    case revoke
    /// `POST …/schedule`: schedule a grant `import` stored.
    case schedule

    public static func < (left: APIPermission, right: APIPermission) -> Bool {
        allCases.firstIndex(of: left)! < allCases.firstIndex(of: right)!
    }
}

/// One `[[api_client]]` table: a Unix user or group, the organisations it covers and what it may do.
public struct APIClientRule: Sendable, Equatable {
    /// Whom the rule is about, resolved to a number when the configuration was read.
    public enum Principal: Sendable, Equatable {
        case user(uid_t, name: String)
        case group(gid_t, name: String)
    }

    /// The organisations the rule covers: all (`["*"]`) or those named.
    public enum Organisations: Sendable, Equatable {
        case all
        case named(Set<String>)

        public func contains(_ organisation: String) -> Bool {
            switch self {
            case .all: true
            case .named(let names): names.contains(organisation)
            }
        }
    }

    public var principal: Principal
    public var organisations: Organisations
    public var allow: Set<APIPermission>
    /// The line of the table's `[[api_client]]` header.
    public var line: Int

    public init(principal: Principal, organisations: Organisations, allow: Set<APIPermission>, line: Int = 0) {
        self.principal = principal
        self.organisations = organisations
        self.allow = allow
        self.line = line
    }
}
