import ArgumentParser
import Foundation
import IManageClient
import Logging
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

/// `import --from FILE`: many tokens verified a few at a time, each stored or refused on its own
/// (nothing half-stored: every grant is one transaction, and concurrent writes share commits),
/// one result per input line in input order, and the running daemon told once at the end.
struct BulkImport {
    static let maximumInput = 256 * 1024 * 1024

    let source: String
    let concurrency: Int
    let json: Bool

    /// One line's outcome.
    enum Outcome: Sendable {
        case imported(GrantRecord)
        case refused(String)
    }

    func run(_ configuration: TokendConfiguration, command: ImportCommand) async throws {
        let lines = try readLines()
        var parsed: [Int: BulkImportLine] = [:]
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
                    parsed[number] = line
                } else {
                    outcomes[number] = .refused(configuration.organisation(named: line.organisation) == nil
                        ? "no organisation \(line.organisation) in \(configuration.path)"
                        : "organisation \(line.organisation) is disabled (enabled = false)")
                }
            }
        }

        let store = try await command.openStore(configuration)
        var logger = Logger(label: "imanage-tokend")
        logger.logLevel = .warning
        let client = try IManageHTTPClient(settings: IManageClientSettings(configuration), logger: logger)
        let verification = ImportVerification(
            client: client, admission: GrantAdmission(store: store, client: client, policy: RefreshPolicy(settings: configuration.refresh)))
        var printer = InOrderPrinter(numbers: lines.indices.map { $0 + 1 }.filter { outcomes[$0] != nil || parsed[$0] != nil }, json: json)
        for (number, outcome) in outcomes { printer.add(number, outcome, line: nil) }

        let work = parsed.sorted { $0.key < $1.key }.map(\.value)
        await withTaskGroup(of: (BulkImportLine, Outcome).self) { group in
            var next = work.makeIterator()
            func start() -> Bool {
                guard let line = next.next(), let organisation = configuration.organisation(named: line.organisation) else { return false }
                group.addTask {
                    switch await verification.importToken(line.refreshToken, for: line.subject, of: organisation) {
                    case .success(let record): return (line, .imported(record))
                    case .failure(let refusal): return (line, .refused(refusal.description))
                    }
                }
                return true
            }
            for _ in 0..<concurrency where !start() { break }
            while let (line, outcome) = await group.next() {
                printer.add(line.line, outcome, line: line)
                _ = start()
            }
        }
        await client.shutdown()

        let imported = printer.imported
        printError("imanage-tokend import: \(imported.count) of \(printer.total) \(printer.total == 1 ? "line" : "lines") imported, \(printer.total - imported.count) refused")
        if !imported.isEmpty { await tellDaemon(about: imported, socket: configuration.apiSocket) }
        if imported.count < printer.total { throw ExitCode(1) }
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
    private func tellDaemon(about records: [GrantRecord], socket: String) async {
        switch await DaemonConnection.schedule(records.map(\.key), socket: socket) {
        case .scheduled: printError("imanage-tokend import: the running daemon has scheduled them")
        case .notRunning: printError("imanage-tokend import: the daemon is not running; it schedules these grants when it starts")
        case .failed(let why): printError("imanage-tokend import: \(why); run systemctl reload imanage-tokend to have the grants scheduled")
        }
    }
}

/// Prints each line's outcome as soon as every line before it is printed, so the output follows
/// the input's order while the work finishes in any order.
struct InOrderPrinter {
    private let numbers: [Int]
    private var position = 0
    private var waiting: [Int: (Outcome, BulkImportLine?)] = [:]
    private let json: Bool
    private(set) var imported: [GrantRecord] = []
    var total: Int { numbers.count }

    typealias Outcome = BulkImport.Outcome

    init(numbers: [Int], json: Bool) {
        self.numbers = numbers
        self.json = json
    }

    mutating func add(_ number: Int, _ outcome: Outcome, line: BulkImportLine?) {
        if case .imported(let record) = outcome { imported.append(record) }
        waiting[number] = (outcome, line)
        while position < numbers.count, let (ready, readyLine) = waiting.removeValue(forKey: numbers[position]) {
            print(Self.text(numbers[position], ready, line: readyLine, json: json))
            position += 1
        }
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
            case .imported(let record):
                object["result"] = "imported"
                object["kind"] = record.key.kind.rawValue
                object["id"] = record.key.subject
                object["authorized_by"] = record.authorizedBy?.userID
            case .refused(let reason):
                object["result"] = "refused"
                object["reason"] = reason
            }
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
            return String(decoding: data, as: UTF8.self)
        }
        switch outcome {
        case .imported(let record):
            let who = record.authorizedBy.map { "\($0.name) (\($0.userID))" } ?? "?"
            return "line \(number): imported \(record.key.kind.rawValue) \(record.key.subject) of \(record.key.organisation), authorised by \(who)"
        case .refused(let reason):
            return "line \(number): refused: \(reason)"
        }
    }
}
