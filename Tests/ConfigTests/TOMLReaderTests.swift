import Testing
@testable import TokendConfig

/// The TOML reader: what it accepts, where it says something is wrong.
@Suite struct TOMLReaderTests {
    private func parse(_ text: String) throws -> TOMLTable {
        try TOMLReader.parse(text)
    }

    private func syntaxError(_ text: String) -> TOMLSyntaxError? {
        do {
            _ = try TOMLReader.parse(text)
            return nil
        } catch {
            return error
        }
    }

    private func table(_ value: TOMLValue?) -> TOMLTable? {
        if case .table(let table)? = value { return table }
        return nil
    }

    @Test func readsStringsOfEveryKind() throws {
        let document = try parse(#"""
        basic = "tab\there \"quoted\" back\\slash \u00e9 \U0001F600 line\nbreak"
        literal = 'C:\path\no escapes'
        multi = """
        first
        second"""
        joined = """\
            one \
            two"""
        quotes = """two quotes at the end: """""
        multiliteral = '''
        raw \n '' still'''
        """#)
        #expect(document["basic"]?.value == .string("tab\there \"quoted\" back\\slash é 😀 line\nbreak"))
        #expect(document["literal"]?.value == .string(#"C:\path\no escapes"#))
        #expect(document["multi"]?.value == .string("first\nsecond"))
        #expect(document["joined"]?.value == .string("one two"))
        #expect(document["quotes"]?.value == .string("two quotes at the end: \"\""))
        #expect(document["multiliteral"]?.value == .string(#"raw \n '' still"#))
    }

    @Test func readsNumbersAndBooleans() throws {
        let document = try parse("""
        a = 1_000
        b = -17
        c = +0
        d = 0xDEAD_beef
        e = 0o755
        f = 0b1010
        g = 0.5
        h = -1e3
        i = 6.02E+23
        j = inf
        k = -nan
        l = true
        m = false
        """)
        #expect(document["a"]?.value == .integer(1000))
        #expect(document["b"]?.value == .integer(-17))
        #expect(document["c"]?.value == .integer(0))
        #expect(document["d"]?.value == .integer(0xDEAD_BEEF))
        #expect(document["e"]?.value == .integer(0o755))
        #expect(document["f"]?.value == .integer(10))
        #expect(document["g"]?.value == .float(0.5))
        #expect(document["h"]?.value == .float(-1000))
        #expect(document["i"]?.value == .float(6.02e23))
        #expect(document["j"]?.value == .float(.infinity))
        if case .float(let nan)? = document["k"]?.value { #expect(nan.isNaN) } else { Issue.record("k is not a float") }
        #expect(document["l"]?.value == .boolean(true))
        #expect(document["m"]?.value == .boolean(false))
    }

    @Test func readsArraysInlineTablesAndDottedKeys() throws {
        let document = try parse("""
        ports = [
          8080,   # a comment inside
          8443,
        ]
        nested = [[1, 2], ["a"]]
        point = { x = 1, y.z = "deep" }
        site."quoted key".name = "x"
        'literal key' = 1
        """)
        #expect(document["ports"]?.value == .array([.integer(8080), .integer(8443)]))
        #expect(document["nested"]?.value == .array([.array([.integer(1), .integer(2)]), .array([.string("a")])]))
        let point = try #require(table(document["point"]?.value))
        #expect(point["x"]?.value == .integer(1))
        #expect(table(point["y"]?.value)?["z"]?.value == .string("deep"))
        let site = try #require(table(document["site"]?.value))
        #expect(table(site["quoted key"]?.value)?["name"]?.value == .string("x"))
        #expect(document["literal key"]?.value == .integer(1))
    }

    @Test func recordsTheLineOfEveryKeyAndTable() throws {
        let document = try parse("""
        # comment
        top = 1

        [server]
          port = 8080
        [[org]]
        name = "a"
        [[org]]

        name = "b"
        """)
        #expect(document["top"]?.keyPosition == TOMLPosition(line: 2, column: 1))
        let server = try #require(table(document["server"]?.value))
        #expect(server.position.line == 4)
        #expect(server["port"]?.keyPosition == TOMLPosition(line: 5, column: 3))
        guard case .array(let orgs)? = document["org"]?.value, orgs.count == 2 else {
            Issue.record("org is not an array of two tables")
            return
        }
        #expect(table(orgs[0])?.position.line == 6)
        #expect(table(orgs[1])?.position.line == 8)
        #expect(table(orgs[1])?["name"]?.keyPosition.line == 10)
    }

    @Test func readsSubTablesOfArraysOfTablesAndImplicitTables() throws {
        let document = try parse("""
        [a.b.c]
        x = 1
        [a]
        y = 2
        [[fruit]]
        name = "apple"
        [fruit.physical]
        color = "red"
        [[fruit]]
        name = "banana"
        """)
        let a = try #require(table(document["a"]?.value))
        #expect(a["y"]?.value == .integer(2))
        guard case .array(let fruits)? = document["fruit"]?.value else {
            Issue.record("fruit is not an array")
            return
        }
        try #require(fruits.count == 2)
        #expect(table(table(fruits[0])?["physical"]?.value)?["color"]?.value == .string("red"))
    }

    @Test func acceptsCRLFLineEndingsAndAByteOrderMark() throws {
        let document = try parse("\u{FEFF}a = 1\r\nb = \"x\"\r\n")
        #expect(document["b"]?.value == .string("x"))
        #expect(document["b"]?.keyPosition.line == 2)
    }

    @Test(arguments: [
        // (input, line, column, words the message must contain)
        ("a = 1\nb = \"unterminated\n", 2, 5, "not closed"),
        ("a = 1\n\nname \"x\"\n", 3, 6, "expected '='"),
        ("a = \"bad \\q escape\"", 1, 10, "unknown escape"),
        ("a = { x = 1,\n y = 2 }", 1, 13, "not closed on its line"),
        ("a = { x = 1, }", 1, 14, "trailing comma"),
        ("a = 012", 1, 5, "not a valid value"),
        ("when = 1979-05-27", 1, 8, "dates and times are not supported here"),
        ("at = 07:32:00", 1, 6, "dates and times are not supported here"),
        ("a = 1\rb = 2", 1, 6, "carriage return"),
        ("a = 1 b = 2", 1, 7, "own"),
        ("a = ", 1, 5, "expected a value"),
        ("a = yes", 1, 5, "expected a value"),
        ("a = [1, 2", 1, 5, "not closed"),
        ("[table\nx = 1", 1, 7, "expected ]"),
        ("a = 99999999999999999999", 1, 5, "out of range"),
        ("a = 1e999", 1, 5, "too large"),
        ("a = \"\u{01}\"", 1, 6, "control character"),
        ("a = 1 # comment \u{7F}", 1, 17, "control character"),
        ("= 1", 1, 1, "expected a key"),
        ("a = 1__0", 1, 5, "not a valid value"),
        ("a = -0x10", 1, 5, "not a valid value"),
        ("a = True", 1, 5, "lower case"),
    ])
    func syntaxErrorsNameLineAndColumn(input: String, line: Int, column: Int, words: String) throws {
        let error = try #require(syntaxError(input))
        #expect(error.position == TOMLPosition(line: line, column: column), "\(error)")
        #expect(error.message.contains(words), "\(error)")
    }

    @Test(arguments: [
        ("a = 1\nb = 2\na = 3", 3, "already defined at line 1"),
        ("[t]\nx = 1\n[u]\n[t]\n", 4, "defined twice"),
        ("[a]\nb.c = 1\n[a.b]\n", 3, "defined twice"),
        ("[a.b.c]\nz = 9\n[a]\nb.c.t = 1\n", 4, "already defined"),
        ("a = { b = 1 }\n[a.c]\n", 2, "inline table"),
        ("a = [1]\n[[a]]\n", 2, "already defined"),
        ("[[a]]\n[a]\n", 2, "array of tables"),
        ("[a]\n[[a]]\n", 2, "not an array of tables"),
        ("a = 1\na.b = 2\n", 2, "already defined"),
        ("p = { x = 1, x = 2 }", 1, "duplicate key"),
    ])
    func duplicateKeysAndRedefinedTablesAreErrors(input: String, line: Int, words: String) throws {
        let error = try #require(syntaxError(input))
        #expect(error.position.line == line, "\(error)")
        #expect(error.message.contains(words), "\(error)")
    }

    @Test func deepNestingIsAnErrorNotACrash() throws {
        let deepArray = "a = " + String(repeating: "[", count: 100_000)
        #expect(syntaxError(deepArray)?.message.contains("nested") == true)
        let deepInline = "a = " + String(repeating: "{b=", count: 10_000)
        #expect(syntaxError(deepInline)?.message.contains("nested") == true)
        let deepHeader = "[" + Array(repeating: "a", count: 10_000).joined(separator: ".") + "]"
        #expect(syntaxError(deepHeader) != nil)
        let deepDotted = Array(repeating: "a", count: 70).joined(separator: ".") + " = 1"
        #expect(syntaxError(deepDotted) != nil)
        // Nesting within the limit is fine.
        let fine = "a = " + String(repeating: "[", count: 30) + String(repeating: "]", count: 30)
        #expect(syntaxError(fine) == nil)
    }

    @Test func arbitraryInputNeverCrashes() {
        // A small, deterministic stand-in for the libFuzzer run: random texts made of the
        // characters that matter to TOML must all end in a table or a syntax error.
        let alphabet = Array("ab1_-.=\"'[]{},#\n\r\t \\uU0x+e:é\u{0}".unicodeScalars)
        // Each syntax error must point inside the text, with a message, so an administrator can find it.
        var random = SplitMix64(seed: 42)
        var parsed = 0, refused = 0
        for _ in 0..<5_000 {
            let length = Int(random.next() % 60)
            var text = String.UnicodeScalarView()
            for _ in 0..<length { text.append(alphabet[Int(random.next() % UInt64(alphabet.count))]) }
            guard let error = syntaxError(String(text)) else { parsed += 1; continue }
            refused += 1
            let lines = text.filter { $0 == "\n" }.count + 1
            #expect((1...lines).contains(error.position.line) && error.position.column >= 1 && !error.message.isEmpty,
                    "\(error) for \(String(text).debugDescription)")
        }
        // Both outcomes occur, so the inputs are neither all valid nor all rubbish.
        #expect(parsed > 0 && refused > 0, "\(parsed) parsed, \(refused) refused")
    }
}

/// A tiny seeded random number generator, so the crash test is repeatable.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
