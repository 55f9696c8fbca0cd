/// Every secret that passed through the emulator: the access and refresh tokens it issued
/// (minted ones included), the authorization codes it handed out and the PKCE verifiers
/// clients presented. Kept only when the emulator was started with
/// ``EmulatorConfiguration/recordsSecrets`` (`--record-secrets`), so that a test can search a
/// client's logs, pages and files for them; off by default, since a benchmark mints millions.
///
/// Read with ``IManageEmulator/issuedSecrets()`` or `GET /_emulator/secrets`.
public struct IssuedSecrets: Sendable, Equatable {
    public var accessTokens: [String] = []
    public var refreshTokens: [String] = []
    public var authorizationCodes: [String] = []
    public var codeVerifiers: [String] = []

    public init() {}

    mutating func record(_ answer: TokenGrantAnswer) {
        appendNew(answer.accessToken.text, to: &accessTokens)
        if let refresh = answer.refreshToken { appendNew(refresh.text, to: &refreshTokens) }
    }

    mutating func recordRefreshTokens(_ keys: [TokenKey]) {
        refreshTokens += keys.map(\.text)
    }

    mutating func recordCode(_ key: TokenKey) {
        authorizationCodes.append(key.text)
    }

    mutating func recordVerifier(_ verifier: String?) {
        guard let verifier, !verifier.isEmpty else { return }
        appendNew(verifier, to: &codeVerifiers)
    }

    /// Within rotation grace the same tokens are answered again; keep each once.
    private func appendNew(_ text: String, to list: inout [String]) {
        if !list.contains(text) { list.append(text) }
    }

    /// The JSON form of `GET /_emulator/secrets`.
    var json: String {
        JSONText.object([
            "access_tokens": JSONText.array(accessTokens.map(JSONText.string)),
            "refresh_tokens": JSONText.array(refreshTokens.map(JSONText.string)),
            "authorization_codes": JSONText.array(authorizationCodes.map(JSONText.string)),
            "code_verifiers": JSONText.array(codeVerifiers.map(JSONText.string)),
        ])
    }
}
