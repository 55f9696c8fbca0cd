import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A Unix datagram socket the test binds, to receive what the code under test sends.
/// `name` starting with `@` binds in the abstract namespace.
final class DatagramReceiver {
    let name: String
    private let descriptor: CInt
    private let filePath: String?

    /// A socket at a fresh path in the temporary directory, or a fresh abstract name.
    init(abstract: Bool = false) throws {
        let unique = "tokend-test-\(getpid())-\(UUID().uuidString.prefix(8))"
        name = abstract ? "@\(unique)" : NSTemporaryDirectory() + unique + ".sock"
        filePath = abstract ? nil : name
        descriptor = socket(AF_UNIX, CInt(SOCK_DGRAM.rawValue), 0)
        guard descriptor >= 0 else { throw POSIXError(.EIO) }

        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(name.utf8)
        if abstract { bytes[0] = 0 }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + bytes.count + (abstract ? 0 : 1))
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) }
        }
        guard bound == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }

        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit {
        close(descriptor)
        if let filePath { unlink(filePath) }
    }

    /// The next datagram, or `nil` after five seconds without one.
    func receive() -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: 256 * 1024)
        let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
        return count < 0 ? nil : Array(buffer.prefix(count))
    }
}

/// Reads a journal native-protocol datagram back into (name, value) pairs, in order, and
/// notes which fields used the binary length-prefixed form.
struct JournalDatagram {
    var fields: [(name: String, value: [UInt8])] = []
    var binaryFields: Set<String> = []

    init?(_ bytes: [UInt8]) {
        var index = 0
        while index < bytes.count {
            guard let end = bytes[index...].firstIndex(where: { $0 == UInt8(ascii: "=") || $0 == UInt8(ascii: "\n") })
            else { return nil }
            let name = String(decoding: bytes[index..<end], as: UTF8.self)
            if bytes[end] == UInt8(ascii: "=") {
                guard let newline = bytes[(end + 1)...].firstIndex(of: UInt8(ascii: "\n")) else { return nil }
                fields.append((name, Array(bytes[(end + 1)..<newline])))
                index = newline + 1
            } else {
                let lengthStart = end + 1
                guard lengthStart + 8 <= bytes.count else { return nil }
                var length: UInt64 = 0
                for (shift, byte) in bytes[lengthStart..<(lengthStart + 8)].enumerated() {
                    length |= UInt64(byte) << (8 * UInt64(shift))
                }
                let valueStart = lengthStart + 8
                let valueEnd = valueStart + Int(length)
                guard valueEnd < bytes.count, bytes[valueEnd] == UInt8(ascii: "\n") else { return nil }
                fields.append((name, Array(bytes[valueStart..<valueEnd])))
                binaryFields.insert(name)
                index = valueEnd + 1
            }
        }
    }

    subscript(name: String) -> String? {
        fields.first { $0.name == name }.map { String(decoding: $0.value, as: UTF8.self) }
    }

    var names: [String] { fields.map(\.name) }
}

/// A pipe whose write end stands in for stderr.
final class CapturePipe {
    let readEnd: CInt
    let writeEnd: CInt

    init() {
        var ends: [CInt] = [0, 0]
        precondition(pipe(&ends) == 0)
        readEnd = ends[0]
        writeEnd = ends[1]
    }

    deinit {
        close(readEnd)
        close(writeEnd)
    }

    /// Whatever has been written so far (call after the writes).
    func drain() -> String {
        var flags = fcntl(readEnd, F_GETFL)
        flags |= O_NONBLOCK
        _ = fcntl(readEnd, F_SETFL, flags)
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(readEnd, $0.baseAddress, $0.count) }
            if count <= 0 { break }
            output.append(contentsOf: buffer.prefix(count))
        }
        return String(decoding: output, as: UTF8.self)
    }
}
