/// Hand-written JSON for the hot paths (token answers, API answers), where a `JSONEncoder`
/// per request would cost more than the rest of the request.
enum JSONText {
    /// `text` as a JSON string literal, quotes included.
    static func string(_ text: String) -> String {
        var needsEscaping = false
        for byte in text.utf8 where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
            needsEscaping = true
            break
        }
        if !needsEscaping { return "\"\(text)\"" }
        var output = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                output += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: output.unicodeScalars.append(scalar)
            }
        }
        return output + "\""
    }

    /// A JSON object from already-encoded member values, in the order given.
    static func object(_ members: KeyValuePairs<String, String>) -> String {
        var output = "{"
        var first = true
        for (key, value) in members {
            if !first { output += "," }
            first = false
            output += string(key)
            output += ":"
            output += value
        }
        return output + "}"
    }

    /// A JSON array from already-encoded element values.
    static func array(_ elements: [String]) -> String {
        "[" + elements.joined(separator: ",") + "]"
    }

    static func bool(_ value: Bool) -> String { value ? "true" : "false" }
}
