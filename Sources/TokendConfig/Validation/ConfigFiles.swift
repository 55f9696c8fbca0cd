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
    /// `false`: secret files are named but never opened (``SecretLoading/skip``).
    let readsSecrets: Bool
    /// Every secret file named, for `LoadCredential=` lines and their hints.
    let ledger = SecretFileLedger()

    init(configFile: String, environment: [String: String], readsSecrets: Bool = true) {
        configDirectory = (configFile as NSString).deletingLastPathComponent
        let credentials = environment["CREDENTIALS_DIRECTORY"] ?? ""
        credentialsDirectory = credentials.isEmpty ? nil : credentials
        self.readsSecrets = readsSecrets
    }

    /// Where the secret `name` would be read from, without opening or examining it.
    func locatedSecretPath(named name: String) -> String {
        if let credentialsDirectory, Self.isPlainFileName(name) {
            let candidate = (credentialsDirectory as NSString).appendingPathComponent(name)
            if FileManager.default.fileExists(atPath: candidate) { return candidate }
        }
        return absolutePath(name)
    }

    /// `value` as an absolute path: relative paths are taken from the configuration file's directory.
    func absolutePath(_ value: String) -> String {
        let path = value.hasPrefix("/") ? value : (configDirectory as NSString).appendingPathComponent(value)
        return (path as NSString).standardizingPath
    }

    /// Reads the secret file named `name`: its path and bytes, or what is wrong with it and what to do.
    ///
    /// Every check is made on the opened descriptor (`fstat`), not on the path, so the file read is
    /// the file checked. Outside `$CREDENTIALS_DIRECTORY` a secret must be private: no access for
    /// its group or others, owned by root or by the user the daemon runs as. A credential systemd
    /// made (`LoadCredential=`) is taken as systemd made it, but a symbolic link there must not lead out.
    func readSecret(named name: String) throws(InvalidValue) -> (path: String, bytes: [UInt8]) {
        guard !name.isEmpty else { throw InvalidValue("is empty: expected the name of a file that holds the secret") }
        let location = try locateSecret(named: name)
        let path = location.path
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | (location.isCredential ? O_NOFOLLOW : 0))
        guard fd >= 0 else { throw cannotOpen(path, named: name, errno: errno) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw cannotOpen(path, named: name, errno: errno) }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw InvalidValue("\(path) is not a regular file: expected a file that holds the secret")
        }
        if !location.isCredential {
            let mode = info.st_mode & 0o777
            if mode & 0o077 != 0 {
                throw InvalidValue(
                    "\(path) can be read or written by its group or others (mode \(String(mode, radix: 8))): a secret must be private; run chmod 600 \(path)")
            }
            if info.st_uid != 0 && info.st_uid != geteuid() {
                throw InvalidValue(
                    "\(path) belongs to uid \(info.st_uid), neither root nor the user imanage-tokend runs as (uid \(geteuid())): "
                        + "run chown root \(path) (or give it to the daemon's user)")
            }
        }
        guard Int(info.st_size) <= Self.maximumSecretSize else {
            throw InvalidValue("\(path) is \(info.st_size) bytes, too large for a secret: name the right file")
        }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw cannotOpen(path, named: name, errno: errno)
            }
            if count == 0 { break }
            bytes += chunk[0..<count]
            guard bytes.count <= Self.maximumSecretSize else {
                throw InvalidValue("\(path) is larger than \(Self.maximumSecretSize) bytes, too large for a secret: name the right file")
            }
        }
        guard !bytes.isEmpty else { throw InvalidValue("\(path) is empty: put the secret in it") }
        return (path, bytes)
    }

    /// What to say when the secret `name`, found at `path`, cannot be opened or read. Permission
    /// denied is a missing credential, never a mode to widen: under systemd the unit hands the
    /// file over with `LoadCredential=`, named as the configuration names it.
    private func cannotOpen(_ path: String, named name: String, errno code: Int32) -> InvalidValue {
        switch code {
        case EACCES, EPERM:
            let reference = SecretFileReference(key: "", name: name, path: path)
            let rename = reference.isCredentialName
                ? "" : " and name it \"\(reference.credentialName)\" in the configuration (a path is never looked up there)"
            let notPassed = credentialsDirectory == nil ? "" : "is not in $CREDENTIALS_DIRECTORY, and "
            return InvalidValue(
                "\(notPassed)\(path) is not readable by uid \(geteuid()): under systemd add \(reference.loadCredentialLine) to the "
                    + "unit's drop-in (systemctl edit imanage-tokend; imanage-tokend check-config --systemd-credentials prints every line)"
                    + "\(rename); keep the file 0600 and owned by root, or run this command as root")
        case ELOOP:
            return InvalidValue("\(path) is a symbolic link in $CREDENTIALS_DIRECTORY: credentials must be files that systemd made")
        default:
            return InvalidValue("cannot read \(path): \(String(cString: strerror(code)))")
        }
    }

    /// Reads a client secret: UTF-8 text, with a trailing newline removed.
    func readSecretText(named name: String) throws(InvalidValue) -> (path: String, secret: Secret) {
        guard readsSecrets else {
            guard !name.isEmpty else { throw InvalidValue("is empty: expected the name of a file that holds the secret") }
            return (locatedSecretPath(named: name), Secret(""))
        }
        let (path, bytes) = try readSecret(named: name)
        guard var text = String(validating: bytes, as: UTF8.self) else {
            throw InvalidValue("\(path) is not UTF-8 text: expected the client secret as text")
        }
        while text.hasSuffix("\n") || text.hasSuffix("\r") { text.removeLast() }
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw InvalidValue("\(path) holds only white space: put the secret in it")
        }
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
    private func locateSecret(named name: String) throws(InvalidValue) -> (path: String, isCredential: Bool) {
        var lookedIn: [String] = []
        if let credentialsDirectory, Self.isPlainFileName(name) {
            let candidate = (credentialsDirectory as NSString).appendingPathComponent(name)
            var info = stat()
            if lstat(candidate, &info) == 0 {
                guard info.st_mode & S_IFMT == S_IFLNK else { return (candidate, true) }
                // A link is followed only while it stays inside the credentials directory.
                let directory = Self.realPath(credentialsDirectory) ?? credentialsDirectory
                guard let target = Self.realPath(candidate), target.hasPrefix(directory + "/") else {
                    throw InvalidValue(
                        "\(candidate) is a symbolic link that leads out of $CREDENTIALS_DIRECTORY: pass the file itself with LoadCredential=")
                }
                return (target, true)
            }
            lookedIn.append("in \(credentialsDirectory) ($CREDENTIALS_DIRECTORY)")
        }
        let path = absolutePath(name)
        if FileManager.default.fileExists(atPath: path) { return (path, false) }
        lookedIn.append(name.hasPrefix("/") ? "at that absolute path" : "in \(configDirectory.isEmpty ? "." : configDirectory) (the configuration's directory)")
        throw InvalidValue(
            "file not found: no file of the name given \(lookedIn.joined(separator: " nor ")); create it (chmod 600) or "
                + "correct the name (not repeated here, in case it is the secret itself: the secret goes in the file)")
    }

    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
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
