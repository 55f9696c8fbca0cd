import Foundation
import Testing
import TokendConfig
@testable import TokendCLI

@Suite("SIGHUP: what a reload cannot apply is named")
struct ReloadChangesTests {
    static func configuration() -> TokendConfiguration {
        TokendConfiguration(
            path: "/etc/imanage-tokend/imanage-tokend.toml", database: "/var/lib/imanage-tokend/tokend.sqlite",
            key: SecretBytes([UInt8](repeating: 1, count: 32)), keyFile: "/etc/imanage-tokend/token.key",
            publicURL: URL(string: "https://tokend.example.com")!, listen: ListenAddress(host: "127.0.0.1", port: 8080),
            apiSocket: "/run/imanage-tokend/api.sock", organisations: [])
    }

    @Test func eachKeyReadOnlyAtStartIsNamedWhenItChanges() throws {
        let running = Self.configuration()
        #expect(RunCommand.changesNeedingRestart(from: running, to: running).isEmpty)
        var new = running
        new.metricsListen = ListenAddress(host: "127.0.0.1", port: 9464)
        new.listen = ListenAddress(host: "127.0.0.1", port: 8081)
        #expect(RunCommand.changesNeedingRestart(from: running, to: new) == ["listen", "metrics_listen"])
        var notifying = running
        notifying.notify = NotifyConfig(command: ["/usr/local/bin/notify"])
        #expect(RunCommand.changesNeedingRestart(from: running, to: notifying) == ["[notify]"])
    }
}
