import Foundation
import TokendPolicy

extension StatusReport {
    /// The report for a person: whether the daemon runs, one line per library and user (what
    /// needs a person first), and a summary. With `colour`, statuses are red, yellow or green.
    public func table(colour: Bool) -> String {
        var output = daemon.sharedDatabase != nil ? daemonsLines()
            : daemon.running
            ? "daemon: running\(daemon.pid.map { " (pid \($0))" } ?? ""), imanage-tokend \(daemon.version)\n"
            : "daemon: NOT running, imanage-tokend \(daemon.version)\n"
        for note in notes { output += "note: \(note)\n" }
        let entries = (libraries + users).sorted(by: Self.needsAPersonFirst)
        guard !entries.isEmpty else {
            return output + "no libraries or users are authorised\(organisations.isEmpty ? " and no organisation is configured" : "")\n"
        }
        output += "\n"
        var table = TextTable(header: [
            "ORGANISATION", "LIBRARY/USER", "STATUS", "AUTHORISED BY", "ACCESS EXPIRES", "NEXT REFRESH",
            "REFRESH TOKEN EXPIRES", "LAST ERROR",
        ])
        for entry in entries {
            table.append([
                TextTable.Cell(entry.key.organisation),
                TextTable.Cell("\(entry.key.kind.rawValue) \(entry.key.subject)"),
                TextTable.Cell(entry.status.rawValue, colour: Self.colour(of: entry)),
                TextTable.Cell(entry.authorizedBy.map { $0.email.isEmpty ? $0.userID : $0.email } ?? "-"),
                TextTable.Cell(relative(entry.accessExpiresAt)),
                TextTable.Cell(relative(entry.nextRefreshAt)),
                TextTable.Cell(relative(entry.refreshTokenExpiresAt),
                               colour: entry.reason?.contains("refresh token") == true ? Self.colour(of: entry) : nil),
                TextTable.Cell(TextTable.clip(entry.lastError ?? entry.reason ?? "", to: 72)),
            ])
        }
        output += table.render(colour: colour)
        let counts = Dictionary(grouping: entries, by: \.attention).mapValues(\.count)
        let total = entries.count
        output += "\n\(total) \(total == 1 ? "grant" : "grants"): \(counts[.critical] ?? 0) \((counts[.critical] ?? 0) == 1 ? "needs" : "need") a person, "
            + "\(counts[.warning] ?? 0) with warnings, \(counts[.ok] ?? 0) ok\n"
        for entry in entries where entry.attention >= .warning {
            if let reason = entry.reason, entry.lastError != nil || reason.count > 72 {
                output += "  \(entry.key.organisation) \(entry.key.kind.rawValue) \(entry.key.subject): \(reason)\n"
            }
        }
        return output
    }

    /// Daemons not alive shown one per line in the table, the most recently seen; the JSON lists all.
    static let silentDaemonsShown = 3

    /// On a shared database: how many daemons are alive, then one line each (host, pid, last beat,
    /// claims) for the live ones and the few most recently seen of the others (a killed daemon's
    /// row stays a day; every restart is a new row).
    private func daemonsLines() -> String {
        let alive = daemon.nodes.filter(\.alive)
        let silent = daemon.nodes.filter { !$0.alive }.sorted { $0.lastSeenAt > $1.lastSeenAt }
        var output = "daemons: \(alive.count) of \(daemon.nodes.count) alive on \(daemon.sharedDatabase ?? "the database")"
            + "\(alive.isEmpty ? " (NONE running)" : ""), imanage-tokend \(daemon.version)\n"
        for node in alive {
            let seen = RelativeTime.describe(node.lastSeenAt, now: generatedAt)
            output += "  alive      \(node.host) pid \(node.pid), seen \(seen), \(node.grantsClaimed) \(node.grantsClaimed == 1 ? "grant" : "grants") claimed\n"
        }
        for node in silent.prefix(Self.silentDaemonsShown) {
            output += "  NOT alive  \(node.host) pid \(node.pid), last seen \(RelativeTime.describe(node.lastSeenAt, now: generatedAt))\n"
        }
        if silent.count > Self.silentDaemonsShown {
            output += "  and \(silent.count - Self.silentDaemonsShown) more not alive (status --json lists them; a row goes a day after its last beat)\n"
        }
        return output
    }

    private func relative(_ date: Date?) -> String {
        date.map { RelativeTime.describe($0, now: generatedAt) } ?? "-"
    }

    static func colour(of entry: StatusEntry) -> TextTable.Colour? {
        if entry.status == .disabled { return .dim }
        return switch entry.attention {
        case .ok: .green
        case .warning: .yellow
        case .critical, .unknown: .red
        }
    }
}
