import Foundation
import Testing
import TokendConfig
import TokendPolicy

/// The top-level keys, the file itself, and how problems are reported.
@Suite struct TopLevelConfigTests {
    @Test func minimalConfigurationGetsTheDocumentedDefaults() throws {
        let fixture = try ConfigFixture()
        let config = try fixture.load(ConfigFixture.minimal)
        #expect(config.path == fixture.configPath)
        #expect(config.database == "/var/lib/imanage-tokend/tokend.sqlite")
        #expect(config.keyFile == fixture.path("token.key"))
        #expect(config.key?.reveal() == fixture.keyBytes)
        #expect(config.publicURL.absoluteString == "https://tokend.example.com")
        #expect(config.redirectURL.absoluteString == "https://tokend.example.com/oauth/callback")
        #expect(config.listen == ListenAddress(host: "127.0.0.1", port: 8080))
        #expect(config.apiSocket == "/run/imanage-tokend/api.sock")
        #expect(config.caFile == nil)
        #expect(config.refresh == RefreshSettings())
        #expect(config.cloudApplication?.clientID == "cloud-app")
        #expect(config.organisations.isEmpty)
    }

    @Test func relativePathsResolveAgainstTheConfigurationFilesDirectory() throws {
        let fixture = try ConfigFixture()
        try fixture.write("secrets/the.key", bytes: fixture.keyBytes)
        let config = try fixture.load("""
            public_url = "https://tokend.example.com"
            database = "data/tokend.sqlite"
            key_file = "secrets/the.key"
            api_socket = "run/api.sock"
            """)
        #expect(config.database == fixture.path("data/tokend.sqlite"))
        #expect(config.keyFile == fixture.path("secrets/the.key"))
        #expect(config.apiSocket == fixture.path("run/api.sock"))
    }

    @Test func publicURLKeepsItsPathPrefixAndLosesItsTrailingSlash() throws {
        let fixture = try ConfigFixture()
        let config = try fixture.load(ConfigFixture.minimal.replacingOccurrences(
            of: "https://tokend.example.com", with: "https://intranet.example.com/tokend/"))
        #expect(config.publicURL.absoluteString == "https://intranet.example.com/tokend")
        #expect(config.redirectURL.absoluteString == "https://intranet.example.com/tokend/oauth/callback")
    }

    @Test func missingPublicURLIsRequired() throws {
        let fixture = try ConfigFixture()
        let problem = try fixture.problem(#"key_file = "token.key""#)
        #expect(problem.key == "public_url")
        #expect(problem.message.contains("required"))
        #expect(problem.message.contains("/oauth/callback"))
    }

    @Test(arguments: [
        ("not a url", "not an absolute URL"),
        ("tokend.example.com", "not an absolute URL"),
        ("ftp://tokend.example.com", "https://"),
        ("http://tokend.example.com", "https is required"),
        ("http://10.0.0.1:8080", "https is required"),
        ("https://admin:hunter2@tokend.example.com", "user name or password"),
        ("https://tokend.example.com/?next=1", "query"),
        ("https://tokend.example.com/#top", "fragment"),
        ("https://tokend.example.com:70000", "port"),
        ("", "empty"),
    ])
    func badPublicURLsAreRefusedWithTheReason(url: String, words: String) throws {
        let fixture = try ConfigFixture()
        let config = ConfigFixture.minimal.replacingOccurrences(of: "https://tokend.example.com", with: url)
        let problem = try fixture.problem(config)
        #expect(problem.key == "public_url")
        #expect(problem.line == 1)
        #expect(problem.message.contains(words), "\(problem)")
        #expect(!problem.message.contains("hunter2"))
    }

    @Test(arguments: ["http://localhost:8080", "http://127.0.0.1", "http://127.1.2.3:9000/x", "http://[::1]:8080"])
    func httpIsAllowedOnLoopback(url: String) throws {
        let fixture = try ConfigFixture()
        let config = try fixture.load(ConfigFixture.minimal.replacingOccurrences(of: "https://tokend.example.com", with: url))
        #expect(config.redirectURL.absoluteString.hasPrefix(url))
    }

    @Test(arguments: [
        ("127.0.0.1:8080", "127.0.0.1", 8080),
        ("[::1]:8443", "::1", 8443),
        ("0.0.0.0:1", "0.0.0.0", 1),
        ("localhost:65535", "localhost", 65535),
    ])
    func listenAddressesAreRead(text: String, host: String, port: Int) throws {
        let fixture = try ConfigFixture()
        let custom = try fixture.load("listen = \"\(text)\"\n" + ConfigFixture.minimal)
        #expect(custom.listen == ListenAddress(host: host, port: port))
        #expect(custom.listen.description == text)
    }

    @Test(arguments: ["8080", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:70000", "127.0.0.1:http", "[::1]8080", "::1:8080", "[zz]:80", ":8080"])
    func badListenAddressesAreRefused(text: String) throws {
        let fixture = try ConfigFixture()
        let problem = try fixture.problem("listen = \"\(text)\"\n" + ConfigFixture.minimal)
        #expect(problem.key == "listen")
        #expect(problem.line == 1)
        #expect(problem.message.contains("expected host:port"), "\(problem)")
    }

    @Test func unknownKeyNamesItsLineAndTheKnownKeys() throws {
        let fixture = try ConfigFixture()
        let problem = try fixture.problem(ConfigFixture.minimal.replacingOccurrences(
            of: "key_file =", with: "databse = \"x\"\nkey_file ="))
        #expect(problem.line == 2)
        #expect(problem.key == "databse")
        #expect(problem.message.contains("unknown key"))
        #expect(problem.message.contains("database, key_file, public_url, listen, api_socket, ca_file"))
    }

    @Test func unknownSecretLikeKeysAreNeverEchoedAndPointToAFile() throws {
        let fixture = try ConfigFixture()
        let problems = fixture.problems(ConfigFixture.minimal + """
            client_secret = "s3cr3t-inline-value"

            [[organisation]]
            name = "a"
            password = "hunter2-inline"
            """)
        #expect(problems.count == 2)
        let text = ConfigurationError(problems: problems).description
        #expect(!text.contains("s3cr3t-inline-value"))
        #expect(!text.contains("hunter2-inline"))
        #expect(problems.allSatisfy { $0.message.contains("secrets are never inline") && $0.message.contains("client_secret_file") })
        #expect(problems.map(\.key) == ["[cloud_application].client_secret", "organisation \"a\".password"])
        #expect(problems.map(\.line) == [6, 10])
    }

    @Test func wrongTypeSaysWhatWasExpected() throws {
        let fixture = try ConfigFixture()
        let problem = try fixture.problem(ConfigFixture.minimal.replacingOccurrences(
            of: "public_url = \"https://tokend.example.com\"", with: "public_url = 443"))
        #expect(problem.key == "public_url")
        #expect(problem.line == 1)
        #expect(problem.message.contains("expected the address people use"))
        #expect(problem.message.contains("found an integer"))
    }

    @Test func tablesMustBeTables() throws {
        let fixture = try ConfigFixture()
        let problems = fixture.problems("refresh = 5\n" + ConfigFixture.minimal + "\n[organisation]\nname = \"a\"\n")
        #expect(problems.map(\.key) == ["refresh", "organisation"])
        try #require(problems.count == 2)
        #expect(problems[0].message.contains("write [refresh]"))
        #expect(problems[1].message.contains("[[organisation]]"))
    }

    @Test func apiSocketPathMustFitInASocketAddress() throws {
        let fixture = try ConfigFixture()
        let long = "/run/" + String(repeating: "x", count: 120) + ".sock"
        let problem = try fixture.problem("api_socket = \"\(long)\"\n" + ConfigFixture.minimal)
        #expect(problem.key == "api_socket")
        #expect(problem.message.contains("at most 107"))
    }

    @Test func caFileMustBeAPEMFile() throws {
        let fixture = try ConfigFixture()
        let missing = try fixture.problem("ca_file = \"ca.pem\"\n" + ConfigFixture.minimal)
        #expect(missing.key == "ca_file")
        #expect(missing.message.contains("file not found: \(fixture.path("ca.pem"))"))

        try fixture.write("ca.pem", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", mode: 0o644)
        let config = try fixture.load("ca_file = \"ca.pem\"\n" + ConfigFixture.minimal)
        #expect(config.caFile == fixture.path("ca.pem"))

        try fixture.write("not-pem.txt", "hello", mode: 0o644)
        let notPEM = try fixture.problem("ca_file = \"not-pem.txt\"\n" + ConfigFixture.minimal)
        #expect(notPEM.message.contains("no PEM certificate"))
    }

    @Test func tomlSyntaxErrorsNameLineAndColumn() throws {
        let fixture = try ConfigFixture()
        let problem = try fixture.problem(ConfigFixture.minimal + "[refresh]\njitter_fraction = 0.1.2\n")
        #expect(problem.line == 7)
        #expect(problem.column == 19)
        #expect(problem.key == "")
        #expect(problem.message.hasPrefix("TOML syntax:"))
        #expect(problem.description.hasPrefix("\(fixture.configPath):7:19: TOML syntax: "))
    }

    @Test func missingConfigurationFileIsAClearError() throws {
        let fixture = try ConfigFixture()
        let path = fixture.path("nowhere.toml")
        do {
            _ = try TokendConfiguration.load(path: path, environment: [:])
            Issue.record("loaded a missing file")
        } catch {
            #expect(error.problems.count == 1)
            #expect(error.description == "\(path): configuration file not found; give the right file with --config FILE or $IMANAGE_TOKEND_CONFIG")
        }
    }

    @Test func configurationThatIsNotUTF8NamesTheLine() throws {
        let fixture = try ConfigFixture()
        try fixture.write("latin1.toml", bytes: Array("public_url = \"https://x.example\"\n# caf".utf8) + [0xE9, 0x0A], mode: 0o644)
        do {
            _ = try TokendConfiguration.load(path: fixture.path("latin1.toml"), environment: [:])
            Issue.record("loaded a file that is not UTF-8")
        } catch {
            #expect(error.problems.first?.line == 2)
            #expect(error.problems.first?.message.contains("not UTF-8") == true)
        }
    }

    @Test func everyProblemIsReportedAtOnceInLineOrder() throws {
        let fixture = try ConfigFixture()
        let problems = fixture.problems("""
            public_url = "http://tokend.example.com"
            key_file = "missing.key"
            listen = "127.0.0.1"
            colour = "blue"
            [refresh]
            jitter_fraction = 2
            """)
        #expect(problems.map(\.line) == [1, 2, 3, 4, 6])
        #expect(problems.map(\.key) == ["public_url", "key_file", "listen", "colour", "[refresh].jitter_fraction"])
        let lines = ConfigurationError(problems: problems).description.split(separator: "\n")
        try #require(lines.count == 5)
        #expect(lines[4] == "\(fixture.configPath):6: [refresh].jitter_fraction: expected a number from 0 to 0.5, found 2")
    }
}
