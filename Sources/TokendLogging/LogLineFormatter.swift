import Logging

/// Formats a record as one line of text for stderr:
/// `[<N>][timestamp ]level message key=value key="value with spaces"`.
///
/// Newlines and other control characters are escaped, so one record is always one line;
/// values with spaces, quotes, `=` or backslashes are quoted, and an empty value is `""`.
public enum LogLineFormatter {
    public static func format(_ record: LogRecord, priorityPrefix: Bool, timestamp: String?) -> String {
        var line = ""
        line.reserveCapacity(64 + record.message.utf8.count + record.fields.count * 32)
        if priorityPrefix {
            line += "<"
            line += String(record.level.syslogPriority)
            line += ">"
        }
        if let timestamp {
            line += timestamp
            line += " "
        }
        line += record.level.rawValue
        line += " "
        appendMessage(record.message, to: &line)
        if !record.fields.isEmpty {
            line += " "
            appendPairs(record.fields, to: &line)
        }
        line += "\n"
        return line
    }

    /// Appends `key=value` pairs separated by spaces.
    static func appendPairs(_ pairs: [(key: String, value: String)], to line: inout String) {
        for (index, pair) in pairs.enumerated() {
            if index > 0 { line += " " }
            appendKey(pair.key, to: &line)
            line += "="
            appendValue(pair.value, to: &line)
        }
    }

    /// A message stays readable: only control characters are escaped (`\n`, `\r`, `\u{1B}`); tabs stay.
    static func appendMessage(_ message: String, to line: inout String) {
        guard message.unicodeScalars.contains(where: needsEscape) else {
            line += message
            return
        }
        for scalar in message.unicodeScalars {
            if needsEscape(scalar) { appendEscape(scalar, to: &line) } else { line.unicodeScalars.append(scalar) }
        }
    }

    private static func appendKey(_ key: String, to line: inout String) {
        guard !key.isEmpty else {
            line += "_"
            return
        }
        for scalar in key.unicodeScalars {
            let plain = scalar != " " && scalar != "=" && scalar != "\"" && !isControl(scalar)
            line.unicodeScalars.append(plain ? scalar : "_")
        }
    }

    private static func appendValue(_ value: String, to line: inout String) {
        let needsQuotes = value.isEmpty || value.unicodeScalars.contains {
            $0 == " " || $0 == "\"" || $0 == "=" || $0 == "\\" || isControl($0)
        }
        guard needsQuotes else {
            line += value
            return
        }
        line += "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": line += "\\\""
            case "\\": line += "\\\\"
            case "\t": line += "\\t"
            default:
                if isControl(scalar) { appendEscape(scalar, to: &line) } else { line.unicodeScalars.append(scalar) }
            }
        }
        line += "\""
    }

    private static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        scalar != "\t" && isControl(scalar)
    }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar.value == 0x2028 || scalar.value == 0x2029
    }

    private static func appendEscape(_ scalar: Unicode.Scalar, to line: inout String) {
        switch scalar {
        case "\n": line += "\\n"
        case "\r": line += "\\r"
        case "\t": line += "\\t"
        default: line += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
        }
    }
}
