import Foundation
import Testing
import TokendConfig

/// `key_file` and `client_secret_file`: where they are found, and what is refused.
@Suite struct SecretFileTests {
    @Test func clientSecretIsReadWithoutItsTrailingNewline() throws {
        let fixture = try ConfigFixture()
        let config = try fixture.load(ConfigFixture.minimal)
        #expect(config.cloudApplication?.clientSecret.reveal() == ConfigFixture.cloudSecret)
        #expect(config.cloudApplication?.clientSecretFile == fixture.path("cloud-secret"))
    }

    @Test func credentialsDirectoryTakesPrecedenceOverThePath() throws {
        let fixture = try ConfigFixture()
        try fixture.write("credentials/cloud-secret", "from-systemd-credentials\n")
        let credentialKey: [UInt8] = Array(repeating: 7, count: 32)
        try fixture.write("credentials/token.key", bytes: credentialKey)
        let config = try fixture.load(ConfigFixture.minimal, environment: ["CREDENTIALS_DIRECTORY": fixture.path("credentials")])
        #expect(config.cloudApplication?.clientSecret.reveal() == "from-systemd-credentials")
        #expect(config.cloudApplication?.clientSecretFile == fixture.path("credentials/cloud-secret"))
        #expect(config.key?.reveal() == credentialKey)
        #expect(config.keyFile == fixture.path("credentials/token.key"))
    }

    @Test func aNameAbsentFromTheCredentialsDirectoryFallsBackToThePath() throws {
        let fixture = try ConfigFixture()
        try FileManager.default.createDirectory(atPath: fixture.path("empty-credentials"), withIntermediateDirectories: true)
        let config = try fixture.load(ConfigFixture.minimal, environment: ["CREDENTIALS_DIRECTORY": fixture.path("empty-credentials")])
        #expect(config.cloudApplication?.clientSecretFile == fixture.path("cloud-secret"))
    }

    @Test func missingSecretFileSaysEverywhereItLooked() throws {
        let fixture = try ConfigFixture()
        let config = ConfigFixture.minimal.replacingOccurrences(of: "\"cloud-secret\"", with: "\"no-such-secret\"")
        let problem = try fixture.problem(config, environment: ["CREDENTIALS_DIRECTORY": "/run/credentials/imanage-tokend.service"])
        #expect(problem.key == "[cloud_application].client_secret_file")
        #expect(problem.line == 5)
        #expect(problem.message.contains("file not found"))
        #expect(problem.message.contains("in /run/credentials/imanage-tokend.service ($CREDENTIALS_DIRECTORY)"))
        #expect(problem.message.contains("in \(fixture.directory.path) (the configuration's directory)"))
    }

    /// An administrator who writes the secret itself where its file's name goes must not find it
    /// in the terminal, or in the journal at a reload: the problem names the line, not the value.
    @Test(arguments: ["", "/etc/imanage-tokend/"])
    func aSecretWrittenWhereItsFileNameGoesIsNotRepeated(prefix: String) throws {
        let fixture = try ConfigFixture()
        let secret = "Zk3_pQ9xLmN2vB7cR4tY8wE1uI6oA5sD0fG-hJ3kL9z"
        let config = ConfigFixture.minimal.replacingOccurrences(of: "\"cloud-secret\"", with: "\"\(prefix)\(secret)\"")
        let problem = try fixture.problem(config, environment: ["CREDENTIALS_DIRECTORY": fixture.path("credentials")])
        #expect(problem.key == "[cloud_application].client_secret_file")
        #expect(problem.line == 5)
        #expect(problem.message.contains("file not found"))
        #expect(!problem.description.contains(secret.prefix(12)), "\(problem)")
    }

    @Test func worldReadableSecretFileIsRefusedWithTheFix() throws {
        let fixture = try ConfigFixture()
        let path = try fixture.write("cloud-secret", ConfigFixture.cloudSecret, mode: 0o644)
        let problem = try fixture.problem(ConfigFixture.minimal)
        #expect(problem.key == "[cloud_application].client_secret_file")
        #expect(problem.line == 5)
        #expect(problem.message.contains("can be read or written by its group or others (mode 644)"))
        #expect(problem.message.contains("chmod 600 \(path)"))
    }

    @Test func worldReadableKeyFileIsRefused() throws {
        let fixture = try ConfigFixture()
        try fixture.write("token.key", bytes: fixture.keyBytes, mode: 0o604)
        let problem = try fixture.problem(ConfigFixture.minimal)
        #expect(problem.key == "key_file")
        #expect(problem.line == 2)
        #expect(problem.message.contains("chmod 600"))
    }

    /// root reads every file, so this can only be seen as another user; as root, CLITests'
    /// `unreadableSecretAsAnotherUser` runs the same case as uid 65534.
    @Test(.enabled(if: geteuid() != 0, "root reads every file"))
    func unreadableSecretFileSaysSo() throws {
        let fixture = try ConfigFixture()
        try fixture.write("cloud-secret", ConfigFixture.cloudSecret, mode: 0o000)
        let problem = try fixture.problem(ConfigFixture.minimal)
        #expect(problem.message.contains("is not readable by uid \(geteuid()): under systemd add LoadCredential=cloud-secret:"))
    }

    @Test(arguments: [("", "is empty"), ("\n", "holds only white space"), ("  \t \n", "holds only white space")])
    func emptySecretFileIsRefused(contents: String, words: String) throws {
        let fixture = try ConfigFixture()
        try fixture.write("cloud-secret", contents)
        let problem = try fixture.problem(ConfigFixture.minimal)
        #expect(problem.key == "[cloud_application].client_secret_file")
        #expect(problem.message.contains(words), "\(problem)")
    }

    @Test func aDirectoryIsNotASecretFile() throws {
        let fixture = try ConfigFixture()
        try FileManager.default.createDirectory(atPath: fixture.path("secret-dir"), withIntermediateDirectories: true)
        let problem = try fixture.problem(ConfigFixture.minimal.replacingOccurrences(of: "\"cloud-secret\"", with: "\"secret-dir\""))
        #expect(problem.message.contains("not a regular file"))
    }

    @Test(arguments: [16, 31, 33, 64])
    func keyOfTheWrongSizeSaysTheSizeFoundAndHowToMakeOne(size: Int) throws {
        let fixture = try ConfigFixture()
        let path = try fixture.write("token.key", bytes: Array(repeating: 0x41, count: size))
        let problem = try fixture.problem(ConfigFixture.minimal)
        #expect(problem.key == "key_file")
        #expect(problem.line == 2)
        #expect(problem.message.contains("holds \(size) bytes, but the key must be exactly 32 bytes"))
        #expect(problem.message.contains("head -c 32 /dev/urandom > \(path) && chmod 600 \(path)"))
    }

    @Test func keyWithATrailingNewlineGetsAHint() throws {
        let fixture = try ConfigFixture()
        try fixture.write("token.key", bytes: Array(repeating: 0x41, count: 32) + [0x0A])
        let problem = try fixture.problem(ConfigFixture.minimal)
        #expect(problem.message.contains("the last byte is a newline"))
    }

    @Test func defaultKeyFileIsTokenKeyNextToTheConfiguration() throws {
        let fixture = try ConfigFixture()
        try FileManager.default.removeItem(atPath: fixture.path("token.key"))
        let problem = try fixture.problem(ConfigFixture.minimal.replacingOccurrences(of: "key_file = \"token.key\"\n", with: ""))
        #expect(problem.key == "key_file")
        #expect(problem.message.contains("file not found: no file of the name given in \(fixture.directory.path) (the configuration's directory)"))
    }
}
