import ArgumentParser
import Foundation
import TokendConfig
import TokendEngine
import TokendPolicy
import TokendReports
import TokendStore

/// `--organisation`, `--library`, `--user` of `status` and `history`: each narrows the report,
/// none is required (unlike `GrantSelection`, where a grant must be named in full).
struct ReportFilterOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Only this organisation.", valueName: "org"))
    var organisation: String?

    @Option(name: .long, help: ArgumentHelp("Only this library (e.g. ACTIVE).", valueName: "lib"))
    var library: String?

    @Option(name: .long, help: ArgumentHelp("Only this user: an iManage user id or email.", valueName: "user"))
    var user: String?

    func validate() throws {
        if library != nil, user != nil { throw ValidationError("give --library or --user, not both") }
    }

    var filter: ReportFilter { ReportFilter(organisation: organisation, library: library, user: user) }
}

/// The database, opened read-only for a report, or exit 3 ("could not tell") saying why.
struct ReportSource {
    let configuration: TokendConfiguration
    let store: any GrantStore

    /// Loads the configuration and opens its database read-only. Every failure is "could not
    /// tell": it is printed (as JSON too, with `json`) and the command exits 3.
    static func open(_ config: ConfigOption, command: String, json: Bool) async throws -> ReportSource {
        let configuration: TokendConfiguration
        do {
            // No client secret, and the key only if readable: monitoring needs neither.
            configuration = try TokendConfiguration.load(path: config.path, secrets: .keyIfReadable)
        } catch {
            throw couldNotTell(command, "the configuration \(config.path) has problems: "
                + error.problems.map(\.description).joined(separator: "; "), json: json)
        }
        do {
            // The key when this user can read it, so that the wrong key_file is told (exit 3);
            // without it the report reads only what is not encrypted.
            let store = try await StoreOpening.open(configuration: configuration, mode: .readOnly)
            return ReportSource(configuration: configuration, store: store)
        } catch {
            throw couldNotTell(command, "\(error)", json: json, database: configuration.database)
        }
    }

    /// The stored grants.
    func records(_ filter: ReportFilter, command: String, json: Bool) async throws -> [GrantRecord] {
        let records: [GrantRecord]
        do {
            records = try await store.records(organisation: filter.organisation, kind: filter.kind)
        } catch {
            throw ReportSource.couldNotTell(command, "\(error)", json: json, database: configuration.database)
        }
        // A misspelt organisation must not read as "all is well" to a monitoring check.
        if let organisation = filter.organisation, configuration.organisation(named: organisation) == nil, records.isEmpty {
            throw ReportSource.couldNotTell(command, "no organisation \(organisation) in the configuration or the database (known: "
                + configuration.organisations.map(\.name).joined(separator: ", ") + ")", json: json, database: configuration.database)
        }
        return records
    }

    /// Prints why it could not tell and returns exit 3. With `json`, the report's every key, empty
    /// (a consumer reading them does not break), `error` and `notes` saying why; the daemon's state
    /// when the database is known (`null`s when it is not).
    static func couldNotTell(_ command: String, _ reason: String, json: Bool, database: String? = nil, now: Date = Date()) -> ExitCode {
        printError("imanage-tokend \(command): could not tell: \(reason)")
        if json {
            let daemon: [String: Any]
            // A shared database's daemons are known only from it (its heartbeats): `null` here.
            if let database, !PostgresURL.isPostgres(database) {
                let holder = InstanceLock.holder(database: database)
                daemon = ["running": holder.running, "pid": holder.pid.map { $0 as Any } ?? NSNull(), "missing_listeners": [Any]()]
            } else {
                daemon = ["running": NSNull(), "pid": NSNull(), "missing_listeners": [Any]()]
            }
            let object: [String: Any] = [
                "attention": "unknown", "error": reason, "generated_at": RFC3339.string(now), "daemon": daemon,
                "notes": ["could not tell: \(reason)"], "organisations": [], "libraries": [], "users": [], "endpoints_down": [], "nodes": [],
            ]
            if let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) {
                print(String(decoding: data, as: UTF8.self))
            }
        }
        return ExitCode(3)
    }
}
