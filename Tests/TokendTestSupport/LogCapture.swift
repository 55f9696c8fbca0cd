import Logging
import Synchronization

/// Keeps every log message written through its loggers, in memory, for a test to read: to count
/// what was said, or to prove that no secret was.
public final class LogCapture: Sendable {
    /// How a message is kept as a line.
    public enum Lines: Sendable {
        /// The message, its metadata and its error: everything that could reach a person.
        case messageMetadataAndError
        /// The level and the message, to count what was said at which level.
        case levelAndMessage
    }

    private let lines = Mutex<[String]>([])
    private let format: Lines

    public init(lines format: Lines = .messageMetadataAndError) { self.format = format }

    public var all: [String] { lines.withLock { $0 } }

    /// A logger at trace level, every message kept.
    public var logger: Logger { logger(level: .trace) }

    public func logger(level: Logger.Level) -> Logger {
        var logger = Logger(label: "test") { _ in CapturingLogHandler(capture: self, logLevel: level) }
        logger.logLevel = level
        return logger
    }

    fileprivate func keep(_ event: LogEvent, metadata: Logger.Metadata) {
        let line: String
        switch format {
        case .messageMetadataAndError:
            let fields = metadata.merging(event.metadata ?? [:]) { _, new in new }
            line = "\(event.message) \(fields) \(event.error.map { "\($0)" } ?? "")"
        case .levelAndMessage:
            line = "\(event.level) \(event.message)"
        }
        lines.withLock { $0.append(line) }
    }
}

private struct CapturingLogHandler: LogHandler {
    let capture: LogCapture
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level

    init(capture: LogCapture, logLevel: Logger.Level) {
        self.capture = capture
        self.logLevel = logLevel
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) { capture.keep(event, metadata: metadata) }
}
