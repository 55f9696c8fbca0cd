import Foundation

/// Whether to colour output: only when standard output is a terminal and `NO_COLOR` is unset
/// (https://no-color.org).
public enum Terminal {
    public static func wantsColour(
        environment: [String: String] = ProcessInfo.processInfo.environment, isTerminal: Bool = isatty(STDOUT_FILENO) == 1
    ) -> Bool {
        isTerminal && (environment["NO_COLOR"] ?? "").isEmpty
    }
}
