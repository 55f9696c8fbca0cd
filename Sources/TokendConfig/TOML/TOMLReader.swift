// Why a hand-written TOML reader: the only Swift TOML package available (LebJe/TOMLKit) reports
// line numbers for syntax errors only, but every semantic error of the configuration must name
// the line of the offending key. This reader records the line and column of every key and table.
//
// It reads TOML 1.0 except dates and times (rejected with a clear error). It is built to be fed
// anything (it will be fuzzed): no force-unwraps on input, nesting capped at
// `TOMLReader.maximumNestingDepth`, and every loop consumes input or ends.

/// Reads a TOML text into a `TOMLTable`, or says which line and column is wrong.
public enum TOMLReader {
    /// The deepest nesting of tables and arrays accepted; deeper input is an error, not a stack overflow.
    public static let maximumNestingDepth = 64

    public static func parse(_ text: String) throws(TOMLSyntaxError) -> TOMLTable {
        var parser = TOMLParser(text)
        return try parser.parseDocument()
    }
}

/// The state of one reading: a cursor over the text; the strings and numbers are in extensions.
struct TOMLParser {
    /// One part of a (possibly dotted) key, with where it was written.
    struct KeyPart {
        var name: String
        var position: TOMLPosition
    }

    var cursor: TOMLCursor

    init(_ text: String) {
        cursor = TOMLCursor(text)
    }

    mutating func parseDocument() throws(TOMLSyntaxError) -> TOMLTable {
        let root = try TOMLTableBuilder(origin: .root, position: TOMLPosition(line: 1, column: 1), depth: 0)
        var current = root
        // A byte-order mark at the start is allowed and ignored.
        if cursor.starts(with: "\u{FEFF}") { cursor.advance(3) }
        while let byte = cursor.peek() {
            switch byte {
            case Ascii.space, Ascii.tab:
                cursor.skipWhitespace()
            case Ascii.newline, Ascii.carriageReturn:
                try cursor.consumeNewline()
            case Ascii.hash:
                try cursor.skipComment()
            case Ascii.openBracket:
                current = try parseTableHeader(in: root)
                try cursor.expectEndOfLine(after: "the table header")
            default:
                try parseKeyValue(into: current)
                try cursor.expectEndOfLine(after: "the value")
            }
        }
        return root.freeze()
    }

    /// `[a.b]` or `[[a.b]]`: returns the table the following keys go into.
    private mutating func parseTableHeader(in root: TOMLTableBuilder) throws(TOMLSyntaxError) -> TOMLTableBuilder {
        let start = cursor.position
        cursor.advance()
        let isArray = cursor.peek() == Ascii.openBracket
        if isArray { cursor.advance() }
        let key = try parseKey()
        guard cursor.peek() == Ascii.closeBracket else {
            throw cursor.error("expected \(isArray ? "]]" : "]") to close the table header started at \(start)")
        }
        cursor.advance()
        if isArray {
            guard cursor.peek() == Ascii.closeBracket else {
                throw cursor.error("expected ]] to close the array-of-tables header started at \(start)")
            }
            cursor.advance()
        }
        return try root.defineTable(key, isArray: isArray, at: start)
    }

    /// `key = value`, stored into `table`.
    private mutating func parseKeyValue(into table: TOMLTableBuilder) throws(TOMLSyntaxError) {
        let key = try parseKey()
        guard cursor.peek() == Ascii.equals else {
            if let byte = cursor.peek(), !cursor.isAtNewline {
                throw cursor.error("expected '=' after the key, found \(Ascii.describe(byte))")
            }
            throw cursor.error("expected '=' and a value after the key")
        }
        cursor.advance()
        cursor.skipWhitespace()
        let value = try parseValue(depth: table.depth + key.count)
        try table.insert(key, value: value)
    }

    /// A bare, quoted or dotted key, with the whitespace around it.
    private mutating func parseKey() throws(TOMLSyntaxError) -> [KeyPart] {
        var parts: [KeyPart] = []
        while true {
            cursor.skipWhitespace()
            let position = cursor.position
            guard parts.count < TOMLReader.maximumNestingDepth else {
                throw cursor.error("a dotted key has more than \(TOMLReader.maximumNestingDepth) parts")
            }
            guard let byte = cursor.peek() else { throw cursor.error("expected a key, found the end of the file") }
            let name: String
            if byte == Ascii.quote || byte == Ascii.apostrophe {
                if cursor.starts(with: "\"\"\"") || cursor.starts(with: "'''") {
                    throw cursor.error("a key cannot be a multi-line string")
                }
                name = try parseSingleLineString()
            } else if Ascii.isBareKeyCharacter(byte) {
                var bytes: [UInt8] = []
                while let next = cursor.peek(), Ascii.isBareKeyCharacter(next) {
                    bytes.append(next)
                    cursor.advance()
                }
                name = String(decoding: bytes, as: UTF8.self)
            } else {
                throw cursor.error(
                    "expected a key, found \(Ascii.describe(byte)): bare keys use only A-Z a-z 0-9 _ -, others go in quotes")
            }
            parts.append(KeyPart(name: name, position: position))
            cursor.skipWhitespace()
            guard cursor.peek() == Ascii.dot else { return parts }
            cursor.advance()
        }
    }

    /// Any value; `depth` is the nesting level of the table or array that holds it.
    private mutating func parseValue(depth: Int) throws(TOMLSyntaxError) -> TOMLValue {
        guard depth <= TOMLReader.maximumNestingDepth else {
            throw cursor.error("tables and arrays are nested more than \(TOMLReader.maximumNestingDepth) levels deep")
        }
        guard let byte = cursor.peek() else { throw cursor.error("expected a value, found the end of the file") }
        switch byte {
        case Ascii.quote, Ascii.apostrophe:
            return .string(try parseString())
        case Ascii.openBracket:
            return try parseArray(depth: depth + 1)
        case Ascii.openBrace:
            return try parseInlineTable(depth: depth + 1)
        case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "T"), UInt8(ascii: "F"):
            return try parseBoolean()
        case Ascii.plus, Ascii.minus, UInt8(ascii: "i"), UInt8(ascii: "n"):
            return try parseNumber()
        case Ascii.newline, Ascii.carriageReturn, Ascii.hash:
            throw cursor.error("expected a value after '='")
        default:
            if Ascii.isDigit(byte) { return try parseNumber() }
            throw cursor.error(
                "expected a value, found \(Ascii.describe(byte)): strings go in quotes; numbers, true, false, [arrays] and {inline tables} do not")
        }
    }

    private mutating func parseBoolean() throws(TOMLSyntaxError) -> TOMLValue {
        let start = cursor.position
        for (word, value) in [("true", true), ("false", false)] where cursor.starts(with: word) {
            let after = cursor.peek(word.utf8.count)
            if after.map(Ascii.isBareKeyCharacter) != true {
                cursor.advance(word.utf8.count)
                return .boolean(value)
            }
        }
        throw TOMLSyntaxError("expected a value: true and false are written in lower case, strings go in quotes", at: start)
    }

    /// `[ v, v, … ]`, over several lines if needed, with comments and a trailing comma allowed.
    private mutating func parseArray(depth: Int) throws(TOMLSyntaxError) -> TOMLValue {
        let start = cursor.position
        cursor.advance()  // [
        var elements: [TOMLValue] = []
        while true {
            try cursor.skipWhitespaceCommentsAndNewlines()
            if cursor.peek() == Ascii.closeBracket {
                cursor.advance()
                return .array(elements)
            }
            guard !cursor.isAtEnd else { throw TOMLSyntaxError("array started at \(start) is not closed: add ]", at: start) }
            elements.append(try parseValue(depth: depth))
            try cursor.skipWhitespaceCommentsAndNewlines()
            switch cursor.peek() {
            case Ascii.comma:
                cursor.advance()
            case Ascii.closeBracket:
                cursor.advance()
                return .array(elements)
            case nil:
                throw TOMLSyntaxError("array started at \(start) is not closed: add ]", at: start)
            case .some(let byte):
                throw cursor.error("expected ',' or ']' in the array started at \(start), found \(Ascii.describe(byte))")
            }
        }
    }

    /// `{ key = value, … }` on one line, without a trailing comma (TOML 1.0).
    private mutating func parseInlineTable(depth: Int) throws(TOMLSyntaxError) -> TOMLValue {
        let start = cursor.position
        cursor.advance()  // {
        let table = try TOMLTableBuilder(origin: .inline, position: start, depth: depth)
        cursor.skipWhitespace()
        if cursor.peek() == Ascii.closeBrace {
            cursor.advance()
            return .table(table.freeze())
        }
        while true {
            cursor.skipWhitespace()
            if cursor.peek() == Ascii.closeBrace {
                throw cursor.error("no trailing comma is allowed in an inline table")
            }
            if cursor.isAtEnd || cursor.isAtNewline {
                throw cursor.error("inline table started at \(start) is not closed on its line: add }")
            }
            try parseKeyValue(into: table)
            cursor.skipWhitespace()
            switch cursor.peek() {
            case Ascii.comma:
                cursor.advance()
            case Ascii.closeBrace:
                cursor.advance()
                return .table(table.freeze())
            case nil, Ascii.newline, Ascii.carriageReturn:
                throw cursor.error("inline table started at \(start) is not closed on its line: add }")
            case .some(let byte):
                throw cursor.error("expected ',' or '}' in the inline table started at \(start), found \(Ascii.describe(byte))")
            }
        }
    }
}
