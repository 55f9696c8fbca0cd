/// A position in the UTF-8 bytes of a TOML text that keeps track of its line and column,
/// with the small steps every part of the reader shares: whitespace, comments, newlines.
///
/// Every read is bounds-checked (`peek` gives `nil` at the end); nothing here can trap on input.
struct TOMLCursor {
    let bytes: [UInt8]
    private(set) var index = 0
    private(set) var line = 1
    /// Unicode scalars consumed on the current line.
    private var scalarsOnLine = 0

    init(_ text: String) {
        bytes = Array(text.utf8)
    }

    var position: TOMLPosition { TOMLPosition(line: line, column: scalarsOnLine + 1) }
    var isAtEnd: Bool { index >= bytes.count }

    func peek(_ offset: Int = 0) -> UInt8? {
        let at = index + offset
        return at >= 0 && at < bytes.count ? bytes[at] : nil
    }

    /// Whether the bytes at the cursor are `ascii`.
    func starts(with ascii: String) -> Bool {
        var offset = 0
        for byte in ascii.utf8 {
            guard peek(offset) == byte else { return false }
            offset += 1
        }
        return true
    }

    mutating func advance(_ count: Int = 1) {
        for _ in 0..<count where index < bytes.count {
            let byte = bytes[index]
            if byte == Ascii.newline {
                line += 1
                scalarsOnLine = 0
            } else if byte & 0xC0 != 0x80 {
                scalarsOnLine += 1
            }
            index += 1
        }
    }

    func error(_ message: String) -> TOMLSyntaxError {
        TOMLSyntaxError(message, at: position)
    }

    /// Skips spaces and tabs.
    mutating func skipWhitespace() {
        while let byte = peek(), byte == Ascii.space || byte == Ascii.tab { advance() }
    }

    /// Whether the cursor is at a newline (`\n` or `\r\n`).
    var isAtNewline: Bool {
        peek() == Ascii.newline || (peek() == Ascii.carriageReturn && peek(1) == Ascii.newline)
    }

    /// Consumes one newline; a carriage return on its own is an error.
    mutating func consumeNewline() throws(TOMLSyntaxError) {
        if peek() == Ascii.carriageReturn {
            guard peek(1) == Ascii.newline else {
                throw error("a carriage return must be followed by a line feed")
            }
            advance()
        }
        advance()
    }

    /// Skips a `#` comment up to (not including) the end of its line.
    mutating func skipComment() throws(TOMLSyntaxError) {
        advance()  // '#'
        while let byte = peek(), byte != Ascii.newline {
            if byte == Ascii.carriageReturn {
                if peek(1) == Ascii.newline { return }
                throw error("a carriage return must be followed by a line feed")
            }
            if Ascii.isForbiddenControl(byte) {
                throw error("control character (code \(byte)) in a comment")
            }
            advance()
        }
    }

    /// Skips whitespace, comments and newlines: the space between the values of an array.
    mutating func skipWhitespaceCommentsAndNewlines() throws(TOMLSyntaxError) {
        while let byte = peek() {
            if byte == Ascii.space || byte == Ascii.tab {
                advance()
            } else if byte == Ascii.hash {
                try skipComment()
            } else if byte == Ascii.newline || byte == Ascii.carriageReturn {
                try consumeNewline()
            } else {
                return
            }
        }
    }

    /// After a value or a table header only whitespace, a comment and the end of the line may follow.
    mutating func expectEndOfLine(after what: String) throws(TOMLSyntaxError) {
        skipWhitespace()
        if peek() == Ascii.hash { try skipComment() }
        guard let byte = peek() else { return }
        guard byte == Ascii.newline || byte == Ascii.carriageReturn else {
            throw error("unexpected \(Ascii.describe(byte)) after \(what): put each `key = value` and each [table] on a line of its own")
        }
        try consumeNewline()
    }
}

/// The ASCII bytes the reader looks for, and what counts as what.
enum Ascii {
    static let tab: UInt8 = 0x09
    static let newline: UInt8 = 0x0A
    static let carriageReturn: UInt8 = 0x0D
    static let space: UInt8 = 0x20
    static let quote: UInt8 = 0x22  // "
    static let hash: UInt8 = 0x23  // #
    static let apostrophe: UInt8 = 0x27  // '
    static let plus: UInt8 = 0x2B
    static let comma: UInt8 = 0x2C
    static let minus: UInt8 = 0x2D
    static let dot: UInt8 = 0x2E
    static let colon: UInt8 = 0x3A
    static let equals: UInt8 = 0x3D
    static let openBracket: UInt8 = 0x5B  // [
    static let backslash: UInt8 = 0x5C
    static let closeBracket: UInt8 = 0x5D  // ]
    static let underscore: UInt8 = 0x5F
    static let openBrace: UInt8 = 0x7B  // {
    static let closeBrace: UInt8 = 0x7D  // }

    static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
    static func isLetter(_ byte: UInt8) -> Bool { (byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A }

    /// `A-Z a-z 0-9 _ -`: the characters of a bare key.
    static func isBareKeyCharacter(_ byte: UInt8) -> Bool {
        isLetter(byte) || isDigit(byte) || byte == underscore || byte == minus
    }

    /// Control characters TOML allows neither in comments nor in strings (tab is allowed).
    static func isForbiddenControl(_ byte: UInt8) -> Bool {
        (byte < 0x20 && byte != tab) || byte == 0x7F
    }

    /// A byte for a message: printable ASCII shown quoted, anything else by its code.
    static func describe(_ byte: UInt8) -> String {
        if byte > 0x20 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        if byte >= 0x80 { return "a non-ASCII character" }
        return "a control character (code \(byte))"
    }
}
