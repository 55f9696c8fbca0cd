import ArgumentParser

// The subcommands of the contract whose capability is not built yet. Each says so and exits 69
// (EX_UNAVAILABLE) rather than printing anything that looks like a result.

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the authorisation status of every library and user.",
        discussion: "Exits 0 when all is authorised, 1 on warnings, 2 when something needs a person, 3 when it could not tell.")
    @OptionGroup var config: ConfigOption
    @OptionGroup var grant: GrantSelection
    @Flag(help: "Print one JSON object: organisations, libraries, users.") var json = false

    func run() async throws {
        _ = try config.load()
        printError("imanage-tokend status: the status report is not built yet in this version; nothing was read.")
        throw ExitCode(3)  // UNKNOWN in the Nagios convention: it could not tell.
    }
}

struct HistoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history", abstract: "Show the status changes of libraries and users, newest last.")
    @OptionGroup var config: ConfigOption
    @OptionGroup var grant: GrantSelection

    func run() async throws { throw notBuiltYet("history", "the history report") }
}

struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Print a currently valid access token of a library or user, for scripts.")
    @OptionGroup var config: ConfigOption
    @OptionGroup var grant: GrantSelection

    func run() async throws { throw notBuiltYet("token", "the local token API") }
}

struct RefreshCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "refresh", abstract: "Ask the running daemon to refresh now.")
    @OptionGroup var config: ConfigOption
    @OptionGroup var grant: GrantSelection

    func run() async throws { throw notBuiltYet("refresh", "refreshing on request") }
}

struct RevokeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke", abstract: "Remove a library's or user's grant and its tokens.")
    @OptionGroup var config: ConfigOption
    @OptionGroup var grant: GrantSelection

    func run() async throws { throw notBuiltYet("revoke", "revoking") }
}
