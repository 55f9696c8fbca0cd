import Foundation
import Logging

/// Sets up swift-log for the daemon and its subcommands: once per process, first thing.
public enum TokendLoggingSystem {
    /// The environment variable that sets the level when no `--log-level` is given.
    public static let levelEnvironmentVariable = "IMANAGE_TOKEND_LOG_LEVEL"

    /// The level to use: `explicit` (from `--log-level`) if given, else `$IMANAGE_TOKEND_LOG_LEVEL`
    /// if it names a level, else `info`.
    public static func level(explicit: Logger.Level? = nil, environment: [String: String]) -> Logger.Level {
        explicit ?? environment[levelEnvironmentVariable].flatMap(Logger.Level.init(name:)) ?? .info
    }

    /// Bootstraps `LoggingSystem` with `TokendLogHandler`, writing where `environment` says
    /// (`LogDestination.detect`). Returns the shared level, which may be changed later.
    ///
    /// Call once per process: swift-log allows only one bootstrap.
    @discardableResult
    public static func bootstrap(
        level: Logger.Level? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        identifier: String = "imanage-tokend",
        metadataProvider: Logger.MetadataProvider? = nil
    ) -> LogLevelSetting {
        let setting = LogLevelSetting(self.level(explicit: level, environment: environment))
        let writer = LogWriter(destination: LogDestination.detect(environment: environment), identifier: identifier)
        LoggingSystem.bootstrap({ _, provider in
            TokendLogHandler(writer: writer, level: setting, metadataProvider: provider)
        }, metadataProvider: metadataProvider)
        return setting
    }
}
