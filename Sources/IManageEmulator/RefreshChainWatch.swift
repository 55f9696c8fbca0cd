/// What the token endpoint saw of each grant chain's refreshes, to tell a crash from a double
/// refresh when a rotated token comes back (a failover run's question):
///
/// - a revocation for reuse whose successor token (the one the rotation issued) was presented
///   at some time is a **second refresher**: two holders refreshed one grant, one with a stale token;
/// - one whose successor was never presented came **after a lost answer**: the rotation's answer
///   reached nobody who kept it (the client was killed before saving it), and its retry with the
///   token it still had is a reuse;
/// - an **overlapping refresh** is a token request of a chain that arrived while another of the
///   same chain was still being answered (two clients refreshing one grant at the same time).
///
/// The successor is judged when the summary is read, not at the revocation: the second holder
/// often presents its fresh token only at its next refresh, after the other's reuse.
struct RefreshChainWatch: Sendable {
    /// The rotated tokens whose presentation revoked their grant, in order.
    private(set) var reusedTokens: [TokenKey] = []
    /// Token requests being answered now, per grant.
    private var inFlight: [Int: Int] = [:]
    private(set) var overlappingRefreshes = 0

    mutating func recordReuse(of key: TokenKey) { reusedTokens.append(key) }

    /// A token request of `grant` begins; counts an overlap when another of it is being answered.
    mutating func begin(grant: Int) {
        let running = inFlight[grant, default: 0]
        if running > 0 { overlappingRefreshes += 1 }
        inFlight[grant] = running + 1
    }

    mutating func end(grant: Int) {
        let running = inFlight[grant, default: 0] - 1
        inFlight[grant] = running > 0 ? running : nil
    }

    /// The revocations for reuse, split: by a second refresher (successor presented), after a lost answer.
    func classifyReuse(in ledger: GrantLedger) -> (secondRefresher: Int, lostAnswer: Int) {
        var second = 0
        for key in reusedTokens where ledger.successorWasPresented(key) == true { second += 1 }
        return (second, reusedTokens.count - second)
    }
}
