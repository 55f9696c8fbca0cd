/// Why the token API could not start, and what to do.
public enum APIServerError: Error, CustomStringConvertible, Equatable {
    case socketInUse(path: String)
    case notASocket(path: String)
    case socketPermissions(path: String, reason: String)
    case cannotListen(path: String, reason: String)
    case socketGroupMissing(path: String, group: String, explicit: Bool)
    case socketGroupNotGiven(path: String, group: String, reason: String)

    public var description: String {
        switch self {
        case let .socketInUse(path):
            "the API socket \(path) is served by another running process: stop it, or give this daemon another api_socket"
        case let .notASocket(path):
            "api_socket \(path) exists and is not a socket: it is left alone; point api_socket at a free path (e.g. /run/imanage-tokend/api.sock)"
        case let .socketPermissions(path, reason):
            "cannot set mode 0660 on the API socket \(path): \(reason)"
        case let .socketGroupMissing(path, group, explicit):
            explicit
                ? "api_socket_group \(group) does not exist, so no program could use the API socket \(path): create the group (groupadd \(group)) or name an existing one in api_socket_group"
                : "group \(group) does not exist, so no program could use the API socket \(path): create it (systemd-sysusers, or groupadd \(group)), name an existing group in api_socket_group, or put api_socket in a directory only the daemon's user can enter (mode 0700)"
        case let .socketGroupNotGiven(path, group, reason):
            "cannot give the API socket \(path) to group \(group): \(reason); run the daemon as a member of \(group), or name one of its groups in api_socket_group"
        case let .cannotListen(path, reason):
            "cannot listen on the API socket \(path): \(reason) (check api_socket and that its directory exists and is writable by the daemon's user)"
        }
    }
}
