import Logging
import Synchronization

/// The log level shared by every logger made by the bootstrap: changing it (a reload, a
/// `--log-level` given late) takes effect at once everywhere, unless a logger set its own.
public final class LogLevelSetting: Sendable {
    private let storage: Atomic<UInt8>
    private static let levels = Logger.Level.allCases

    public init(_ level: Logger.Level) {
        storage = Atomic(Self.index(of: level))
    }

    public var level: Logger.Level {
        get { Self.levels[Int(storage.load(ordering: .relaxed))] }
        set { storage.store(Self.index(of: newValue), ordering: .relaxed) }
    }

    private static func index(of level: Logger.Level) -> UInt8 {
        UInt8(levels.firstIndex(of: level) ?? 0)
    }
}
