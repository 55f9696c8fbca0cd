import Foundation
import Testing
import TokendConfig

/// `[[api_client]]` tables and `api_socket_group`: who may use the token API.
@Suite struct APIClientConfigTests {
    /// The minimal configuration with two organisations, `acme` and `beta`; tables follow at line 10.
    static let base = ConfigFixture.minimal + """
        [[organisation]]
        name = "acme"
        customer_id = 1
        [[organisation]]
        name = "beta"
        customer_id = 2

        """

    @Test func withoutTablesThereAreNoRulesAndTheDefaultGroup() throws {
        let config = try ConfigFixture().load(Self.base)
        #expect(config.apiClients.isEmpty)
        #expect(config.apiSocketGroup == nil)
    }

    @Test func usersAndGroupsByNameOrNumberOrganisationsAndAllow() throws {
        let config = try ConfigFixture().load("api_socket_group = \"tokend-clients\"\n" + Self.base + """
            [[api_client]]
            user = "root"
            organisations = ["acme"]
            allow = ["token", "status"]
            [[api_client]]
            group = 4242
            organisations = ["*"]
            allow = ["refresh", "revoke", "schedule"]
            [[api_client]]
            user = "1234"
            organisations = ["acme", "beta"]
            allow = ["token"]
            """)
        #expect(config.apiSocketGroup == "tokend-clients")
        #expect(config.apiClients.count == 3)
        #expect(config.apiClients[0].principal == .user(0, name: "root"))
        #expect(config.apiClients[0].organisations == .named(["acme"]))
        #expect(config.apiClients[0].allow == [.token, .status])
        #expect(config.apiClients[1].principal == .group(4242, name: "4242"))
        #expect(config.apiClients[1].organisations == .all)
        #expect(config.apiClients[1].allow == [.refresh, .revoke, .schedule])
        #expect(config.apiClients[2].principal == .user(1234, name: "1234"))
        #expect(config.apiClients[2].organisations.contains("beta"))
        #expect(!config.apiClients[2].organisations.contains("gamma"))
    }

    @Test func anUnknownUserOrGroupNameIsAProblemAtItsLine() throws {
        let fixture = try ConfigFixture()
        let user = try fixture.problem(Self.base + """
            [[api_client]]
            user = "no-such-user-tokend"
            organisations = ["acme"]
            allow = ["token"]
            """)
        #expect(user.key == "api_client[1].user")
        #expect(user.line == 13)
        #expect(user.file == fixture.configPath)
        #expect(user.message.contains("no Unix user \"no-such-user-tokend\""))
        let group = try fixture.problem(Self.base + """
            [[api_client]]
            organisations = ["acme"]
            allow = ["token"]
            group = "no-such-group-tokend"
            """)
        #expect(group.key == "api_client[1].group")
        #expect(group.line == 15)
        #expect(group.message.contains("no Unix group"))
    }

    @Test func anUnknownOrganisationOrAllowValueIsAProblem() throws {
        let fixture = try ConfigFixture()
        let organisation = try fixture.problem(Self.base + """
            [[api_client]]
            user = 0
            organisations = ["acme", "gamma"]
            allow = ["token"]
            """)
        #expect(organisation.key == "api_client[1].organisations")
        #expect(organisation.line == 14)
        #expect(organisation.message.contains("gamma"))
        #expect(organisation.message.contains("configured: acme, beta"))
        let allow = try fixture.problem(Self.base + """
            [[api_client]]
            user = 0
            organisations = ["*"]
            allow = ["token", "delete"]
            """)
        #expect(allow.key == "api_client[1].allow")
        #expect(allow.line == 15)
        #expect(allow.message.contains("\"delete\""))
        #expect(allow.message.contains("token, status, refresh, revoke, schedule"))
    }

    @Test func neitherOrBothOfUserAndGroupIsAProblem() throws {
        let fixture = try ConfigFixture()
        let both = try fixture.problem(Self.base + """
            [[api_client]]
            user = 0
            group = 0
            organisations = ["*"]
            allow = ["token"]
            """)
        #expect(both.key == "api_client[1].group")
        #expect(both.line == 14)
        #expect(both.message.contains("not both"))
        let neither = try fixture.problem(Self.base + """
            [[api_client]]
            organisations = ["*"]
            allow = ["token"]
            """)
        #expect(neither.key == "api_client[1].user")
        #expect(neither.line == 12)
        #expect(neither.message.contains("required"))
    }

    @Test func missingOrEmptyListsUnknownKeysAndAWrongSocketGroupAreProblems() throws {
        let fixture = try ConfigFixture()
        let problems = fixture.problems("api_socket_group = 12\n" + Self.base + """
            [[api_client]]
            user = 0
            organisations = []
            colour = "blue"
            """)
        #expect(Set(problems.map(\.key)) == [
            "api_socket_group", "api_client[1].organisations", "api_client[1].allow", "api_client[1].colour",
        ])
        let notArray = try fixture.problem(Self.base + """
            [api_client]
            user = 0
            """)
        #expect(notArray.key == "api_client")
        #expect(notArray.message.contains("[[api_client]]"))
    }
}
