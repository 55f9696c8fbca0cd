import Crypto
import Foundation

/// Sign-ins in progress, kept by the browsers that started them rather than by the daemon, so
/// that no number of starts (a flood of `/authorise` from one address included) can push out a
/// real person's sign-in or grow the daemon's memory.
///
/// `begin` makes a random `state` (``StateToken``: unguessable, timed, MAC'd) and seals the
/// pending authorisation (organisation, purpose, PKCE verifier, when) with AES-GCM into a cookie
/// whose name is derived from the state, with the state as associated data: two tabs can sign in
/// at once, and a cookie opens for its own state only. `take` checks the state, then the cookie,
/// and records the state as spent (``SpentStates``, bounded): it works once.
///
/// Both keys come from the token key, so a sign-in started on one daemon can be completed on
/// another that has the same `key_file` (behind a load balancer, or after a restart); only the
/// memory of spent states is per daemon.
final class AuthorizationStates: Sendable {
    let lifetime: TimeInterval
    let spent: SpentStates
    private let tokens: StateToken
    private let sealer: CookieSealer

    /// What the start of a sign-in gives the browser: the state for iManage, and the cookie.
    struct Started: Sendable {
        let state: String
        let cookieName: String
        let cookieValue: String
    }

    init(tokenKey: [UInt8], lifetime: TimeInterval = 600, spentCapacity: Int = 65_536) {
        self.lifetime = lifetime
        spent = SpentStates(keepFor: lifetime, capacity: spentCapacity)
        tokens = StateToken(tokenKey: tokenKey)
        sealer = CookieSealer(tokenKey: tokenKey, purpose: "pending authorisation cookie v1")
    }

    static let cookiePrefix = "tokend_flow_"

    /// The cookie that carries the pending authorisation of `state`: the prefix and 16 bytes of SHA-256(state).
    static func cookieName(for state: String) -> String {
        cookiePrefix + Base64URL.encode(SHA256.hash(data: Array(state.utf8)).prefix(16))
    }

    /// Seals `pending` for a new state. Nothing is kept in the daemon.
    func begin(_ pending: PendingAuthorization) -> Started? {
        let state = tokens.make(createdAt: pending.createdAt)
        guard let json = try? JSONEncoder().encode(pending),
              let sealed = sealer.seal(json, boundTo: Self.associatedData(state)) else { return nil }
        return Started(state: state, cookieName: Self.cookieName(for: state), cookieValue: sealed)
    }

    /// The pending authorisation of `state`, from the cookie the browser sent for it (`cookie`).
    /// On success the state is spent: it is never accepted again.
    func take(state: String, cookie: String?, now: Date) -> Result<PendingAuthorization, StateProblem> {
        guard let made = tokens.read(state) else { return .failure(.unknown) }
        // Checked from the state itself: a late callback is "expired" even once its cookie is gone.
        guard now.timeIntervalSince(made.createdAt) <= lifetime else { return .failure(.expired) }
        // Before the cookie: the callback's answer cleared it, so a reload brings none.
        guard !spent.contains(made.id, now: now) else { return .failure(.alreadyUsed) }
        guard let json = sealer.open(cookie, boundTo: Self.associatedData(state)),
              let pending = try? JSONDecoder().decode(PendingAuthorization.self, from: json)
        else { return .failure(.otherBrowser) }
        guard spent.spend(made.id, now: now) else { return .failure(.alreadyUsed) }
        return .success(pending)
    }

    private static func associatedData(_ state: String) -> String { "state " + state }
}
