import Foundation
import Testing
import TokendConfig
import TokendPolicy

/// The example configuration shipped in `etc/imanage-tokend/` loads and means what it says.
@Suite struct ExampleConfigurationTests {
    static let exampleDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("etc/imanage-tokend")

    /// A copy of the example and its credentials in a temporary directory, secrets chmod 600
    /// (as the README asks; git does not keep file modes).
    private func copyOfExample() throws -> (fixture: ConfigFixture, path: String) {
        let fixture = try ConfigFixture()
        let source = Self.exampleDirectory
        let config = try String(contentsOf: source.appendingPathComponent("imanage-tokend.toml"), encoding: .utf8)
        let path = try fixture.write("example/imanage-tokend.toml", config, mode: 0o644)
        for name in ["token.key", "cloud-client-secret", "onprem-client-secret"] {
            let data = try Data(contentsOf: source.appendingPathComponent("example-credentials/\(name)"))
            try fixture.write("example/example-credentials/\(name)", bytes: Array(data), mode: 0o600)
        }
        return (fixture, path)
    }

    @Test func exampleLoadsWithItsThreeSetupsResolved() throws {
        let (fixture, path) = try copyOfExample()
        let config = try TokendConfiguration.load(path: path, environment: [:])
        #expect(config.keyFile == fixture.path("example/example-credentials/token.key"))
        #expect(config.key?.count == 32)
        #expect(config.redirectURL.absoluteString == "https://tokend.example-law.com/oauth/callback")
        #expect(config.refresh == RefreshSettings())
        #expect(config.organisations.map(\.name) == ["smith-partners", "acme", "example-law", "old-office"])

        let cloud = try #require(config.organisation(named: "smith-partners"))
        #expect(cloud.region == .default)
        #expect(cloud.authorizeURL.absoluteString == "https://cloudimanage.com/auth/oauth2/authorize")
        #expect(cloud.tokenURL.absoluteString == "https://cloudimanage.com/auth/oauth2/token")
        #expect(cloud.discoveryURL.absoluteString == "https://cloudimanage.com/api")
        #expect(cloud.clientID == "imanage-tokend-example")

        let custom = try #require(config.organisation(named: "acme"))
        #expect(custom.region == .custom)
        #expect(custom.authorizeURL.absoluteString == "https://acme.cloudimanage.com/auth/oauth2/authorize")
        #expect(custom.tokenURL.absoluteString == "https://acme.cloudimanage.com/auth/oauth2/token")
        #expect(custom.endpointBase.absoluteString == "https://acme.cloudimanage.com")
        #expect(custom.clientID == "imanage-tokend-example")
        #expect(custom.clientSecret.reveal() == cloud.clientSecret.reveal())

        let onPremise = try #require(config.organisation(named: "example-law"))
        #expect(!onPremise.useDefaultConfiguration)
        #expect(onPremise.tokenURL.absoluteString == "https://dms.example-law.com/auth/oauth2/token")
        #expect(onPremise.discoveryURL.absoluteString == "https://dms.example-law.com/api")
        #expect(onPremise.clientID == "tokend-example-law")
        #expect(onPremise.clientSecret.reveal() != cloud.clientSecret.reveal())
        #expect(onPremise.clientSecret.reveal().hasPrefix("EXAMPLE-"))

        let disabled = try #require(config.organisation(named: "old-office"))
        #expect(!disabled.enabled)
    }

    @Test func exampleWithWorldReadableCredentialsIsRefusedAsAFreshCloneWouldBe() throws {
        let (fixture, path) = try copyOfExample()
        for name in ["token.key", "cloud-client-secret", "onprem-client-secret"] {
            try FileManager.default.setAttributes(
                [.posixPermissions: 0o644], ofItemAtPath: fixture.path("example/example-credentials/\(name)"))
        }
        do {
            _ = try TokendConfiguration.load(path: path, environment: [:])
            Issue.record("world-readable example credentials were accepted")
        } catch {
            #expect(error.problems.map(\.key) == ["key_file", "[cloud_application].client_secret_file", "organisation \"example-law\".client_secret_file"])
            #expect(error.problems.allSatisfy { $0.message.contains("chmod 600") })
        }
    }

    @Test func exampleKeyIsExactly32Bytes() throws {
        let data = try Data(contentsOf: Self.exampleDirectory.appendingPathComponent("example-credentials/token.key"))
        #expect(data.count == 32)
    }
}
