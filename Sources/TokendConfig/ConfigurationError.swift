/// Everything wrong with a configuration file, all at once, so one edit can fix them all.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    /// One thing wrong: where, which key, what was expected and what to do.
    public struct Problem: Sendable, Equatable, CustomStringConvertible {
        /// The configuration file (or the file it names, when that file is the problem's subject).
        public var file: String
        public var line: Int?
        public var column: Int?
        /// The key as the administrator knows it: `public_url`, `[refresh].jitter_fraction`,
        /// `organisation "acme".token_url` (an organisation without a good name of its own, or its
        /// name itself: `organisation[2].name`, counted from 1 in file order). Empty for a problem
        /// with the file as a whole.
        public var key: String
        /// What is wrong and what to do; never contains a secret.
        public var message: String

        public init(file: String, line: Int? = nil, column: Int? = nil, key: String, message: String) {
            self.file = file
            self.line = line
            self.column = column
            self.key = key
            self.message = message
        }

        /// `FILE:LINE: KEY: MESSAGE` (the line and key are left out when there is none).
        public var description: String {
            var text = file
            if let line {
                text += ":\(line)"
                if let column { text += ":\(column)" }
            }
            text += ": "
            if !key.isEmpty { text += key + ": " }
            return text + message
        }
    }

    public var problems: [Problem]

    public init(problems: [Problem]) {
        self.problems = problems
    }

    /// One line per problem.
    public var description: String {
        problems.map(\.description).joined(separator: "\n")
    }
}
