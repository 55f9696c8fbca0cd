import Foundation
import Synchronization

/// Reads a `Retry-After` header: delta-seconds or an HTTP date.
public enum RetryAfter {
    public static func seconds(from header: String?, now: Date) -> TimeInterval? {
        guard let header = header?.trimmingCharacters(in: .whitespaces), !header.isEmpty else { return nil }
        if let seconds = Int(header), seconds >= 0 { return TimeInterval(seconds) }
        // An HTTP date is a short line of printable ASCII (RFC 9110, 5.6.7); anything else is
        // refused before the formatter sees it: Foundation's DateFormatter traps when its parse
        // ends inside a grapheme, as after a digit followed by a combining mark (found by fuzzing).
        guard header.utf8.count <= 64, header.utf8.allSatisfy({ (0x20...0x7E).contains($0) }) else { return nil }
        guard let date = httpDate.withLock({ $0.date(from: header) }) else { return nil }
        return max(0, date.timeIntervalSince(now))
    }

    /// Made once: a `DateFormatter` costs tens of milliseconds to make (the fuzzer found every
    /// answer with a date paying that); the lock keeps the one formatter to one thread at a time.
    private static let httpDate: Mutex<DateFormatter> = {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return Mutex(formatter)
    }()
}
