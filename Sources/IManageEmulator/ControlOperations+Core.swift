/// The control operations shared by the HTTP control API and the public Swift methods.
extension EmulatorCore {
    /// The most grants one call may mint.
    static let maximumMintCount = 1_000_000
    /// Grants minted per lock hold, so that minting a million does not stall other requests.
    private static let mintBatchSize = 10_000

    func mintGrantKeys(user: String, clientID: String, count: Int) throws(EmulatorError) -> [TokenKey] {
        guard (1...Self.maximumMintCount).contains(count) else {
            throw .invalidArgument("count must be 1...\(Self.maximumMintCount)")
        }
        var minted: [TokenKey] = []
        minted.reserveCapacity(count)
        state.withLock { $0.ledger.reserveCapacity(additionalGrants: count) }
        while minted.count < count {
            let keys = TokenKey.random(count: min(Self.mintBatchSize, count - minted.count))
            let stored = try state.withLock { (state) throws(EmulatorError) -> [TokenKey] in
                try state.mintGrants(user: user, clientID: clientID, keys: keys)
            }
            minted.append(contentsOf: stored)
        }
        return minted
    }

    func revokeUser(_ user: String) throws(EmulatorError) {
        try state.withLock { (state) throws(EmulatorError) in try state.revokeUser(user) }
    }

    func restoreUser(_ user: String) throws(EmulatorError) {
        try state.withLock { (state) throws(EmulatorError) in try state.restoreUser(user) }
    }

    /// Adds or removes a user in a library's NRTADMIN group; returns the group's members afterwards.
    func setNRTAdmin(_ member: Bool, user: String, library: String) throws(EmulatorError) -> [String] {
        try state.withLock { (state) throws(EmulatorError) -> [String] in
            try state.setNRTAdmin(member, user: user, library: library)
            return state.directory.library(library)?.nrtAdmins ?? []
        }
    }

    func settings() -> EmulatorSettings {
        state.withLock { $0.settings }
    }

    /// Applies a change to the settings if the result is valid; returns the settings in force.
    func updateSettings(_ change: (inout EmulatorSettings) -> Void) throws(EmulatorError) -> EmulatorSettings {
        try state.withLock { (state) throws(EmulatorError) -> EmulatorSettings in
            var settings = state.settings
            change(&settings)
            if let problem = settings.problem { throw .invalidArgument(problem) }
            state.settings = settings
            return settings
        }
    }

    func grantSummary() -> GrantSummary {
        state.withLock { $0.grantSummary() }
    }

    func inspect(refreshToken: String) -> RefreshTokenInspection {
        state.withLock { $0.inspect(refreshToken: refreshToken) }
    }

    func revokeGrant(refreshToken: String) -> Bool {
        state.withLock { $0.revokeGrant(refreshToken: refreshToken) }
    }

    /// Moves the emulator's clock forward; returns the total offset from the wall clock.
    func advanceClock(by seconds: Double) throws(EmulatorError) -> Double {
        guard seconds.isFinite, seconds >= 0, seconds <= 20 * 366 * 24 * 3600 else {
            throw .invalidArgument("advance_seconds must be 0 or more (and under 20 years)")
        }
        return state.withLock { state in
            state.clockOffset += seconds
            return state.clockOffset
        }
    }
}
