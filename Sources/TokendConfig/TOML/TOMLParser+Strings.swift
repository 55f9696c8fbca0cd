/// The four kinds of TOML string: basic "…", literal '…', and their multi-line forms """…""" and '''…'''.
extension TOMLParser {
    /// Reads a string value of any kind; the cursor is at its first quote.
    mutating func parseString() throws(TOMLSyntaxError) -> String {
        if cursor.starts(with: "\"\"\"") { return try parseMultiLineString(quote: Ascii.quote) }
        if cursor.starts(with: "'''") { return try parseMultiLineString(quote: Ascii.apostrophe) }
        return try parseSingleLineString()
    }

    /// Reads a basic or literal string on one line (also used for quoted keys).
    mutating func parseSingleLineString() throws(TOMLSyntaxError) -> String {
        let start = cursor.position
        guard let quote = cursor.peek() else { throw cursor.error("expected a string") }
        let isBasic = quote == Ascii.quote
        cursor.advance()
        var bytes: [UInt8] = []
        while true {
            guard let byte = cursor.peek() else {
                throw TOMLSyntaxError("string started at \(start) is not closed: add the closing \(isBasic ? "\"" : "'")", at: start)
            }
            if byte == quote {
                cursor.advance()
                return String(decoding: bytes, as: UTF8.self)
            }
            if byte == Ascii.newline || byte == Ascii.carriageReturn {
                throw TOMLSyntaxError(
                    "string started at \(start) is not closed on its line; use \(isBasic ? "\"\"\"" : "'''") for a multi-line string",
                    at: start)
            }
            if isBasic && byte == Ascii.backslash {
                try appendEscape(to: &bytes)
                continue
            }
            if Ascii.isForbiddenControl(byte) {
                throw cursor.error("control character (code \(byte)) in a string: write it as an escape such as \\u0001")
            }
            bytes.append(byte)
            cursor.advance()
        }
    }

    /// Reads a multi-line string; the cursor is at its three opening quotes.
    private mutating func parseMultiLineString(quote: UInt8) throws(TOMLSyntaxError) -> String {
        let start = cursor.position
        let isBasic = quote == Ascii.quote
        let delimiter = isBasic ? "\"\"\"" : "'''"
        cursor.advance(3)
        // A newline right after the opening delimiter is not part of the string.
        if cursor.isAtNewline { try cursor.consumeNewline() }
        var bytes: [UInt8] = []
        while true {
            guard let byte = cursor.peek() else {
                throw TOMLSyntaxError("multi-line string started at \(start) is not closed: add the closing \(delimiter)", at: start)
            }
            if byte == quote {
                var run = 0
                while cursor.peek(run) == quote { run += 1 }
                if run >= 3 {
                    // Up to two quotes right before the closing delimiter belong to the string.
                    guard run <= 5 else { throw cursor.error("too many quotes in a row in a multi-line string") }
                    bytes.append(contentsOf: repeatElement(quote, count: run - 3))
                    cursor.advance(run)
                    return String(decoding: bytes, as: UTF8.self)
                }
                bytes.append(contentsOf: repeatElement(quote, count: run))
                cursor.advance(run)
            } else if byte == Ascii.newline || byte == Ascii.carriageReturn {
                try cursor.consumeNewline()
                bytes.append(Ascii.newline)
            } else if isBasic && byte == Ascii.backslash {
                if try skipLineEndingBackslash() { continue }
                try appendEscape(to: &bytes)
            } else if Ascii.isForbiddenControl(byte) {
                throw cursor.error("control character (code \(byte)) in a string: write it as an escape such as \\u0001")
            } else {
                bytes.append(byte)
                cursor.advance()
            }
        }
    }

    /// A backslash that is the last thing on its line joins the lines: it and all the whitespace
    /// and newlines after it are dropped. Returns `false` (consuming nothing) for an ordinary escape.
    private mutating func skipLineEndingBackslash() throws(TOMLSyntaxError) -> Bool {
        var offset = 1
        while let byte = cursor.peek(offset), byte == Ascii.space || byte == Ascii.tab { offset += 1 }
        let next = cursor.peek(offset)
        guard next == Ascii.newline || (next == Ascii.carriageReturn && cursor.peek(offset + 1) == Ascii.newline) else {
            return false
        }
        cursor.advance(offset)
        while let byte = cursor.peek() {
            if byte == Ascii.space || byte == Ascii.tab {
                cursor.advance()
            } else if byte == Ascii.newline || byte == Ascii.carriageReturn {
                try cursor.consumeNewline()
            } else {
                break
            }
        }
        return true
    }

    /// Reads one escape sequence of a basic string (the cursor is at the backslash).
    private mutating func appendEscape(to bytes: inout [UInt8]) throws(TOMLSyntaxError) {
        let start = cursor.position
        cursor.advance()  // backslash
        guard let letter = cursor.peek() else { throw TOMLSyntaxError("unfinished escape sequence", at: start) }
        let simple: UInt8? = switch letter {
        case UInt8(ascii: "b"): 0x08
        case UInt8(ascii: "t"): Ascii.tab
        case UInt8(ascii: "n"): Ascii.newline
        case UInt8(ascii: "f"): 0x0C
        case UInt8(ascii: "r"): Ascii.carriageReturn
        case Ascii.quote: Ascii.quote
        case Ascii.backslash: Ascii.backslash
        default: nil
        }
        if let simple {
            cursor.advance()
            bytes.append(simple)
            return
        }
        let digits: Int
        switch letter {
        case UInt8(ascii: "u"): digits = 4
        case UInt8(ascii: "U"): digits = 8
        default:
            throw TOMLSyntaxError(
                "unknown escape sequence \\\(Ascii.describe(letter)); valid ones are \\b \\t \\n \\f \\r \\\" \\\\ \\uXXXX \\UXXXXXXXX (write \\\\ for a backslash)",
                at: start)
        }
        cursor.advance()
        var code: UInt32 = 0
        for _ in 0..<digits {
            guard let byte = cursor.peek(), let value = Self.hexValue(byte) else {
                throw TOMLSyntaxError("\\\(letter == UInt8(ascii: "u") ? "u" : "U") needs exactly \(digits) hexadecimal digits", at: start)
            }
            code = code << 4 | UInt32(value)
            cursor.advance()
        }
        guard let scalar = Unicode.Scalar(code) else {
            throw TOMLSyntaxError("escape \\\(letter == UInt8(ascii: "u") ? "u" : "U") names no Unicode scalar value", at: start)
        }
        bytes.append(contentsOf: Array(String(Character(scalar)).utf8))
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x41...0x46: byte - 0x41 + 10
        case 0x61...0x66: byte - 0x61 + 10
        default: nil
        }
    }
}
