import ArgumentParser
import Foundation
import IManageClient
import Logging
import NIOCore
import NIOPosix
import Synchronization
import TokendAPI
import TokendConfig
import TokendEngine
import TokendPolicy
import TokendStore

/// One line of `import --from`: `{"organisation", "library" | "user", "refresh_token"}`.
struct BulkImportLine: Sendable {
    var line: Int
    var organisation: String
    var subject: GrantAdmission.Subject
    var refreshToken: String

    /// The grant the line names, to find duplicates (user ids and emails ignore case).
    var grantName: String {
        switch subject {
        case .library(let library): "\(organisation)\u{0}library\u{0}\(library)"
        case .user(let user): "\(organisation)\u{0}user\u{0}\((user ?? "").lowercased())"
        }
    }

    var what: String {
        switch subject {
        case .library(let library): "library \(library) of \(organisation)"
        case .user(let user): "user \(user ?? "?") of \(organisation)"
        }
    }

    static let keys: Set<String> = ["organisation", "library", "user", "refresh_token"]

    /// Reads one line; a problem is said without repeating any value (it may hold the token).
    static func parse(_ text: Substring, line: Int) -> Result<BulkImportLine, ImportRefusal> {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] else {
            return .failure(ImportRefusal("not a JSON object: expected {\"organisation\": …, \"library\" or \"user\": …, \"refresh_token\": …}"))
        }
        // The unknown key is not repeated: a token pasted in the wrong place would be printed.
        if object.keys.contains(where: { !keys.contains($0) }) {
            return .failure(ImportRefusal("an unknown key: the keys are organisation, library or user, refresh_token"))
        }
        func string(_ key: String) -> String? { (object[key] as? String).flatMap { $0.isEmpty ? nil : $0 } }
        guard let organisation = string("organisation") else { return .failure(ImportRefusal("organisation is missing or not a string")) }
        let subject: GrantAdmission.Subject
        switch (string("library"), string("user")) {
        case let (library?, nil): subject = .library(library)
        case let (nil, user?): subject = .user(named: user)
        default: return .failure(ImportRefusal("give exactly one of library or user, as a string"))
        }
        guard let token = object["refresh_token"] as? String, ImportCommand.isOneToken(token) else {
            return .failure(ImportRefusal("refresh_token is missing, or not one refresh token (empty, too long, or with spaces)"))
        }
        return .success(BulkImportLine(line: line, organisation: organisation, subject: subject, refreshToken: token))
    }
}

/// `import --from FILE`: many tokens verified at once (bounded by `concurrency`, an organisation
/// paused as a whole when iManage asks it to slow down), each stored or refused on its own, in
/// batches (one transaction and one durable commit for many grants, each standing or falling
/// alone: nothing half-stored), one result per input line in input order, and the running daemon
/// told once at the end.
///
/// The verifications run on the HTTP clients' own event loops (one client per loop, one loop per
/// core), so the three requests of a grant cost no thread hops.
struct BulkImport {
    static let maximumInput = 256 * 1024 * 1024

    let source: String
    let concurrency: Int
    let json: Bool

    /// One line's outcome.
    enum Outcome: Sendable {
        case imported(GrantKey, AuthorizedIdentity)
        case refused(String)
    }

    /// A line to verify, with its organisation.
    struct Work: Sendable {
        let line: BulkImportLine
        let organisation: OrganisationConfig
    }

    func run(_ configuration: TokendConfiguration, command: ImportCommand) async throws {
        let lines = try readLines()
        var work: [Work] = []
        var outcomes: [Int: Outcome] = [:]
        var firstLineOfGrant: [String: Int] = [:]
        var firstLineOfToken: [String: Int] = [:]
        for (offset, text) in lines.enumerated() where !text.allSatisfy(\.isWhitespace) {
            let number = offset + 1
            switch BulkImportLine.parse(text, line: number) {
            case .failure(let refusal):
                outcomes[number] = .refused(refusal.description)
            case .success(let line):
                if let first = firstLineOfGrant[line.grantName] {
                    outcomes[number] = .refused("the same grant as line \(first): nothing was sent for it")
                } else if let first = firstLineOfToken[line.refreshToken] {
                    outcomes[number] = .refused("the same refresh token as line \(first): nothing was sent for it")
                } else if let organisation = configuration.organisation(named: line.organisation), organisation.enabled {
                    firstLineOfGrant[line.grantName] = number
                    firstLineOfToken[line.refreshToken] = number
                    work.append(Work(line: line, organisation: organisation))
                } else {
                    outcomes[number] = .refused(configuration.organisation(named: line.organisation) == nil
                        ? "no organisation \(line.organisation) in \(configuration.path)"
                        : "organisation \(line.organisation) is disabled (enabled = false)")
                }
            }
        }
        let inputLines = Set(outcomes.keys).union(work.map(\.line.line)).sorted()
        let results = ImportResults(InOrderPrinter(numbers: inputLines, json: json))
        for (number, outcome) in outcomes { results.add(number, outcome, line: nil) }

        let store = try await command.openStore(configuration)
        var logger = Logger(label: "imanage-tokend")
        logger.logLevel = .warning
        let settings = IManageClientSettings(configuration)
        let policy = RefreshPolicy(settings: configuration.refresh)
        let loops = MultiThreadedEventLoopGroup(numberOfThreads: max(1, min(System.coreCount, concurrency)))
        let throttle = OrganisationThrottle()
        var lanes: [ImportLane] = []
        do {
            for loop in loops.makeIterator() {
                let client = try IManageHTTPClient(settings: settings, logger: logger, eventLoopGroup: loop)
                lanes.append(ImportLane(
                    executor: EventLoopTaskExecutor(loop),
                    verification: ImportVerification(
                        client: client, admission: GrantAdmission(store: store, client: client, policy: policy), throttle: throttle)))
            }
        } catch {
            for lane in lanes { await lane.verification.client.shutdown() }
            try? await loops.shutdownGracefully()
            throw error
        }

        let batcher = AuthorizationBatcher<BulkImportLine>(store: store) { batch in
            results.addAll(batch.map { (line, authorization, result) -> (Int, BulkImport.Outcome, BulkImportLine?) in
                switch result {
                case .success: (line.line, .imported(authorization.key, authorization.identity), line)
                case .failure(let failure): (line.line, .refused(failure.description), line)
                }
            })
        }
        // An organisation with no customer_id and no pin yet is pinned by its first stored grant:
        // then lines are verified one at a time, so the file's first good line decides, not a race.
        var unpinned = false
        for organisation in Set(work.map(\.organisation.name)) {
            guard let config = configuration.organisation(named: organisation), config.customerID == nil else { continue }
            if (try? await store.pinnedCustomer(of: organisation)) ?? nil == nil { unpinned = true }
        }
        let workers = unpinned ? 1 : max(1, min(concurrency, work.count))
        if unpinned && concurrency > 1 {
            printError("imanage-tokend import: an organisation has no customer_id and no customer pinned yet: verifying one line at a time, so the first good line pins it (set customer_id for a faster import)")
        }
        let queue = WorkQueue(work)
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<workers {
                let lane = lanes[worker % lanes.count]
                group.addTask(executorPreference: lane.executor) {
                    while let next = queue.next() {
                        switch await lane.verification.verifyToken(next.line.refreshToken, for: next.line.subject, of: next.organisation) {
                        case .success(let authorization): await batcher.submit(next.line, authorization)
                        case .failure(let refusal): results.add(next.line.line, .refused(refusal.description), line: next.line)
                        }
                    }
                }
            }
        }
        await batcher.finish()
        for lane in lanes { await lane.verification.client.shutdown() }
        try? await loops.shutdownGracefully()

        let (imported, total) = results.summary
        printError("imanage-tokend import: \(imported.count) of \(total) \(total == 1 ? "line" : "lines") imported, \(total - imported.count) refused")
        if !imported.isEmpty { await tellDaemon(about: imported, socket: configuration.apiSocket) }
        if imported.count < total { throw ExitCode(1) }
    }

    private func readLines() throws -> [Substring] {
        let data: Data?
        if source == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            data = FileManager.default.contents(atPath: source)
        }
        guard let data else {
            printError("imanage-tokend import: cannot read the file given to --from (give a path, or - for standard input)")
            throw ExitCode(66)  // EX_NOINPUT
        }
        guard data.count <= Self.maximumInput else {
            printError("imanage-tokend import: the file given to --from is larger than \(Self.maximumInput / 1024 / 1024) MiB: split it")
            throw ExitCode(65)  // EX_DATAERR
        }
        guard let text = String(data: data, encoding: .utf8) else {
            printError("imanage-tokend import: the file given to --from is not UTF-8 text")
            throw ExitCode(65)
        }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }
        return lines
    }

    /// Tells a running daemon once, for every grant imported.
    private func tellDaemon(about keys: [GrantKey], socket: String) async {
        switch await DaemonConnection.schedule(keys, socket: socket) {
        case .scheduled: printError("imanage-tokend import: the running daemon has scheduled them")
        case .notRunning: printError("imanage-tokend import: the daemon is not running; it schedules these grants when it starts")
        case .failed(let why): printError("imanage-tokend import: \(why); run systemctl reload imanage-tokend to have the grants scheduled")
        }
    }
}

/// Prints each line's outcome as soon as every line before it is printed, so the output follows
/// the input's order while the work finishes in any order.
struct InOrderPrinter: Sendable {
    private let numbers: [Int]
    private var position = 0
    private var waiting: [Int: (Outcome, BulkImportLine?)] = [:]
    private let json: Bool
    private(set) var imported: [GrantKey] = []
    var total: Int { numbers.count }

    typealias Outcome = BulkImport.Outcome

    init(numbers: [Int], json: Bool) {
        self.numbers = numbers
        self.json = json
    }

    /// Adds outcomes and prints, then flushes, every line now ready.
    mutating func add(_ outcomes: some Sequence<(Int, Outcome, BulkImportLine?)>) {
        for (number, outcome, line) in outcomes {
            if case .imported(let key, _) = outcome { imported.append(key) }
            waiting[number] = (outcome, line)
        }
        var text = ""
        while position < numbers.count, let (ready, readyLine) = waiting.removeValue(forKey: numbers[position]) {
            text += Self.text(numbers[position], ready, line: readyLine, json: json)
            text += "\n"
            position += 1
        }
        guard !text.isEmpty else { return }
        print(text, terminator: "")
        fflush(nil)  // each line as it is known, also through a pipe
    }

    static func text(_ number: Int, _ outcome: Outcome, line: BulkImportLine?, json: Bool) -> String {
        if json {
            var object: [String: Any] = ["line": number]
            if let line {
                object["organisation"] = line.organisation
                switch line.subject {
                case .library(let library): object["library"] = library
                case .user(let user): object["user"] = user ?? ""
                }
            }
            switch outcome {
            case .imported(let key, let identity):
                object["result"] = "imported"
                object["kind"] = key.kind.rawValue
                object["id"] = key.subject
                object["authorized_by"] = identity.userID
            case .refused(let reason):
                object["result"] = "refused"
                object["reason"] = reason
            }
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
            return String(decoding: data, as: UTF8.self)
        }
        switch outcome {
        case .imported(let key, let identity):
            return "line \(number): imported \(key.kind.rawValue) \(key.subject) of \(key.organisation), authorised by \(identity.name) (\(identity.userID))"
        case .refused(let reason):
            return "line \(number): refused: \(reason)"
        }
    }
}

/// The printer, shared by the verifications and the batch writer.
final class ImportResults: Sendable {
    private let printer: Mutex<InOrderPrinter>

    init(_ printer: InOrderPrinter) {
        self.printer = Mutex(printer)
    }

    func add(_ number: Int, _ outcome: BulkImport.Outcome, line: BulkImportLine?) {
        printer.withLock { $0.add(CollectionOfOne((number, outcome, line))) }
    }

    func addAll(_ outcomes: [(Int, BulkImport.Outcome, BulkImportLine?)]) {
        printer.withLock { $0.add(outcomes) }
    }

    /// The grants imported, and how many lines had a result.
    var summary: (imported: [GrantKey], total: Int) {
        printer.withLock { ($0.imported, $0.total) }
    }
}

/// The lines still to verify, taken one at a time by the verifications.
final class WorkQueue: Sendable {
    private let state: Mutex<(work: [BulkImport.Work], next: Int)>

    init(_ work: [BulkImport.Work]) {
        state = Mutex((work, 0))
    }

    func next() -> BulkImport.Work? {
        state.withLock { state in
            guard state.next < state.work.count else { return nil }
            defer { state.next += 1 }
            return state.work[state.next]
        }
    }
}

/// One event loop's share of the verifications: its task executor and its own HTTP client.
struct ImportLane: Sendable {
    let executor: EventLoopTaskExecutor
    let verification: ImportVerification
}
