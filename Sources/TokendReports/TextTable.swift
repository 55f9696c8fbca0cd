/// A plain-text table: columns padded to their widest cell, two spaces apart, the last column
/// unpadded. Colour, when asked for, wraps a cell after padding, so ANSI codes never shift columns.
public struct TextTable: Sendable {
    public enum Colour: String, Sendable {
        case red = "31", yellow = "33", green = "32", dim = "2", bold = "1"
    }

    public struct Cell: Sendable, ExpressibleByStringLiteral {
        public var text: String
        public var colour: Colour?

        public init(_ text: String, colour: Colour? = nil) {
            self.text = text
            self.colour = colour
        }

        public init(stringLiteral value: String) { self.init(value) }
    }

    public var header: [String]
    public var rows: [[Cell]] = []

    public init(header: [String]) {
        self.header = header
    }

    public mutating func append(_ row: [Cell]) { rows.append(row) }

    /// The table as lines ending in `\n`; with `colour`, cells with a colour get ANSI codes.
    public func render(colour: Bool) -> String {
        let all = [header.map { Cell($0, colour: .bold) }] + rows
        var widths = [Int](repeating: 0, count: header.count)
        for row in all {
            for (index, cell) in row.enumerated() where index < widths.count {
                widths[index] = max(widths[index], cell.text.count)
            }
        }
        var output = ""
        for row in all {
            var line = ""
            for (index, cell) in row.enumerated() where index < widths.count {
                let last = index == widths.count - 1
                let padded = last ? cell.text : cell.text + String(repeating: " ", count: widths[index] - cell.text.count)
                if colour, let code = cell.colour {
                    let trimmed = padded.count - cell.text.count
                    line += "\u{1B}[\(code.rawValue)m\(cell.text)\u{1B}[0m" + String(repeating: " ", count: trimmed)
                } else {
                    line += padded
                }
                if !last { line += "  " }
            }
            while line.hasSuffix(" ") { line.removeLast() }
            output += line + "\n"
        }
        return output
    }

    /// Shortens `text` to `limit` characters, ending in "…", and keeps it on one line.
    public static func clip(_ text: String, to limit: Int) -> String {
        let line = text.replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "\r", with: " ")
        return line.count <= limit ? line : String(line.prefix(max(0, limit - 1))) + "…"
    }
}
