import Foundation

/// A secret file named on a command line (`migrate --password-file`), checked exactly as one named
/// in the configuration is: a private regular file of root or this user, of sane size, as text.
public enum StandaloneSecretFile {
    public struct Problem: Error, CustomStringConvertible {
        public let description: String
    }

    public static func readText(_ path: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws(Problem) -> Secret {
        let files = ConfigFiles(configFile: FileManager.default.currentDirectoryPath + "/-", environment: environment)
        do {
            return try files.readSecretText(named: path).secret
        } catch {
            throw Problem(description: "\(path): \(error.message)")
        }
    }

    /// A PEM certificate file (`--ca-file`), checked as `ca_file` is; its absolute path.
    public static func checkCertificate(_ path: String) throws(Problem) -> String {
        let files = ConfigFiles(configFile: FileManager.default.currentDirectoryPath + "/-", environment: [:])
        do {
            return try files.checkCertificateFile(path)
        } catch {
            throw Problem(description: "\(path): \(error.message)")
        }
    }
}
