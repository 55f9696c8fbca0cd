#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Recognises IP address literals, for the loopback rule and the `listen` address.
enum IPAddress {
    /// The four octets of a dotted-quad IPv4 address (`127.0.0.1`), or `nil`.
    static func ipv4Octets(_ text: String) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var octets: [UInt8] = []
        for part in parts {
            guard (1...3).contains(part.count), part.allSatisfy(\.isASCII), part.allSatisfy(\.isNumber),
                  let octet = UInt8(part) else { return nil }
            octets.append(octet)
        }
        return octets
    }

    /// The 16 bytes of an IPv6 address without brackets (`::1`), or `nil`.
    static func ipv6Bytes(_ text: String) -> [UInt8]? {
        guard !text.isEmpty, text.utf8.count < 64 else { return nil }
        var address = in6_addr()
        let parsed = text.withCString { inet_pton(AF_INET6, $0, &address) }
        guard parsed == 1 else { return nil }
        return withUnsafeBytes(of: &address) { Array($0) }
    }

    /// `localhost`, `127.0.0.0/8` or `::1` (with or without brackets).
    static func isLoopback(host: String) -> Bool {
        var host = host.lowercased()
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host == "localhost" || host == "localhost." { return true }
        if let octets = ipv4Octets(host) { return octets[0] == 127 }
        if let bytes = ipv6Bytes(host) { return bytes == Array(repeating: 0, count: 15) + [1] }
        return false
    }
}
