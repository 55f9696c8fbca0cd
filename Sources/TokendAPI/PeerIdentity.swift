import Foundation
import NIOCore

/// Who is at the other end of a token API connection, as the kernel says (`SO_PEERCRED`).
public struct PeerIdentity: Sendable, Equatable {
    public var uid: uid_t
    /// The peer process's effective group at connect time.
    public var gid: gid_t
    /// `gid` and the groups the user is a member of in the group database.
    public var groups: Set<gid_t>
    /// The peer's real uid is not mapped into the daemon's user namespace (systemd
    /// `PrivateUsers=yes`): the kernel shows it as the overflow uid (65534), and its groups are
    /// unknown. It did pass the socket's 0660 permission on connect, so it is root, the daemon's
    /// user or a member of the socket's group.
    public var isUnmapped: Bool

    public init(uid: uid_t, gid: gid_t, groups: Set<gid_t> = [], isUnmapped: Bool = false) {
        self.uid = uid
        self.gid = gid
        self.groups = groups.union([gid])
        self.isUnmapped = isUnmapped
    }

    /// `uid 1000 (alice)`: for messages.
    public var description: String {
        Self.userName(uid).map { "uid \(uid) (\($0))" } ?? "uid \(uid)"
    }

    /// The peer of a Unix socket connection, or `nil` when the kernel cannot tell (not a Unix socket).
    ///
    /// Supplementary groups come from `getgrouplist` of the uid's passwd entry: `SO_PEERGROUPS`
    /// would give the process's own list, but NIO's `unsafeGetSocketOption` reads a fixed-size
    /// value and does not return the length the kernel wrote.
    static func of(_ channel: any Channel) async -> PeerIdentity? {
        #if os(Linux)
        guard let provider = channel as? any SocketOptionProvider,
              let credentials: PeerCredentials = try? await provider.unsafeGetSocketOption(
                  level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_PEERCRED)).get()
        else { return nil }
        return PeerIdentity(
            uid: credentials.uid, gid: credentials.gid, groups: Self.groups(of: credentials.uid, gid: credentials.gid),
            isUnmapped: !UserNamespace.maps(credentials.uid))
        #else
        return nil
        #endif
    }

    /// The groups of the user `uid` in the group database, with `gid`.
    static func groups(of uid: uid_t, gid: gid_t) -> Set<gid_t> {
        guard let name = userName(uid) else { return [gid] }
        var count: Int32 = 64
        for _ in 0..<4 {
            var list = [gid_t](repeating: 0, count: Int(count))
            #if canImport(Glibc)
            let found = getgrouplist(name, gid, &list, &count)
            #else
            let found = list.withUnsafeMutableBufferPointer { buffer in
                buffer.baseAddress!.withMemoryRebound(to: Int32.self, capacity: buffer.count) {
                    getgrouplist(name, Int32(bitPattern: gid), $0, &count)
                }
            }
            #endif
            if found >= 0 { return Set(list.prefix(Int(count))).union([gid]) }
            count = max(count, Int32(list.count) * 2)
        }
        return [gid]
    }

    static func userName(_ uid: uid_t) -> String? {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16 * 1024)
        guard getpwuid_r(uid, &entry, &buffer, buffer.count, &result) == 0, result != nil else { return nil }
        return String(cString: entry.pw_name)
    }
}

/// Linux's `struct ucred`, as `SO_PEERCRED` fills it (declared here: Glibc shows it only with _GNU_SOURCE).
struct PeerCredentials: Sendable {
    var pid: Int32 = 0
    var uid: UInt32 = 0
    var gid: UInt32 = 0
}

/// This process's user namespace: which uids it maps (`/proc/self/uid_map`).
enum UserNamespace {
    /// `(first, count)` of each mapped range; everything when the file cannot be read.
    static let mappedRanges: [(first: UInt64, count: UInt64)] = {
        guard let text = try? String(contentsOfFile: "/proc/self/uid_map", encoding: .utf8) else { return [(0, UInt64(UInt32.max) + 1)] }
        return text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ", omittingEmptySubsequences: true).compactMap { UInt64($0) }
            return fields.count == 3 ? (fields[0], fields[2]) : nil
        }
    }()

    static func maps(_ uid: uid_t) -> Bool {
        mappedRanges.contains { UInt64(uid) >= $0.first && UInt64(uid) < $0.first + $0.count }
    }
}
