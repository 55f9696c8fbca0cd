import Logging

/// The daemon's `LogHandler`: records go to the journal (with the metadata as journal fields)
/// or to stderr as `key=value` lines, as `LogDestination` says.
///
/// The level comes from a shared `LogLevelSetting` unless this logger set its own; the
/// `Logger` checks it before anything is formatted, so a filtered record costs nothing.
public struct TokendLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let writer: LogWriter
    private let sharedLevel: LogLevelSetting
    private var ownLevel: Logger.Level?

    public init(writer: LogWriter, level: LogLevelSetting, metadataProvider: Logger.MetadataProvider? = nil) {
        self.writer = writer
        self.sharedLevel = level
        self.metadataProvider = metadataProvider
    }

    public var logLevel: Logger.Level {
        get { ownLevel ?? sharedLevel.level }
        set { ownLevel = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        writer.write(LogRecord(
            level: event.level,
            message: event.message.description,
            fields: LogRecord.fields(
                handler: metadata, provider: metadataProvider, call: event.metadata, error: event.error),
            file: event.file, function: event.function, line: event.line))
    }
}
