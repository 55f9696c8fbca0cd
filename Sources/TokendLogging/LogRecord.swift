import Logging

/// One log record, ready for output: the level, the message, and the metadata as sorted
/// `key`/`value` texts (handler metadata, then the metadata provider's, then the call's own,
/// later ones winning).
public struct LogRecord: Sendable {
    public var level: Logger.Level
    public var message: String
    public var fields: [(key: String, value: String)]
    public var file: String
    public var function: String
    public var line: UInt

    public init(
        level: Logger.Level, message: String, fields: [(key: String, value: String)] = [],
        file: String = "", function: String = "", line: UInt = 0
    ) {
        self.level = level
        self.message = message
        self.fields = fields
        self.file = file
        self.function = function
        self.line = line
    }

    /// Merges the metadata layers of one call into sorted fields.
    static func fields(
        handler: Logger.Metadata, provider: Logger.MetadataProvider?, call: Logger.Metadata?, error: (any Error)?
    ) -> [(key: String, value: String)] {
        var merged = handler
        if let provided = provider?.get(), !provided.isEmpty {
            merged.merge(provided) { _, new in new }
        }
        if let call, !call.isEmpty {
            merged.merge(call) { _, new in new }
        }
        var fields = merged.map { (key: $0.key, value: $0.value.description) }
        if let error { fields.append((key: "error", value: "\(error)")) }
        fields.sort { $0.key < $1.key }
        return fields
    }
}
