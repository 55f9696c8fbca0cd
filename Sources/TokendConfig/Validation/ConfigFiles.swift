import Foundation

/// Finds and reads the files the configuration names: secrets (`key_file`, `client_secret_file`)
/// looked up in `$CREDENTIALS_DIRECTORY` first (systemd `LoadCredential=`), then as a path;
/// other paths resolved against the configuration file's directory.
struct ConfigFiles {
    /// The largest secret file read; a secret is a few dozen bytes.
    static let maximumSecretSize = 64 * 1024
    static let keySize = 32

    /// The directory of the configuration file, against which relative paths resolve.
    let configDirectory: String
    /// `$CREDENTIALS_DIRECTORY`, when set and not empty.
    let credentialsDirectory: String?

    init(configFile: String, environment: [String: String]) {
        configDirectory = (configFile as NSString).deletingLastPathComponent
        let credentials = environment["CREDENTIALS_DIRECTORY"] ?? ""
        credentialsDirectory = credentials.isEmpty ? nil : credentials
    }

    /// `value` as an absolute path: relative paths are taken from the configuration file's directory.
    func absolutePath(_ value: String) -> String {
        let path = value.hasPrefix("/") ? value : (configDirectory as NSString).appendingPathComponent(value)
        return (path as NSString).standardizingPath
    }

    /// Reads the secret file named `name`: its path and bytes, or what is wrong with it and what to do.
    func readSecret(named name: String) throws(InvalidValue) -> (path: String, bytes: [UInt8]) {
        guard !name.isEmpty else { throw InvalidValue("is empty: expected the name of a file that holds the secret") }
        let path = try locateSecret(named: name)
        let attributes: [FileAttributeKey: Any]
        do {
            attributes = try FileManager.default.attributesOfItem(atPath: Self.resolvingSymlinks(path))
        } catch {
            throw InvalidValue("cannot examine \(path): make it readable by the user imanage-tokend runs as")
        }
        guard (attributes[.type] as? FileAttributeType) == .typeRegular else {
            throw InvalidValue("\(path) is not a regular file: expected a file that holds the secret")
        }
        if let mode = (attributes[.posixPermissions] as? NSNumber)?.intValue, mode & 0o004 != 0 {
            throw InvalidValue(
                "\(path) is readable by every user (mode \(String(mode & 0o777, radix: 8))): run chmod 600 \(path)")
        }
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw InvalidValue("cannot read \(path) (permission denied): make it readable by the user imanage-tokend runs as")
        }
        let size = (attributes[.size] as? NSNumber)?.intValue ?? 0
        guard size <= Self.maximumSecretSize else {
            throw InvalidValue("\(path) is \(size) bytes, too large for a secret: name the right file")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InvalidValue("cannot read \(path): make it readable by the user imanage-tokend runs as")
        }
        guard !data.isEmpty else { throw InvalidValue("\(path) is empty: put the secret in it") }
        return (path, Array(data))
    }

    /// Reads a client secret: UTF-8 text, with a trailing newline removed.
    func readSecretText(named name: String) throws(InvalidValue) -> (path: String, secret: Secret) {
        let (path, bytes) = try readSecret(named: name)
        guard var text = String(validating: bytes, as: UTF8.self) else {
            throw InvalidValue("\(path) is not UTF-8 text: expected the client secret as text")
        }
        while text.hasSuffix("\n") || text.hasSuffix("\r") { text.removeLast() }
        guard !text.isEmpty else { throw InvalidValue("\(path) holds only a newline: put the secret in it") }
        return (path, Secret(text))
    }

    /// Reads the token encryption key: exactly 32 bytes.
    func readKey(named name: String) throws(InvalidValue) -> (path: String, key: SecretBytes) {
        let (path, bytes) = try readSecret(named: name)
        guard bytes.count == Self.keySize else {
            let newlineHint = bytes.count == Self.keySize + 1 && bytes.last == 0x0A
                ? " (the last byte is a newline: do not write the key with a text editor)" : ""
            throw InvalidValue(
                "\(path) holds \(bytes.count) bytes, but the key must be exactly \(Self.keySize) bytes\(newlineHint); "
                    + "generate one with: head -c 32 /dev/urandom > \(path) && chmod 600 \(path)")
        }
        return (path, SecretBytes(bytes))
    }

    /// The secret's file: in `$CREDENTIALS_DIRECTORY` when it is a plain file name present there,
    /// else as a path. A missing file's message says everywhere it looked, but never repeats the
    /// name: an administrator who wrote the secret itself where its file's name goes would find
    /// it in the terminal and, at a reload, in the journal. The problem's line points at the name.
    private func locateSecret(named name: String) throws(InvalidValue) -> String {
        var lookedIn: [String] = []
        if let credentialsDirectory, Self.isPlainFileName(name) {
            let candidate = (credentialsDirectory as NSString).appendingPathComponent(name)
            if FileManager.default.fileExists(atPath: candidate) { return candidate }
            lookedIn.append("in \(credentialsDirectory) ($CREDENTIALS_DIRECTORY)")
        }
        let path = absolutePath(name)
        if FileManager.default.fileExists(atPath: path) { return path }
        lookedIn.append(name.hasPrefix("/") ? "at that absolute path" : "in \(configDirectory.isEmpty ? "." : configDirectory) (the configuration's directory)")
        throw InvalidValue(
            "file not found: no file of the name given \(lookedIn.joined(separator: " nor ")); create it (chmod 600) or "
                + "correct the name (not repeated here, in case it is the secret itself: the secret goes in the file)")
    }

    /// Checks an optional file of extra trust roots: it must exist, be readable and hold PEM certificates.
    func checkCertificateFile(_ value: String) throws(InvalidValue) -> String {
        guard !value.isEmpty else { throw InvalidValue("is empty: expected the path of a PEM file of CA certificates") }
        let path = absolutePath(value)
        guard FileManager.default.fileExists(atPath: path) else {
            throw InvalidValue("file not found: \(path); give the path of a PEM file of CA certificates, or remove ca_file")
        }
        let attributes = try? FileManager.default.attributesOfItem(atPath: Self.resolvingSymlinks(path))
        guard (attributes?[.type] as? FileAttributeType) == .typeRegular else {
            throw InvalidValue("\(path) is not a regular file: expected a PEM file of CA certificates")
        }
        let size = (attributes?[.size] as? NSNumber)?.intValue ?? 0
        guard size <= 16 * 1024 * 1024 else { throw InvalidValue("\(path) is \(size) bytes, too large for a PEM file of CA certificates") }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InvalidValue("cannot read \(path): make it readable by the user imanage-tokend runs as")
        }
        guard data.range(of: Data("-----BEGIN CERTIFICATE-----".utf8)) != nil else {
            throw InvalidValue("\(path) holds no PEM certificate (-----BEGIN CERTIFICATE-----)")
        }
        return path
    }

    private static func isPlainFileName(_ name: String) -> Bool {
        !name.contains("/") && name != "." && name != ".."
    }

    private static func resolvingSymlinks(_ path: String) -> String {
        URL(fileURLWithPath: path).resolvingSymlinksInPath().path
    }
}
