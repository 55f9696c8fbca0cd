#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An unbound Unix datagram socket that sends whole messages to a socket path: how journald's
/// native protocol and sd_notify both work. A path starting with `@` names a socket in the
/// abstract namespace (Linux), as `$NOTIFY_SOCKET` may.
///
/// `send` may be called from any thread: each call is one `sendto(2)`, and datagrams are never
/// interleaved.
final class UnixDatagramSocket: Sendable {
    private let descriptor: CInt

    init?() {
        #if canImport(Glibc)
        let fd = socket(AF_UNIX, CInt(SOCK_DGRAM.rawValue) | CInt(SOCK_CLOEXEC.rawValue), 0)
        #else
        let fd = socket(AF_UNIX, SOCK_DGRAM, 0)
        #endif
        guard fd >= 0 else { return nil }
        descriptor = fd
    }

    deinit { close(descriptor) }

    /// Asks the kernel for a send buffer of `bytes` (journald's own client asks for 8 MiB), best effort.
    func enlargeSendBuffer(to bytes: Int) {
        var size = CInt(clamping: bytes)
        _ = setsockopt(descriptor, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<CInt>.size))
    }

    /// Sends `message` as one datagram to `path`. Returns 0, or the `errno` of the failure.
    @discardableResult
    func send(_ message: [UInt8], to path: String) -> CInt {
        guard var address = Self.address(path) else { return ENAMETOOLONG }
        let result = withUnsafePointer(to: &address.storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                message.withUnsafeBytes { bytes in
                    sendto(descriptor, bytes.baseAddress, bytes.count, CInt(MSG_NOSIGNAL), socketAddress, address.length)
                }
            }
        }
        return result < 0 ? errno : 0
    }

    /// Sends one datagram through a socket opened for it alone: for rare messages (sd_notify).
    static func sendOnce(_ message: [UInt8], to path: String) -> Bool {
        guard let socket = UnixDatagramSocket() else { return false }
        return socket.send(message, to: path) == 0
    }

    /// `sockaddr_un` for `path`; a leading `@` becomes the NUL of the abstract namespace, whose
    /// name is not NUL-terminated and whose length counts only the bytes used.
    static func address(_ path: String) -> (storage: sockaddr_un, length: socklen_t)? {
        var bytes = Array(path.utf8)
        let abstract = bytes.first == UInt8(ascii: "@")
        if abstract { bytes[0] = 0 }
        var storage = sockaddr_un()
        storage.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: storage.sun_path)
        guard !bytes.isEmpty, bytes.count < capacity else { return nil }
        withUnsafeMutableBytes(of: &storage.sun_path) { raw in
            raw.copyBytes(from: bytes)
        }
        let pathOffset = MemoryLayout<sockaddr_un>.offset(of: \.sun_path) ?? 2
        let length = pathOffset + bytes.count + (abstract ? 0 : 1)
        return (storage, socklen_t(length))
    }
}
