import Foundation
import Synchronization
import TokendPolicy

/// Organisations whose client credentials iManage refused. While one is paused, a single grant
/// (the probe) keeps trying on the backoff; the others wait parked, so a thousand libraries of
/// one organisation make one request per backoff period, not a thousand.
final class OrganisationPauses: Sendable {
    struct Pause {
        var probe: Int64
        var failure: RefreshFailure
        var parked: Set<Int64> = []
    }

    /// What the engine should do with a grant of an organisation that may be paused.
    enum Decision: Equatable {
        case refresh
        /// Park it: do not refresh, do not reschedule; it is woken when the organisation recovers.
        case park(RefreshFailure)
    }

    private let pauses = Mutex<[String: Pause]>([:])

    /// Before refreshing `grantID`: refresh, or park it behind the organisation's probe.
    func decide(_ grantID: Int64, of organisation: String) -> Decision {
        pauses.withLock { pauses in
            guard var pause = pauses[organisation], pause.probe != grantID else { return .refresh }
            pause.parked.insert(grantID)
            pauses[organisation] = pause
            return .park(pause.failure)
        }
    }

    /// After an attempt of `grantID`. Returns whether the grant should be parked (another grant
    /// already probes) and the grants to wake because the organisation recovered.
    func record(_ grantID: Int64, of organisation: String, failure: RefreshFailure?) -> (park: Bool, wake: [Int64]) {
        pauses.withLock { pauses in
            if let failure, failure.failureClass == .clientRefused {
                if var pause = pauses[organisation], pause.probe != grantID {
                    pause.parked.insert(grantID)
                    pauses[organisation] = pause
                    return (true, [])
                }
                let parked = pauses[organisation]?.parked ?? []
                pauses[organisation] = Pause(probe: grantID, failure: failure, parked: parked)
                return (false, [])
            }
            // Any other answer means the credentials were accepted (or the probe's own grant is
            // the problem): lift the pause and let every parked grant find out for itself.
            guard let pause = pauses[organisation], pause.probe == grantID else { return (false, []) }
            pauses[organisation] = nil
            return (false, pause.parked.sorted())
        }
    }
}
