import ArgumentParser
import TokendReports

/// `imanage-tokend`: the daemon and the commands an administrator runs beside it.
public struct TokendCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "imanage-tokend",
        abstract: "Keeps iManage Work OAuth grants alive, per library and per user.",
        discussion: """
            The daemon (`run`) holds every refresh token encrypted in SQLite, refreshes access tokens \
            ahead of expiry, and records the authorisation status of every library and user. The other \
            subcommands inspect and steer it. Every subcommand reads --config FILE \
            (default $IMANAGE_TOKEND_CONFIG, else /etc/imanage-tokend/imanage-tokend.toml).
            """,
        version: TokendVersion.current,
        subcommands: [
            RunCommand.self, StatusCommand.self, HistoryCommand.self, TokenCommand.self,
            RefreshCommand.self, RevokeCommand.self, ImportCommand.self, CheckConfigCommand.self,
            BackupCommand.self, RekeyCommand.self, MigrateCommand.self,
        ])

    public init() {}
}
