import IManageWire
import Testing

@Suite("Error codes from servers: kept when they read as codes, dropped when they may be secrets")
struct ErrorCodeTests {
    @Test("the codes of RFC 6749 and iManage are kept", arguments: [
        "invalid_grant", "invalid_client", "unauthorized_client", "unsupported_grant_type", "temporarily_unavailable",
        "access_denied", "AUTH_TOKEN_INVALID", "USER_DISABLED", "Unauthorized", "server-error", "error.code",
    ])
    func realCodes(code: String) {
        #expect(ErrorCode.sanitised(code) == code)
    }

    @Test("token-shaped text, digits, mixed case, punctuation and long runs are dropped", arguments: [
        "", "Zk3_pQ9xLmN2vB7cR4tY8wE1uI6oA5sD0fG-hJ3kL9z", "rt-9f8e7d6c5b4a39281706f5e4d3c2b1a0ZYXWVU",
        "0123456789abcdef0123456789abcdef", "123e4567-e89b-12d3-a456-426614174000", "eyJhbGciOiJIUzI1NiJ9",
        "invalid grant", "invalid_grant: rt-123", "ERR_404", "iNvAlId", "a__b", "_invalid",
        "abcdefghijklmnopqrstuvwxyz", String(repeating: "a_", count: 40),
    ])
    func notCodes(text: String) {
        #expect(ErrorCode.sanitised(text) == nil)
    }

    @Test("random base64url tokens, like iManage's, never pass for a code")
    func randomTokens() {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        for _ in 0..<10_000 {
            let token = String((0..<43).map { _ in alphabet.randomElement()! })
            #expect(ErrorCode.sanitised(token) == nil, "\(token.prefix(4))…")
        }
    }
}
