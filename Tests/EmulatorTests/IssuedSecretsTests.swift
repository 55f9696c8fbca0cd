import Foundation
import IManageEmulator
import Testing

@Suite("The record of issued secrets, for tests that search a client's output for them")
struct IssuedSecretsTests {
    @Test("with recordsSecrets: every code, verifier, access and refresh token, minted and rotated, is listed once")
    func recordsEverything() async throws {
        var configuration = EmulatorConfiguration.demo
        configuration.recordsSecrets = true
        configuration.rotatesRefreshTokens = true
        try await withEmulator(configuration) { h in
            let minted = try h.emulator.mintGrants(user: "BOB", clientID: "tokend-demo", count: 2)
            let (verifier, challenge) = pkcePair()
            let code = try await h.signIn(challenge: challenge)
            let first = try await h.exchange(code: code, verifier: verifier).json()
            let firstRefresh = try #require(first["refresh_token"] as? String)
            let second = try await h.refresh(firstRefresh).json()
            let failed = try await h.refresh(firstRefresh)  // reused after rotation: refused, nothing new issued
            #expect(failed.oauthError == "invalid_grant")

            let issued = try #require(h.emulator.issuedSecrets())
            #expect(issued.authorizationCodes == [code])
            #expect(issued.codeVerifiers == [verifier])
            #expect(issued.accessTokens == [first["access_token"] as? String, second["access_token"] as? String].compactMap { $0 })
            #expect(issued.refreshTokens == minted + [firstRefresh, second["refresh_token"] as? String].compactMap { $0 })

            let answer = try await h.get("/_emulator/secrets")
            #expect(answer.status == 200)
            #expect(answer.header("Cache-Control") == "no-store")
            let json = try answer.json()
            #expect(json["authorization_codes"] as? [String] == issued.authorizationCodes)
            #expect(json["code_verifiers"] as? [String] == issued.codeVerifiers)
            #expect(json["access_tokens"] as? [String] == issued.accessTokens)
            #expect(json["refresh_tokens"] as? [String] == issued.refreshTokens)
        }
    }

    @Test("without it: nothing is kept, and the control API says how to turn it on")
    func offByDefault() async throws {
        try await withEmulator { h in
            _ = try await h.authorizedTokens()
            #expect(h.emulator.issuedSecrets() == nil)
            let answer = try await h.get("/_emulator/secrets")
            #expect(answer.status == 404)
            #expect(answer.body.contains("--record-secrets"))
        }
    }
}
