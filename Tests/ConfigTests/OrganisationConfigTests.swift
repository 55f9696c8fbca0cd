import Foundation
import Testing
import TokendConfig

/// `[[organisation]]`: the three iManage setups and the rules of the setup guide.
@Suite struct OrganisationConfigTests {
    private func organisations(_ fixture: ConfigFixture, _ text: String) throws -> [OrganisationConfig] {
        try fixture.load(ConfigFixture.minimal + text).organisations
    }

    /// `ConfigFixture.minimal` has 5 lines, so an organisation appended to it starts on line 6.
    private func problems(_ fixture: ConfigFixture, _ text: String, withCloudApplication: Bool = true) -> [ConfigurationError.Problem] {
        let head = withCloudApplication ? ConfigFixture.minimal : "public_url = \"https://tokend.example.com\"\nkey_file = \"token.key\"\n\n\n\n"
        return fixture.problems(head + text)
    }

    @Test func defaultRegionUsesCloudimanageAndTheCloudApplication() throws {
        let fixture = try ConfigFixture()
        let organisation = try #require(try organisations(fixture, "[[organisation]]\nname = \"smith\"\n").first)
        #expect(organisation.name == "smith")
        #expect(organisation.enabled)
        #expect(organisation.useDefaultConfiguration)
        #expect(organisation.region == .default)
        #expect(organisation.pkce)
        #expect(organisation.line == 6)
        for base in [organisation.authorizationBase, organisation.tokenBase, organisation.endpointBase] {
            #expect(base.absoluteString == "https://cloudimanage.com")
        }
        #expect(organisation.clientID == "cloud-app")
        #expect(organisation.clientSecret.reveal() == ConfigFixture.cloudSecret)
        #expect(organisation.authorizeURL.absoluteString == "https://cloudimanage.com/auth/oauth2/authorize")
        #expect(organisation.tokenURL.absoluteString == "https://cloudimanage.com/auth/oauth2/token")
        #expect(organisation.discoveryURL.absoluteString == "https://cloudimanage.com/api")
    }

    @Test func customRegionWithoutEndpointURLUsesTheAuthorizationHost() throws {
        let fixture = try ConfigFixture()
        let found = try organisations(fixture, """
            [[organisation]]
            name = "acme"
            region = "custom"
            authorization_url = "https://acme.cloudimanage.com/"
            token_url = "https://acme-token.cloudimanage.com"

            [[organisation]]
            name = "lab"
            region = "custom"
            authorization_url = "http://127.0.0.1:9443/prefix/"
            token_url = "http://127.0.0.1:9443/prefix"
            endpoint_url = ""
            """)
        try #require(found.count == 2)
        #expect(found[0].authorizationBase.absoluteString == "https://acme.cloudimanage.com")
        #expect(found[0].tokenBase.absoluteString == "https://acme-token.cloudimanage.com")
        #expect(found[0].endpointBase.absoluteString == "https://acme.cloudimanage.com")
        #expect(found[0].tokenURL.absoluteString == "https://acme-token.cloudimanage.com/auth/oauth2/token")
        #expect(found[1].authorizationBase.absoluteString == "http://127.0.0.1:9443/prefix")
        #expect(found[1].endpointBase.absoluteString == "http://127.0.0.1:9443")
        #expect(found[1].authorizeURL.absoluteString == "http://127.0.0.1:9443/prefix/auth/oauth2/authorize")
    }

    @Test func onPremiseUsesItsOwnClient() throws {
        let fixture = try ConfigFixture()
        let organisation = try #require(try organisations(fixture, """
            [[organisation]]
            name = "example-law"
            use_default_configuration = false
            region = "custom"
            authorization_url = "https://dms.example-law.com"
            token_url = "https://dms.example-law.com"
            endpoint_url = "https://api.example-law.com/imanage"
            client_id = "firm-client"
            client_secret_file = "onprem-secret"
            pkce = false
            enabled = false
            """).first)
        #expect(!organisation.useDefaultConfiguration)
        #expect(!organisation.enabled)
        #expect(!organisation.pkce)
        #expect(organisation.clientID == "firm-client")
        #expect(organisation.clientSecret.reveal() == ConfigFixture.onPremiseSecret)
        #expect(organisation.clientSecretFile == fixture.path("onprem-secret"))
        #expect(organisation.discoveryURL.absoluteString == "https://api.example-law.com/imanage/api")
        #expect(organisation.librariesURL(customerID: "42").absoluteString
            == "https://api.example-law.com/imanage/work/api/v2/customers/42/libraries")
        #expect(organisation.nrtadminMembersURL(customerID: "42", library: "ACTIVE").absoluteString
            == "https://api.example-law.com/imanage/work/api/v2/customers/42/libraries/ACTIVE/groups/NRTADMIN/members")
    }

    @Test func pathSegmentsArePercentEncoded() throws {
        let fixture = try ConfigFixture()
        let organisation = try #require(try organisations(fixture, "[[organisation]]\nname = \"a\"\n").first)
        let url = organisation.nrtadminMembersURL(customerID: "1?x", library: "Dept/Ré sum%")
        #expect(url.absoluteString
            == "https://cloudimanage.com/work/api/v2/customers/1%3Fx/libraries/Dept%2FR%C3%A9%20sum%25/groups/NRTADMIN/members")
    }

    @Test func regionDefaultWithURLsIsAnError() throws {
        let fixture = try ConfigFixture()
        let found = problems(fixture, """
            [[organisation]]
            name = "acme"
            authorization_url = "https://acme.cloudimanage.com"
            token_url = "https://acme.cloudimanage.com"
            """)
        #expect(found.map(\.key) == ["organisation \"acme\".authorization_url", "organisation \"acme\".token_url"])
        #expect(found.map(\.line) == [8, 9])
        #expect(found.allSatisfy { $0.message.contains("set region = \"custom\" to use your own URLs") })
    }

    @Test func customRegionNeedsAuthorizationAndTokenURLs() throws {
        let fixture = try ConfigFixture()
        let found = problems(fixture, "[[organisation]]\nname = \"acme\"\nregion = \"custom\"\ntoken_url = \"\"\n")
        #expect(found.map(\.key) == ["organisation \"acme\".authorization_url", "organisation \"acme\".token_url"])
        #expect(found.map(\.line) == [6, 9])
        #expect(found.allSatisfy { $0.message.contains("required with region = \"custom\"") })
    }

    @Test func unknownRegionIsRefused() throws {
        let fixture = try ConfigFixture()
        let problem = try #require(problems(fixture, "[[organisation]]\nname = \"acme\"\nregion = \"eu\"\n").first)
        #expect(problem.key == "organisation \"acme\".region")
        #expect(problem.line == 8)
        #expect(problem.message.contains("expected \"default\""))
    }

    @Test func httpOnANonLoopbackHostIsRefused() throws {
        let fixture = try ConfigFixture()
        let found = problems(fixture, """
            [[organisation]]
            name = "acme"
            region = "custom"
            authorization_url = "http://dms.example.com"
            token_url = "https://dms.example.com?x=1"
            endpoint_url = "dms.example.com"
            """)
        #expect(found.map(\.key) == ["organisation \"acme\".authorization_url", "organisation \"acme\".token_url", "organisation \"acme\".endpoint_url"])
        try #require(found.count == 3)
        #expect(found[0].message.contains("https is required"))
        #expect(found[1].message.contains("query"))
        #expect(found[2].message.contains("not an absolute URL"))
    }

    @Test func duplicateOrganisationNameNamesBothLines() throws {
        let fixture = try ConfigFixture()
        let found = problems(fixture, "[[organisation]]\nname = \"acme\"\n\n[[organisation]]\nname = \"acme\"\n")
        #expect(found.count == 1)
        #expect(found.first?.key == "organisation[2].name")
        #expect(found.first?.line == 10)
        #expect(found.first?.message.contains("\"acme\" is already used at line 7") == true)
    }

    @Test(arguments: ["", "has space", "slash/name", String(repeating: "x", count: 65), "café"])
    func invalidOrganisationNamesAreRefused(name: String) throws {
        let fixture = try ConfigFixture()
        let problem = try #require(problems(fixture, "[[organisation]]\nname = \"\(name)\"\n").first)
        #expect(problem.key == "organisation[1].name")
        #expect(problem.line == 7)
        #expect(problem.message.contains("A-Z a-z 0-9 . _ -, at most 64 characters"))
    }

    @Test func missingNameIsRequired() throws {
        let fixture = try ConfigFixture()
        let problem = try #require(problems(fixture, "[[organisation]]\nenabled = true\n").first)
        #expect(problem.key == "organisation[1].name")
        #expect(problem.line == 6)
        #expect(problem.message.contains("required"))
    }

    @Test func defaultConfigurationWithoutCloudApplicationIsAnError() throws {
        let fixture = try ConfigFixture()
        let found = problems(fixture, "[[organisation]]\nname = \"smith\"\n", withCloudApplication: false)
        #expect(found.count == 1)
        #expect(found.first?.key == "organisation \"smith\".use_default_configuration")
        #expect(found.first?.line == 6)
        #expect(found.first?.message.contains("there is no [cloud_application] table") == true)
        #expect(found.first?.message.contains("use_default_configuration = false") == true)
    }

    @Test func defaultConfigurationMustNotNameItsOwnClient() throws {
        let fixture = try ConfigFixture()
        let found = problems(fixture, """
            [[organisation]]
            name = "smith"
            client_id = "mine"
            client_secret_file = "onprem-secret"
            """)
        #expect(found.map(\.key) == ["organisation \"smith\".client_id", "organisation \"smith\".client_secret_file"])
        #expect(found.map(\.line) == [8, 9])
        #expect(found.allSatisfy { $0.message.contains("the client comes from [cloud_application]") })
    }

    @Test func ownConfigurationNeedsClientIDAndSecretFile() throws {
        let fixture = try ConfigFixture()
        let found = problems(fixture, """
            [[organisation]]
            name = "firm"
            use_default_configuration = false
            region = "custom"
            authorization_url = "https://dms.example.com"
            token_url = "https://dms.example.com"
            """)
        #expect(found.map(\.key) == ["organisation \"firm\".client_id", "organisation \"firm\".client_secret_file"])
        #expect(found.allSatisfy { $0.line == 6 && $0.message.contains("required: use_default_configuration = false") })
    }

    @Test func disabledOrganisationIsStillChecked() throws {
        let fixture = try ConfigFixture()
        let problem = try #require(problems(fixture, """
            [[organisation]]
            name = "old"
            enabled = false
            region = "custom"
            authorization_url = "http://old.example.com"
            token_url = "https://old.example.com"
            """).first)
        #expect(problem.key == "organisation \"old\".authorization_url")
        #expect(problem.line == 10)
    }

    @Test func wrongTypesInAnOrganisationAreNamed() throws {
        let fixture = try ConfigFixture()
        let found = problems(fixture, "[[organisation]]\nname = \"a\"\nenabled = \"yes\"\npkce = 1\n")
        #expect(found.map(\.key) == ["organisation \"a\".enabled", "organisation \"a\".pkce"])
        #expect(found.allSatisfy { $0.message.contains("expected true or false") })
    }

    @Test func cloudApplicationNeedsBothKeys() throws {
        let fixture = try ConfigFixture()
        let found = fixture.problems("""
            public_url = "https://tokend.example.com"
            key_file = "token.key"
            [cloud_application]
            client_id = "x"
            """)
        #expect(found.map(\.key) == ["[cloud_application].client_secret_file"])
        #expect(found.first?.line == 3)
    }
}
