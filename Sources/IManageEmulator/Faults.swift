import Synchronization

/// A failure the emulator injects into its answers, to see how a client copes.
///
/// JSON form (`POST /_emulator/faults`), `count` optional (absent: until cleared):
/// - `{"endpoint":"token","kind":"server_error","status":503,"count":2}`
/// - `{"endpoint":"token","kind":"too_many_requests","retry_after":30}`
/// - `{"endpoint":"api","kind":"hang","seconds":10,"then":"gateway_timeout"}` (or `"then":"drop"`)
/// - `{"endpoint":"all","kind":"invalid_grant"}`, `"invalid_client"`, `"unauthorized_client"`
/// - `{"endpoint":"token","kind":"non_json"}`: a 200 HTML page, as a captive proxy would send
public struct Fault: Sendable, Equatable {
    /// Which requests a fault hits.
    public enum Target: String, Sendable, CaseIterable {
        case token, authorize, api, libraries, members, all

        func matches(_ endpoint: EmulatorEndpoint) -> Bool {
            self == .all || rawValue == endpoint.rawValue
        }
    }

    /// What a held ("hanging") request finally gets.
    public enum HangEnding: String, Sendable {
        /// A `504 Gateway Timeout` page, as a proxy in front of the server would send.
        case gatewayTimeout = "gateway_timeout"
        /// The connection is closed without an answer.
        case drop
    }

    /// The failure itself.
    public enum Kind: Sendable, Equatable {
        /// An HTTP 5xx answer with a small HTML body.
        case serverError(status: Int)
        /// HTTP 429 with `Retry-After: seconds`.
        case tooManyRequests(retryAfterSeconds: Int)
        /// Holds the request for `seconds`, or until the fault is cleared, then ends it.
        case hang(seconds: Double, then: HangEnding)
        /// HTTP 400 `{"error":"invalid_grant"}`.
        case invalidGrant
        /// HTTP 401 `{"error":"invalid_client"}`.
        case invalidClient
        /// HTTP 400 `{"error":"unauthorized_client"}`.
        case unauthorizedClient
        /// HTTP 200 with an HTML page instead of JSON.
        case nonJSON
    }

    public var target: Target
    public var kind: Kind
    /// How many requests the fault hits before it goes away by itself; nil for all until cleared.
    public var count: Int?

    public init(_ kind: Kind, on target: Target, count: Int? = nil) {
        self.kind = kind
        self.target = target
        self.count = count
    }

    /// What is wrong with this fault, or nil when it can be installed.
    public var problem: String? {
        if let count, count < 1 { return "count must be at least 1" }
        switch kind {
        case .serverError(let status) where !(500...599).contains(status):
            return "status must be 500...599"
        case .tooManyRequests(let seconds) where !(0...86_400).contains(seconds):
            return "retry_after must be 0...86400 seconds"
        case .hang(let seconds, _) where !(seconds >= 0 && seconds <= 3600):
            return "seconds must be 0...3600"
        default:
            return nil
        }
    }

    var outcome: RequestOutcome {
        switch kind {
        case .serverError: .faultServerError
        case .tooManyRequests: .faultTooManyRequests
        case .hang: .faultHang
        case .invalidGrant: .faultInvalidGrant
        case .invalidClient: .faultInvalidClient
        case .unauthorizedClient: .faultUnauthorizedClient
        case .nonJSON: .faultNonJSON
        }
    }
}

/// The installed faults, in the order they were added; the first that matches a request hits it.
final class FaultBook: Sendable {
    private struct Entry {
        let id: Int
        let fault: Fault
        var remaining: Int?
    }

    private struct Book {
        var nextID = 1
        var entries: [Entry] = []
    }

    private let book = Mutex(Book())

    /// Installs a fault and returns its id.
    func add(_ fault: Fault) -> Int {
        book.withLock { book in
            let id = book.nextID
            book.nextID += 1
            book.entries.append(Entry(id: id, fault: fault, remaining: fault.count))
            return id
        }
    }

    /// Removes one fault; false when there was none with that id.
    func remove(id: Int) -> Bool {
        book.withLock { book in
            guard let index = book.entries.firstIndex(where: { $0.id == id }) else { return false }
            book.entries.remove(at: index)
            return true
        }
    }

    func removeAll() {
        book.withLock { $0.entries.removeAll() }
    }

    /// The faults installed now, with how many hits each has left.
    func list() -> [(id: Int, fault: Fault, remaining: Int?)] {
        book.withLock { $0.entries.map { ($0.id, $0.fault, $0.remaining) } }
    }

    /// The fault that hits this request, if any, counting the hit.
    func take(for endpoint: EmulatorEndpoint) -> (id: Int, fault: Fault)? {
        book.withLock { book in
            guard let index = book.entries.firstIndex(where: { $0.fault.target.matches(endpoint) }) else { return nil }
            let entry = book.entries[index]
            if let remaining = entry.remaining {
                if remaining <= 1 {
                    book.entries.remove(at: index)
                } else {
                    book.entries[index].remaining = remaining - 1
                }
            }
            return (entry.id, entry.fault)
        }
    }
}

/// Where hanging requests wait, so that clearing their fault (or stopping the emulator)
/// lets them go at once instead of after their full time.
final class HangRelease: Sendable {
    private struct Waiters {
        var nextTicket = 0
        var waiting: [Int: (faultID: Int, continuation: CheckedContinuation<Void, Never>)] = [:]
        /// Tickets cancelled before they started waiting.
        var cancelled: Set<Int> = []
        /// Fault ids released (cleared) while requests of theirs were on their way to waiting.
        var released: Set<Int> = []
        var releasedEverything = false
    }

    private let waiters = Mutex(Waiters())

    /// Waits up to `seconds`, or less if the fault `faultID` is released first.
    func hold(seconds: Double, faultID: Int) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                try? await Task.sleep(for: .seconds(seconds))
            }
            group.addTask {
                await self.waitForRelease(of: faultID)
            }
            await group.next()
            group.cancelAll()
        }
    }

    /// Lets every request held by fault `faultID` go.
    func release(faultID: Int) {
        let resumed = waiters.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.released.insert(faultID)
            let tickets = state.waiting.filter { $0.value.faultID == faultID }.map(\.key)
            return tickets.compactMap { state.waiting.removeValue(forKey: $0)?.continuation }
        }
        for continuation in resumed { continuation.resume() }
    }

    /// Lets every held request go; with `permanently`, later holds end at once (used when stopping).
    func releaseAll(permanently: Bool = false) {
        let resumed = waiters.withLock { state -> [CheckedContinuation<Void, Never>] in
            if permanently { state.releasedEverything = true }
            let all = state.waiting.values.map(\.continuation)
            state.waiting.removeAll()
            return all
        }
        for continuation in resumed { continuation.resume() }
    }

    private func waitForRelease(of faultID: Int) async {
        let ticket = waiters.withLock { state -> Int in
            state.nextTicket += 1
            return state.nextTicket
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = waiters.withLock { state -> Bool in
                    if state.cancelled.remove(ticket) != nil || state.releasedEverything
                        || state.released.contains(faultID)
                    {
                        return true
                    }
                    state.waiting[ticket] = (faultID, continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let continuation = waiters.withLock { state -> CheckedContinuation<Void, Never>? in
                if let waiter = state.waiting.removeValue(forKey: ticket) { return waiter.continuation }
                state.cancelled.insert(ticket)
                return nil
            }
            continuation?.resume()
        }
    }
}
