/// `application/x-www-form-urlencoded` reading and writing, used for query strings and
/// form bodies alike.
enum FormEncoding {
    /// Why a form could not be read.
    enum Problem: Error, Equatable {
        case malformedEncoding
        case repeatedParameter(String)
        case tooManyParameters
    }

    /// Reads `a=1&b=two+words` into a dictionary. A parameter given twice is an error
    /// (RFC 6749 §3.1), and so is bad percent-encoding or text that is not UTF-8.
    static func parse(_ text: some StringProtocol, maximumParameters: Int = 64) throws(Problem) -> [String: String] {
        var result: [String: String] = [:]
        var count = 0
        for pair in text.utf8.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            count += 1
            guard count <= maximumParameters else { throw .tooManyParameters }
            let equals = pair.firstIndex(of: UInt8(ascii: "="))
            let rawName = equals.map { pair[pair.startIndex..<$0] } ?? pair[...]
            let rawValue = equals.map { pair[pair.index(after: $0)...] } ?? pair[pair.endIndex...]
            guard let name = decodeComponent(rawName), let value = decodeComponent(rawValue) else {
                throw .malformedEncoding
            }
            guard result.updateValue(value, forKey: name) == nil else { throw .repeatedParameter(name) }
        }
        return result
    }

    /// Percent-decodes one name or value, reading `+` as a space; nil when malformed or not UTF-8.
    static func decodeComponent(_ bytes: some Collection<UInt8>) -> String? {
        if !bytes.contains(where: { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "+") }) {
            return String(validating: bytes, as: UTF8.self)
        }
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var iterator = bytes.makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "+"):
                output.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                    return nil
                }
                output.append(high << 4 | low)
            default:
                output.append(byte)
            }
        }
        return String(validating: output, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// Percent-encodes a value for a query string: everything but RFC 3986 unreserved characters.
    static func encodeComponent(_ text: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var output: [UInt8] = []
        output.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."),
                UInt8(ascii: "_"), UInt8(ascii: "~"):
                output.append(byte)
            default:
                output.append(UInt8(ascii: "%"))
                output.append(hex[Int(byte >> 4)])
                output.append(hex[Int(byte & 15)])
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Encodes name/value pairs as a query string or form body, in the order given.
    static func encode(_ pairs: [(String, String)]) -> String {
        pairs.map { "\(encodeComponent($0.0))=\(encodeComponent($0.1))" }.joined(separator: "&")
    }
}
