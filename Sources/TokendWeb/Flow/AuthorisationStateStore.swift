import Crypto
import Foundation
import Synchronization

/// What an authorisation that went out to iManage was for.
enum AuthorisationPurpose: Sendable, Equatable {
    /// A person authorises their own account ("My integrations → Authorise").
    case user
    /// An NRTADMIN signs in to the Tracker page; the tokens are used to list libraries, then dropped.
    case trackerSignIn
    /// A library is authorised by the person with `email` (sent as `login_hint`), asked for by the
    /// NRTADMIN `requestedBy` on the Tracker page.
    case library(id: String, email: String, requestedBy: String)
}

/// An authorisation on its way through iManage, found again by its `state` at the callback.
struct PendingAuthorisation: Sendable {
    var organisation: String
    var purpose: AuthorisationPurpose
    /// The PKCE verifier, when the organisation uses PKCE.
    var codeVerifier: String?
    /// SHA-256 of the browser binding cookie's value: the callback must come from the same browser.
    var bindingHash: [UInt8]
    var createdAt: Date
}

/// Why a callback's `state` was not accepted.
enum StateProblem: Error, Equatable {
    /// Never issued by this process (a forged link, or the daemon restarted in between).
    case unknown
    /// Already presented once (a reload, a second tab, or a replay).
    case alreadyUsed
    /// Older than the lifetime.
    case expired
    /// The browser presenting it is not the one that started the authorisation.
    case otherBrowser
}

/// The `state` values of authorisations in progress: random, single-use, short-lived and bound
/// to the browser that started them. Held in memory: a restart only ends sign-ins under way.
final class AuthorisationStateStore: Sendable {
    let lifetime: TimeInterval
    /// More pending authorisations than this and the oldest are dropped (a flood of starts
    /// cannot grow memory without bound).
    let capacity: Int
    private let entries = Mutex<(pending: [String: PendingAuthorisation], spent: [String: Date])>(([:], [:]))

    init(lifetime: TimeInterval = 600, capacity: Int = 10_000) {
        self.lifetime = lifetime
        self.capacity = capacity
    }

    /// Registers an authorisation and returns its new `state`.
    func begin(_ pending: PendingAuthorisation) -> String {
        let state = RandomToken.make(byteCount: 32)
        entries.withLock { entries in
            prune(&entries, now: pending.createdAt)
            if entries.pending.count >= capacity,
               let oldest = entries.pending.min(by: { $0.value.createdAt < $1.value.createdAt })?.key {
                entries.pending[oldest] = nil
            }
            entries.pending[state] = pending
        }
        return state
    }

    /// Takes the authorisation of `state`: it can never be taken again, whatever the outcome.
    func take(state: String, binding: String?, now: Date) -> Result<PendingAuthorisation, StateProblem> {
        entries.withLock { entries in
            prune(&entries, now: now)
            guard let pending = entries.pending.removeValue(forKey: state) else {
                return .failure(entries.spent[state] != nil ? .alreadyUsed : .unknown)
            }
            entries.spent[state] = now
            guard now.timeIntervalSince(pending.createdAt) <= lifetime else { return .failure(.expired) }
            guard let binding, ConstantTime.equals(Array(SHA256.hash(data: Array(binding.utf8))), pending.bindingHash) else {
                return .failure(.otherBrowser)
            }
            return .success(pending)
        }
    }

    static func bindingHash(_ binding: String) -> [UInt8] { Array(SHA256.hash(data: Array(binding.utf8))) }

    /// Expired entries are kept one more lifetime so that a late callback says "expired", not "unknown".
    private func prune(_ entries: inout (pending: [String: PendingAuthorisation], spent: [String: Date]), now: Date) {
        entries.pending = entries.pending.filter { now.timeIntervalSince($0.value.createdAt) <= 2 * lifetime }
        entries.spent = entries.spent.filter { now.timeIntervalSince($0.value) <= 2 * lifetime }
    }
}
