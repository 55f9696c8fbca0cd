import Foundation
import HTTPTypes

/// A failure of the callback on its way to the clean page `/oauth/failed`: the callback answers
/// with a redirect there (so the address bar, the history and a bookmark never keep the `code`
/// and `state`) and this note rides along sealed in a short-lived cookie. It holds what the page
/// shows, never the code.
struct FailureNote: Codable, Sendable, Equatable {
    var status: Int
    var title: String
    var explanation: String
    var nextStep: String
    var retryLabel: String?
    var retryHref: String?
    var organisation: String?

    static let cookieName = "tokend_failure"
    static let path = "/oauth/failed"
    /// Seconds the note can be shown (a reload shows it again).
    static let lifetime = 300
    /// Longest text kept per field: the sealed cookie stays well below browsers' 4 KiB.
    static let maximumText = 700

    init(_ failure: WebFailure, organisation: String?) {
        func cut(_ text: String) -> String { text.count > Self.maximumText ? String(text.prefix(Self.maximumText)) + "…" : text }
        status = failure.status.code
        title = cut(failure.title)
        explanation = cut(failure.explanation)
        nextStep = cut(failure.nextStep)
        retryLabel = failure.retry.map { cut($0.label) }
        retryHref = failure.retry.map { cut($0.href) }
        self.organisation = organisation
    }

    var failure: WebFailure {
        var retry: RetryLink?
        if let retryLabel, let retryHref { retry = (label: retryLabel, href: retryHref) }
        return WebFailure(
            status: HTTPResponse.Status(code: (400...599).contains(status) ? status : 400), title: title, explanation: explanation,
            nextStep: nextStep, retry: retry, reason: "callback failure shown")
    }
}
