/// A TOML text that is not valid TOML (or uses a part of TOML this reader does not support).
public struct TOMLSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    public var position: TOMLPosition
    /// What is wrong and, where it helps, how to write it instead.
    public var message: String

    public init(_ message: String, at position: TOMLPosition) {
        self.message = message
        self.position = position
    }

    public var description: String { "\(position.line):\(position.column): \(message)" }
}
