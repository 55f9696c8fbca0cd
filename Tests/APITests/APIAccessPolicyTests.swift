import Foundation
import Testing
@testable import TokendAPI
import TokendConfig

/// Who may use the token API: the pure decision, peer + rules + route.
@Suite struct APIAccessPolicyTests {
    static let daemon: uid_t = 990
    static let socketGroup: gid_t = 991
    static let alice = PeerIdentity(uid: 1000, gid: 1000)
    static let member = PeerIdentity(uid: 1001, gid: 1001, groups: [socketGroup])
    static let syncGroup: gid_t = 2000

    static func rules(_ clients: [APIClientRule]) -> APIAccessRules {
        APIAccessRules(clients: clients, daemonUID: daemon, socketGroup: socketGroup)
    }

    static let every: [APIRoute] = [
        .status(organisation: nil), .token(organisation: "acme"), .refresh(organisations: ["acme"]),
        .revoke(organisation: "acme"), .schedule(organisation: "acme"),
    ]

    @Test func rootAndTheDaemonsOwnUserMayDoEverythingWhateverTheRules() {
        let strict = Self.rules([APIClientRule(principal: .user(1000, name: "alice"), organisations: .named(["beta"]), allow: [.token])])
        for peer in [PeerIdentity(uid: 0, gid: 0), PeerIdentity(uid: Self.daemon, gid: 5)] {
            for route in Self.every {
                #expect(APIAccessPolicy.decide(peer: peer, rules: strict, route: route) == .allowed(.all))
                #expect(APIAccessPolicy.decide(peer: peer, rules: Self.rules([]), route: route) == .allowed(.all))
            }
        }
    }

    @Test func withoutTablesTheSocketsGroupMayUseTokenAndStatusOnly() {
        let rules = Self.rules([])
        #expect(APIAccessPolicy.decide(peer: Self.member, rules: rules, route: .token(organisation: "acme")) == .allowed(.all))
        #expect(APIAccessPolicy.decide(peer: Self.member, rules: rules, route: .status(organisation: nil)) == .allowed(.all))
        // The primary group counts as well as a supplementary one.
        let primary = PeerIdentity(uid: 1002, gid: Self.socketGroup)
        #expect(APIAccessPolicy.decide(peer: primary, rules: rules, route: .token(organisation: "acme")) == .allowed(.all))
        for route: APIRoute in [.refresh(organisations: ["acme"]), .revoke(organisation: "acme"), .schedule(organisation: "acme")] {
            guard case .forbidden(let reason) = APIAccessPolicy.decide(peer: Self.member, rules: rules, route: route) else {
                Issue.record("\(route) allowed to a member of the socket's group")
                continue
            }
            #expect(reason.contains("[[api_client]]"))
            #expect(reason.contains("allow = [\"\(route.permission.rawValue)\"]"))
        }
        // A peer the daemon's user namespace does not map (PrivateUsers=yes) passed the socket's
        // group permission to connect: token and status, still nothing more.
        let unmapped = PeerIdentity(uid: 65534, gid: 65534, isUnmapped: true)
        #expect(APIAccessPolicy.decide(peer: unmapped, rules: rules, route: .token(organisation: "acme")) == .allowed(.all))
        #expect(APIAccessPolicy.decide(peer: unmapped, rules: rules, route: .refresh(organisations: ["acme"])) != .allowed(.all))
        guard case .forbidden(let reason) = APIAccessPolicy.decide(peer: Self.alice, rules: rules, route: .token(organisation: "acme")) else {
            Issue.record("a peer outside the socket's group got a token")
            return
        }
        #expect(reason.contains("uid 1000"))
        #expect(reason.contains("organisations = [\"acme\"]"))
        #expect(reason.contains("socket's group"))
    }

    @Test func aRuleAllowsItsPermissionsForItsOrganisationsOnly() {
        let rules = Self.rules([APIClientRule(principal: .user(1000, name: "alice"), organisations: .named(["acme"]), allow: [.token])])
        #expect(APIAccessPolicy.decide(peer: Self.alice, rules: rules, route: .token(organisation: "acme")) == .allowed(.named(["acme"])))
        guard case .forbidden(let reason) = APIAccessPolicy.decide(peer: Self.alice, rules: rules, route: .token(organisation: "beta")) else {
            Issue.record("a token of another organisation was allowed")
            return
        }
        #expect(reason.contains("for organisation beta"))
        #expect(!reason.contains("socket's group"))
        #expect(APIAccessPolicy.decide(peer: Self.alice, rules: rules, route: .refresh(organisations: ["acme"])) != .allowed(.all))
        #expect(APIAccessPolicy.decide(peer: Self.alice, rules: rules, route: .status(organisation: nil)) != .allowed(.named(["acme"])))
        // With tables, the socket's group alone allows nothing.
        if case .allowed = APIAccessPolicy.decide(peer: Self.member, rules: rules, route: .token(organisation: "acme")) {
            Issue.record("the socket's group still allowed with [[api_client]] tables")
        }
    }

    @Test func groupRulesUnionAndARefreshNeedsEveryOrganisationNamed() {
        let sync = PeerIdentity(uid: 1500, gid: 1500, groups: [Self.syncGroup])
        let rules = Self.rules([
            APIClientRule(principal: .group(Self.syncGroup, name: "sync"), organisations: .named(["acme"]), allow: [.refresh, .status]),
            APIClientRule(principal: .user(1500, name: "sync"), organisations: .named(["beta"]), allow: [.refresh]),
        ])
        #expect(APIAccessPolicy.decide(peer: sync, rules: rules, route: .refresh(organisations: ["acme", "beta"])) == .allowed(.named(["acme", "beta"])))
        #expect(APIAccessPolicy.decide(peer: sync, rules: rules, route: .refresh(organisations: [])) == .allowed(.named(["acme", "beta"])))
        guard case .forbidden(let reason) = APIAccessPolicy.decide(peer: sync, rules: rules, route: .refresh(organisations: ["acme", "gamma"])) else {
            Issue.record("a refresh of an organisation not allowed went through")
            return
        }
        #expect(reason.contains("gamma"))
        #expect(!reason.contains("acme"))
        // Status shows only what the rules name.
        #expect(APIAccessPolicy.decide(peer: sync, rules: rules, route: .status(organisation: nil)) == .allowed(.named(["acme"])))
        if case .allowed = APIAccessPolicy.decide(peer: sync, rules: rules, route: .status(organisation: "beta")) {
            Issue.record("status of an organisation not allowed")
        }
    }

    @Test func starCoversEveryOrganisation() {
        let rules = Self.rules([APIClientRule(principal: .user(1000, name: "alice"), organisations: .all, allow: [.revoke, .schedule])])
        #expect(APIAccessPolicy.decide(peer: Self.alice, rules: rules, route: .revoke(organisation: "anything")) == .allowed(.all))
        #expect(APIAccessPolicy.decide(peer: Self.alice, rules: rules, route: .schedule(organisation: "x")) == .allowed(.all))
        if case .allowed = APIAccessPolicy.decide(peer: Self.alice, rules: rules, route: .token(organisation: "x")) {
            Issue.record("token allowed by a rule that allows only revoke and schedule")
        }
    }

    @Test func aRefusalIsSaidOncePerUidPerMinute() {
        let notices = ForbiddenNotices()
        let start = Date(timeIntervalSince1970: 1_000_000)
        #expect(notices.shouldSay(uid: 1000, now: start))
        #expect(!notices.shouldSay(uid: 1000, now: start.addingTimeInterval(1)))
        #expect(!notices.shouldSay(uid: 1000, now: start.addingTimeInterval(59)))
        #expect(notices.shouldSay(uid: 1001, now: start.addingTimeInterval(2)))
        #expect(notices.shouldSay(uid: 1000, now: start.addingTimeInterval(61)))
    }
}
