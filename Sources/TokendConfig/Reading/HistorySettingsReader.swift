/// Reads the `[history]` table onto `HistorySettings`: `keep_days`, a whole number of days.
struct HistorySettingsReader {
    static let knownKeys = ["keep_days"]
    static let keepDaysRange = 1...36_500
    static var expected: String {
        "a whole number of days from \(keepDaysRange.lowerBound) to \(keepDaysRange.upperBound) (default \(HistorySettings.defaultKeepDays))"
    }

    let table: ConfigTable

    /// The settings; a value with a problem keeps its default (the problem stops the load anyway).
    func read() -> HistorySettings {
        table.reportUnknownKeys(known: Self.knownKeys)
        var settings = HistorySettings()
        guard let days = table.integer("keep_days", expected: Self.expected) else { return settings }
        guard Self.keepDaysRange.contains(Int(clamping: days.value)) else {
            table.problem("keep_days", "expected \(Self.expected), found \(days.value)")
            return settings
        }
        settings.keepDays = Int(days.value)
        return settings
    }
}
