/// One secret file the configuration names (`key_file`, a `client_secret_file`), as written:
/// what `check-config --systemd-credentials` turns into a `LoadCredential=` line.
public struct SecretFileReference: Sendable, Equatable {
    /// The key as messages name it: `key_file`, `[cloud_application].client_secret_file`,
    /// `organisation "firm".client_secret_file`.
    public var key: String
    /// The value as written; a plain file name is looked up in `$CREDENTIALS_DIRECTORY`.
    public var name: String
    /// Where the file is outside systemd: `name` resolved against the configuration's directory.
    public var path: String

    /// Whether `name` is a plain file name, so that `$CREDENTIALS_DIRECTORY/name` is looked at first.
    public var isCredentialName: Bool {
        !name.isEmpty && !name.contains("/") && name != "." && name != ".."
    }

    /// The credential's name: `name` itself, or for a path its last component.
    public var credentialName: String {
        isCredentialName ? name : String(path.split(separator: "/").last ?? "secret")
    }

    /// The line for the unit's drop-in: `LoadCredential=NAME:PATH`.
    public var loadCredentialLine: String { "LoadCredential=\(credentialName):\(path)" }

    public init(key: String, name: String, path: String) {
        self.key = key
        self.name = name
        self.path = path
    }
}

/// The secret files named while one configuration is read, in file order.
final class SecretFileLedger {
    private(set) var references: [SecretFileReference] = []

    func record(key: String, name: String, files: ConfigFiles) {
        references.append(SecretFileReference(key: key, name: name, path: files.absolutePath(name)))
    }
}
