import Foundation
import Testing
import TokendConfig

/// The mistakes a new administrator makes with the setup guide at hand, each caught by
/// `check-config` with what to write instead.
@Suite struct AdministratorMistakesTests {
    /// An on-premise organisation (lines 6 to 12 after `ConfigFixture.minimal`) with `urls` as its URL keys.
    private func onPremise(_ urls: String) -> String {
        ConfigFixture.minimal + """
            [[organisation]]
            name = "firm"
            use_default_configuration = false
            region = "custom"
            client_id = "firm-app"
            client_secret_file = "onprem-secret"
            \(urls)
            """
    }

    @Test(arguments: [
        ("https://dms.example.com/auth/oauth2/authorize", "/auth/oauth2/authorize", "https://dms.example.com"),
        ("https://dms.example.com/auth/oauth2/token/", "/auth/oauth2/token", "https://dms.example.com"),
        ("https://dms.example.com/imanage/api", "/api", "https://dms.example.com/imanage"),
        ("https://dms.example.com/work/api/v2/customers/1/libraries", "/work/api/v2/customers/1/libraries", "https://dms.example.com"),
    ])
    func aURLEndingInAnIManagePathIsRefusedWithTheBaseURL(url: String, path: String, base: String) throws {
        let fixture = try ConfigFixture()
        let problem = try fixture.problem(onPremise("authorization_url = \"\(url)\"\ntoken_url = \"https://dms.example.com\""))
        #expect(problem.key == "organisation \"firm\".authorization_url")
        #expect(problem.line == 12)
        #expect(problem.message.contains("ends in the iManage path \(path)"), "\(problem.message)")
        #expect(problem.message.contains("give the base URL, \"\(base)\""), "\(problem.message)")
    }

    @Test func aBaseURLWithAPathPrefixIsStillTaken() throws {
        let fixture = try ConfigFixture()
        let configuration = try fixture.load(onPremise(
            "authorization_url = \"https://dms.example.com/imanage\"\ntoken_url = \"https://dms.example.com/imanage\""))
        #expect(configuration.organisations.first?.authorizationBase.absoluteString == "https://dms.example.com/imanage")
    }

    @Test(arguments: [
        ("authorisation_url", "authorization_url"), ("Token_URL", "token_url"), ("endpoint-url", "endpoint_url"),
        ("use_default_configurations", "use_default_configuration"), ("enabeld", "enabled"),
    ])
    func anUnknownKeyOfAnOrganisationGetsDidYouMean(written: String, meant: String) throws {
        let fixture = try ConfigFixture()
        let problem = try #require(fixture.problems(ConfigFixture.minimal + "[[organisation]]\nname = \"acme\"\n\(written) = \"x\"\n").first)
        #expect(problem.key == "organisation \"acme\".\(written)")
        #expect(problem.line == 8)
        #expect(problem.message.contains("did you mean key `\(meant)`?"), "\(problem.message)")
        #expect(!problem.message.contains("secrets are never inline"), "\(problem.message)")
    }

    @Test func anAmericanSpelledTableGetsDidYouMean() throws {
        let fixture = try ConfigFixture()
        let problems = fixture.problems(ConfigFixture.minimal + "[[organization]]\nname = \"acme\"\n\n[refresh]\nbackof_max_seconds = 60\n")
        #expect(problems.map(\.key) == ["organization", "[refresh].backof_max_seconds"])
        #expect(problems.map(\.line) == [6, 10])
        #expect(problems.first?.message.contains("unknown table [[organization]]; did you mean table [[organisation]]?") == true, "\(problems)")
        #expect(problems.last?.message.contains("did you mean key `backoff_max_seconds`?") == true, "\(problems)")
    }

    @Test func aMisspeltNonSecretKeyGetsNoSecretHint() throws {
        let fixture = try ConfigFixture()
        let problems = fixture.problems(ConfigFixture.minimal + """
            [[organisation]]
            name = "acme"
            token_ulr = "https://acme.cloudimanage.com"

            [refresh]
            refresh_token_lifetime_day = 300
            """)
        #expect(problems.count == 2)
        #expect(problems.allSatisfy { !$0.message.contains("secrets are never inline") }, "\(problems)")
        #expect(problems.first?.message.contains("did you mean key `token_url`?") == true)
        #expect(problems.last?.message.contains("did you mean key `refresh_token_lifetime_days`?") == true)
    }

    @Test func aMisspeltSecretFileKeyGetsBoth() throws {
        let fixture = try ConfigFixture()
        let problems = fixture.problems(ConfigFixture.minimal.replacingOccurrences(of: "client_secret_file", with: "client_secret_flie"))
        let problem = try #require(problems.first { $0.key.hasSuffix("flie") })
        #expect(problem.key == "[cloud_application].client_secret_flie")
        #expect(problem.message.contains("did you mean key `client_secret_file`?"), "\(problem.message)")
    }

    @Test func aKeyFarFromEveryKnownOneGetsNoSuggestion() throws {
        let fixture = try ConfigFixture()
        let problem = try fixture.problem(ConfigFixture.minimal + "[[organisation]]\nname = \"acme\"\ncolour = \"blue\"\n")
        #expect(!problem.message.contains("did you mean"), "\(problem.message)")
        #expect(problem.message.contains("known keys in [[organisation]]"))
    }

    @Test func organisationsAreNamedByNameWithTheirLines() throws {
        let fixture = try ConfigFixture()
        let problems = fixture.problems(ConfigFixture.minimal + """
            [[organisation]]
            name = "smith"

            [[organisation]]
            name = "acme"
            region = "eu"
            """)
        let problem = try #require(problems.first)
        #expect(problem.key == "organisation \"acme\".region")
        #expect(problem.line == 11)
        #expect(problem.description.contains("tokend.toml:11: organisation \"acme\".region: expected"), "\(problem)")
    }
}
