import Logging

extension Logger.Level {
    /// The syslog priority journald files a record under (`PRIORITY=`, or `<N>` on stderr).
    public var syslogPriority: Int {
        switch self {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    /// Reads a level name as given to `--log-level` or `$IMANAGE_TOKEND_LOG_LEVEL`
    /// (`trace`, `debug`, `info`, `notice`, `warning`/`warn`, `error`, `critical`), any case.
    public init?(name: String) {
        switch name.filter({ !$0.isWhitespace }).lowercased() {
        case "trace": self = .trace
        case "debug": self = .debug
        case "info": self = .info
        case "notice": self = .notice
        case "warning", "warn": self = .warning
        case "error": self = .error
        case "critical", "crit": self = .critical
        default: return nil
        }
    }
}
