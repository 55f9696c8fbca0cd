import IManageWire
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

    @Test func theIssuerIsReadWhenPresentAndNilWhenAbsent() throws {
        let read = try CallbackQuery.readWithIssuer("code=c1&state=s1&iss=https%3A%2F%2Fcloudimanage.com")
        #expect(read.decision == .code(state: "s1", code: "c1"))
        #expect(read.issuer == "https://cloudimanage.com")
        #expect(try CallbackQuery.readWithIssuer("code=c1&state=s1").issuer == nil)
        #expect(try CallbackQuery.readWithIssuer("error=access_denied&state=s1&iss=").issuer == "")
        #expect(throws: FormError.repeated(name: "iss")) { try CallbackQuery.readWithIssuer("state=s1&iss=a&iss=b") }
    }
}

/// RFC 9207's comparison of issuers: scheme and host case, the default port and a trailing slash do not matter.
@Suite("Issuer identifiers: normalised, then compared")
struct IssuerIdentifierTests {
    @Test func theSameServerWrittenDifferently() {
        let expected = "https://cloudimanage.com"
        for same in ["https://cloudimanage.com", "HTTPS://CloudIManage.COM", "https://cloudimanage.com:443", "https://cloudimanage.com/",
                     "https://cloudimanage.com:0443"] {
            #expect(IssuerIdentifier.same(same, as: expected), "\(same)")
        }
        #expect(IssuerIdentifier.same("http://127.0.0.1:80/", as: "http://127.0.0.1"))
        #expect(IssuerIdentifier.same("http://[::1]:8080", as: "http://[::1]:8080/"))
        #expect(IssuerIdentifier.normalised("HTTPS://Work.Example:8443/Tenant/") == "https://work.example:8443/Tenant")
    }

    @Test func anotherServerOrNoIssuerAtAll() {
        let expected = "https://cloudimanage.com"
        for other in ["https://cloudimanage.com.evil.example", "http://cloudimanage.com", "https://cloudimanage.com:8443",
                      "https://evil.example/https://cloudimanage.com", "https://cloudimanage.com/other", "", "cloudimanage.com",
                      "https://user@cloudimanage.com", "https://cloudimanage.com?x=1", "https://cloudimanage.com#x", "ftp://cloudimanage.com",
                      "https://cloudimanage.com:", "https://cloudimanage.com:99999", "https://cloudimanage.com:-1", "https://", "https://[::1",
                      "https://cloud imanage.com", "https://cloudimanage.com\u{0}", String(repeating: "a", count: 5000)] {
            #expect(!IssuerIdentifier.same(other, as: expected), "\(other.prefix(60))")
        }
    }
}
