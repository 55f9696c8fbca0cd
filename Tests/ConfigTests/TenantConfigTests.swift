import Foundation
import Testing
@testable import TokendConfig

/// `customer_id` and `ca_file` per organisation, and secrets that must be private.
@Suite("Configuration: organisations as tenants")
struct TenantConfigTests {
    static func organisation(_ name: String, host: String = "https://cloudimanage.com", extra: String = "") -> String {
        """
        [[organisation]]
        name = "\(name)"
        region = "custom"
        authorization_url = "\(host)"
        token_url = "\(host)"
        \(extra)

        """
    }

    @Test func twoOrganisationsOnOneHostMustEachNameTheirCustomer() throws {
        let fixture = try ConfigFixture()
        let problems = fixture.problems(ConfigFixture.minimal + Self.organisation("acme") + Self.organisation("beta", extra: "customer_id = 7"))
        #expect(problems.count == 1, "\(problems)")
        let problem = try #require(problems.first)
        #expect(problem.key == "organisation \"acme\".customer_id")
        #expect(problem.message.contains("organisations acme, beta all sign in at cloudimanage.com"))
        #expect(problem.line == 6)  // its [[organisation]] header

        let loaded = try fixture.load(
            ConfigFixture.minimal + Self.organisation("acme", extra: "customer_id = \"1\"") + Self.organisation("beta", extra: "customer_id = 7"))
        #expect(loaded.organisation(named: "acme")?.customerID == "1")
        #expect(loaded.organisation(named: "beta")?.customerID == "7")
        #expect(loaded.effectiveDescription().contains("customer_id = \"7\""))
        // One organisation on its own host needs none: its first authorisation pins it.
        let alone = try fixture.load(ConfigFixture.minimal + Self.organisation("acme") + Self.organisation("dms", host: "https://dms.example.com"))
        #expect(alone.organisation(named: "acme")?.customerID == nil)
        #expect(alone.effectiveDescription().contains("# customer_id not set: the first authorisation or import pins"))
    }

    @Test(arguments: ["\"\"", "\"1 2\"", "-1", "true"])
    func aCustomerIDMustReadAsOne(value: String) throws {
        let fixture = try ConfigFixture()
        let problem = try fixture.problem(ConfigFixture.minimal + Self.organisation("acme", extra: "customer_id = \(value)"))
        #expect(problem.key == "organisation \"acme\".customer_id")
    }

    @Test func caFileOfAnOrganisationIsForItsHostsOnly() throws {
        let fixture = try ConfigFixture()
        let pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
        try fixture.write("firm-ca.pem", pem, mode: 0o644)
        try fixture.write("other-ca.pem", pem, mode: 0o644)
        let loaded = try fixture.load(
            ConfigFixture.minimal + Self.organisation("acme", extra: "customer_id = 1")
                + Self.organisation("firm", host: "https://dms.firm.example", extra: "ca_file = \"firm-ca.pem\""))
        #expect(loaded.trustRootsByHost == ["dms.firm.example": fixture.path("firm-ca.pem")])
        #expect(loaded.caFile == nil)

        let problem = try fixture.problem(
            ConfigFixture.minimal + Self.organisation("one", host: "https://dms.firm.example", extra: "customer_id = 1\nca_file = \"firm-ca.pem\"")
                + Self.organisation("two", host: "https://dms.firm.example", extra: "customer_id = 2\nca_file = \"other-ca.pem\""))
        #expect(problem.key == "organisation \"two\".ca_file")
        #expect(problem.message.contains("dms.firm.example is also a host of organisation one"))
    }

    @Test func aSecretReadableByItsGroupIsRefused() throws {
        let fixture = try ConfigFixture()
        let path = try fixture.write("cloud-secret", ConfigFixture.cloudSecret, mode: 0o640)
        let problem = try fixture.problem(ConfigFixture.minimal)
        #expect(problem.message.contains("can be read or written by its group or others (mode 640)"))
        #expect(problem.message.contains("chmod 600 \(path)"))
    }

    @Test(.enabled(if: geteuid() == 0, "needs root to give a file to another user"))
    func aSecretOwnedBySomeoneElseIsRefused() throws {
        let fixture = try ConfigFixture()
        let path = fixture.path("cloud-secret")
        #expect(chown(path, 65534, 65534) == 0)
        let problem = try fixture.problem(ConfigFixture.minimal)
        #expect(problem.message.contains("belongs to uid 65534, neither root nor the user imanage-tokend runs as"), "\(problem)")
    }

    @Test func theDescriptorIsCheckedNotTheLink() throws {
        let fixture = try ConfigFixture()
        // A private-looking link to a world-readable file: the file opened is what counts.
        let target = try fixture.write("public-secret", ConfigFixture.cloudSecret, mode: 0o644)
        try FileManager.default.removeItem(atPath: fixture.path("cloud-secret"))
        try FileManager.default.createSymbolicLink(atPath: fixture.path("cloud-secret"), withDestinationPath: target)
        let problem = try fixture.problem(ConfigFixture.minimal)
        #expect(problem.message.contains("(mode 644)"), "\(problem)")
    }

    @Test func aLinkOutOfTheCredentialsDirectoryIsRefused() throws {
        let fixture = try ConfigFixture()
        let credentials = fixture.path("credentials")
        try FileManager.default.createDirectory(atPath: credentials, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: credentials + "/cloud-secret", withDestinationPath: fixture.path("cloud-secret"))
        let problem = try fixture.problem(ConfigFixture.minimal, environment: ["CREDENTIALS_DIRECTORY": credentials])
        #expect(problem.message.contains("is a symbolic link that leads out of $CREDENTIALS_DIRECTORY"), "\(problem)")
        // A credential systemd made is taken as it is (systemd decides its mode and owner).
        try FileManager.default.removeItem(atPath: credentials + "/cloud-secret")
        _ = FileManager.default.createFile(atPath: credentials + "/cloud-secret", contents: Data("from-systemd".utf8), attributes: [.posixPermissions: 0o440])
        let loaded = try fixture.load(ConfigFixture.minimal, environment: ["CREDENTIALS_DIRECTORY": credentials])
        #expect(loaded.cloudApplication?.clientSecret.reveal() == "from-systemd")
    }

    @Test func keyIfReadableReadsTheKeyAloneAndNeverFails() throws {
        let fixture = try ConfigFixture()
        try FileManager.default.removeItem(atPath: fixture.path("cloud-secret"))
        try fixture.write("tokend.toml", ConfigFixture.minimal, mode: 0o644)
        let withKey = try TokendConfiguration.load(path: fixture.configPath, environment: [:], secrets: .keyIfReadable)
        #expect(withKey.key?.reveal() == fixture.keyBytes)
        #expect(!withKey.secretsRead, "the client secrets were not read")
        try FileManager.default.removeItem(atPath: fixture.path("token.key"))
        let withoutKey = try TokendConfiguration.load(path: fixture.configPath, environment: [:], secrets: .keyIfReadable)
        #expect(withoutKey.key == nil)
    }

    @Test func withoutSecretsNoSecretFileIsOpened() throws {
        let fixture = try ConfigFixture()
        try FileManager.default.removeItem(atPath: fixture.path("token.key"))
        try FileManager.default.removeItem(atPath: fixture.path("cloud-secret"))
        try fixture.write("tokend.toml", ConfigFixture.minimal + Self.organisation("acme"), mode: 0o644)
        let loaded = try TokendConfiguration.load(path: fixture.configPath, environment: [:], secrets: .skip)
        #expect(loaded.key == nil)
        #expect(!loaded.secretsRead)
        #expect(loaded.organisation(named: "acme") != nil)
        #expect(throws: ConfigurationError.self) { try TokendConfiguration.load(path: fixture.configPath, environment: [:]) }
    }
}
