import Foundation

/// Gives the API socket its contract permissions: mode 0660, group `imanage-tokend` (or
/// `api_socket_group`), so the daemon's user and the local programs in that group may connect,
/// and nobody else.
public enum SocketPermissions {
    /// The group whose members may use the token API, unless `api_socket_group` names another.
    public static let defaultGroup = "imanage-tokend"

    /// What was done: the group the socket has (`nil` when it kept the daemon's own), and what
    /// an administrator should know.
    public struct Outcome: Sendable, Equatable {
        public var group: gid_t?
        public var note: String?
    }

    /// Sets mode 0660 and gives the socket `group` (a name or a number).
    ///
    /// A group that does not exist, or that the daemon cannot give, is an error (the programs
    /// meant to use the API could not connect), unless the socket's directory is private to the
    /// daemon's user (mode 0700, owned by it, as `scripts/demo` makes it): then nobody else could
    /// reach the socket anyway, and it is only a note.
    public static func apply(path: String, group: String = defaultGroup, explicit: Bool = false) throws(APIServerError) -> Outcome {
        guard chmod(path, 0o660) == 0 else {
            throw .socketPermissions(path: path, reason: String(cString: strerror(errno)))
        }
        let directory = (path as NSString).deletingLastPathComponent
        let isPrivate = directoryIsPrivate(directory.isEmpty ? "." : directory)
        guard let gid = groupID(named: group) else {
            guard isPrivate else { throw .socketGroupMissing(path: path, group: group, explicit: explicit) }
            return Outcome(group: nil, note: "group \(group) does not exist: the API socket \(path) keeps the daemon's group (gid \(getegid())); only the daemon's user can reach it, in its private directory")
        }
        // The daemon's own group already (the unit's Group=): nothing to give. The unit's
        // SystemCallFilter=~@privileged refuses chown(2) with EPERM, so it must not be called then.
        var info = stat()
        if stat(path, &info) == 0, info.st_gid == gid { return Outcome(group: gid, note: nil) }
        guard chown(path, uid_t.max, gid) == 0 else {
            let reason = String(cString: strerror(errno))
            guard isPrivate else { throw .socketGroupNotGiven(path: path, group: group, reason: reason) }
            return Outcome(group: nil, note: "cannot give the API socket \(path) to group \(group): \(reason); only the daemon's user can reach it, in its private directory")
        }
        return Outcome(group: gid, note: nil)
    }

    /// Whether `directory` is mode 0700 (nothing for group or others) and owned by this process's user.
    static func directoryIsPrivate(_ directory: String) -> Bool {
        var info = stat()
        guard stat(directory, &info) == 0 else { return false }
        return info.st_uid == geteuid() && info.st_mode & 0o077 == 0
    }

    /// The id of group `name` (or of the number `name` spells), if it exists.
    public static func groupID(named name: String) -> gid_t? {
        var entry = group()
        var result: UnsafeMutablePointer<group>?
        var buffer = [CChar](repeating: 0, count: 16 * 1024)
        if let number = gid_t(name) {
            guard getgrgid_r(number, &entry, &buffer, buffer.count, &result) == 0, result != nil else { return nil }
            return number
        }
        guard getgrnam_r(name, &entry, &buffer, buffer.count, &result) == 0, result != nil else { return nil }
        return entry.gr_gid
    }
}
