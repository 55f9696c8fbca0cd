import Foundation
import Synchronization
import TokendPolicy

/// The organisations iManage asked to slow down (`429 Too Many Requests`, or a `503` with
/// `Retry-After`) during `import --from`: until the time it named, no verification of that
/// organisation sends anything, whichever line was answered; other organisations go on.
final class OrganisationThrottle: Sendable {
    private let resumeAt = Mutex<[String: ContinuousClock.Instant]>([:])
    /// The longest pause honoured (a `Retry-After` of hours would stall the import: the line is refused instead).
    let longestPause: Duration

    init(longestPause: Duration = .seconds(30)) {
        self.longestPause = longestPause
    }

    /// Waits until `organisation` may be sent requests again.
    func waitIfPaused(_ organisation: String) async {
        while true {
            let until = resumeAt.withLock { $0[organisation] }
            guard let until, until > .now else { return }
            try? await Task.sleep(until: until, clock: .continuous)
        }
    }

    /// After a passing failure: pauses the organisation when iManage asked it to slow down, and
    /// says whether it did (otherwise the caller backs off on its own).
    func pauseIfAsked(_ organisation: String, by failure: RefreshFailure, fallback: Duration) -> Bool {
        guard failure.httpStatus == 429 || failure.retryAfter != nil else { return false }
        let wait = min(longestPause, failure.retryAfter.map { Duration.milliseconds(Int64($0 * 1000)) } ?? fallback)
        let until = ContinuousClock.now + wait
        resumeAt.withLock { resumeAt in
            if let current = resumeAt[organisation], current >= until { return }
            resumeAt[organisation] = until
        }
        return true
    }
}
