import IManageWire
import Testing

@Suite("Forms and query strings: written percent-encoded, read strictly")
struct FormEncodingTests {
    @Test("everything but unreserved characters is percent-encoded, so secrets arrive intact")
    func encoding() {
        #expect(FormEncoding.encode([("a b", "x&y=z+1/2?é~._-"), ("empty", "")])
            == "a%20b=x%26y%3Dz%2B1%2F2%3F%C3%A9~._-&empty=")
    }

    @Test("what is written reads back the same")
    func roundTrip() throws {
        let pairs = [("client_secret", "s3cr&t=+ /%"), ("redirect_uri", "https://tokend.example/oauth/callback?x=1"), ("é", "ü")]
        let read = try FormEncoding.parse(FormEncoding.encode(pairs), limits: FormLimits())
        #expect(read == Dictionary(uniqueKeysWithValues: pairs))
    }

    @Test("+ is a space, empty pairs are skipped, a bare name has the value \"\"")
    func reading() throws {
        #expect(try FormEncoding.parse("a=two+words&&b&c=%41=1", limits: FormLimits()) == ["a": "two words", "b": "", "c": "A=1"])
    }

    @Test("a malformed escape or text that is not UTF-8 is refused", arguments: ["a=%zz", "a=%4", "a=%", "%ff=1", "a=%C3%28"])
    func malformed(text: String) {
        #expect(throws: FormError.malformed) { try FormEncoding.parse(text, limits: FormLimits()) }
    }

    @Test("a name given twice is refused (RFC 6749 §3.1), even when spelled with escapes")
    func repeated() {
        #expect(throws: FormError.repeated(name: "code")) { try FormEncoding.parse("code=a&c%6Fde=b", limits: FormLimits()) }
    }

    @Test("past the limits the form is refused, not cut")
    func limits() throws {
        let limits = FormLimits(maximumParameters: 2, maximumNameLength: 4, maximumValueLength: 3)
        #expect(throws: FormError.tooMany) { try FormEncoding.parse("a=1&b=2&c=3", limits: limits) }
        #expect(throws: FormError.malformed) { try FormEncoding.parse("named=1", limits: limits) }
        #expect(throws: FormError.tooLong(name: "a")) { try FormEncoding.parse("a=1234", limits: limits) }
        #expect(try FormEncoding.parse("name=123&b", limits: limits) == ["name": "123", "b": ""])
    }

    @Test("the messages name a parameter, never its value")
    func messages() {
        #expect(FormError.tooLong(name: "state").message == "The parameter state is too long.")
        #expect(FormError.tooMany.message == "The request has too many parameters.")
    }
}

@Suite("HTML text")
struct HTMLTextTests {
    @Test("the five characters that matter in content and attributes are escaped")
    func escaping() {
        #expect(HTMLText.escape("<script>\"x\" & 'y'</script>") == "&lt;script&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/script&gt;")
        #expect(HTMLText.escape("Zoë 🙂") == "Zoë 🙂")
    }
}
