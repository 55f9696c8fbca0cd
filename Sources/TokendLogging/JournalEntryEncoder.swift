/// Encodes one record in journald's native protocol: one datagram of fields, each
/// `KEY=value\n`, or, when the value holds a newline, `KEY\n` + the value's length as a
/// 64-bit little-endian integer + the value + `\n`.
public enum JournalEntryEncoder {
    /// Fields the handler sets itself; metadata of the same name is not sent a second time.
    static let reservedFields: Set<String> = [
        "MESSAGE", "PRIORITY", "SYSLOG_IDENTIFIER", "CODE_FILE", "CODE_LINE", "CODE_FUNC",
    ]

    /// Whether `name` may be a journal field: 1 to 64 of `A-Z 0-9 _`, not starting with `_`
    /// (those are trusted fields journald sets) nor with a digit.
    public static func isValidFieldName(_ name: String) -> Bool {
        let bytes = name.utf8
        guard let first = bytes.first, bytes.count <= 64, first != UInt8(ascii: "_"),
              !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first)
        else { return false }
        return bytes.allSatisfy {
            (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
                || $0 == UInt8(ascii: "_")
        }
    }

    /// Appends one field to `datagram` in whichever form its value needs.
    public static func appendField(_ name: String, _ value: String, to datagram: inout [UInt8]) {
        datagram.append(contentsOf: name.utf8)
        if value.utf8.contains(UInt8(ascii: "\n")) {
            datagram.append(UInt8(ascii: "\n"))
            var length = UInt64(value.utf8.count).littleEndian
            withUnsafeBytes(of: &length) { datagram.append(contentsOf: $0) }
            datagram.append(contentsOf: value.utf8)
        } else {
            datagram.append(UInt8(ascii: "="))
            datagram.append(contentsOf: value.utf8)
        }
        datagram.append(UInt8(ascii: "\n"))
    }

    /// The datagram for one record. Metadata with a valid field name becomes its own field;
    /// the rest is appended to `MESSAGE` as `key=value`, so nothing is lost.
    public static func encode(_ record: LogRecord, identifier: String) -> [UInt8] {
        var datagram: [UInt8] = []
        datagram.reserveCapacity(256 + record.message.utf8.count)
        var message = record.message
        var others: [(key: String, value: String)] = []
        for (key, value) in record.fields {
            if isValidFieldName(key) && !reservedFields.contains(key) {
                appendField(key, value, to: &datagram)
            } else {
                others.append((key, value))
            }
        }
        if !others.isEmpty {
            message += " "
            LogLineFormatter.appendPairs(others, to: &message)
        }
        appendField("MESSAGE", message, to: &datagram)
        appendField("PRIORITY", String(record.level.syslogPriority), to: &datagram)
        appendField("SYSLOG_IDENTIFIER", identifier, to: &datagram)
        appendField("CODE_FILE", record.file, to: &datagram)
        appendField("CODE_LINE", String(record.line), to: &datagram)
        appendField("CODE_FUNC", record.function, to: &datagram)
        return datagram
    }
}
