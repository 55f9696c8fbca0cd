import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A TCP port on 127.0.0.1 from the kernel (port 0), bound for as long as this object lives so no
/// one else can take it: not listening, connecting to it is refused; listening, it is a taken port.
/// `free()` gives a port for a daemon's `listen`, so that no test's daemon finds its port taken by another's.
public final class LocalPort {
    public let port: Int
    private var descriptor: Int32

    /// Binds 127.0.0.1:0 and keeps it bound, and listening when `listening` (a taken port).
    public init(listening: Bool = false) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EMFILE) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound, !listening || listen(fd, 1) == 0 else {
            close(fd)
            throw POSIXError(.EADDRINUSE)
        }
        descriptor = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    /// A port free now (bound, then released) for a daemon to listen on.
    public static func free() throws -> Int {
        let taken = try LocalPort()
        defer { taken.release() }
        return taken.port
    }

    public func release() {
        if descriptor >= 0 { close(descriptor) }
        descriptor = -1
    }

    deinit { release() }
}
