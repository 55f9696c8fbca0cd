import Foundation

/// Reads `history --since`: an RFC 3339 time (`2026-11-20T08:00:00Z`), a date (`2026-11-20`,
/// midnight UTC), `today` or `yesterday` (midnight UTC), or an age: a number and a unit,
/// `s`, `m`, `h`, `d` or `w` (`90m`, `24h`, `7d`).
public enum SinceParser {
    public struct Invalid: Error, CustomStringConvertible {
        public var text: String
        public var description: String {
            "--since \(text): expected an age such as 30m, 24h or 7d, a time such as 2026-11-20T08:00:00Z, a date such as 2026-11-20, or today or yesterday"
        }
    }

    public static func parse(_ text: String, now: Date = Date()) throws(Invalid) -> Date {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        var utc = Calendar(identifier: .gregorian)
        utc.timeZone = TimeZone(identifier: "UTC")!
        switch trimmed.lowercased() {
        case "today": return utc.startOfDay(for: now)
        case "yesterday": return utc.startOfDay(for: now).addingTimeInterval(-86_400)
        default: break
        }
        if let unit = trimmed.last, let scale = scales[unit.lowercased().first ?? " "],
           let amount = Double(trimmed.dropLast()), amount >= 0, amount.isFinite {
            return now.addingTimeInterval(-amount * scale)
        }
        if let date = RFC3339.date(trimmed) { return date }
        if trimmed.count == 10, let date = try? Date.ISO8601FormatStyle().year().month().day().parse(trimmed) {
            return date
        }
        throw Invalid(text: text)
    }

    private static let scales: [Character: TimeInterval] = ["s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800]
}
