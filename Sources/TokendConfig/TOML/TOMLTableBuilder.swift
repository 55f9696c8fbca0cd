/// The tables of a document while it is being read, with TOML's rules on who may define or
/// extend a table: a key is defined once; `[a]` is defined once; a table made by dotted keys
/// is only extended by dotted keys of the same table; inline tables and static arrays are closed.
final class TOMLTableBuilder {
    /// How a table came to exist, which decides how it may be extended.
    enum Origin {
        /// The document itself.
        case root
        /// Named as a prefix of a header (`a` in `[a.b]`), not yet defined itself.
        case implicit
        /// Defined by its own `[header]`.
        case header
        /// One element of an array of tables (`[[header]]`).
        case arrayElement
        /// Created by a dotted key (`a` in `a.b = 1`).
        case dotted
        /// An inline table `{ … }` being read.
        case inline
    }

    /// What a key of a table holds while reading.
    enum Item {
        case value(TOMLValue)
        case table(TOMLTableBuilder)
        case tableArray(TableArray)
    }

    /// The elements of an array of tables, appended to by each `[[header]]`.
    final class TableArray {
        var elements: [TOMLTableBuilder] = []
    }

    private struct Slot {
        var keyPosition: TOMLPosition
        var item: Item
    }

    var origin: Origin
    /// Header, `{`, or first mention.
    var position: TOMLPosition
    /// Levels of nesting below the document.
    let depth: Int
    private var order: [String] = []
    private var slots: [String: Slot] = [:]

    init(origin: Origin, position: TOMLPosition, depth: Int) throws(TOMLSyntaxError) {
        guard depth <= TOMLReader.maximumNestingDepth else {
            throw TOMLSyntaxError("tables and arrays are nested more than \(TOMLReader.maximumNestingDepth) levels deep", at: position)
        }
        self.origin = origin
        self.position = position
        self.depth = depth
    }

    /// Where `key` was first written in this table, if it is there.
    func keyPosition(of key: String) -> TOMLPosition? { slots[key]?.keyPosition }

    func item(_ key: String) -> Item? { slots[key]?.item }

    private func add(_ key: String, at position: TOMLPosition, _ item: Item) {
        order.append(key)
        slots[key] = Slot(keyPosition: position, item: item)
    }

    /// Stores `key.part.… = value`, creating the tables of the dotted prefix.
    func insert(_ key: [TOMLParser.KeyPart], value: TOMLValue) throws(TOMLSyntaxError) {
        guard let last = key.last else { return }
        var table = self
        for part in key.dropLast() {
            switch table.item(part.name) {
            case nil:
                let child = try TOMLTableBuilder(origin: .dotted, position: part.position, depth: table.depth + 1)
                table.add(part.name, at: part.position, .table(child))
                table = child
            case .table(let child) where child.origin == .dotted:
                table = child
            case .some:
                throw TOMLSyntaxError(
                    "cannot add keys to \(Self.quoted(part.name)) with a dotted key: it is already defined at line \(table.keyPosition(of: part.name)?.line ?? 0)",
                    at: part.position)
            }
        }
        if let first = table.keyPosition(of: last.name) {
            throw TOMLSyntaxError("duplicate key \(Self.quoted(last.name)): it is already defined at line \(first.line)", at: last.position)
        }
        table.add(last.name, at: last.position, .value(value))
    }

    /// The table a `[header]` (or, with `isArray`, a `[[header]]`) at `position` names, created or appended.
    func defineTable(_ key: [TOMLParser.KeyPart], isArray: Bool, at position: TOMLPosition) throws(TOMLSyntaxError) -> TOMLTableBuilder {
        guard let last = key.last else { throw TOMLSyntaxError("empty table header", at: position) }
        var table = self
        for part in key.dropLast() {
            switch table.item(part.name) {
            case nil:
                let child = try TOMLTableBuilder(origin: .implicit, position: part.position, depth: table.depth + 1)
                table.add(part.name, at: part.position, .table(child))
                table = child
            case .table(let child):
                table = child
            case .tableArray(let array):
                guard let element = array.elements.last else { throw TOMLSyntaxError("empty array of tables", at: part.position) }
                table = element
            case .value:
                throw TOMLSyntaxError(
                    "\(Self.quoted(part.name)) is already defined at line \(table.keyPosition(of: part.name)?.line ?? 0) with a value, so it cannot hold a table (an inline table or array cannot be extended)",
                    at: part.position)
            }
        }
        let header = isArray ? "[[\(Self.dotted(key))]]" : "[\(Self.dotted(key))]"
        let existingLine = table.keyPosition(of: last.name)?.line ?? 0
        switch (table.item(last.name), isArray) {
        case (nil, false):
            let child = try TOMLTableBuilder(origin: .header, position: position, depth: table.depth + 1)
            table.add(last.name, at: last.position, .table(child))
            return child
        case (nil, true):
            let array = TableArray()
            let element = try TOMLTableBuilder(origin: .arrayElement, position: position, depth: table.depth + 1)
            array.elements.append(element)
            table.add(last.name, at: last.position, .tableArray(array))
            return element
        case (.table(let child), false) where child.origin == .implicit:
            child.origin = .header
            child.position = position
            return child
        case (.tableArray(let array), true):
            let element = try TOMLTableBuilder(origin: .arrayElement, position: position, depth: table.depth + 1)
            array.elements.append(element)
            return element
        case (.table, false):
            throw TOMLSyntaxError("table \(header) is defined twice: it is already defined at line \(existingLine)", at: position)
        case (.tableArray, false):
            throw TOMLSyntaxError("\(header) names an array of tables (line \(existingLine)): write [\(header)] to add an element", at: position)
        case (.table, true):
            throw TOMLSyntaxError("\(header) names a table already defined at line \(existingLine), not an array of tables", at: position)
        case (.value, _):
            throw TOMLSyntaxError(
                "\(header) names a key already defined at line \(existingLine) with a value; an inline table or array cannot be extended",
                at: position)
        }
    }

    /// The finished, immutable table.
    func freeze() -> TOMLTable {
        var entries: [TOMLTable.Entry] = []
        entries.reserveCapacity(order.count)
        for key in order {
            guard let slot = slots[key] else { continue }
            let value: TOMLValue = switch slot.item {
            case .value(let value): value
            case .table(let table): .table(table.freeze())
            case .tableArray(let array): .array(array.elements.map { .table($0.freeze()) })
            }
            entries.append(TOMLTable.Entry(key: key, keyPosition: slot.keyPosition, value: value))
        }
        return TOMLTable(position: position, entries: entries)
    }

    /// A key for a message: in backquotes, shortened, control characters made visible.
    static func quoted(_ key: String) -> String { "`\(printable(key))`" }
    static func dotted(_ key: [TOMLParser.KeyPart]) -> String { key.map { printable($0.name) }.joined(separator: ".") }

    static func printable(_ key: String) -> String {
        let visible = String(String.UnicodeScalarView(key.unicodeScalars.prefix(64).map {
            $0.properties.generalCategory == .control ? "?" : $0
        }))
        return key.unicodeScalars.count > 64 ? visible + "…" : visible
    }
}
