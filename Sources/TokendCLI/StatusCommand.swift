import ArgumentParser
import Foundation
import TokendEngine
import TokendPolicy
import TokendReports

/// `status`: every library and user, what needs a person first; the exit code is for monitoring.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the authorisation status of every library and user.",
        discussion: """
            Reads the database directly, so it works whether the daemon runs or not, and says whether it \
            runs. Lines that need a person come first. Colour only on a terminal, and never with NO_COLOR set.

            Exit codes (the Nagios convention, so monitoring can call it directly):
              0  all is authorised (grants of disabled organisations count as fine)
              1  warnings: a grant is retrying, a refresh token expires within \
            refresh_token_warning_days (30), a refresh was interrupted and its outcome is uncertain, or \
            the daemon runs without its web pages or token API (it could not open the listener)
              2  a person must act: needs_reauth, client_error, not_nrtadmin, expired, unauthorized (a \
            --library or --user named with --organisation that has no grant), a refresh token past its \
            expiry, or grants to refresh while the daemon is not running
              3  could not tell: bad configuration, no database, unreadable database, or the wrong key_file
            """)

    @OptionGroup var config: ConfigOption
    @OptionGroup var filter: ReportFilterOptions
    @Flag(help: "Print one JSON object: organisations, libraries, users (times RFC 3339 UTC).") var json = false

    func run() async throws {
        let source = try await ReportSource.open(config, command: "status", json: json)
        let records = try await source.records(filter.filter, command: "status", json: json)
        let daemon: DaemonState
        do {
            daemon = try await DaemonNodes.state(configuration: source.configuration, store: source.store, records: records)
        } catch {
            throw ReportSource.couldNotTell("status", "cannot read the daemons' heartbeats: \(error)", json: json, database: source.configuration.database)
        }
        let pins = (try? await source.store.pinnedCustomers()) ?? []
        var report = StatusReport(
            records: records,
            organisations: source.configuration.organisations.map { ($0.name, $0.enabled) },
            daemon: daemon,
            filter: filter.filter,
            rules: StatusRules(settings: source.configuration.refresh),
            customers: OrganisationCustomer.of(
                configured: source.configuration.organisations.map { ($0.name, $0.customerID) },
                pins: pins))
        report.countPendingNotifications((try? await source.store.pendingNotificationCount()) ?? 0)
        report.showEndpointsDown((try? await source.store.endpointOutages()) ?? [])
        print(json ? report.jsonText() : report.table(colour: Terminal.wantsColour()), terminator: json ? "\n" : "")
        if report.attention != .ok { throw ExitCode(report.attention.exitCode) }
    }
}
