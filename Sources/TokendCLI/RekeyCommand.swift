import ArgumentParser
import Foundation
import TokendConfig
import TokendEngine
import TokendStore

/// `rekey --new-key-file FILE`: every token re-sealed under a new key, in one transaction.
struct RekeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rekey",
        abstract: "Re-seal every token under a new key (with the daemon stopped).",
        discussion: """
            Opens the database with key_file, re-seals every refresh and access token and the key check \
            value under the key in FILE (32 bytes, private, as key_file), all in one transaction: a failure \
            or a crash in the middle leaves everything under the old key. Refused while a daemon runs on \
            the database (stop it first). Afterwards only the new key opens the database: put it in place \
            of key_file, or give --swap to have that done (the old key kept as KEY.old, 0600), then start \
            the daemon. Exit codes: 0 done; 75 a daemon runs; 78 configuration or key problem; 1 other.
            """)

    @OptionGroup var config: ConfigOption

    @Option(help: ArgumentHelp("The new key: exactly 32 bytes, mode 0600 (head -c 32 /dev/urandom > FILE).", valueName: "file"))
    var newKeyFile: String

    @Flag(help: "Then put the new key in key_file's place (an atomic rename), keeping the old one as KEY_FILE.old (0600).")
    var swap = false

    func run() throws {
        let configuration = try config.load()
        guard let oldKey = configuration.key else { throw ExitCode(78) }
        let newKey: SecretBytes
        do { newKey = try KeyFileCheck.read(path: newKeyFile) } catch {
            printError("imanage-tokend rekey: --new-key-file: \(error)")
            throw ExitCode(78)
        }
        let swapper = KeyFileSwap(keyFile: configuration.keyFile)
        if swap {
            do { try swapper.check() } catch {
                printError("imanage-tokend rekey: --swap: \(error); nothing was changed")
                throw ExitCode(78)
            }
        }
        // The daemon's own lock, held throughout: refused while a daemon runs, and none starts meanwhile.
        let lock: InstanceLock
        do { lock = try InstanceLock(database: configuration.database) } catch InstanceLock.Failure.heldByAnother(_, let pid) {
            printError("imanage-tokend rekey: a daemon is running on \(configuration.database)\(pid.map { " (pid \($0))" } ?? ""): "
                + "stop the daemon first (systemctl stop imanage-tokend), then run rekey again; nothing was changed")
            throw ExitCode(75)
        } catch {
            printError("imanage-tokend rekey: \(error)")
            throw ExitCode(1)
        }
        defer { withExtendedLifetime(lock) {} }
        let summary: RekeySummary
        do {
            summary = try StoreRekey.rekey(database: configuration.database, oldKey: oldKey.reveal(), newKey: newKey.reveal())
        } catch StoreError.wrongKey(let path) {
            printError("imanage-tokend rekey: \(StoreError.wrongKey(path: path))")
            throw ExitCode(78)
        } catch {
            printError("imanage-tokend rekey: \(error); nothing was changed, the old key still opens the database")
            throw ExitCode(1)
        }
        print("re-sealed \(summary.tokens) tokens of \(summary.grants) grants and the key check value under the new key \(newKey.fingerprint); "
            + "the database now opens only with it")
        if swap {
            do { try swapper.swap(oldKey: oldKey.reveal(), newKey: newKey.reveal()) } catch {
                printError("imanage-tokend rekey: the database is under the new key, but --swap failed: \(error); "
                    + "put the new key at \(configuration.keyFile) by hand (mode 0600) before starting the daemon")
                throw ExitCode(1)
            }
            print("""
                \(configuration.keyFile) now holds the new key; the old key is kept as \(swapper.oldKeyFile) (0600): \
                keep it as long as you keep backups taken before now (they open only with it)
                start the daemon: systemctl start imanage-tokend
                """)
        } else {
            print("""
                now put the new key in place of the old one, keeping the old key for backups taken before now, then start the daemon:
                  cp -p \(configuration.keyFile) \(swapper.oldKeyFile)
                  cp \(newKeyFile) \(configuration.keyFile)    # cp onto the existing file keeps its owner and mode 0600
                  systemctl start imanage-tokend
                until then the daemon refuses to start (exit 78, key_file is not the key), and writes nothing
                """)
        }
    }
}
