/// `[history]`: how long the events behind `history` are kept.
public struct HistorySettings: Sendable, Equatable {
    public static let defaultKeepDays = 400

    /// Events older than this many days are pruned by the daemon, about once a day; the latest
    /// event of each grant is kept however old.
    public var keepDays: Int

    public init(keepDays: Int = Self.defaultKeepDays) {
        self.keepDays = keepDays
    }

    /// `keepDays` in seconds.
    public var keep: Double { Double(keepDays) * 86_400 }
}
