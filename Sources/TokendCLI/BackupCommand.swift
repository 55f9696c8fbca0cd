import ArgumentParser
import Foundation
import TokendConfig
import TokendStore

/// `backup --to FILE`: a consistent, verified copy of the database, taken while the daemon runs.
struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy the database while the daemon runs: consistent, mode 0600, verified.",
        discussion: """
            Uses SQLite's online backup (one read transaction: the copy is one moment of the database, \
            and the daemon goes on writing). The copy is created 0600, marked with when it was taken, \
            checked (integrity_check, the key check value, every token opened with key_file) and only \
            then put at FILE; an existing FILE is refused unless --force. The copy is sealed with the key \
            in key_file: keep that key (backed up apart from the copy) as long as you keep the copy. \
            Exit codes: 0 written; 73 FILE exists or cannot be created; 78 configuration or key problem; 1 other.
            """)

    @OptionGroup var config: ConfigOption

    @Option(name: .customLong("to"), help: ArgumentHelp("Where to write the copy (a new file, unless --force).", valueName: "file"))
    var destination: String

    @Flag(help: "Replace FILE if it exists (atomically, once the new copy has verified).")
    var force = false

    func run() throws {
        let configuration = try config.load()
        guard let key = configuration.key else { throw ExitCode(78) }
        let summary: BackupSummary
        do {
            summary = try StoreBackup.backup(database: configuration.database, key: key.reveal(), to: destination, overwrite: force)
        } catch let error as BackupError {
            printError("imanage-tokend backup: \(error)")
            switch error {
            case .destinationExists, .cannotCreate: throw ExitCode(73)  // EX_CANTCREAT
            case .copyFailed, .verificationFailed: throw ExitCode(1)
            }
        } catch StoreError.wrongKey(let path) {
            printError("imanage-tokend backup: \(StoreError.wrongKey(path: path))")
            throw ExitCode(78)
        } catch {
            printError("imanage-tokend backup: \(error)")
            throw ExitCode(1)
        }
        print("""
            backup written to \(summary.path) (mode 0600): \(summary.grants) grant\(summary.grants == 1 ? "" : "s"), \
            \(summary.events) event\(summary.events == 1 ? "" : "s"), taken at \(summary.takenAt.formatted(.iso8601)); \
            integrity and key checked
            it opens only with the key \(key.fingerprint) (key_file \(configuration.keyFile)): keep that key, apart from the copy
            """)
    }
}
