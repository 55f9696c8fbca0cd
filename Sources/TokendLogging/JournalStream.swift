#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Whether stderr is connected to the journal: systemd sets `$JOURNAL_STREAM` to the
/// `device:inode` of the stream it gives a service, so comparing it with `fstat(2)` of fd 2
/// tells a service's stderr from a terminal or a pipe it was redirected to.
public enum JournalStream {
    public static func isStandardErrorJournal(environment: [String: String]) -> Bool {
        guard let value = environment["JOURNAL_STREAM"], let (device, inode) = parse(value) else { return false }
        var status = stat()
        guard fstat(STDERR_FILENO, &status) == 0 else { return false }
        return UInt64(status.st_dev) == device && UInt64(status.st_ino) == inode
    }

    /// `"8:12345"` → (8, 12345); anything else → `nil`.
    static func parse(_ value: String) -> (device: UInt64, inode: UInt64)? {
        let parts = value.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else { return nil }
        return (device, inode)
    }
}
