import ArgumentParser
import CTokendSystem
import Foundation
import IManageClient
import Logging
import TokendAPI
import TokendConfig
import TokendEngine
import TokendLogging
import TokendReports
import TokendStore
import TokendWeb

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

    /// How long refreshes in flight get to finish at shutdown; the rest are abandoned and retried at the next start.
    static let shutdownGrace: Duration = .seconds(5)

    func run() async throws {
        // A SIGHUP while starting must not end the daemon (its default action); the handler comes once started.
        signal(SIGHUP, SIG_IGN)
        let termination = TerminationSignals()
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
        let notifier = SystemdNotifier()

        let lock: InstanceLock
        do { lock = try InstanceLock(database: configuration.database) } catch {
            printError("imanage-tokend run: \(error)")
            throw ExitCode(75)  // EX_TEMPFAIL
        }
        let store: GrantStore
        do {
            store = try GrantStore(path: configuration.database, key: configuration.key?.reveal())
        } catch StoreError.wrongKey(let path) {
            // A configuration problem: exit 78, which the unit does not restart, and nothing is written.
            printError("imanage-tokend run: \(StoreError.wrongKey(path: path))")
            throw ExitCode(78)
        } catch {
            printError("imanage-tokend run: \(error)")
            throw ExitCode(1)
        }
        if store.tightenedPermissions {
            logger.warning("the database \(configuration.database) was readable by others; narrowed to 0600")
        }
        let client = try IManageHTTPClient(
            settings: IManageClientSettings(configuration),
            logger: logger)
        let owner = "daemon:\(getpid()):\(Int(Date().timeIntervalSince1970))"
        let engine = RefreshEngine(configuration: configuration, store: store, client: client, owner: owner, logger: logger)
        let started = try await engine.start()
        let api: TokenAPIServer
        do {
            api = try await TokenAPIServer.start(
                socketPath: configuration.apiSocket, service: TokenAPIService(engine: engine, store: store), logger: logger)
        } catch {
            printError("imanage-tokend run: \(error)")
            throw ExitCode(1)
        }
        // The authorisation pages on `listen` (TokendWeb); new grants go to the engine at once.
        // A port that cannot be bound stops the pages only, never the refreshes: grants stay alive.
        let web: TokendWebServer?
        do {
            web = try await TokendWebServer.start(configuration: configuration, store: store, client: client, engine: engine, logger: logger)
            logger.info("web pages on http://\(configuration.listen) (public URL \(configuration.publicURL.absoluteString))")
        } catch {
            logger.error("the web pages are not served: \(error); grants are still refreshed")
            web = nil
        }
        let summary = "\(started.scheduled) grants scheduled, \(started.overdue) overdue first; \(configuration.organisations.count) organisations"
        logger.info("imanage-tokend started: version \(TokendVersion.current), \(summary)")
        notifier.ready()
        notifier.status(summary)
        let watchdog = Watchdog(notifier: notifier)
        let hangups = Self.reloadOnHangup(path: config.path, running: configuration, engine: engine, logger: logger, notifier: notifier)

        let received = await withTaskGroup(of: Int32?.self) { group in
            group.addTask { await engine.run(); return nil }
            group.addTask { await termination.next() }
            let signal = await group.next() ?? nil
            notifier.stopping()
            engine.stop()
            group.addTask { try? await Task.sleep(for: Self.shutdownGrace); return nil }
            _ = await group.next()
            group.cancelAll()
            return signal
        }
        watchdog.stop()
        hangups.cancel()
        await api.stop()
        await web?.stop()
        logger.info("imanage-tokend stopping (signal \(received.map(String.init) ?? "none"))")
        await client.shutdown()
        withExtendedLifetime(lock) {}
    }
}

extension RunCommand {
    /// On SIGHUP, reads the configuration again: a good one is taken without dropping any grant
    /// (and grants stored since, by `import`, are scheduled); a bad one is refused, logged with
    /// every problem, and the running configuration stays.
    static func reloadOnHangup(
        path: String, running: TokendConfiguration, engine: RefreshEngine, logger: Logger, notifier: SystemdNotifier
    ) -> any DispatchSourceSignal {
        signal(SIGHUP, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: DispatchQueue(label: "imanage-tokend.reload"))
        source.setEventHandler { @Sendable in
            Task {
                notifier.reloading()
                defer { notifier.ready() }
                do {
                    let new = try TokendConfiguration.load(path: path)
                    if new.database != running.database || new.keyFile != running.keyFile || new.refresh != running.refresh
                        || new.listen != running.listen || new.publicURL != running.publicURL || new.apiSocket != running.apiSocket || new.caFile != running.caFile {
                        logger.warning("configuration reloaded: changes to database, key_file, [refresh], public_url, listen, api_socket or ca_file take effect at the next restart")
                    }
                    let scheduled = try await engine.reload(new)
                    logger.info("configuration reloaded from \(path): \(new.organisations.count) organisations, \(scheduled.scheduled) grants scheduled")
                } catch let error as ConfigurationError {
                    logger.error("configuration reload refused, the running configuration stays: \(error.problems.map(\.description).joined(separator: "; "))")
                } catch {
                    logger.error("configuration reload failed, the running configuration stays: \(error)")
                }
            }
        }
        source.activate()
        return source
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
