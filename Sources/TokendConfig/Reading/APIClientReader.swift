import Foundation

/// Reads the `[[api_client]]` tables (who may use the token API) and `api_socket_group`.
///
/// User and group names are resolved to numbers here, and organisation names checked against
/// the `[[organisation]]` tables, so a typo is a configuration error, not a silent `403`.
struct APIClientReader {
    static let knownKeys = ["user", "group", "organisations", "allow"]

    let root: ConfigTable
    let problems: ProblemCollector

    /// `api_socket_group`: the group given the API socket, or `nil` for the default.
    func readSocketGroup() -> String? {
        let expected = "the name of the Unix group whose members may connect to api_socket, in quotes, like \"imanage-tokend\""
        guard let value = root.string("api_socket_group", expected: expected) else { return nil }
        guard Self.isPlausibleName(value.value) else {
            root.problem("api_socket_group", "expected \(expected)")
            return nil
        }
        return value.value
    }

    /// Every valid `[[api_client]]` table, after noting the problems of the others.
    func read() -> [APIClientRule] {
        guard let entry = root.table["api_client"] else { return [] }
        let expected = "one [[api_client]] table (two brackets) per user or group"
        guard case .array(let elements) = entry.value else {
            root.problem("api_client", "expected \(expected), found \(entry.value.kindDescription)")
            return []
        }
        let organisations = organisationNames()
        var rules: [APIClientRule] = []
        for (offset, element) in elements.enumerated() {
            guard case .table(let table) = element else {
                root.problem("api_client", "expected \(expected); element \(offset + 1) is \(element.kindDescription)")
                continue
            }
            let configTable = ConfigTable(
                table: table, keyPrefix: "api_client[\(offset + 1)].", tableName: "[[api_client]]", problems: problems)
            if let rule = readRule(configTable, organisations: organisations) { rules.append(rule) }
        }
        return rules
    }

    private func readRule(_ table: ConfigTable, organisations known: Set<String>) -> APIClientRule? {
        table.reportUnknownKeys(known: Self.knownKeys)
        let principal = readPrincipal(table)
        let organisations = readOrganisations(table, known: known)
        let allow = readAllow(table)
        guard let principal, let organisations, let allow else { return nil }
        return APIClientRule(principal: principal, organisations: organisations, allow: allow, line: table.line)
    }

    private func readPrincipal(_ table: ConfigTable) -> APIClientRule.Principal? {
        switch (table.contains("user"), table.contains("group")) {
        case (true, true):
            table.problem("group", "give either user or group in one [[api_client]] table, not both: write a second table for the other")
            return nil
        case (false, false):
            table.problem("user", "required: user = \"NAME\" (or a uid) or group = \"NAME\" (or a gid): whom this table allows")
            return nil
        case (true, false):
            guard let found = nameOrNumber(table, "user", kind: "user") else { return nil }
            let (name, number) = found
            if let number { return .user(uid_t(number), name: name ?? String(number)) }
            guard let name, let uid = Self.userID(named: name) else {
                table.problem("user", "no Unix user \"\(name ?? "")\" on this machine: create it, or give its uid as a number")
                return nil
            }
            return .user(uid, name: name)
        case (false, true):
            guard let found = nameOrNumber(table, "group", kind: "group") else { return nil }
            let (name, number) = found
            if let number { return .group(gid_t(number), name: name ?? String(number)) }
            guard let name, let gid = Self.groupID(named: name) else {
                table.problem("group", "no Unix group \"\(name ?? "")\" on this machine: create it, or give its gid as a number")
                return nil
            }
            return .group(gid, name: name)
        }
    }

    /// A name in quotes, or a number (an integer, or digits in quotes).
    private func nameOrNumber(_ table: ConfigTable, _ key: String, kind: String) -> (name: String?, number: UInt32?)? {
        let expected = "a Unix \(kind) name in quotes, or its number"
        guard let entry = table.table[key] else { return nil }
        switch entry.value {
        case .integer(let number) where number >= 0 && number < Int64(UInt32.max):
            return (nil, UInt32(number))
        case .string(let text) where !text.isEmpty && text.allSatisfy(\.isASCII) && text.allSatisfy(\.isNumber):
            guard let number = UInt32(text), number < UInt32.max else {
                table.problem(key, "expected \(expected); \(text) is out of range")
                return nil
            }
            return (nil, number)
        case .string(let text) where Self.isPlausibleName(text):
            return (text, nil)
        default:
            table.problem(key, "expected \(expected), found \(entry.value.kindDescription)")
            return nil
        }
    }

    private func readOrganisations(_ table: ConfigTable, known: Set<String>) -> APIClientRule.Organisations? {
        let expected = "a list of organisation names in quotes, like [\"acme\"], or [\"*\"] for every organisation"
        guard let entry = table.table["organisations"] else {
            table.problem("organisations", "required: \(expected)")
            return nil
        }
        guard case .array(let elements) = entry.value, !elements.isEmpty else {
            table.problem("organisations", "expected \(expected), found \(entry.value.kindDescription)")
            return nil
        }
        var names: Set<String> = []
        for element in elements {
            guard case .string(let name) = element else {
                table.problem("organisations", "expected \(expected); found \(element.kindDescription) in the list")
                return nil
            }
            names.insert(name)
        }
        if names.contains("*") {
            guard names.count == 1 else {
                table.problem("organisations", "\"*\" already means every organisation: write [\"*\"] alone, or only names")
                return nil
            }
            return .all
        }
        let unknown = names.subtracting(known).sorted()
        guard unknown.isEmpty else {
            let printable = unknown.map { TOMLTableBuilder.printable($0) }.joined(separator: ", ")
            let configured = known.isEmpty ? "none is configured" : "configured: " + known.sorted().joined(separator: ", ")
            table.problem("organisations", "no [[organisation]] named \(printable) (\(configured)): fix the name, or add the organisation")
            return nil
        }
        return .named(names)
    }

    private func readAllow(_ table: ConfigTable) -> Set<APIPermission>? {
        let values = APIPermission.allCases.map(\.rawValue).joined(separator: ", ")
        let expected = "a list of what this client may do, like [\"token\", \"status\"] (any of \(values))"
        guard let entry = table.table["allow"] else {
            table.problem("allow", "required: \(expected)")
            return nil
        }
        guard case .array(let elements) = entry.value, !elements.isEmpty else {
            table.problem("allow", "expected \(expected), found \(entry.value.kindDescription)")
            return nil
        }
        var allow: Set<APIPermission> = []
        for element in elements {
            guard case .string(let text) = element else {
                table.problem("allow", "expected \(expected); found \(element.kindDescription) in the list")
                return nil
            }
            guard let permission = APIPermission(rawValue: text) else {
                table.problem("allow", "unknown value \"\(TOMLTableBuilder.printable(text))\": expected any of \(values)")
                return nil
            }
            allow.insert(permission)
        }
        return allow
    }

    /// The names of the `[[organisation]]` tables as written, valid or not (their own problems are
    /// noted by their reader; an `[[api_client]]` naming one should not add another).
    private func organisationNames() -> Set<String> {
        guard case .array(let elements)? = root.table["organisation"]?.value else { return [] }
        var names: Set<String> = []
        for case .table(let table) in elements {
            if case .string(let name)? = table["name"]?.value { names.insert(name) }
        }
        return names
    }

    /// A Unix user or group name: no spaces, colons or control characters, at most 64 bytes.
    static func isPlausibleName(_ name: String) -> Bool {
        (1...64).contains(name.utf8.count) && name.unicodeScalars.allSatisfy {
            $0.isASCII && $0.value > 0x20 && $0.value < 0x7F && $0 != ":" && $0 != "/"
        }
    }

    static func userID(named name: String) -> uid_t? {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16 * 1024)
        guard getpwnam_r(name, &entry, &buffer, buffer.count, &result) == 0, result != nil else { return nil }
        return entry.pw_uid
    }

    static func groupID(named name: String) -> gid_t? {
        var entry = group()
        var result: UnsafeMutablePointer<group>?
        var buffer = [CChar](repeating: 0, count: 16 * 1024)
        guard getgrnam_r(name, &entry, &buffer, buffer.count, &result) == 0, result != nil else { return nil }
        return entry.gr_gid
    }
}
