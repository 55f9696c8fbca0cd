import ArgumentParser
import Foundation
import TokendConfig

/// `--config FILE`, taken by every subcommand.
public struct ConfigOption: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The configuration file.",
            discussion: "Default: $IMANAGE_TOKEND_CONFIG, else \(TokendConfiguration.defaultPath).",
            valueName: "file"))
    var config: String?

    public init() {}

    /// The file to read: the flag, then `$IMANAGE_TOKEND_CONFIG`, then the standard path.
    var path: String {
        config ?? ProcessInfo.processInfo.environment["IMANAGE_TOKEND_CONFIG"] ?? TokendConfiguration.defaultPath
    }

    /// Loads the configuration, or prints every problem and exits 78 (EX_CONFIG): nothing starts on a bad configuration.
    ///
    /// `secrets: .skip` opens no secret file: for the subcommands that only talk to the daemon or
    /// read what is not encrypted, so a member of the API group or a monitoring user needs neither
    /// the master key nor a client secret (they stay root's, 0600).
    func load(secrets: SecretLoading = .read) throws -> TokendConfiguration {
        do {
            return try TokendConfiguration.load(path: path, secrets: secrets)
        } catch {
            printError("imanage-tokend: the configuration has \(error.problems.count == 1 ? "a problem" : "\(error.problems.count) problems"):")
            for problem in error.problems { printError("  \(problem)") }
            throw ExitCode(78)
        }
    }
}

/// Which grant a command is about: `--organisation ORG` with `--library LIB` or `--user USER`.
public struct GrantSelection: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The organisation, as named in the configuration.", valueName: "org"))
    var organisation: String?

    @Option(name: .long, help: ArgumentHelp("A library id (the Tracker model), e.g. ACTIVE.", valueName: "lib"))
    var library: String?

    @Option(name: .long, help: ArgumentHelp("An iManage user id or email.", valueName: "user"))
    var user: String?

    public init() {}

    public func validate() throws {
        if library != nil, user != nil {
            throw ValidationError("give --library or --user, not both")
        }
        if (library != nil || user != nil), organisation == nil {
            throw ValidationError("--library and --user need --organisation")
        }
    }
}

func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}


/// `1 grant`, `2 grants`: a count with its noun, plural when it is not one.
func counted(_ count: Int, _ noun: String) -> String {
    "\(count) \(noun)\(count == 1 ? "" : "s")"
}
