import IManageEmulator

extension IManageEmulator {
    /// The demo emulator in this process on a port from the kernel, with access tokens of
    /// `accessTokenLifetime` seconds; `configure` changes anything else before it starts.
    public static func startForTest(
        _ base: EmulatorConfiguration = .demo, accessTokenLifetime: Int,
        configure: (inout EmulatorConfiguration) -> Void = { _ in }
    ) async throws -> IManageEmulator {
        var configuration = base
        configuration.port = 0
        configuration.accessTokenLifetime = accessTokenLifetime
        configure(&configuration)
        return try await IManageEmulator.start(configuration)
    }

    /// A refresh token the emulator really issued to `user` for the demo client.
    public func mintRefreshToken(user: String = "ALICE") throws -> String {
        try mintGrants(user: user, clientID: "tokend-demo", count: 1)[0]
    }
}
