import Foundation

/// `rekey --swap`: the new key put at key_file's path by one atomic rename, the old key first
/// kept beside it as `KEY.old`, both 0600 and with key_file's owner and group.
struct KeyFileSwap {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    let keyFile: String
    var oldKeyFile: String { keyFile + ".old" }

    /// Before anything is changed: the key is a plain file of its own (not a systemd credential) and
    /// no `KEY.old` would be overwritten.
    func check() throws(Failure) {
        if let credentials = ProcessInfo.processInfo.environment["CREDENTIALS_DIRECTORY"], !credentials.isEmpty,
           keyFile.hasPrefix(credentials + "/") {
            throw Failure(description: "key_file was read from $CREDENTIALS_DIRECTORY (LoadCredential=): replace the file the unit's LoadCredential= names instead")
        }
        var info = stat()
        guard lstat(keyFile, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            throw Failure(description: "\(keyFile) is not a regular file")
        }
        if lstat(oldKeyFile, &info) == 0 {
            throw Failure(description: "\(oldKeyFile) exists already: move it away (it may be the key of older backups) and run rekey again")
        }
    }

    func swap(oldKey: [UInt8], newKey: [UInt8]) throws(Failure) {
        var owner = stat()
        guard stat(keyFile, &owner) == 0 else { throw failure("cannot examine \(keyFile)") }
        try create(oldKey, at: oldKeyFile, owner: owner)
        let partial = keyFile + ".new-\(getpid())"
        try create(newKey, at: partial, owner: owner)
        guard rename(partial, keyFile) == 0 else {
            unlink(partial)
            throw failure("cannot rename the new key onto \(keyFile)")
        }
        let directory = (keyFile as NSString).deletingLastPathComponent
        let fd = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 { _ = fsync(fd); close(fd) }
    }

    /// A new file (O_EXCL, never following a link) of mode 0600 holding `bytes`, durable.
    private func create(_ bytes: [UInt8], at path: String, owner: stat) throws(Failure) {
        let fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw failure("cannot create \(path)") }
        defer { close(fd) }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count, fchmod(fd, 0o600) == 0, fsync(fd) == 0 else {
            unlink(path)
            throw failure("cannot write \(path)")
        }
        if geteuid() == 0 { _ = fchown(fd, owner.st_uid, owner.st_gid) }
    }

    private func failure(_ what: String) -> Failure {
        Failure(description: "\(what): \(String(cString: strerror(errno)))")
    }
}
