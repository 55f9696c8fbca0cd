import IManageWire
import Testing

@Suite("Answers of iManage's work API")
struct APIAnswerParserTests {
    @Test("an API error's code is only echoed when it reads as a code")
    func errorCodes() {
        #expect(APIAnswerParser.errorCode(Array(#"{"error":{"code":"FORBIDDEN"}}"#.utf8)) == "FORBIDDEN")
        #expect(APIAnswerParser.errorCode(Array(#"{"error":{"code":"a b<script>"}}"#.utf8)) == nil)
        #expect(APIAnswerParser.errorCode(Array(#"{"error":"invalid_grant"}"#.utf8)) == nil)
    }

    @Test("a customer id may be a number or a string")
    func customerID() {
        let numeric = APIAnswerParser.identity(Array(#"{"data":{"user":{"id":"U","customer_id":42}}}"#.utf8))
        let text = APIAnswerParser.identity(Array(#"{"data":{"user":{"id":"U","customer_id":"42"}}}"#.utf8))
        #expect((try? numeric.get())?.customerID == "42")
        #expect((try? text.get())?.customerID == "42")
    }

    @Test("a discovery answer without a user, or with a control character in the id, is a problem in words")
    func discoveryProblems() {
        #expect(APIAnswerParser.identity(Array(#"{"data":{}}"#.utf8))
            == .failure(APIAnswerProblem("the discovery answer has no data.user object")))
        #expect(APIAnswerParser.identity(Array(#"{"data":{"user":{"id":"U\n","customer_id":1}}}"#.utf8))
            == .failure(APIAnswerProblem("data.user.id contains control characters")))
    }

    @Test("group members: one entry that is not an object is named by its position")
    func members() {
        let good = APIAnswerParser.groupMembers(Array(#"{"data":[{"id":"JSMITH","email":"j@x.example","full_name":"J Smith"}]}"#.utf8))
        #expect(good == .success([IManageGroupMember(id: "JSMITH", email: "j@x.example", fullName: "J Smith")]))
        let bad = APIAnswerParser.groupMembers(Array(#"{"data":[{"id":"A"},7]}"#.utf8))
        #expect(bad == .failure(APIAnswerProblem("member 2 is not a JSON object")))
    }
}
