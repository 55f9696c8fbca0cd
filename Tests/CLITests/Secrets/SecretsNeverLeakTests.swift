import Foundation
import Testing

/// Issue 6: secrets never leak. One whole session of the real binaries with every kind of
/// secret and every failure class, then every place a person or program can read is searched
/// for every secret that passed through: the daemon's log (at trace level), every answer of its
/// web pages (headers and bodies), every CLI output, the token API's error answers, and the
/// bytes of the database and its `-wal` and `-shm` files. Only the token API's successful token
/// answers and `token`'s standard output may carry a token.
@Suite("Secrets never leak", .serialized)
struct SecretsNeverLeakTests {
    @Test("a full session: no token, code, verifier, secret or password anywhere but the token answers")
    func fullSession() async throws {
        let session = try await SecretSession()
        var expectedSecrets: [KnownSecret] = [
            KnownSecret(kind: "client secret", value: SecretSession.clientSecret),
            KnownSecret(kind: "refused client secret", value: session.wrongClientSecret),
            KnownSecret(kind: "password", value: "alice-password"),
            KnownSecret(kind: "password", value: "bob-password"),
            KnownSecret(kind: "encryption key (hex)", value: session.encryptionKey.map { String(format: "%02x", $0) }.joined()),
            KnownSecret(kind: "encryption key (base64)", value: session.encryptionKey.base64EncodedString()),
        ]

        // Before the daemon: check-config, and imports (two good, two refused).
        #expect(try await session.tokend(["check-config"]).status == 0)
        let carol = try await session.mintRefreshToken(user: "CAROL")
        let archive = try await session.mintRefreshToken(user: "ALICE")
        let forgedRefreshToken = randomTokenText()
        expectedSecrets += [
            KnownSecret(kind: "imported refresh token", value: carol), KnownSecret(kind: "imported refresh token", value: archive),
            KnownSecret(kind: "forged refresh token", value: forgedRefreshToken),
        ]
        #expect(try await session.importGrant(["--organisation", "acme", "--user", "CAROL"], refreshToken: carol).status == 0)
        #expect(try await session.importGrant(["--organisation", "beta", "--library", "ARCHIVE"], refreshToken: archive).status == 0)
        #expect(try await session.importGrant(["--organisation", "acme", "--user", "BOB"], refreshToken: forgedRefreshToken).status != 0)
        let notAdmin = try await session.mintRefreshToken(user: "CAROL")
        #expect(try await session.importGrant(["--organisation", "acme", "--library", "LITIGATION"], refreshToken: notAdmin).status != 0)

        try await session.startDaemon()
        expectedSecrets += try await authorizeOnTheWeb(session)

        // A rotation, and tokens handed out where they belong.
        #expect(try await session.tokend(["refresh", "--organisation", "acme", "--library", "ACTIVE"]).status == 0)
        #expect(try await session.tokend(["token", "--organisation", "acme", "--library", "ACTIVE"]).status == 0)
        #expect(try await session.api("GET", "/v1/organisations/acme/users/bob@example.com/token").status == 200)

        expectedSecrets += try await misconfigure(session)
        try await failEveryWay(session)
        try await askForWhatCannotBeHad(session)
        // The pages that show a grant's status and last error, after every failure.
        _ = try await CurlBrowser(session: session, name: "bob").get(session.webBase + "/organisations/acme/me")
        _ = try await CurlBrowser(session: session, name: "alice").get(session.webBase + "/organisations/acme/tracker")

        // Reports, then a revoke through the daemon.
        for arguments in [["status"], ["status", "--json"], ["status", "--organisation", "beta"], ["history"], ["history", "--json"]] {
            try await session.tokend(arguments)
        }
        try await session.api("GET", "/v1/status")
        #expect(try await session.tokend(["revoke", "--organisation", "acme", "--user", "CAROL"]).status == 0)

        // The database while the daemon holds it (WAL and all), then after a clean stop.
        var databaseBytes = session.databaseFiles().map { ("\($0.name) while the daemon runs", $0.bytes) }
        #expect(try await session.stopDaemon() == 0)
        databaseBytes += session.databaseFiles().map { ("\($0.name) after the daemon stopped", $0.bytes) }
        for arguments in [["status"], ["history", "--json"], ["revoke", "--organisation", "acme", "--user", "BOB"], ["token", "--organisation", "acme", "--library", "ACTIVE"]] {
            try await session.tokend(arguments)
        }
        session.record("the daemon's log (stderr, trace level)", try session.daemonLog())

        // What the session was meant to go through, it went through.
        let history = try await session.tokend(["history", "--json"])
        let statuses = Set(((try JSONSerialization.jsonObject(with: Data(history.stdout.utf8)) as? [String: Any])?["events"] as? [[String: Any]] ?? [])
            .compactMap { $0["status"] as? String })
        for status in ["authorized", "retrying", "needs_reauth", "client_error", "not_nrtadmin", "unauthorized"] {
            #expect(statuses.contains(status), "the session never reached \(status): \(statuses.sorted())")
        }

        let issued = try await session.issuedSecrets()
        let scanner = SecretScanner(issued + expectedSecrets)
        #expect(issued.filter { $0.kind == "authorisation code" }.count >= 4, "the web flows issued fewer codes than expected")
        #expect(issued.contains { $0.kind == "PKCE verifier" }, "no PKCE verifier reached iManage")
        #expect(issued.filter { $0.kind == "refresh token" }.count >= 10, "fewer refresh tokens than the rotations should have made")

        // The scanner sees a token where one belongs (so silence elsewhere means something).
        for (place, text) in session.allowedCarriers {
            #expect(scanner.findings(in: text, place: place).contains { $0.secret.kind == "access token" && !$0.partial },
                    "no known access token in \(place): the emulator's record or the scanner is wrong")
        }
        #expect(session.outputs.count >= 40, "fewer outputs than the session should have produced: \(session.outputs.count)")

        for (place, text) in session.outputs {
            for finding in scanner.findings(in: text, place: place) { Issue.record("secret leaked: \(finding)") }
        }
        #expect(databaseBytes.count >= 4)
        #expect(databaseBytes.contains { $0.1.range(of: Data("alice@example.com".utf8)) != nil }, "the database files were not read")
        for (place, bytes) in databaseBytes {
            for finding in scanner.findings(in: bytes, place: place) { Issue.record("secret in plaintext: \(finding)") }
            if bytes.range(of: session.encryptionKey) != nil { Issue.record("the encryption key's bytes are in \(place)") }
        }
    }

    /// The web pages: the Tracker page (sign-in, authorize ACTIVE), a person's Authorise (BOB),
    /// `/me`, a replayed callback, a callback whose exchange iManage fails with 503, one with a
    /// forged code and one with a token-shaped error. Returns the forged values.
    private func authorizeOnTheWeb(_ session: SecretSession) async throws -> [KnownSecret] {
        let web = session.webBase
        let alice = CurlBrowser(session: session, name: "alice")
        _ = try await alice.get(web + "/organisations/acme/tracker")
        let trackerCallback = try await alice.signInAtIManage(
            try await alice.get(web + "/organisations/acme/tracker/sign-in"), email: "alice@example.com", password: "alice-password")
        #expect(try await alice.get(trackerCallback).location == "/organisations/acme/tracker")
        let csrf = try await alice.csrf(on: "/organisations/acme/tracker")
        let pressed = try await alice.post(web + "/organisations/acme/tracker/libraries/ACTIVE/authorise", [("csrf", csrf), ("email", "alice@example.com")])
        let libraryCallback = try await alice.signInAtIManage(pressed, email: "alice@example.com", password: "alice-password")
        let authorized = try await alice.get(libraryCallback)
        #expect(authorized.location == "/organisations/acme/tracker?authorised=ACTIVE", "\(authorised.body)")
        _ = try await alice.get(web + "/organisations/acme/tracker?authorised=ACTIVE")
        _ = try await alice.get(libraryCallback)  // replayed: the state was used

        let bob = CurlBrowser(session: session, name: "bob")
        let userCallback = try await bob.signInAtIManage(
            try await bob.get(web + "/organisations/acme/authorise"), email: "bob@example.com", password: "bob-password")
        let me = try await bob.get(userCallback)
        #expect(me.location == "/organisations/acme/me?authorised=1", "\(me.body)")
        _ = try await bob.get(web + "/organisations/acme/me?authorised=1")

        // iManage fails the exchange: the page says so, and the code it was given appears nowhere.
        let unlucky = CurlBrowser(session: session, name: "unlucky")
        let failingCallback = try await unlucky.signInAtIManage(
            try await unlucky.get(web + "/organisations/acme/authorise"), email: "alice@example.com", password: "alice-password")
        try await session.control("POST", "/faults", json: #"{"endpoint":"token","kind":"server_error","status":503,"count":1}"#)
        #expect(try await unlucky.get(failingCallback).location == "/oauth/failed")  // the failure is shown at a clean address
        #expect(try await unlucky.get(web + "/oauth/failed").status >= 400)

        // A real state with a code iManage never issued: iManage refuses it.
        let forger = CurlBrowser(session: session, name: "forger")
        let start = try await forger.get(web + "/organisations/acme/authorise")
        let authorizeURL = try #require(start.location)
        let state = try #require(URLComponents(string: authorizeURL)?.queryItems?.first { $0.name == "state" }?.value)
        let forgedCode = randomTokenText()
        #expect(try await forger.get(web + "/oauth/callback?state=\(state)&code=\(forgedCode)").location == "/oauth/failed")
        #expect(try await forger.get(web + "/oauth/failed").status >= 400)

        // A token-shaped `error` on the way back: neither the page nor the log may repeat it.
        let echoed = try await forger.get(web + "/organisations/acme/authorise")
        let echoedURL = try #require(echoed.location)
        let echoedState = try #require(URLComponents(string: echoedURL)?.queryItems?.first { $0.name == "state" }?.value)
        let forgedError = randomTokenText()
        #expect(try await forger.get(web + "/oauth/callback?state=\(echoedState)&error=\(forgedError)").location == "/oauth/failed")
        #expect(try await forger.get(web + "/oauth/failed").status >= 400)
        return [
            KnownSecret(kind: "forged authorisation code", value: forgedCode),
            KnownSecret(kind: "token-shaped error code", value: forgedError),
        ]
    }

    /// An administrator's mistakes with secrets: the client secret itself written where the name
    /// of its file goes, and a secret written inline. `check-config` and the refused reload must
    /// not repeat either. Returns the two secrets.
    private func misconfigure(_ session: SecretSession) async throws -> [KnownSecret] {
        let misplaced = randomTokenText(), inline = randomTokenText()
        try session.writeConfiguration(betaSecretFile: misplaced, betaExtra: "client_secret = \"\(inline)\"")
        #expect(try await session.tokend(["check-config"]).status == 78)
        session.reloadDaemon()
        try await waitUntil("the daemon refused the reload", upTo: 15) { try session.daemonLog().contains("reload refused") }
        try session.writeConfiguration(betaSecretFile: "client-secret")
        return [
            KnownSecret(kind: "client secret given as client_secret_file", value: misplaced),
            KnownSecret(kind: "client secret written inline", value: inline),
        ]
    }

    /// Every failure class: 503, 429 with Retry-After and a non-JSON 200 for CAROL (retrying);
    /// a revoked user for BOB (needs_reauth); ALICE out of ACTIVE's NRTADMIN group
    /// (not_nrtadmin); a refused client secret for `beta` after a reload (client_error).
    private func failEveryWay(_ session: SecretSession) async throws {
        let carol = ["--organisation", "acme", "--user", "CAROL"]
        for fault in [
            #"{"endpoint":"token","kind":"server_error","status":503,"count":1}"#,
            #"{"endpoint":"token","kind":"too_many_requests","retry_after":1,"count":1}"#,
            #"{"endpoint":"token","kind":"non_json","count":1}"#,
        ] {
            try await session.control("POST", "/faults", json: fault)
            try await session.tokend(["refresh"] + carol)
            try await session.tokend(["status"] + carol)
        }
        try await session.control("DELETE", "/faults")
        try await waitUntil("CAROL is authorised again", upTo: 15) {
            try await session.tokend(["refresh"] + carol)
            return try await session.status(carol) == "authorized"
        }

        try await session.control("POST", "/users/BOB/revoke")
        try await session.tokend(["refresh", "--organisation", "acme", "--user", "BOB"])
        #expect(try await session.status(["--organisation", "acme", "--user", "BOB"]) == "needs_reauth")

        try await session.control("DELETE", "/libraries/ACTIVE/nrtadmin/ALICE")
        try await session.tokend(["refresh", "--organisation", "acme", "--library", "ACTIVE"])
        #expect(try await session.status(["--organisation", "acme", "--library", "ACTIVE"]) == "not_nrtadmin")

        try session.writeConfiguration(betaSecretFile: "refused-secret")
        try await session.tokend(["check-config"])
        session.reloadDaemon()
        let archive = ["--organisation", "beta", "--library", "ARCHIVE"]
        try await waitUntil("beta's client secret is refused", upTo: 15) {
            try await session.tokend(["refresh"] + archive)
            return try await session.status(archive) == "client_error"
        }
    }

    /// The token API's and the CLI's error answers: a grant that needs a person, one that
    /// cannot be had, an unknown grant, a bad path, a bad body.
    private func askForWhatCannotBeHad(_ session: SecretSession) async throws {
        #expect(try await session.api("GET", "/v1/organisations/acme/users/BOB/token").status == 503)
        #expect(try await session.api("GET", "/v1/organisations/acme/libraries/ACTIVE/token").status == 503)
        #expect(try await session.api("GET", "/v1/organisations/beta/libraries/ARCHIVE/token").status == 503)
        #expect(try await session.api("GET", "/v1/organisations/acme/libraries/NOPE/token").status == 404)
        #expect(try await session.api("GET", "/v1/no/such/path").status == 404)
        try await session.api("POST", "/v1/refresh", json: #"{"organisation":"acme","user":"BOB","wait":5}"#)
        try await session.api("POST", "/v1/refresh", json: #"{"organisation":"acme","library":"ACTIVE","wait":5}"#)
        #expect(try await session.api("POST", "/v1/refresh", json: #"{"organisation":"#).status == 400)
        for grant in [["--user", "BOB"], ["--library", "ACTIVE"], ["--library", "NOPE"]] {
            #expect(try await session.tokend(["token", "--organisation", "acme"] + grant).status != 0)
            try await session.tokend(["refresh", "--organisation", "acme"] + grant)
        }
    }
}

/// 43 characters of base64url, like the emulator's tokens, that nobody issued.
func randomTokenText() -> String {
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    return String((0..<43).map { _ in alphabet.randomElement()! })
}
