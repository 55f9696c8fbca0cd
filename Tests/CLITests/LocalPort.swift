import Foundation

/// A TCP port on 127.0.0.1 from the kernel (port 0), for a daemon's `listen`: every daemon of the
/// tests gets its own, so that none finds its web port taken by another test's daemon.
final class LocalPort {
    let port: Int
    private var descriptor: Int32

    /// Binds 127.0.0.1:0 and keeps it bound, and listening when `listening` (a taken port).
    init(listening: Bool = false) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EMFILE) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0, !listening || listen(fd, 1) == 0 else {
            close(fd)
            throw POSIXError(.EADDRINUSE)
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        descriptor = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    /// A port free now (bound, then released) for a daemon to listen on.
    static func free() throws -> Int {
        let taken = try LocalPort()
        defer { taken.release() }
        return taken.port
    }

    func release() {
        if descriptor >= 0 { close(descriptor) }
        descriptor = -1
    }

    deinit { release() }
}
