import ArgumentParser

/// `check-config`: validates the configuration and prints what the daemon would use.
struct CheckConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Check the configuration and print the effective settings.",
        discussion: """
            Reads the configuration and every secret file it names, and prints the configuration as the \
            daemon would use it: defaults filled in, URLs resolved, the redirect URL to register in iManage, \
            and each secret as a fingerprint (sha256:…), never its value. Exits 0 when all is well, and 78 \
            with every problem (file, line, key, what was expected) otherwise.
            """)

    @OptionGroup var config: ConfigOption

    func run() async throws {
        let configuration = try config.load()
        print(configuration.effectiveDescription())
    }
}
