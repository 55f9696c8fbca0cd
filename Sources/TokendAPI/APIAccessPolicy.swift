import Foundation
import TokendConfig

/// What a request to the token API asks, for deciding whether its peer may ask it.
public enum APIRoute: Sendable, Equatable {
    /// `GET /v1/status`, of one organisation or (`nil`) of all the peer may see.
    case status(organisation: String?)
    /// `GET …/token` of a grant of `organisation`.
    case token(organisation: String)
    /// `POST /v1/refresh` of grants of these organisations.
    case refresh(organisations: [String])
    /// `DELETE /v1/organisations/{organisation}/…`.
    case revoke(organisation: String)
    /// `POST …/schedule`.
    case schedule(organisation: String)

    var permission: APIPermission {
        switch self {
        case .status: .status
        case .token: .token
        case .refresh: .refresh
        case .revoke: .revoke
        case .schedule: .schedule
        }
    }

    var organisations: [String] {
        switch self {
        case .status(let organisation): organisation.map { [$0] } ?? []
        case .token(let organisation), .revoke(let organisation), .schedule(let organisation): [organisation]
        case .refresh(let organisations): Array(Set(organisations)).sorted()
        }
    }
}

/// The rules in force: the `[[api_client]]` tables, and who else may do everything.
public struct APIAccessRules: Sendable, Equatable {
    public var clients: [APIClientRule]
    /// The daemon's own uid: may do everything, as root may.
    public var daemonUID: uid_t
    /// The API socket's group: without `[[api_client]]` tables its members may use `token` and `status`.
    public var socketGroup: gid_t?

    public init(clients: [APIClientRule], daemonUID: uid_t, socketGroup: gid_t?) {
        self.clients = clients
        self.daemonUID = daemonUID
        self.socketGroup = socketGroup
    }
}

/// Whether a peer may ask what it asks: the allowed answer says which organisations it may see.
public enum APIAccessDecision: Sendable, Equatable {
    case allowed(APIClientRule.Organisations)
    /// Why not, and what to add to the configuration; never a token.
    case forbidden(reason: String)
}

/// Decides who may use the token API (PRODUCT.md "Who may use the token API"): a pure function
/// of the peer, the rules and the request.
public enum APIAccessPolicy {
    public static func decide(peer: PeerIdentity, rules: APIAccessRules, route: APIRoute) -> APIAccessDecision {
        if peer.uid == 0 || peer.uid == rules.daemonUID { return .allowed(.all) }
        let permission = route.permission
        let scopes = grantedScopes(peer: peer, rules: rules, permission: permission)
        let refused = route.organisations.filter { organisation in !scopes.contains { $0.contains(organisation) } }
        guard refused.isEmpty, !scopes.isEmpty else {
            return .forbidden(reason: reason(peer, rules, permission, organisations: refused.isEmpty ? ["*"] : refused))
        }
        return .allowed(union(scopes))
    }

    /// The organisations each rule that applies to `peer` lets it `permission`.
    static func grantedScopes(peer: PeerIdentity, rules: APIAccessRules, permission: APIPermission) -> [APIClientRule.Organisations] {
        guard !rules.clients.isEmpty else {
            // An unmapped peer could connect only through the socket's group permission.
            let inSocketGroup = peer.isUnmapped || (rules.socketGroup.map { peer.groups.contains($0) } ?? false)
            return inSocketGroup && [.token, .status].contains(permission) ? [.all] : []
        }
        return rules.clients.filter { rule in
            guard rule.allow.contains(permission) else { return false }
            switch rule.principal {
            case .user(let uid, _): return uid == peer.uid
            case .group(let gid, _): return peer.groups.contains(gid)
            }
        }.map(\.organisations)
    }

    static func union(_ scopes: [APIClientRule.Organisations]) -> APIClientRule.Organisations {
        var names: Set<String> = []
        for scope in scopes {
            switch scope {
            case .all: return .all
            case .named(let more): names.formUnion(more)
            }
        }
        return .named(names)
    }

    private static func reason(_ peer: PeerIdentity, _ rules: APIAccessRules, _ permission: APIPermission, organisations: [String]) -> String {
        let what = organisations == ["*"] ? "" : " for organisation\(organisations.count == 1 ? "" : "s") \(organisations.joined(separator: ", "))"
        let user = PeerIdentity.userName(peer.uid).map { "\"\($0)\"" } ?? String(peer.uid)
        let list = organisations.map { $0 == "*" ? "\"*\"" : "\"\($0)\"" }.joined(separator: ", ")
        let table = "[[api_client]] user = \(user), organisations = [\(list)], allow = [\"\(permission.rawValue)\"]"
        let defaults = rules.clients.isEmpty && (permission == .token || permission == .status)
            ? " (or add the user to the API socket's group)" : ""
        return "\(peer.description) may not use \"\(permission.rawValue)\"\(what): the daemon's administrator can allow it by adding to the configuration \(table)\(defaults), then restarting the daemon"
    }
}
