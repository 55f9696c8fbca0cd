/// Where log records go.
public enum LogDestination: Sendable, Equatable {
    /// journald's native protocol on the given socket, one datagram per record, with the
    /// metadata as fields. When a send fails (no journald), the record goes to stderr instead,
    /// with a `<N>` priority prefix and no timestamp, as journald reads stderr lines.
    case journal(socketPath: String)
    /// One line per record on stderr: `<N>` prefix and timestamp as asked.
    case standardError(priorityPrefix: Bool, timestamps: Bool)

    /// journald's socket for native entries.
    public static let journalSocketPath = "/run/systemd/journal/socket"

    /// The journal when stderr is the journal stream systemd gave the service (`$JOURNAL_STREAM`);
    /// otherwise stderr lines with timestamps and no priority prefix (a terminal, a pipe, a file).
    public static func detect(environment: [String: String]) -> LogDestination {
        if JournalStream.isStandardErrorJournal(environment: environment) {
            return .journal(socketPath: journalSocketPath)
        }
        return .standardError(priorityPrefix: false, timestamps: true)
    }
}
