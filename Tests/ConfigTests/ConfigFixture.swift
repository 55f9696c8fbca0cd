import Foundation
import Testing
import TokendConfig

/// A temporary directory with a configuration file and its secret files, removed when done.
final class ConfigFixture {
    static let cloudSecret = "cloud-secret-value-0123456789"
    static let onPremiseSecret = "onprem-secret-value-9876543210"
    /// The first lines of a valid configuration; tests append to it.
    static let minimal = """
        public_url = "https://tokend.example.com"
        key_file = "token.key"
        [cloud_application]
        client_id = "cloud-app"
        client_secret_file = "cloud-secret"

        """

    let directory: URL
    let keyBytes: [UInt8] = (0..<32).map { UInt8(($0 * 37 + 11) % 256) }
    var configPath: String { directory.appendingPathComponent("tokend.toml").path }

    init() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("tokend-config-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try write("token.key", bytes: keyBytes)
        try write("cloud-secret", Self.cloudSecret + "\n")
        try write("onprem-secret", Self.onPremiseSecret + "\n")
    }

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }

    /// Writes `contents` to `name` (relative to the fixture directory) with `mode`; returns its path.
    @discardableResult
    func write(_ name: String, _ contents: String, mode: Int = 0o600) throws -> String {
        try write(name, bytes: Array(contents.utf8), mode: mode)
    }

    @discardableResult
    func write(_ name: String, bytes: [UInt8], mode: Int = 0o600) throws -> String {
        let url = directory.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: url)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: url.path)
        return url.path
    }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// Writes `config` as the configuration file and loads it.
    func load(_ config: String, environment: [String: String] = [:]) throws(ConfigurationError) -> TokendConfiguration {
        do {
            try write("tokend.toml", config, mode: 0o644)
        } catch {
            Issue.record("cannot write the configuration: \(error)")
        }
        return try TokendConfiguration.load(path: configPath, environment: environment)
    }

    /// The problems of `config`, which must fail to load.
    func problems(_ config: String, environment: [String: String] = [:],
                  sourceLocation: SourceLocation = #_sourceLocation) -> [ConfigurationError.Problem] {
        do {
            _ = try load(config, environment: environment)
            Issue.record("the configuration loaded, but it should not have", sourceLocation: sourceLocation)
            return []
        } catch {
            return error.problems
        }
    }

    /// The only problem of `config`.
    func problem(_ config: String, environment: [String: String] = [:],
                 sourceLocation: SourceLocation = #_sourceLocation) throws -> ConfigurationError.Problem {
        let problems = problems(config, environment: environment, sourceLocation: sourceLocation)
        #expect(problems.count == 1, "\(problems)", sourceLocation: sourceLocation)
        return try #require(problems.first, sourceLocation: sourceLocation)
    }
}
