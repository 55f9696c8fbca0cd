import Foundation

/// Short relative times for people: "in 14m", "3h ago", "in 364d".
public enum RelativeTime {
    public static func describe(_ date: Date, now: Date) -> String {
        let seconds = date.timeIntervalSince(now)
        let amount = compact(abs(seconds))
        if abs(seconds) < 1 { return "now" }
        return seconds > 0 ? "in \(amount)" : "\(amount) ago"
    }

    /// 42s, 14m, 3h, 12d: the largest unit that fits, rounded down.
    public static func compact(_ seconds: TimeInterval) -> String {
        switch seconds {
        case ..<60: "\(Int(seconds))s"
        case ..<3600: "\(Int(seconds / 60))m"
        case ..<(2 * 86_400): "\(Int(seconds / 3600))h"
        default: "\(Int(seconds / 86_400))d"
        }
    }
}
