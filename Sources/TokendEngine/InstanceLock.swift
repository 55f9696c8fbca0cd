import Foundation

/// Makes sure one daemon at a time runs on a database: an exclusive `flock` on `DATABASE.lock`,
/// released by the kernel when the process ends however it ends, holding the owner's pid.
public final class InstanceLock: Sendable {
    public let path: String
    private let descriptor: Int32

    public enum Failure: Error, CustomStringConvertible {
        case heldByAnother(path: String, pid: String?)
        case cannotOpen(path: String, reason: String)

        public var description: String {
            switch self {
            case let .heldByAnother(path, pid):
                "another imanage-tokend run\(pid.map { " (pid \($0))" } ?? "") is already using this database (\(path) is locked): stop it first, or point this one at another database"
            case let .cannotOpen(path, reason):
                "cannot open the instance lock \(path): \(reason)"
            }
        }
    }

    public init(database: String) throws(Failure) {
        path = database + ".lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .cannotOpen(path: path, reason: String(cString: strerror(errno))) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            var buffer = [UInt8](repeating: 0, count: 32)
            let count = pread(fd, &buffer, buffer.count, 0)
            close(fd)
            let pid = count > 0 ? String(decoding: buffer.prefix(count), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) : nil
            throw .heldByAnother(path: path, pid: pid?.isEmpty == false ? pid : nil)
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pwrite(fd, pid, pid.count, 0)
        descriptor = fd
    }

    deinit { close(descriptor) }

    /// Whether a daemon holds the lock of `database` now, and its pid; takes nothing.
    ///
    /// A shared, non-blocking `flock` on `DATABASE.lock` fails while the daemon holds it
    /// exclusively. When it succeeds (no daemon), it is released at once; a daemon starting in
    /// that microsecond would see the lock held and exit 75, so run it again.
    public static func holder(database: String) -> (running: Bool, pid: Int32?) {
        let path = database + ".lock"
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return (false, nil) }
        defer { close(fd) }
        if flock(fd, LOCK_SH | LOCK_NB) == 0 {
            flock(fd, LOCK_UN)
            return (false, nil)
        }
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = pread(fd, &buffer, buffer.count, 0)
        let text = count > 0 ? String(decoding: buffer.prefix(count), as: UTF8.self) : ""
        return (true, Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)))
    }
}
