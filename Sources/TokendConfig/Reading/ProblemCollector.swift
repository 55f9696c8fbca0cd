/// The problems found so far while reading one configuration file.
///
/// A class so that every reader of every table adds to the same list; used by one load only.
final class ProblemCollector {
    let file: String
    private(set) var problems: [ConfigurationError.Problem] = []

    init(file: String) {
        self.file = file
    }

    var isEmpty: Bool { problems.isEmpty }

    func add(line: Int?, column: Int? = nil, key: String, _ message: String) {
        problems.append(ConfigurationError.Problem(file: file, line: line, column: column, key: key, message: message))
    }

    /// All problems, in the order of their lines (problems without a line, about the whole file, first).
    func error() -> ConfigurationError {
        let ordered = problems.enumerated().sorted { left, right in
            let leftLine = left.element.line ?? 0, rightLine = right.element.line ?? 0
            return leftLine != rightLine ? leftLine < rightLine : left.offset < right.offset
        }
        return ConfigurationError(problems: ordered.map(\.element))
    }
}

/// A value checked by a validator, or why it was refused (the message never repeats a secret).
struct InvalidValue: Error {
    let message: String

    init(_ message: String) {
        self.message = message
    }
}

/// A value with the line it was written on.
struct Located<Value> {
    var value: Value
    var line: Int
}
