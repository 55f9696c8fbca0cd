import TokendPolicy

/// How much a grant, or the whole report, asks of a person: the Nagios levels `status` exits with.
///
/// `ok` 0: all is authorised (or switched off on purpose). `warning` 1: it will need a person
/// soon or is recovering by itself. `critical` 2: a person must act now. `unknown` 3: it could
/// not tell (no database, unreadable, wrong key, bad configuration).
public typealias Attention = Severity

extension Severity {
    /// The word used in JSON and tables.
    public var word: String {
        switch self {
        case .ok: "ok"
        case .warning: "warning"
        case .critical: "critical"
        case .unknown: "unknown"
        }
    }

    /// The process exit code of `status` (the Nagios convention).
    public var exitCode: Int32 { Int32(rawValue) }
}
