import Foundation
import Testing
import TokendConfig

/// `TokendConfiguration.load(contents:path:)`, the entry the fuzzer uses: the same checks as
/// reading the file, for text that is not (yet) a file.
@Suite struct ConfigurationContentsTests {
    @Test func contentsLoadLikeTheFileAtThatPath() throws {
        let fixture = try ConfigFixture()
        let text = "listen = \"127.0.0.1:9090\"\n" + ConfigFixture.minimal
        let fromFile = try fixture.load(text)
        let fromContents = try TokendConfiguration.load(contents: Array(text.utf8), path: fixture.configPath, environment: [:])
        #expect(fromContents.path == fromFile.path)
        #expect(fromContents.keyFile == fixture.path("token.key"))
        #expect(fromContents.listen == fromFile.listen)
        #expect(fromContents.publicURL == fromFile.publicURL)
        #expect(fromContents.cloudApplication?.clientSecret.reveal() == ConfigFixture.cloudSecret)
    }

    @Test func contentsThatAreNotUTF8AreRefusedWithTheirLine() throws {
        let fixture = try ConfigFixture()
        let bytes = Array(ConfigFixture.minimal.utf8) + [0x23, 0x20, 0xE9, 0x0A]
        #expect {
            try TokendConfiguration.load(contents: bytes, path: fixture.configPath, environment: [:])
        } throws: { error in
            let problem = (error as? ConfigurationError)?.problems.first
            return problem?.line == 6 && problem?.message.contains("not UTF-8") == true
        }
    }

    @Test func contentsLargerThanAConfigurationFileAreRefused() throws {
        let fixture = try ConfigFixture()
        let bytes = Array(ConfigFixture.minimal.utf8) + Array(repeating: UInt8(ascii: "#"), count: 1024 * 1024)
        #expect {
            try TokendConfiguration.load(contents: bytes, path: fixture.configPath, environment: [:])
        } throws: { error in
            (error as? ConfigurationError)?.problems.first?.message.contains("too large") == true
        }
    }
}
