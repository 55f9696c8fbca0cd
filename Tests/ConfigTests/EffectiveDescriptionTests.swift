import Foundation
import Testing
@testable import TokendConfig

/// `check-config`'s view of the configuration: complete, and never a secret.
@Suite struct EffectiveDescriptionTests {
    private let config = ConfigFixture.minimal + """
        [refresh]
        jitter_fraction = 0.2

        [[organisation]]
        name = "smith"

        [[organisation]]
        name = "firm"
        use_default_configuration = false
        region = "custom"
        authorization_url = "https://dms.example.com/"
        token_url = "https://dms.example.com"
        client_id = "firm-client"
        client_secret_file = "onprem-secret"
        pkce = false
        """

    @Test func containsNoSecretAndNoKeyBytes() throws {
        let fixture = try ConfigFixture()
        let loaded = try fixture.load(config)
        let text = loaded.effectiveDescription()
        #expect(!text.contains(ConfigFixture.cloudSecret))
        #expect(!text.contains(ConfigFixture.onPremiseSecret))
        let key = fixture.keyBytes
        #expect(!text.contains(key.map { String(format: "%02x", $0) }.joined()))
        #expect(!text.contains(key.map { String(format: "%02X", $0) }.joined()))
        #expect(!text.contains(Data(key).base64EncodedString()))
        #expect(!text.contains(String(decoding: key, as: UTF8.self)))
        #expect(!text.contains(String(key.map { Character(Unicode.Scalar($0)) })))
        // …but the fingerprints, which tell an administrator which secret is in use.
        #expect(text.contains(try #require(loaded.key).fingerprint))
        #expect(text.contains(Secret(ConfigFixture.cloudSecret).fingerprint))
        #expect(text.contains(Secret(ConfigFixture.onPremiseSecret).fingerprint))
    }

    @Test func showsEveryEffectiveValueDefaultsIncluded() throws {
        let fixture = try ConfigFixture()
        let text = try fixture.load(config).effectiveDescription()
        for expected in [
            "database = \"/var/lib/imanage-tokend/tokend.sqlite\"",
            "key_file = \"\(fixture.path("token.key"))\"",
            "public_url = \"https://tokend.example.com\"",
            "# redirect URL to register in iManage: https://tokend.example.com/oauth/callback",
            "listen = \"127.0.0.1:8080\"",
            "api_socket = \"/run/imanage-tokend/api.sock\"",
            "refresh_at_fraction = 0.5",
            "jitter_fraction = 0.2",
            "refresh_token_lifetime_days = 365",
            "nrtadmin_check_hours = 24",
            "max_concurrent_refreshes = 256",
            "client_id = \"cloud-app\"",
            "name = \"smith\"",
            "authorization_url = \"https://cloudimanage.com\"",
            "endpoint_url = \"https://dms.example.com\"",
            "client_id = \"firm-client\"",
            "pkce = false",
            "# token:     https://dms.example.com/auth/oauth2/token",
        ] {
            #expect(text.contains(expected), "missing: \(expected)")
        }
        for key in RefreshSettingsReader.knownKeys {
            #expect(text.contains("\n\(key) = "), "missing [refresh] key \(key)")
        }
    }

    @Test func isValidTOMLThatReadsBackToTheSameValues() throws {
        let fixture = try ConfigFixture()
        let text = try fixture.load(config).effectiveDescription()
        let document = try TOMLReader.parse(text)
        #expect(document["public_url"]?.value == .string("https://tokend.example.com"))
        guard case .array(let organisations)? = document["organisation"]?.value,
              case .table(let firm)? = organisations.last else {
            Issue.record("no organisations in the description")
            return
        }
        #expect(firm["token_url"]?.value == .string("https://dms.example.com"))
        #expect(firm["use_default_configuration"]?.value == .boolean(false))
    }

    @Test func secretsPrintOnlyTheirFingerprint() {
        let secret = Secret("very-secret-value")
        let key = SecretBytes(Array(repeating: 0x61, count: 32))
        #expect(secret.fingerprint.hasPrefix("sha256:"))
        #expect(secret.fingerprint.count == "sha256:".count + 12)
        #expect(secret.fingerprint == "sha256:46439e9b76dd")  // printf 'very-secret-value' | sha256sum
        var dumped = ""
        dump(secret, to: &dumped)
        dump(key, to: &dumped)
        for text in ["\(secret)", String(describing: secret), String(reflecting: secret), "\(key)", String(reflecting: key), dumped] {
            #expect(!text.contains("very-secret-value"))
            #expect(!text.contains(String(repeating: "a", count: 32)))
        }
        #expect(secret.reveal() == "very-secret-value")
    }

    @Test func configurationErrorsNeverContainASecret() throws {
        let fixture = try ConfigFixture()
        try fixture.write("cloud-secret", ConfigFixture.cloudSecret, mode: 0o644)
        let problems = fixture.problems(ConfigFixture.minimal + "api_key = \"inline-api-key-value\"\n")
        let text = ConfigurationError(problems: problems).description
        #expect(!text.contains(ConfigFixture.cloudSecret))
        #expect(!text.contains("inline-api-key-value"))
    }
}
