import Foundation
import TokendPolicy
import TokendReports

/// Times and statuses as the pages show them.
enum TimeText {
    /// `2025-03-01 14:03:22 UTC (in 15m)`, or an em dash for no time.
    static func describe(_ date: Date?, now: Date) -> String {
        guard let date else { return "—" }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        let stamp = formatter.string(from: date).replacingOccurrences(of: "T", with: " ").replacingOccurrences(of: "Z", with: " UTC")
        return "\(stamp) (\(RelativeTime.describe(date, now: now)))"
    }
}

extension GrantStatus {
    /// The status in words, as the Tracker page and the user page show it.
    var label: String {
        switch self {
        case .authorized: "Authorized"
        case .retrying: "Retrying"
        case .expired: "Expired"
        case .needsReauth: "Needs re-authorization"
        case .clientError: "Client refused"
        case .notNrtadmin: "Not NRTADMIN"
        case .unauthorized: "Unauthorized"
        case .disabled: "Disabled"
        }
    }

    /// A status badge.
    var badge: String {
        let tone = switch severity {
        case .ok: "ok"
        case .warning: "warning"
        case .critical, .unknown: "critical"
        }
        return "<span class=\"status status-\(tone)\" title=\"\(rawValue)\">\(HTML.escape(label))</span>"
    }
}
