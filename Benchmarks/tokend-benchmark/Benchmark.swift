import ArgumentParser
import AsyncHTTPClient
import Foundation
import IManageClient
import NIOCore
import Logging
import TokendConfig
import TokendEngine
import TokendMetrics
import TokendPolicy
import TokendReports
import TokendStore

/// Measures the refresh engine with N grants against the emulator (a separate process, so the
/// CPU figures are the daemon's own): start-up time, resident memory, CPU per refresh, durable
/// refreshes per second, scheduling lateness, grants whose access token ran out, idle CPU.
@main
struct TokendBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokend-benchmark",
        abstract: "Measure the refresh engine with N grants against the iManage emulator.",
        discussion: "Build with -c release. Prints one block of figures per run; run it several times and take the median.")

    @Option(help: "Number of grants.") var grants = 10_000
    @Option(help: "Access-token lifetime the emulator gives, in seconds (refresh at half of it; iManage gives 1800).") var accessTokenLifetime = 1800
    @Option(help: "Seconds of steady refreshing to measure.") var seconds = 60.0
    @Option(help: "Seconds of idling (nothing due) to measure.") var idleSeconds = 10.0
    @Option(help: "Emulator port.") var port = 8490
    @Option(help: "The engine's max_concurrent_refreshes (refreshes in flight at once).") var maxConcurrentRefreshes = 256
    @Flag(help: "Measure only a /metrics scrape of the seeded grants (read and render), then stop.") var scrapeOnly = false
    @Flag(help: "Measure only the emulator: minting --grants grants over HTTP, then --emulator-refreshes refreshes by 16 concurrent clients.")
    var emulatorThroughput = false
    @Option(help: "Refreshes to time with --emulator-throughput.") var emulatorRefreshes = 20_000
    @Flag(help: "Run the real daemon (imanage-tokend run, next to this binary) over the seeded grants for --seconds, measured from outside, instead of an engine in this process.")
    var daemon = false

    func run() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tokend-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let base = "http://127.0.0.1:\(port)"
        let emulator = try startEmulator()
        defer { emulator.terminate() }
        if emulatorThroughput {
            try await EmulatorThroughput(base: base, grants: grants, refreshes: emulatorRefreshes, concurrency: 16)
                .run { try await mint(base: base) }
            return
        }

        // Grants: refresh tokens minted by the emulator, stored with next refreshes spread over one half-life.
        let tokens = try await mint(base: base)
        let key = (0..<32).map { _ in UInt8.random(in: 0...255) }
        let configuration = try writeConfiguration(directory: directory, base: base, key: key)
        let store = try SQLiteGrantStore(path: configuration.database, key: key)
        let seedStart = Date()
        let halfLife = Double(accessTokenLifetime) / 2
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, token) in tokens.enumerated() {
                if index >= 512 { try await group.next() }
                group.addTask {
                    let now = Date()
                    try await store.saveAuthorization(NewAuthorization(
                        key: .user("U\(index)", of: "bench"),
                        identity: AuthorizedIdentity(userID: "ALICE", email: "alice@example.com", name: "Alice Admin", customerID: "1"),
                        refreshToken: IssuedToken(token: token, issuedAt: now, expiresAt: now.addingTimeInterval(365 * 86_400)),
                        accessToken: IssuedToken(token: "seed", issuedAt: now, expiresAt: now.addingTimeInterval(Double(accessTokenLifetime))),
                        nextRefreshAt: now.addingTimeInterval(Double.random(in: 1..<max(1.5, halfLife))), message: "seeded"))
                }
            }
            try await group.waitForAll()
        }
        print("seeded \(grants) grants in \(format(Date().timeIntervalSince(seedStart))) s")
        if daemon {
            let path = directory.appendingPathComponent("tokend.toml").path
            try await DaemonRun(configurationPath: path, configuration: configuration, seconds: seconds) {
                try await refreshedCount(base: base)
            }.run(store: store)
            return
        }
        try measureScrape(configuration: configuration)
        if scrapeOnly { return }

        var logger = Logger(label: "benchmark")
        logger.logLevel = .error
        try await measureSteadyState(configuration: configuration, store: store, base: base, logger: logger)

        // Idle: a fresh engine over the same grants, all scheduled an hour out.
        let idleClient = try IManageHTTPClient(settings: IManageClientSettings(), logger: logger)
        let idleEngine = RefreshEngine(configuration: configuration, store: store, client: idleClient, owner: "daemon:idle",
                                       logger: logger, now: { Date().addingTimeInterval(-3600) })
        try await idleEngine.start()
        let idleRunner = Task { await idleEngine.run() }
        let idleCPUBefore = cpuSeconds()
        try await Task.sleep(for: .seconds(idleSeconds))
        let idleCPU = cpuSeconds() - idleCPUBefore
        print("idle \(format(idleSeconds)) s with nothing due: \(format(idleCPU * 1000)) ms CPU")
        idleEngine.stop()
        await idleRunner.value
        await idleClient.shutdown()
    }

    /// Times what a `/metrics` scrape does with the grants (read them on a connection of its own,
    /// render the per-grant series), five times, and prints the median and the size.
    func measureScrape(configuration: TokendConfiguration) throws {
        let scrapes = try SQLiteGrantStore(path: configuration.database, key: nil, mode: .readOnly)
        let series = GrantSeries(rules: StatusRules(settings: configuration.refresh), perGrant: true)
        var reads: [Double] = [], renders: [Double] = [], bytes = 0
        for _ in 0..<5 {
            let start = Date()
            let records = try scrapes.records()
            let read = Date()
            bytes = series.bytes(records: records, organisations: [("bench", true)], now: Date()).count
            reads.append(read.timeIntervalSince(start))
            renders.append(Date().timeIntervalSince(read))
        }
        func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
        print("scrape of \(grants) grants (median of 5): read \(format(median(reads) * 1000)) ms, render \(format(median(renders) * 1000)) ms, "
            + "\(format(Double(bytes) / 1_048_576)) MiB of text")
    }

    /// Runs an engine over the seeded grants for `seconds` and prints what it did. The engine,
    /// and its timer, are gone when this returns, so the idle figure is the idle engine's alone.
    func measureSteadyState(configuration: TokendConfiguration, store: SQLiteGrantStore, base: String, logger: Logger) async throws {
        let client = try IManageHTTPClient(settings: IManageClientSettings(configuration), logger: logger)
        let engine = RefreshEngine(configuration: configuration, store: store, client: client, owner: "daemon:bench", logger: logger)
        let startClock = Date()
        let cpuAtStart = cpuSeconds()
        try await engine.start()
        let startup = Date().timeIntervalSince(startClock)
        print("start-up: \(format(startup)) s (\(format(cpuSeconds() - cpuAtStart)) s CPU), resident \(residentMiB()) MiB")

        let runner = Task { await engine.run() }
        let commitsBefore = store.commitStatistics
        let refreshedBefore = try await refreshedCount(base: base)
        let cpuBefore = cpuSeconds()
        _ = engine.takeWorstSchedulingLateness()
        try await Task.sleep(for: .seconds(seconds))
        let refreshed = try await refreshedCount(base: base) - refreshedBefore
        let cpu = cpuSeconds() - cpuBefore
        let commits = store.commitStatistics
        let lateness = engine.takeWorstSchedulingLateness()
        let now = Date()
        let lapsed = try store.records().filter { ($0.accessExpiresAt ?? .distantPast) < now }.count
        print("steady \(format(seconds)) s: \(refreshed) refreshes, \(format(Double(refreshed) / seconds)) per second")
        print("  CPU per refresh: \(format(cpu / Double(max(refreshed, 1)) * 1_000_000)) µs (\(format(cpu / seconds * 100)) % of one core)")
        print("  durable commits: \(commits.commits - commitsBefore.commits) for \(commits.writes - commitsBefore.writes) writes")
        print("  worst timer lateness: \(format(lateness * 1000)) ms; grants whose access token ran out: \(lapsed)")
        print("  resident \(residentMiB()) MiB")

        engine.stop()
        await runner.value
        await client.shutdown()
    }

    func startEmulator() throws -> Process {
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("imanage-emulator")
        let process = Process()
        process.executableURL = binary
        process.arguments = ["--port", "\(port)", "--access-token-lifetime", "\(accessTokenLifetime)"]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        Thread.sleep(forTimeInterval: 1)
        return process
    }

    func mint(base: String) async throws -> [String] {
        var request = HTTPClientRequest(url: base + "/_emulator/grants")
        request.method = .POST
        request.headers.add(name: "Accept", value: "text/plain")
        request.body = .bytes(ByteBuffer(string: #"{"user":"ALICE","client_id":"tokend-demo","count":\#(grants)}"#))
        let body = try await send(request)
        return body.split(separator: "\n").map(String.init)
    }

    func refreshedCount(base: String) async throws -> Int {
        let body = try await send(HTTPClientRequest(url: base + "/_emulator/stats"))
        let object = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
        let token = (object?["endpoints"] as? [String: Any])?["token"] as? [String: Any]
        return token?["success"] as? Int ?? 0
    }

    func send(_ request: HTTPClientRequest) async throws -> String {
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(600))
        guard response.status == .ok else { throw ValidationError("emulator answered \(response.status) to \(request.url)") }
        return String(buffer: try await response.body.collect(upTo: 1 << 30))
    }

    func writeConfiguration(directory: URL, base: String, key: [UInt8]) throws -> TokendConfiguration {
        _ = FileManager.default.createFile(atPath: directory.appendingPathComponent("token.key").path, contents: Data(key), attributes: [.posixPermissions: 0o600])
        _ = FileManager.default.createFile(atPath: directory.appendingPathComponent("secret").path, contents: Data("demo-secret".utf8), attributes: [.posixPermissions: 0o600])
        let path = directory.appendingPathComponent("tokend.toml").path
        try """
            database = "tokend.sqlite"
            key_file = "token.key"
            public_url = "http://127.0.0.1:8080"
            api_socket = "api.sock"
            [refresh]
            max_concurrent_refreshes = \(maxConcurrentRefreshes)
            startup_refreshes_per_second = 1000
            [[organisation]]
            name = "bench"
            use_default_configuration = false
            region = "custom"
            authorization_url = "\(base)"
            token_url = "\(base)"
            client_id = "tokend-demo"
            client_secret_file = "secret"
            """.write(toFile: path, atomically: true, encoding: .utf8)
        return try TokendConfiguration.load(path: path, environment: [:])
    }

    func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1_000_000
    }

    func residentMiB() -> Int {
        guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return -1 }
        let pages = Int(statm.split(separator: " ").dropFirst().first ?? "0") ?? 0
        return pages * Int(sysconf(Int32(_SC_PAGESIZE))) / 1_048_576
    }

    func format(_ value: Double) -> String { String(format: "%.2f", value) }
}
