import Foundation
import Logging
import TokendConfig

/// Applies `APIAccessPolicy` to each request of the token API: asks the kernel who the peer is,
/// decides with the rules of the running configuration, and says in the journal (once a minute
/// per uid) whom it refused.
struct APIAccessGate: Sendable {
    /// The `[[api_client]]` tables in force.
    let clients: @Sendable () -> [APIClientRule]
    /// The group the API socket was given, if any.
    let socketGroup: @Sendable () -> gid_t?
    let logger: Logger
    let notices = ForbiddenNotices()
    let now: @Sendable () -> Date

    func decide(_ route: APIRoute, context: TokenAPIRequestContext) async -> APIAccessDecision {
        guard let peer = await PeerIdentity.of(context.channel) else {
            return .forbidden(reason: "the daemon cannot tell which user is connecting (SO_PEERCRED): use the Unix socket api_socket")
        }
        let rules = APIAccessRules(clients: clients(), daemonUID: geteuid(), socketGroup: socketGroup())
        let decision = APIAccessPolicy.decide(peer: peer, rules: rules, route: route)
        if case .forbidden(let reason) = decision, notices.shouldSay(uid: peer.uid, now: now()) {
            logger.notice("token API: refused a request of \(peer.description) (further refusals of this uid are not logged for a minute): \(reason)")
        }
        return decision
    }
}
