import ArgumentParser
import Foundation
import TokendConfig

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

            Under systemd the daemon's user cannot read the root-only secret files: the unit hands each \
            one over with a LoadCredential=NAME:PATH line, and the daemon finds it as NAME in \
            $CREDENTIALS_DIRECTORY. --systemd-credentials prints those lines for this configuration \
            (without opening any secret), for a drop-in made with systemctl edit imanage-tokend.
            """)

    @OptionGroup var config: ConfigOption

    @Flag(help: "Print the LoadCredential= lines the unit needs for key_file and every client_secret_file, and nothing else.")
    var systemdCredentials = false

    func run() async throws {
        if systemdCredentials {
            let configuration = try config.load(secrets: .skip)
            print(SystemdCredentialLines.text(for: configuration))
        } else {
            print(try config.load().effectiveDescription())
        }
    }
}

/// The `LoadCredential=` lines of a configuration's secret files, as a drop-in for the unit.
enum SystemdCredentialLines {
    /// The line the shipped unit (`systemd/imanage-tokend.service`) already has.
    static let shippedKeyLine = "LoadCredential=token.key:/etc/imanage-tokend/token.key"

    static func text(for configuration: TokendConfiguration) -> String {
        var lines = [
            "# LoadCredential= lines for \(configuration.path):",
            "# put them in a drop-in (systemctl edit imanage-tokend), then systemctl restart imanage-tokend.",
            "# The secret files stay 0600 and owned by root; systemd hands each one to the service.",
            "[Service]",
        ]
        var written: Set<String> = []
        for reference in configuration.secretFiles {
            // A name whose file is missing may be the secret itself, written where its file's name goes.
            guard FileManager.default.fileExists(atPath: reference.path) else {
                lines.append("# \(reference.key): no file at the path given: create it (chmod 600), then run this again")
                continue
            }
            if !reference.isCredentialName {
                lines.append("# \(reference.key) = \"\(reference.name)\" is a path, never looked up in $CREDENTIALS_DIRECTORY: "
                    + "write \(reference.key) = \"\(reference.credentialName)\"")
            }
            let line = reference.loadCredentialLine
            guard written.insert(line).inserted else { continue }
            lines.append(line == shippedKeyLine ? "# \(line)   (already in the shipped unit)" : line)
        }
        return lines.joined(separator: "\n")
    }
}
