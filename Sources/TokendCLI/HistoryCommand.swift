import ArgumentParser
import Foundation
import TokendPolicy
import TokendReports
import TokendStore

/// `history`: the status changes from the events table, newest last.
struct HistoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "Show the status changes of libraries and users, newest last.",
        discussion: """
            Reads the database directly, whether the daemon runs or not. The journal has the same events \
            with their fields: journalctl -u imanage-tokend TOKEND_LIBRARY=ACTIVE. Exits 0, or 3 when the \
            database cannot be read.
            """)

    @OptionGroup var config: ConfigOption
    @OptionGroup var filter: ReportFilterOptions
    @Option(help: ArgumentHelp(
        "Only changes since then: an age (30m, 24h, 7d), a time (2026-11-20T08:00:00Z), a date (2026-11-20), today or yesterday.",
        valueName: "when"))
    var since: String?
    @Option(help: ArgumentHelp("Only the last N changes.", valueName: "n")) var limit: Int?
    @Flag(help: "Print {\"events\": [...]} as JSON (times RFC 3339 UTC).") var json = false

    func validate() throws {
        if let since {
            do { _ = try SinceParser.parse(since) } catch { throw ValidationError(error.description) }
        }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
    }

    func run() async throws {
        let source = try await ReportSource.open(config, command: "history", json: json)
        let sinceDate = try since.map { try SinceParser.parse($0) }
        var users: [GrantRecord] = []
        if filter.user != nil {
            users = try await source.records(ReportFilter(organisation: filter.organisation, user: filter.user), command: "history", json: json)
        }
        do {
            let events = try await source.store.events(
                HistoryReport.eventFilter(filter.filter, since: sinceDate, limit: limit, users: users))
            let report = HistoryReport(events: events)
            print(json ? report.jsonText() : report.table(colour: Terminal.wantsColour()), terminator: json ? "\n" : "")
        } catch let ambiguous as AmbiguousUser {
            printError("imanage-tokend history: \(ambiguous)")
            throw ExitCode(64)  // EX_USAGE
        } catch {
            throw ReportSource.couldNotTell("history", "\(error)", json: json)
        }
    }
}
