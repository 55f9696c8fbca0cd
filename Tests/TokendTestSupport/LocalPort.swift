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

    /// A port free now (bound, then released) for a daemon to listen on. It is taken from below the
    /// kernel's ephemeral range: a port from that range (port 0), once released, could be handed to
    /// the next server of another test that binds port 0 (an emulator took a daemon's web port so, and
    /// the secrets test talked to the emulator). Below it, only another `free()` could collide, and a
    /// random pick among thousands, checked by binding, makes that unlikely.
    public static func free() throws -> Int {
        let lowest = ephemeralRangeStart()
        let candidates = 10_000..<max(10_001, min(lowest, 32_768))
        for _ in 0..<64 {
            if let taken = try? LocalPort(port: Int.random(in: candidates)) {
                taken.release()
                return taken.port
            }
        }
        let taken = try LocalPort()
        defer { taken.release() }
        return taken.port
    }

    /// The first port of `/proc/sys/net/ipv4/ip_local_port_range` (32768 if it cannot be read).
    private static func ephemeralRangeStart() -> Int {
        let text = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8)) ?? ""
        return text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).first.flatMap { Int($0) } ?? 32_768
    }

    /// Binds 127.0.0.1:`port` (not listening), or throws if it is taken.
    private init(port: Int) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EMFILE) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard bound else {
            close(fd)
            throw POSIXError(.EADDRINUSE)
        }
        descriptor = fd
        self.port = port
    }

    public func release() {
        if descriptor >= 0 { close(descriptor) }
        descriptor = -1
    }

    deinit { release() }
}
