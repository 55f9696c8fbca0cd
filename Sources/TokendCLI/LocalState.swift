import TokendConfig

extension TokendConfiguration {
    /// Where this daemon's own notes go (the missing-listeners file): beside the SQLite file, or,
    /// on a shared database, which has no local path, beside this daemon's API socket.
    var localStateBase: String { postgres == nil ? database : apiSocket }
}
