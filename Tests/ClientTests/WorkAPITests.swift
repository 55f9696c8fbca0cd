import Foundation
import Hummingbird
import IManageClient
import Testing
import TokendPolicy

@Suite("work API: discovery, libraries, group members")
struct WorkAPITests {
    @Test func discoveryReadsTheUserAndSendsTheAccessTokenHeader() async throws {
        let body = #"{"data":{"user":{"id":"JSMITH","email":"jsmith@acme.example","name":"Jane Smith","customer_id":1}}}"#
        try await withServer({ _ in jsonAnswer(body) }) { server in
            let result = try await withClient { client in
                await client.discover(discoveryURL: server.url("/api"), accessToken: TestSecrets.accessToken)
            }
            #expect(result.success == IManageIdentity(
                userID: "JSMITH", email: "jsmith@acme.example", name: "Jane Smith", customerID: "1"))
            let request = try #require(server.requests.first)
            #expect(request.method == "GET")
            #expect(request.path == "/api")
            #expect(request.headers["x-auth-token"] == TestSecrets.accessToken)
            #expect(!request.uri.contains(TestSecrets.accessToken))
        }
    }

    @Test(arguments: [
        (#"{"data":{"user":{"id":"JSMITH","name":"J"}}}"#, "data.user.customer_id is missing"),
        (#"{"data":{"user":{"id":"","customer_id":"7"}}}"#, "data.user.id is empty"),
        (#"{"data":{"user":{"id":{"x":1},"customer_id":"7"}}}"#, "data.user.id is not a string"),
        (#"{"data":{"user":{"id":"A\nB","customer_id":"7"}}}"#, "data.user.id contains control characters"),
        (#"{"data":{"user":"JSMITH"}}"#, "is not a JSON object of the expected shape"),
        (#"{"data":{}}"#, "has no data.user object"),
        ("<html>sign in</html>", "is not a JSON object of the expected shape"),
    ])
    func malformedDiscoveryIsPassingAndSaysWhy(body: String, expected: String) async throws {
        let failure = try await apiFailure(jsonAnswer(body)) { client, url in
            await client.discover(discoveryURL: url, accessToken: TestSecrets.accessToken).failure
        }
        #expect(failure.failureClass == .transient)
        #expect(failure.httpStatus == 200)
        #expect(failure.detail == "127.0.0.1: the discovery answer \(expected)"
            || failure.detail == "127.0.0.1: \(expected)")
    }

    @Test func anOverlongIdentifierIsRejected() async throws {
        let long = String(repeating: "x", count: 300)
        let failure = try await apiFailure(jsonAnswer(#"{"data":{"user":{"id":"\#(long)","customer_id":"1"}}}"#)) {
            await $0.discover(discoveryURL: $1, accessToken: TestSecrets.accessToken).failure
        }
        #expect(failure.detail.contains("data.user.id is longer than 256 bytes"))
    }

    @Test func unauthorizedAccessTokenMeansGrantDead() async throws {
        let failure = try await apiFailure(jsonAnswer(401, #"{"error":{"code":"UNAUTHORIZED","code_message":"bad token"}}"#)) {
            await $0.discover(discoveryURL: $1, accessToken: TestSecrets.accessToken).failure
        }
        #expect(failure.failureClass == .grantDead)
        #expect(failure.httpStatus == 401)
        #expect(failure.detail == "127.0.0.1 did not accept the access token for the discovery request, code UNAUTHORIZED")
    }

    @Test func otherClientErrorsArePassingWithTheirStatus() async throws {
        let failure = try await apiFailure(jsonAnswer(403, #"{"error":{"code":"ACCESS_DENIED","code_message":"no"}}"#)) {
            await $0.groupMembers(url: $1, accessToken: TestSecrets.accessToken).failure
        }
        #expect(failure.failureClass == .transient)
        #expect(failure.httpStatus == 403)
        #expect(failure.detail == "127.0.0.1 refused the group members request, code ACCESS_DENIED")
    }

    @Test func serverErrorsAndRateLimitsArePassing() async throws {
        let serverError = try await apiFailure(textAnswer(500, "oops")) {
            await $0.libraries(url: $1, accessToken: TestSecrets.accessToken).failure
        }
        #expect(serverError.failureClass == .transient && serverError.httpStatus == 500)
        let limited = try await apiFailure(jsonAnswer(429, "{}", headers: ["Retry-After": "30"])) {
            await $0.libraries(url: $1, accessToken: TestSecrets.accessToken).failure
        }
        #expect(limited.failureClass == .transient && limited.retryAfter == 30)
    }

    @Test func librariesAreRead() async throws {
        let body = #"""
        {"data":[{"id":"ACTIVE","type":"worksite","is_hidden":false},
                 {"id":"ARCHIVE","type":"worksite","is_hidden":true},
                 {"id":"DMS"}]}
        """#
        try await withServer({ _ in jsonAnswer(body) }) { server in
            let result = try await withClient { client in
                await client.libraries(
                    url: server.url("/work/api/v2/customers/1/libraries"), accessToken: TestSecrets.accessToken)
            }
            #expect(result.success == [
                IManageLibrary(id: "ACTIVE", type: "worksite", isHidden: false),
                IManageLibrary(id: "ARCHIVE", type: "worksite", isHidden: true),
                IManageLibrary(id: "DMS", type: nil, isHidden: false),
            ])
            #expect(server.requests.first?.path == "/work/api/v2/customers/1/libraries")
        }
    }

    @Test(arguments: [
        (#"{"data":[{"type":"worksite"}]}"#, "library 1's id is missing"),
        (#"{"data":[{"id":"A"},{"id":"B","is_hidden":"yes"}]}"#, "library 2's is_hidden is not true or false"),
        (#"{"data":[{"id":"A"},"B"]}"#, "library 2 is not a JSON object"),
        (#"{"libraries":[]}"#, "the libraries answer has no data list"),
    ])
    func malformedLibrariesArePassing(body: String, expected: String) async throws {
        let failure = try await apiFailure(jsonAnswer(body)) {
            await $0.libraries(url: $1, accessToken: TestSecrets.accessToken).failure
        }
        #expect(failure.failureClass == .transient)
        #expect(failure.detail == "127.0.0.1: \(expected)")
    }

    @Test func groupMembersAcceptFullNameOrName() async throws {
        let body = #"""
        {"data":[{"id":"JSMITH","email":"jsmith@acme.example","full_name":"Jane Smith"},
                 {"id":"BJONES","name":"Bob Jones"},
                 {"id":"NOBODY"}]}
        """#
        try await withServer({ _ in jsonAnswer(body) }) { server in
            let result = try await withClient { client in
                await client.groupMembers(
                    url: server.url("/work/api/v2/customers/1/libraries/ACTIVE/groups/NRTADMIN/members"),
                    accessToken: TestSecrets.accessToken)
            }
            #expect(result.success == [
                IManageGroupMember(id: "JSMITH", email: "jsmith@acme.example", fullName: "Jane Smith"),
                IManageGroupMember(id: "BJONES", email: nil, fullName: "Bob Jones"),
                IManageGroupMember(id: "NOBODY", email: nil, fullName: nil),
            ])
        }
    }

    @Test func aMemberWithoutIdMakesTheListPassingFailure() async throws {
        let failure = try await apiFailure(jsonAnswer(#"{"data":[{"id":"A"},{"email":"x@y"}]}"#)) {
            await $0.groupMembers(url: $1, accessToken: TestSecrets.accessToken).failure
        }
        #expect(failure.failureClass == .transient)
        #expect(failure.detail == "127.0.0.1: member 2's id is missing")
    }

    private func apiFailure(
        _ answer: Response, _ call: @escaping (IManageHTTPClient, URL) async -> RefreshFailure?
    ) async throws -> RefreshFailure {
        try await withServer({ _ in answer }) { server in
            let failure = try await withClient { client in await call(client, server.url("/api")) }
            let unwrapped = try #require(failure)
            for secret in TestSecrets.all { #expect(!unwrapped.allTexts.contains(secret)) }
            return unwrapped
        }
    }
}
