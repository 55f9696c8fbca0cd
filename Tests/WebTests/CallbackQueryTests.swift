import Testing
import TokendWebInput

/// What the callback route decides from iManage's redirect, before it looks up the state.
@Suite("The callback's query: state first, then an error, then a code")
struct CallbackQueryTests {
    @Test func codeAndState() throws {
        #expect(try CallbackQuery.read("code=c%2B1&state=s1&session_state=x") == .code(state: "s1", code: "c+1"))
    }

    @Test func noStateOrAnEmptyOneComesFirst() throws {
        #expect(try CallbackQuery.read("code=c1") == .noState)
        #expect(try CallbackQuery.read("error=access_denied&state=") == .noState)
        #expect(try CallbackQuery.read("") == .noState)
    }

    @Test func anErrorWinsOverACodeAndIsCutTo64Characters() throws {
        #expect(try CallbackQuery.read("error=access_denied&code=c1&state=s1") == .refused(state: "s1", error: "access_denied"))
        let long = String(repeating: "e", count: 100)
        #expect(try CallbackQuery.read("state=s1&error=" + long) == .refused(state: "s1", error: String(long.prefix(64))))
    }

    @Test func neitherACodeNorAnError() throws {
        #expect(try CallbackQuery.read("state=s1") == .neither(state: "s1"))
        #expect(try CallbackQuery.read("state=s1&code=") == .neither(state: "s1"))
    }

    @Test func malformedQueriesAreRefusedWithAMessageThatDoesNotRepeatTheValue() {
        #expect(throws: FormError.malformed) { try CallbackQuery.read("code=%zz&state=s1") }
        #expect(throws: FormError.repeated(name: "code")) { try CallbackQuery.read("code=a&code=b&state=s1") }
        #expect(FormError.repeated(name: "code").message == "The parameter code appears more than once.")
    }

    @Test func theDescriptionHidesTheCodeAndTheState() {
        let query = CallbackQuery.code(state: "state-secret", code: "code-secret")
        #expect(!"\(query)".contains("secret"))
        #expect(!String(reflecting: query).contains("secret"))
        var dumped = ""
        dump(query, to: &dumped)
        #expect(!dumped.contains("secret"))
    }
}
