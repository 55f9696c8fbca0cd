/// Where something stands in a TOML text: 1-based line and column (columns count Unicode scalars).
public struct TOMLPosition: Sendable, Hashable, CustomStringConvertible {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    public var description: String { "\(line):\(column)" }
}

/// One value of a TOML document.
///
/// Arrays of tables (`[[organisation]]`) read as `.array` of `.table`, the same as an inline
/// array of inline tables; each such table knows the position of its header.
public enum TOMLValue: Sendable, Equatable {
    case string(String)
    case integer(Int64)
    case float(Double)
    case boolean(Bool)
    case array([TOMLValue])
    case table(TOMLTable)

    /// The kind of value with its article, for messages: "a string", "an integer", …
    public var kindDescription: String {
        switch self {
        case .string: "a string"
        case .integer: "an integer"
        case .float: "a floating-point number"
        case .boolean: "a boolean"
        case .array: "an array"
        case .table: "a table"
        }
    }
}

extension TOMLValue: CustomStringConvertible {
    /// Numbers and booleans as written; other kinds only by their kind, so a message never repeats a string that may be secret.
    public var description: String {
        switch self {
        case .integer(let value): String(value)
        case .float(let value): String(value)
        case .boolean(let value): String(value)
        default: kindDescription
        }
    }
}

/// A TOML table: its keys in the order they were written, each with the position of the key.
public struct TOMLTable: Sendable, Equatable {
    /// One `key = value` of a table (or a sub-table / array of tables defined under it).
    public struct Entry: Sendable, Equatable {
        public var key: String
        /// Where the key was written; for a table defined by a header, where the header names it.
        public var keyPosition: TOMLPosition
        public var value: TOMLValue
    }

    /// Where the table starts: its `[header]`, its `[[header]]`, its `{`, or 1:1 for the document.
    public var position: TOMLPosition
    public private(set) var entries: [Entry]

    init(position: TOMLPosition, entries: [Entry]) {
        self.position = position
        self.entries = entries
    }

    /// The entry for `key`, if the table has one.
    public subscript(key: String) -> Entry? {
        entries.first { $0.key == key }
    }
}
