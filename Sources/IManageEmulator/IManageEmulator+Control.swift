/// In-process control: the same operations as the HTTP control API under `/_emulator/`.
extension IManageEmulator {
    // MARK: Faults

    /// Installs a fault; returns its id (for ``removeFault(id:)``).
    @discardableResult
    public func addFault(_ fault: Fault) throws(EmulatorError) -> Int {
        if let problem = fault.problem { throw .invalidArgument(problem) }
        return core.faults.add(fault)
    }

    /// Removes one fault and lets the requests it holds go; false when there was none.
    @discardableResult
    public func removeFault(id: Int) -> Bool {
        core.removeFault(id: id)
    }

    /// Removes every fault and lets held requests go.
    public func clearFaults() {
        core.clearFaults()
    }

    // MARK: Users and libraries

    /// Revokes every grant of the user (named by id or email) and refuses their sign-in.
    public func revokeUser(_ user: String) throws(EmulatorError) {
        try core.revokeUser(user)
    }

    /// Lets a revoked user sign in again; grants revoked before stay revoked.
    public func restoreUser(_ user: String) throws(EmulatorError) {
        try core.restoreUser(user)
    }

    /// Adds a user to a library's NRTADMIN group; returns the group's member ids.
    @discardableResult
    public func addNRTAdmin(user: String, library: String) throws(EmulatorError) -> [String] {
        try core.setNRTAdmin(true, user: user, library: library)
    }

    /// Removes a user from a library's NRTADMIN group; returns the group's member ids.
    @discardableResult
    public func removeNRTAdmin(user: String, library: String) throws(EmulatorError) -> [String] {
        try core.setNRTAdmin(false, user: user, library: library)
    }

    // MARK: Token policy and clock

    /// The token policy in force.
    public var settings: EmulatorSettings {
        core.settings()
    }

    /// Changes the token policy, e.g. `try emulator.updateSettings { $0.rotatesRefreshTokens = true }`.
    /// Refused (and nothing changed) if the result is invalid.
    @discardableResult
    public func updateSettings(_ change: (inout EmulatorSettings) -> Void) throws(EmulatorError) -> EmulatorSettings {
        try core.updateSettings(change)
    }

    /// Moves the emulator's clock forward, so tokens and codes expire without waiting.
    /// Returns the total offset from the wall clock in seconds.
    @discardableResult
    public func advanceClock(by seconds: Double) throws(EmulatorError) -> Double {
        try core.advanceClock(by: seconds)
    }

    // MARK: Grants

    /// Creates `count` grants (1...1,000,000) for a user as if they had signed in that often,
    /// and returns their refresh tokens. The benchmark's fast path.
    public func mintGrants(user: String, clientID: String, count: Int) throws(EmulatorError) -> [String] {
        try core.mintGrantKeys(user: user, clientID: clientID, count: count).map(\.text)
    }

    /// The emulator's grants counted by how they stand (active, revoked, expired, revoked for reuse).
    public func grantSummary() -> GrantSummary {
        core.grantSummary()
    }

    /// What the emulator knows about a refresh token, without using it.
    public func inspect(refreshToken: String) -> RefreshTokenInspection {
        core.inspect(refreshToken: refreshToken)
    }

    /// Revokes the grant a refresh token belongs to; false when the token is unknown.
    @discardableResult
    public func revokeGrant(refreshToken: String) -> Bool {
        core.revokeGrant(refreshToken: refreshToken)
    }

    /// Every token, code and PKCE verifier that passed through so far, or nil when the
    /// emulator was not started with ``EmulatorConfiguration/recordsSecrets``.
    public func issuedSecrets() -> IssuedSecrets? {
        core.state.withLock { $0.issued }
    }

    // MARK: Stats

    /// Request counts per endpoint and outcome since start or the last reset.
    public func stats() -> EmulatorStats {
        core.counters.snapshot()
    }

    public func resetStats() {
        core.counters.reset()
    }
}
