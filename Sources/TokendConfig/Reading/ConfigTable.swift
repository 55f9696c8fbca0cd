/// Typed access to the keys of one table of the configuration: a key of the wrong type or an
/// unknown key becomes a problem naming its line, and reading goes on.
struct ConfigTable {
    let table: TOMLTable
    /// How keys of this table are named in messages: `""`, `"[refresh]."`, `"organisation \"acme\"."`.
    let keyPrefix: String
    /// How the table is named in messages: `the top level`, `[refresh]`, `[[organisation]]`.
    let tableName: String
    let problems: ProblemCollector

    /// The line of the table's header (1 for the top level).
    var line: Int { table.position.line }

    func keyPath(_ key: String) -> String { keyPrefix + key }

    func line(of key: String) -> Int? { table[key]?.keyPosition.line }

    func contains(_ key: String) -> Bool { table[key] != nil }

    /// Notes a problem with `key`: at its line, or when it is absent at the table's header
    /// (no line for the top level, which has no header).
    func problem(_ key: String, _ message: String) {
        problems.add(line: line(of: key) ?? (keyPrefix.isEmpty ? nil : line), key: keyPath(key), message)
    }

    /// The string at `key`; `expected` describes a right value for the message when the type is wrong.
    func string(_ key: String, expected: String) -> Located<String>? {
        guard let entry = table[key] else { return nil }
        guard case .string(let text) = entry.value else {
            problem(key, "expected \(expected), found \(entry.value.kindDescription)")
            return nil
        }
        return Located(value: text, line: entry.keyPosition.line)
    }

    func boolean(_ key: String) -> Located<Bool>? {
        guard let entry = table[key] else { return nil }
        guard case .boolean(let flag) = entry.value else {
            problem(key, "expected true or false (without quotes), found \(entry.value.kindDescription)")
            return nil
        }
        return Located(value: flag, line: entry.keyPosition.line)
    }

    /// An integer or a float, as a `Double`; `expected` describes the range for the message.
    func number(_ key: String, expected: String) -> Located<Double>? {
        guard let entry = table[key] else { return nil }
        switch entry.value {
        case .integer(let integer): return Located(value: Double(integer), line: entry.keyPosition.line)
        case .float(let float) where float.isFinite: return Located(value: float, line: entry.keyPosition.line)
        case .float: problem(key, "expected \(expected), found \(entry.value)")
        default: problem(key, "expected \(expected), found \(entry.value.kindDescription)")
        }
        return nil
    }

    func integer(_ key: String, expected: String) -> Located<Int64>? {
        guard let entry = table[key] else { return nil }
        guard case .integer(let integer) = entry.value else {
            problem(key, "expected \(expected), found \(entry.value.kindDescription)")
            return nil
        }
        return Located(value: integer, line: entry.keyPosition.line)
    }

    /// Every key not in `known` is a problem; its value is never shown, since it may be a secret.
    ///
    /// A key close to a known one gets "did you mean"; a key that looks like a secret gets the
    /// "secrets are never inline" hint only in a table where a secret goes (`secretKey`), and only
    /// when it is not simply a misspelt key of another kind.
    func reportUnknownKeys(known: [String], secretKey: String? = nil) {
        let knownList = "known keys in \(tableName): " + known.joined(separator: ", ")
        for entry in table.entries where !known.contains(entry.key) {
            let name = TOMLTableBuilder.printable(entry.key)
            let what = Self.written(name, as: entry.value)
            let suggestion = KeySuggestion.closest(to: entry.key, in: known)
            var message = "unknown \(what)"
            if let suggestion { message += "; did you mean \(Self.written(suggestion, as: entry.value))?" }
            if let secretKey, Self.looksLikeSecret(entry.key), suggestion == nil || suggestion == secretKey {
                message += "; secrets are never inline: put it in a file (chmod 600) and name it with \(secretKey)"
            }
            problems.add(line: entry.keyPosition.line, key: keyPrefix + name, message + " (" + knownList + ")")
        }
    }

    /// `key` as the administrator wrote it: `[[name]]` for an array of tables, `[name]` for a
    /// table, else `` key `name` ``.
    static func written(_ name: String, as value: TOMLValue) -> String {
        switch value {
        case .table: return "table [\(name)]"
        case .array(let elements) where !elements.isEmpty && elements.allSatisfy(isTable):
            return "table [[\(name)]]"
        default: return "key `\(name)`"
        }
    }

    private static func isTable(_ value: TOMLValue) -> Bool {
        if case .table = value { return true }
        return false
    }

    /// Whether a key's name suggests its value is a secret.
    static func looksLikeSecret(_ key: String) -> Bool {
        let name = key.lowercased()
        return ["secret", "password", "passwd", "token", "api_key", "apikey", "private_key", "credential"]
            .contains { name.contains($0) }
    }
}
