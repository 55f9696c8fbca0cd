import ArgumentParser
import CTokendSystem
import Foundation
import IManageClient
import Logging
import Prometheus
import TokendAPI
import TokendConfig
import TokendEngine
import TokendLogging
import TokendMetrics
import TokendReports
import TokendNotify
import TokendPostgres
import TokendStore
import TokendWeb
import ServiceLifecycle
import TokendHTTP

/// `run`: the daemon.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the daemon: keep every grant fresh (systemd Type=notify).",
        discussion: """
            Loads the configuration (nothing starts on a bad one), takes the database's single-instance \
            lock, schedules every grant (overdue ones first, spread out), and refreshes each access token \
            at half its life. Logs go to the journal natively under systemd, else to stderr as key=value. \
            SIGTERM or SIGINT stops it: no new refreshes, those in flight get a few seconds, exit 0.
            """)

    @OptionGroup var config: ConfigOption

    @Option(help: ArgumentHelp("trace, debug, info, notice, warning, error or critical (default: $IMANAGE_TOKEND_LOG_LEVEL, else info).", valueName: "level"))
    var logLevel: String?

    @Flag(help: "Log every routine refresh at info (\"refreshed library ACTIVE of demo, next in 29 s\"), as scripts/demo does; by default they log at debug, so the journal stays quiet.")
    var logEachRefresh = false

    /// How long refreshes in flight get to finish at shutdown; the rest are abandoned and retried at the next start.
    static let shutdownGrace: Duration = .seconds(5)

    func run() async throws {
        // A SIGHUP while starting must not end the daemon (its default action); the reload service takes it once started.
        signal(SIGHUP, SIG_IGN)
        let notifier = SystemdNotifier()
        let stopSignals = await StopOnSignals { _ in notifier.stopping() }
        // Before any secret is read: no core dump, no ptrace or /proc/PID/mem by others of this user.
        if tokend_forbid_core_dumps() != 0 {
            printError("imanage-tokend run: cannot forbid core dumps of this process: \(String(cString: strerror(errno)))")
            throw ExitCode(71)  // EX_OSERR
        }
        let configuration = try config.load()
        var level: Logger.Level?
        if let logLevel {
            guard let parsed = Logger.Level(rawValue: logLevel) else {
                throw ValidationError("--log-level: expected trace, debug, info, notice, warning, error or critical")
            }
            level = parsed
        }
        TokendLoggingSystem.bootstrap(level: level)
        let logger = Logger(label: "imanage-tokend")
        // Before anything counts: the engine's and the HTTP client's counters go to this registry.
        let registry = configuration.metricsListen != nil ? MetricsBackend.bootstrap() : nil

        // One daemon per SQLite file; on PostgreSQL several share the database, each grant claimed by one.
        var lock: InstanceLock?
        if configuration.postgres == nil {
            do { lock = try InstanceLock(database: configuration.database) } catch {
                printError("imanage-tokend run: \(error)")
                throw ExitCode(75)  // EX_TEMPFAIL
            }
        }
        let store: any GrantStore
        do {
            store = try await StoreOpening.open(configuration: configuration, mode: .readWrite)
        } catch StoreError.wrongKey(let path) {
            // A configuration problem: exit 78, which the unit does not restart, and nothing is written.
            printError("imanage-tokend run: \(StoreError.wrongKey(path: path))")
            throw ExitCode(78)
        } catch {
            printError("imanage-tokend run: \(error)")
            throw ExitCode(1)
        }
        if let sqlite = store as? SQLiteGrantStore, sqlite.tightenedPermissions {
            logger.warning("the database \(configuration.database) was readable by others; narrowed to 0600")
        }
        // Before any write, so every status change of this process queues what [notify] asks for.
        let notifications = configuration.notify.map { NotificationDispatcher(configuration: configuration, notify: $0, store: store, logger: logger) }
        let client = try IManageHTTPClient(
            settings: IManageClientSettings(configuration),
            logger: logger)
        let shared = store as? PostgresGrantStore
        // With several daemons the host tells them apart (pids repeat across machines).
        let owner = shared != nil
            ? "daemon:\(SharedDatabaseNode.hostName()):\(getpid()):\(Int(Date().timeIntervalSince1970))"
            : "daemon:\(getpid()):\(Int(Date().timeIntervalSince1970))"
        let engine = RefreshEngine(
            configuration: configuration, store: store, client: client, owner: owner, logger: logger,
            routineRefreshLevel: logEachRefresh ? .info : .debug, sharedDatabase: shared != nil)
        let sharedSchedule = shared.map { SharedDatabaseNode.start(store: $0, engine: engine, owner: owner, logger: logger) }
        let started = try await engine.start()

        // One rule for a listener that cannot be opened (the token API socket, the pages on
        // `listen`, metrics): the daemon runs on without it, since refreshing is what keeps the
        // grants alive, and says so once in the journal, in STATUS= and in `status` (exit 1).
        MissingListenersFile.remove(database: configuration.localStateBase)
        var missing: [MissingListener] = []
        var listeners: [(listener: HTTPListener, address: String)] = [
            (TokenAPIServer(
                socketPath: configuration.apiSocket, service: TokenAPIService(engine: engine, store: store, sharedNodes: Self.sharedNodes(shared, configuration)),
                logger: logger).listener,
             configuration.apiSocket),
        ]
        // The authorisation pages on `listen` (TokendWeb); new grants go to the engine at once.
        do {
            let web = try TokendWebServer(configuration: configuration, store: store, client: client, engine: engine, logger: logger)
            listeners.append((web.listener, "\(configuration.listen)"))
        } catch {
            missing.append(MissingListener(listener: "web pages", address: "\(configuration.listen)", reason: "\(error)"))
        }
        if let metrics = await Self.metrics(configuration, registry: registry, store: store, engine: engine, logger: logger, missing: &missing) {
            listeners.append((metrics.listener, configuration.metricsListen?.description ?? ""))
        }
        let reload = await ReloadOnHangup { [path = config.path] in
            await Self.reload(path: path, running: configuration, engine: engine, logger: logger, notifier: notifier)
        }

        // One group; it starts them in this order and, on SIGTERM or SIGINT, stops them in the
        // reverse one: the engine first (its refreshes in flight get `shutdownGrace`), then the
        // listeners (requests in flight are finished), the notifications last.
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        if let notifications { services.append(.init(service: NotificationDelivery(dispatcher: notifications))) }
        services += listeners.map(\.listener.serviceConfiguration)
        services.append(.init(
            service: RefreshEngineService(engine: engine, grace: Self.shutdownGrace), successTerminationBehavior: .gracefullyShutdownGroup))
        services.append(.init(service: reload))
        services.append(stopSignals.serviceConfiguration)
        var groupLogger = logger
        groupLogger.logLevel = max(logger.logLevel, .notice)
        var groupConfiguration = ServiceGroupConfiguration(services: services, logger: groupLogger)
        groupConfiguration.maximumGracefulShutdownDuration = Self.shutdownGrace + .seconds(5)
        let group = ServiceGroup(configuration: groupConfiguration)

        let ended: (any Error)? = await withTaskGroup(of: (any Error)?.self) { tasks in
            tasks.addTask {
                do { try await group.run() } catch { return error }
                return nil
            }
            // READY=1 only once every listener has listened or failed.
            for (listener, address) in listeners {
                if case .failed(let error) = await listener.outcome {
                    missing.append(MissingListener(listener: listener.name, address: address, reason: "\(error)"))
                }
            }
            for listener in missing { logger.error("\(listener.note)") }
            do {
                try MissingListenersFile.write(missing, pid: getpid(), database: configuration.localStateBase)
            } catch {
                logger.error("cannot write \(MissingListenersFile.path(database: configuration.localStateBase)) for status: \(error)")
            }
            let summary = Self.startedSummary(
                scheduled: started.scheduled, overdue: started.overdue, organisations: configuration.organisations.count, missing: missing)
            logger.info("imanage-tokend started: version \(TokendVersion.current), \(summary)")
            notifier.ready()
            notifier.status(summary)
            let watchdog = Watchdog(notifier: notifier)
            defer { watchdog.stop() }
            return await tasks.next() ?? nil
        }
        MissingListenersFile.remove(database: configuration.localStateBase)
        if let shared, let sharedSchedule { await SharedDatabaseNode.stop(sharedSchedule, store: shared, owner: owner) }
        logger.info("imanage-tokend stopping (signal \(stopSignals.received.map { String($0.rawValue) } ?? "none"))")
        await client.shutdown()
        withExtendedLifetime(lock) {}
        if let ended {
            // Not asked to stop: a part of the daemon failed, and systemd restarts it.
            logger.error("imanage-tokend stopped on a failure: \(ended)")
            if stopSignals.received == nil { throw ExitCode(1) }
        }
    }
}

extension RunCommand {
    /// `GET /metrics` on `metrics_listen`, when configured. Like every listener, one that cannot be
    /// opened is reported in `missing` (journal, STATUS=, `status`), and the refreshes go on.
    static func metrics(
        _ configuration: TokendConfiguration, registry: PrometheusCollectorRegistry?, store: any GrantStore, engine: RefreshEngine,
        logger: Logger, missing: inout [MissingListener]
    ) async -> MetricsServer? {
        guard let listen = configuration.metricsListen, let registry else { return nil }
        do {
            // Its own read connection: a scrape of many grants never holds up the engine's reads.
            let scrapes = try await StoreOpening.open(configuration: configuration, mode: .readOnlyWithoutKey)
            // Commits and the writes they carry are counted by the SQLite writer only.
            let writer = store as? SQLiteGrantStore
            return MetricsServer(
                host: listen.host, port: listen.port, registry: registry, store: scrapes,
                series: GrantSeries(rules: StatusRules(settings: configuration.refresh), perGrant: configuration.metricsPerGrant),
                organisations: { engine.organisations.map { ($0.name, $0.enabled) } },
                figures: {
                    let commits = writer?.commitStatistics ?? (commits: 0, writes: 0)
                    return DaemonFigures(commits: commits.commits, writes: commits.writes,
                                         worstSchedulingLateness: engine.takeWorstSchedulingLateness())
                },
                logger: logger)
        } catch {
            missing.append(MissingListener(listener: "metrics", address: listen.description, reason: "\(error)"))
            return nil
        }
    }

    /// On a shared database, every daemon's heartbeat for `GET /v1/status` (`nodes`); `nil` on SQLite.
    static func sharedNodes(_ store: PostgresGrantStore?, _ configuration: TokendConfiguration) -> (@Sendable () async throws -> [DaemonNode])? {
        guard let store else { return nil }
        let lease = StatusRules(settings: configuration.refresh).claimLease
        return { try await DaemonNodes.nodes(of: store, lease: lease) }
    }

    /// The start-up line of the journal and of `STATUS=`: what is scheduled, and every listener missing.
    static func startedSummary(scheduled: Int, overdue: Int, organisations: Int, missing: [MissingListener]) -> String {
        var summary = "\(counted(scheduled, "grant")) scheduled, \(overdue) overdue first; \(counted(organisations, "organisation"))"
        for listener in missing { summary += "; \(listener.listener) NOT served (cannot listen on \(listener.address))" }
        return summary
    }

    /// The keys whose change a reload does not apply (they are read once, at start), by name.
    static func changesNeedingRestart(from running: TokendConfiguration, to new: TokendConfiguration) -> [String] {
        func notify(_ configuration: TokendConfiguration) -> String {
            guard let notify = configuration.notify else { return "" }
            return "\(notify.command ?? []) \(notify.webhookURL?.absoluteString ?? "") \(notify.webhookSecret?.fingerprint ?? "") "
                + "\(notify.webhookTimeout) \(notify.commandTimeout) \(notify.repeatAfter)"
        }
        let changes: [(String, Bool)] = [
            ("database", new.database != running.database), ("key_file", new.keyFile != running.keyFile),
            ("[refresh]", new.refresh != running.refresh), ("public_url", new.publicURL != running.publicURL),
            ("listen", new.listen != running.listen), ("api_socket", new.apiSocket != running.apiSocket),
            ("ca_file", new.caFile != running.caFile || new.trustRootsByHost != running.trustRootsByHost),
            ("metrics_listen", new.metricsListen != running.metricsListen), ("metrics_per_grant", new.metricsPerGrant != running.metricsPerGrant),
            ("[notify]", notify(new) != notify(running)),
        ]
        return changes.filter(\.1).map(\.0)
    }

    /// On SIGHUP, reads the configuration again: a good one is taken without dropping any grant
    /// (and grants stored since, by `import`, are scheduled); a bad one is refused, logged with
    /// every problem, and the running configuration stays.
    static func reload(path: String, running: TokendConfiguration, engine: RefreshEngine, logger: Logger, notifier: SystemdNotifier) async {
        notifier.reloading()
        defer { notifier.ready() }
        do {
            let new = try TokendConfiguration.load(path: path)
            let needRestart = Self.changesNeedingRestart(from: running, to: new)
            if !needRestart.isEmpty {
                logger.warning("configuration reloaded: the changes to \(needRestart.joined(separator: ", ")) take effect at the next restart")
            }
            let scheduled = try await engine.reload(new)
            logger.info("configuration reloaded from \(path): \(counted(new.organisations.count, "organisation")), \(counted(scheduled.scheduled, "grant")) scheduled")
        } catch let error as ConfigurationError {
            logger.error("configuration reload refused, the running configuration stays: \(error.problems.map(\.description).joined(separator: "; "))")
        } catch {
            logger.error("configuration reload failed, the running configuration stays: \(error)")
        }
    }
}

/// Pings systemd's watchdog at half its interval while the daemon runs.
final class Watchdog {
    private let timer: (any DispatchSourceTimer)?

    init(notifier: SystemdNotifier) {
        guard let interval = notifier.watchdogInterval else {
            timer = nil
            return
        }
        let half = max(interval / 2, .milliseconds(100))
        let timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "imanage-tokend.watchdog"))
        let nanoseconds = Int(half.components.seconds) * 1_000_000_000 + Int(half.components.attoseconds / 1_000_000_000)
        timer.schedule(deadline: .now(), repeating: .nanoseconds(nanoseconds))
        timer.setEventHandler { @Sendable in notifier.watchdog() }
        timer.activate()
        self.timer = timer
    }

    func stop() { timer?.cancel() }
}
