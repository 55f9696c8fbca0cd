/// `application/x-www-form-urlencoded`, the one reading and writing of forms and query strings:
/// token requests, the authorisation redirect, the pages' forms and the emulator's endpoints.
///
/// Written: every byte outside RFC 3986's unreserved characters (`A-Z a-z 0-9 - . _ ~`) is
/// percent-encoded, so secrets with `&`, `=`, `+` or spaces arrive intact. Read strictly: a
/// repeated name (RFC 6749 §3.1), a malformed escape, text that is not UTF-8 or anything past
/// the reader's ``FormLimits`` is refused.
public enum FormEncoding {
    /// Reads `a=1&b=two+words` (`+` is a space). Empty pairs (`a=1&&b=2`) are skipped; a name
    /// without `=` has the value "".
    public static func parse(_ text: some StringProtocol, limits: FormLimits) throws(FormError) -> [String: String] {
        var fields: [String: String] = [:]
        var count = 0
        for pair in text.utf8.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            count += 1
            guard count <= limits.maximumParameters else { throw .tooMany }
            let equals = pair.firstIndex(of: UInt8(ascii: "="))
            let rawName = equals.map { pair[pair.startIndex..<$0] } ?? pair[...]
            let rawValue = equals.map { pair[pair.index(after: $0)...] } ?? pair[pair.endIndex...]
            guard let name = decodeComponent(rawName), name.utf8.count <= limits.maximumNameLength,
                  let value = decodeComponent(rawValue) else {
                throw .malformed
            }
            guard value.utf8.count <= limits.maximumValueLength else { throw .tooLong(name: name) }
            guard fields.updateValue(value, forKey: name) == nil else { throw .repeated(name: name) }
        }
        return fields
    }

    /// Percent-decodes one name or value, reading `+` as a space; nil when malformed or not UTF-8.
    public static func decodeComponent(_ bytes: some Collection<UInt8>) -> String? {
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

    /// `text` percent-encoded so that it is one name or value, or one segment of a URL's path:
    /// everything but unreserved characters.
    public static func encodeComponent(_ text: String) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            if isUnreserved(byte) {
                output.append(byte)
            } else {
                output.append(UInt8(ascii: "%"))
                output.append(hexDigits[Int(byte >> 4)])
                output.append(hexDigits[Int(byte & 0x0F)])
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Encodes name/value pairs as a query string or form body, in the order given.
    public static func encode(_ pairs: [(String, String)]) -> String {
        pairs.map { "\(encodeComponent($0.0))=\(encodeComponent($0.1))" }.joined(separator: "&")
    }

    /// RFC 3986's unreserved characters: the bytes that stand for themselves.
    public static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."),
            UInt8(ascii: "_"), UInt8(ascii: "~"):
            true
        default:
            false
        }
    }

    private static let hexDigits = Array("0123456789ABCDEF".utf8)

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// How much a form reader accepts; past it the form is refused, not cut.
public struct FormLimits: Sendable, Equatable {
    /// The most name/value pairs.
    public var maximumParameters: Int
    /// The longest name, in bytes once decoded (a longer one is `FormError.malformed`).
    public var maximumNameLength: Int
    /// The longest value, in bytes once decoded (a longer one is `FormError.tooLong`).
    public var maximumValueLength: Int

    public init(maximumParameters: Int = .max, maximumNameLength: Int = .max, maximumValueLength: Int = .max) {
        self.maximumParameters = maximumParameters
        self.maximumNameLength = maximumNameLength
        self.maximumValueLength = maximumValueLength
    }
}
