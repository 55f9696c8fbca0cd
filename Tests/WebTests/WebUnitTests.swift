import Foundation
import Testing
@testable import TokendWeb

@Suite("The pieces of the pages: cookies, state, forms, PKCE, escaping")
struct WebUnitTests {
    let now = Date(timeIntervalSince1970: 1_700_000_000)

    func session(expires: Date) -> WebSession {
        WebSession(kind: .tracker, organisation: "demo", userID: "ALICE", name: "Alice", email: "alice@example.com",
                   customerID: "1", libraries: ["ACTIVE"], csrf: "c", expires: Int64(expires.timeIntervalSince1970))
    }

    @Test("a sealed session opens with its key only, until it expires, for its kind and organisation only")
    func sessionCookie() {
        let signer = SessionSigner(tokenKey: Array(repeating: 7, count: 32))
        let sealed = signer.seal(session(expires: now.addingTimeInterval(60)))
        #expect(signer.open(sealed, kind: .tracker, organisation: "demo", now: now)?.userID == "ALICE")
        #expect(signer.open(sealed, kind: .tracker, organisation: "demo", now: now.addingTimeInterval(61)) == nil)
        #expect(signer.open(sealed, kind: .me, organisation: "demo", now: now) == nil)
        #expect(signer.open(sealed, kind: .tracker, organisation: "other", now: now) == nil)
        #expect(SessionSigner(tokenKey: Array(repeating: 8, count: 32)).open(sealed, kind: .tracker, organisation: "demo", now: now) == nil)
        #expect(signer.open(sealed + "x", kind: .tracker, organisation: "demo", now: now) == nil)
        #expect(signer.open("garbage", kind: .tracker, organisation: "demo", now: now) == nil)
        #expect(!sealed.contains("alice@example.com"), "the payload is encoded, not plain text in the header")
    }

    func pending(_ offset: TimeInterval = 0, verifier: String? = "v") -> PendingAuthorization {
        PendingAuthorization(organisation: "demo", purpose: .library(id: "ACTIVE", email: "a@example.com", requestedBy: "ALICE"),
                             codeVerifier: verifier, createdAt: now.addingTimeInterval(offset))
    }

    @Test("a state works once, from the browser that started it (its sealed cookie), within its lifetime")
    func stateRefusals() throws {
        let key = Array(repeating: UInt8(7), count: 32)
        let states = AuthorizationStates(tokenKey: key, lifetime: 600)
        let started = try #require(states.begin(pending()))
        #expect(started.state.count == StateToken.length)
        #expect(started.cookieName == AuthorizationStates.cookieName(for: started.state))
        #expect(!started.cookieValue.contains("ACTIVE") && !started.cookieValue.contains("demo"), "the cookie is sealed, not readable")

        #expect(states.take(state: "forged", cookie: started.cookieValue, now: now).failureValue == .unknown)
        #expect(states.take(state: started.state, cookie: nil, now: now).failureValue == .otherBrowser)
        var tampered = Array(started.cookieValue)
        tampered[10] = tampered[10] == "A" ? "B" : "A"
        #expect(states.take(state: started.state, cookie: String(tampered), now: now).failureValue == .otherBrowser)
        #expect(states.spent.count == 0, "a refused callback spends nothing")

        #expect(states.take(state: started.state, cookie: started.cookieValue, now: now.addingTimeInterval(5)).successValue == pending())
        #expect(states.spent.count == 1)
        #expect(states.take(state: started.state, cookie: started.cookieValue, now: now.addingTimeInterval(6)).failureValue == .alreadyUsed)
        #expect(states.take(state: started.state, cookie: nil, now: now.addingTimeInterval(6)).failureValue == .alreadyUsed,
                "a reload after the cookie was cleared says already used")

        // Expired: told from the state itself, cookie or none.
        let late = try #require(states.begin(pending()))
        #expect(states.take(state: late.state, cookie: late.cookieValue, now: now.addingTimeInterval(601)).failureValue == .expired)
        #expect(states.take(state: late.state, cookie: nil, now: now.addingTimeInterval(5000)).failureValue == .expired)

        // Another daemon's key: not known.
        let stranger = try #require(AuthorizationStates(tokenKey: Array(repeating: 8, count: 32)).begin(pending()))
        #expect(states.take(state: stranger.state, cookie: stranger.cookieValue, now: now).failureValue == .unknown)
    }

    @Test("two tabs sign in at once; a cookie opens for its own state only; another daemon with the same key completes one")
    func twoTabsAndTwoDaemons() throws {
        let key = Array(repeating: UInt8(7), count: 32)
        let states = AuthorizationStates(tokenKey: key)
        let first = try #require(states.begin(pending(verifier: "first")))
        let second = try #require(states.begin(pending(verifier: "second")))
        #expect(first.state != second.state)
        #expect(first.cookieName != second.cookieName)
        #expect(states.take(state: first.state, cookie: second.cookieValue, now: now).failureValue == .otherBrowser)
        #expect(states.take(state: second.state, cookie: second.cookieValue, now: now).successValue?.codeVerifier == "second")
        // Started on this daemon, finished on another with the same key_file.
        let other = AuthorizationStates(tokenKey: key)
        #expect(other.take(state: first.state, cookie: first.cookieValue, now: now).successValue?.codeVerifier == "first")
    }

    @Test("spent states: bounded in count, the oldest forgotten first, each kept for the lifetime only")
    func spentStatesAreBounded() {
        let spent = SpentStates(keepFor: 600, capacity: 3)
        let ids = (0..<5).map { StateID(high: UInt64($0), low: 1) }
        for (index, id) in ids.enumerated() { #expect(spent.spend(id, now: now.addingTimeInterval(Double(index)))) }
        #expect(spent.count == 3)
        #expect(!spent.contains(ids[0], now: now.addingTimeInterval(5)), "the oldest went first")
        #expect(spent.contains(ids[4], now: now.addingTimeInterval(5)))
        #expect(!spent.spend(ids[4], now: now.addingTimeInterval(5)), "spent twice")
        #expect(spent.contains(ids[2], now: now.addingTimeInterval(602)))
        #expect(!spent.contains(ids[2], now: now.addingTimeInterval(603)), "forgotten after the lifetime")
        #expect(spent.count == 2)
        #expect(!spent.contains(ids[4], now: now.addingTimeInterval(2000)))
        #expect(spent.count == 0)
    }

    @Test("12,000 completed sign-ins (an attacker finishing their own) stay within the bound of spent states, in linear time")
    func floodOfCompletions() throws {
        let states = AuthorizationStates(tokenKey: Array(repeating: 7, count: 32), spentCapacity: 4_000)
        let person = try #require(states.begin(pending(verifier: "the person")))
        let clock = ContinuousClock()
        let elapsed = clock.measure {
            for index in 0..<12_000 {
                let started = states.begin(pending())!
                _ = states.take(state: started.state, cookie: started.cookieValue, now: now.addingTimeInterval(Double(index) / 1000))
            }
        }
        #expect(states.spent.count == 4_000)
        #expect(elapsed < .seconds(60), "\(elapsed)")
        #expect(states.take(state: person.state, cookie: person.cookieValue, now: now.addingTimeInterval(120)).successValue?.codeVerifier == "the person")
    }

    @Test("PKCE S256 matches RFC 7636's example")
    func pkce() {
        #expect(PKCEPair.challenge(for: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
        // A fresh pair: a 43-character verifier of RFC 7636's unreserved characters (32 random bytes in
        // base64url), its S256 challenge, and a different verifier each time.
        let pair = PKCEPair(), other = PKCEPair()
        let base64url = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        #expect(pair.verifier.count == 43 && pair.verifier.allSatisfy(base64url.contains))
        #expect(pair.challenge == PKCEPair.challenge(for: pair.verifier) && pair.challenge != pair.verifier)
        #expect(pair.verifier != other.verifier && pair.challenge != other.challenge)
    }

    @Test("forms: decoded, repeated or malformed parameters refused; encoding keeps + and @ safe")
    func forms() throws {
        #expect(try FormCoding.parse("a=1&b=x+y%40z&c=") == ["a": "1", "b": "x y@z", "c": ""])
        #expect(throws: WebFailure.self) { try FormCoding.parse("a=1&a=2") }
        #expect(throws: WebFailure.self) { try FormCoding.parse("a=%zz") }
        #expect(throws: WebFailure.self) { try FormCoding.parse("a=" + String(repeating: "x", count: 5000)) }
        #expect(FormCoding.encode([("login_hint", "a+b@example.com")]) == "login_hint=a%2Bb%40example.com")
    }

    @Test("HTML escaping of everything shown")
    func escaping() {
        #expect(HTML.escape("<script>\"x\" & 'y'</script>") == "&lt;script&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/script&gt;")
    }

    @Test("email check of the Authorize form")
    func emails() {
        #expect(TrackerRoutes.looksLikeEmail("alice@example.com"))
        #expect(!TrackerRoutes.looksLikeEmail("alice"))
        #expect(!TrackerRoutes.looksLikeEmail("a@b@example.com"))
        #expect(!TrackerRoutes.looksLikeEmail("a b@example.com"))
        #expect(!TrackerRoutes.looksLikeEmail("alice@localhost"))
    }
}

extension Result {
    var successValue: Success? { if case .success(let value) = self { value } else { nil } }
    var failureValue: Failure? { if case .failure(let error) = self { error } else { nil } }
}
