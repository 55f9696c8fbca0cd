import Foundation

/// Reads a key file outside the configuration (`rekey --new-key-file`), checked as `key_file` is:
/// a private regular file (no access for group or others, owned by root or this user) of exactly 32 bytes.
public enum KeyFileCheck {
    /// What is wrong with the file, and what to do.
    public struct Problem: Error, CustomStringConvertible {
        public let description: String
    }

    public static func read(path: String) throws(Problem) -> SecretBytes {
        let absolute = path.hasPrefix("/") ? path : (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(path)
        // No $CREDENTIALS_DIRECTORY: the file is the one named, nothing else.
        let files = ConfigFiles(configFile: (absolute as NSString).standardizingPath, environment: [:])
        do {
            return try files.readKey(named: absolute).key
        } catch {
            throw Problem(description: error.message)
        }
    }
}
