import Foundation
import TokendTestSupport

/// A client socket for listener tests: connect over TCP or a Unix socket, send raw bytes, read
/// with a bounded wait (the blocking calls on a thread of their own). Closed when released.
final class RawConnection: Sendable {
    let fd: Int32

    /// Connects to `127.0.0.1:port`.
    static func open(port: Int) async throws -> RawConnection {
        try await offThePool { try RawConnection(port: port) }
    }

    /// Connects to the Unix socket at `path`.
    static func open(unixPath path: String) async throws -> RawConnection {
        try await offThePool { try RawConnection(unixPath: path) }
    }

    private init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else { close(fd); throw POSIXError(.ECONNREFUSED) }
    }

    private init(unixPath path: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = unixSocketAddress(path)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard result == 0 else { close(fd); throw POSIXError(.ECONNREFUSED) }
    }

    deinit { close(fd) }

    /// Closes both directions, as a client does when done (the descriptor is closed at release).
    func hangUp() { shutdown(fd, Int32(SHUT_RDWR)) }

    func send(_ text: String) async {
        _ = try? await offThePool { self.sendNow(text) }
    }

    private func sendNow(_ text: String) {
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { return }
            sent += n
        }
    }

    enum ReadResult: Equatable, Sendable {
        /// Bytes arrived.
        case data(String)
        /// The server closed the connection (or reset it).
        case closed
        /// Nothing within the wait.
        case timedOut
    }

    /// Reads what arrives within `seconds` (until the first bytes, then what follows at once).
    func read(within seconds: Double) async -> ReadResult {
        (try? await offThePool { self.readNow(within: seconds) }) ?? .timedOut
    }

    /// A recv with `SO_RCVTIMEO` is not restarted after a signal: it fails with EINTR at once. In a
    /// full test run other tests' child processes send this process SIGCHLD, which made a read
    /// "time out" early (ListenerLimitsTests failed only there). It is asked again for the time left.
    private func readNow(within seconds: Double) -> ReadResult {
        let deadline = Date().addingTimeInterval(seconds)
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let left = max(deadline.timeIntervalSinceNow, 0.001)
            var waitFor = timeval(tv_sec: Int(left), tv_usec: suseconds_t((left - Double(Int(left))) * 1_000_000))
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &waitFor, socklen_t(MemoryLayout<timeval>.size))
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 { return .data(String(decoding: buffer.prefix(n), as: UTF8.self)) }
            if n == 0 || errno == ECONNRESET { return .closed }
            if errno == EINTR, Date() < deadline { continue }
            return .timedOut
        }
    }

    /// Sends one request and reads its answer: the status code, or `nil` when the connection closed.
    func request(_ text: String, within seconds: Double = 5) async -> Int? {
        await send(text)
        guard case .data(let answer) = await read(within: seconds) else { return nil }
        let parts = answer.split(separator: " ", maxSplits: 2)
        return parts.count > 1 ? Int(parts[1]) : nil
    }

    /// Connects, sends `text` and reads the status in one step on one thread, so no scheduling gap
    /// between connecting and sending (seconds, on a machine busy with the whole suite) makes this
    /// client look idle to a server with a short idle timeout.
    static func request(_ text: String, port: Int, within seconds: Double = 5) async throws -> Int? {
        try await offThePool {
            let connection = try RawConnection(port: port)
            connection.sendNow(text)
            guard case .data(let answer) = connection.readNow(within: seconds) else { return nil }
            let parts = answer.split(separator: " ", maxSplits: 2)
            return parts.count > 1 ? Int(parts[1]) : nil
        }
    }

    static func get(_ path: String, keepAlive: Bool = true) -> String {
        "GET \(path) HTTP/1.1\r\nHost: localhost\r\n\(keepAlive ? "" : "Connection: close\r\n")\r\n"
    }
}

/// The address of the Unix socket at `path` (which must fit in 108 bytes).
func unixSocketAddress(_ path: String) -> sockaddr_un {
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    let bytes = Array(path.utf8)
    withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes + [0]) }
    return address
}
