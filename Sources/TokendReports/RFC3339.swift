import Foundation

/// Times as the contract writes them: RFC 3339 in UTC, to the second (`2026-11-23T16:10:23Z`).
public enum RFC3339 {
    public static func string(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(timeZone: TimeZone(identifier: "UTC")!))
    }

    public static func string(_ date: Date?) -> String? { date.map(string) }

    /// Parses `2026-11-23T16:10:23Z`, `…+01:00`, with or without fractional seconds.
    public static func date(_ text: String) -> Date? {
        if let date = try? Date.ISO8601FormatStyle().parse(text) { return date }
        return try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text)
    }
}
