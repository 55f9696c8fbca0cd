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

    @Test("a state works once, from the browser that started it, within its lifetime")
    func stateStore() {
        let states = AuthorisationStateStore(lifetime: 600)
        let pending = PendingAuthorisation(
            organisation: "demo", purpose: .user, codeVerifier: "v", bindingHash: AuthorisationStateStore.bindingHash("browser"), createdAt: now)
        let state = states.begin(pending)
        #expect(states.take(state: "nope", binding: "browser", now: now).failureValue == .unknown)
        #expect(states.take(state: state, binding: "browser", now: now.addingTimeInterval(5)).successValue?.codeVerifier == "v")
        #expect(states.take(state: state, binding: "browser", now: now.addingTimeInterval(6)).failureValue == .alreadyUsed)

        let other = states.begin(pending)
        #expect(states.take(state: other, binding: "another", now: now).failureValue == .otherBrowser)
        let late = states.begin(pending)
        #expect(states.take(state: late, binding: "browser", now: now.addingTimeInterval(601)).failureValue == .expired)
        #expect(states.begin(pending) != states.begin(pending))
    }

    @Test("the state store drops the oldest when full")
    func stateCapacity() {
        let states = AuthorisationStateStore(lifetime: 600, capacity: 2)
        func pending(_ offset: TimeInterval) -> PendingAuthorisation {
            PendingAuthorisation(organisation: "demo", purpose: .user, codeVerifier: nil,
                                 bindingHash: AuthorisationStateStore.bindingHash("b"), createdAt: now.addingTimeInterval(offset))
        }
        let first = states.begin(pending(0))
        let second = states.begin(pending(1))
        let third = states.begin(pending(2))
        #expect(states.take(state: first, binding: "b", now: now.addingTimeInterval(3)).failureValue == .unknown)
        #expect(states.take(state: second, binding: "b", now: now.addingTimeInterval(3)).successValue != nil)
        #expect(states.take(state: third, binding: "b", now: now.addingTimeInterval(3)).successValue != nil)
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
