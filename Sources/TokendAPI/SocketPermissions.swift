import Foundation

/// Gives the API socket its contract permissions: mode 0660, group `imanage-tokend`, so the
/// daemon's user and the local programs in that group may connect, and nobody else.
public enum SocketPermissions {
    /// The group whose members may use the token API.
    public static let defaultGroup = "imanage-tokend"

    /// Sets mode 0660 and, when `group` exists, that group. Returns what an administrator should
    /// know (the group is missing, or could not be set), or `nil` when all was done.
    public static func apply(path: String, group: String = defaultGroup) throws(APIServerError) -> String? {
        guard chmod(path, 0o660) == 0 else {
            throw .socketPermissions(path: path, reason: String(cString: strerror(errno)))
        }
        guard let gid = groupID(named: group) else {
            return "group \(group) does not exist: the API socket \(path) keeps the daemon's group (gid \(getegid())); create the group (systemd-sysusers) and add the programs that need tokens to it"
        }
        guard chown(path, uid_t.max, gid) == 0 else {
            return "cannot give the API socket \(path) to group \(group): \(String(cString: strerror(errno))); run the daemon as a member of \(group)"
        }
        return nil
    }

    /// The id of group `name`, if it exists.
    public static func groupID(named name: String) -> gid_t? {
        var entry = group()
        var result: UnsafeMutablePointer<group>?
        var buffer = [CChar](repeating: 0, count: 16 * 1024)
        guard getgrnam_r(name, &entry, &buffer, buffer.count, &result) == 0, result != nil else { return nil }
        return entry.gr_gid
    }
}
