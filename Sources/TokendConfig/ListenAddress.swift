/// Where the web pages are served: a host (name, IPv4 or IPv6 address) and a TCP port.
public struct ListenAddress: Sendable, Hashable, CustomStringConvertible {
    /// The host without brackets: `127.0.0.1`, `localhost`, `::1`.
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Reads `host:port` or `[v6]:port`; `nil` when it is not one.
    public init?(_ text: String) {
        guard let address = try? Self.parse(text) else { return nil }
        self = address
    }

    /// `host:port`, with brackets around an IPv6 host.
    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    static func parse(_ text: String) throws(InvalidValue) -> ListenAddress {
        let expected = "expected host:port like \"127.0.0.1:8080\" or \"[::1]:8080\""
        let host: String
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw InvalidValue("has no ] after the IPv6 address: \(expected)") }
            host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { throw InvalidValue("has no :port after the IPv6 address: \(expected)") }
            portText = rest.dropFirst()
            guard IPAddress.ipv6Bytes(host) != nil else { throw InvalidValue("has an invalid IPv6 address in brackets: \(expected)") }
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw InvalidValue("has no port: \(expected)") }
            host = String(text[..<colon])
            portText = text[text.index(after: colon)...]
            guard !host.isEmpty else { throw InvalidValue("has no host: \(expected) (0.0.0.0 listens on every interface)") }
            guard !host.contains(":") else { throw InvalidValue("has an IPv6 address without brackets: \(expected)") }
            let allowed = host.unicodeScalars.allSatisfy {
                $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "." || $0 == "-")
            }
            guard allowed else { throw InvalidValue("has an invalid host name: \(expected)") }
        }
        guard !portText.isEmpty, portText.count <= 5, portText.allSatisfy({ $0.isASCII && $0.isNumber }),
              let port = Int(portText), (1...65535).contains(port) else {
            throw InvalidValue("has an invalid port: a port is a number from 1 to 65535; \(expected)")
        }
        return ListenAddress(host: host, port: port)
    }
}
