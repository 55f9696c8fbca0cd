import CLibFuzzer
import Foundation
import IManageWire
import TokendPolicy

// libFuzzer target: the token endpoint's answer, as `TokenAnswer.read` (IManageWire) reads it
// and the refresh policy classifies a refusal (`RefreshFailure.classify`).
//
// An input is text in three parts, so that the seeds in Fuzz/corpus/token-response read like
// an HTTP answer: the first line is the HTTP status (not a number: 200), the second line the
// Retry-After header (empty: none), the rest the body. Besides "no crash", every answer is
// checked against what the refresh policy relies on; a broken property stops with
// `fatalError`, which libFuzzer records as a crash with its input.

/// A fixed clock, so that a run is repeatable.
private let now = Date(timeIntervalSince1970: 1_800_000_000)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTokenResponse(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = FuzzInput(Array(UnsafeBufferPointer(start: data, count: size)))
    let answer = TokenAnswer.read(
        status: input.status, body: input.body, retryAfterHeader: input.retryAfter, now: now)
    switch answer {
    case .issued(let accessToken, let refreshToken, let expiresIn, let tokenType):
        check(TokenResponse(accessToken: accessToken, refreshToken: refreshToken, expiresIn: expiresIn, tokenType: tokenType),
              answer: answer, input: input)
    case .refused(let status, let oauthError, let retryAfter, let excerpt):
        guard status == input.status, !(200..<300).contains(status) else { fatalError("HTTP \(input.status) read as a refusal") }
        let failureClass = RefreshFailure.classify(httpStatus: status, oauthError: oauthError)
        check(failureClass: failureClass, oauthError: oauthError, retryAfter: retryAfter, excerpt: excerpt, input: input)
    case .unusable(let status, _, let excerpt):
        guard status == input.status, (200..<300).contains(status) else { fatalError("HTTP \(input.status) read as unusable") }
        check(failureClass: .transient, oauthError: nil, retryAfter: nil, excerpt: excerpt, input: input)
    }
    if let seconds = RetryAfter.seconds(from: input.retryAfter, now: now) {
        guard seconds.isFinite, seconds >= 0 else { fatalError("Retry-After gave \(seconds) seconds") }
    }
    return 0
}

/// The three parts of one input.
private struct FuzzInput {
    var status: Int
    var retryAfter: String?
    var body: [UInt8]

    init(_ bytes: [UInt8]) {
        var lines = bytes.split(separator: 0x0A, maxSplits: 2, omittingEmptySubsequences: false).makeIterator()
        let statusText = String(decoding: lines.next() ?? [], as: UTF8.self)
        status = Int(statusText.trimmingCharacters(in: .whitespaces)) ?? 200
        let header = String(decoding: lines.next() ?? [], as: UTF8.self)
        retryAfter = header.isEmpty ? nil : header
        body = Array(lines.next() ?? [])
    }
}

/// A usable token: present, alive, and never longer-lived than the parser's ten-year cap.
private func check(_ response: TokenResponse, answer: TokenAnswer, input: FuzzInput) {
    guard (200..<300).contains(input.status) else { fatalError("a token was accepted from HTTP \(input.status)") }
    guard !response.accessToken.isEmpty else { fatalError("an empty access token was accepted") }
    guard response.expiresIn.isFinite, response.expiresIn > 0, response.expiresIn <= 10 * 365 * 86_400 else {
        fatalError("an access token lifetime of \(response.expiresIn) s was accepted")
    }
    if let refresh = response.refreshToken, refresh.isEmpty { fatalError("an empty refresh token would replace the stored one") }
    let standIn = TokenResponse(
        accessToken: "x", refreshToken: response.refreshToken.map { _ in "y" },
        expiresIn: response.expiresIn, tokenType: response.tokenType)
    guard "\(response)" == "\(standIn)" else { fatalError("the description depends on the tokens") }
    let answerStandIn = TokenAnswer.issued(
        accessToken: "x", refreshToken: response.refreshToken.map { _ in "y" },
        expiresIn: response.expiresIn, tokenType: response.tokenType)
    guard "\(answer)" == "\(answerStandIn)" else { fatalError("the answer's description depends on the tokens") }
}

/// A failure: classified as the policy says, and with no token of the answer in what a person sees.
private func check(
    failureClass: FailureClass, oauthError: String?, retryAfter: TimeInterval?, excerpt: String?, input: FuzzInput
) {
    if input.status == 429 || (500..<600).contains(input.status), oauthError == nil {
        guard failureClass == .transient else { fatalError("HTTP \(input.status) failed as \(failureClass)") }
    }
    if let oauthError, ErrorCode.sanitised(oauthError) != oauthError { fatalError("an OAuth error that is not a code was kept") }
    if let retryAfter, !(retryAfter.isFinite && retryAfter >= 0) {
        fatalError("Retry-After of \(retryAfter) s")
    }
    // The problem is fixed text; the excerpt is where the answer's own bytes show.
    guard let excerpt else { return }
    for token in tokens(in: input.body) where excerpt.contains(token) {
        fatalError("a token of the answer shows in the failure's excerpt (\(token.utf8.count) bytes)")
    }
}

/// The `access_token` and `refresh_token` strings of a JSON answer long enough to be secrets
/// (eight characters or more: shorter ones are common words such as "null" or "none"), less
/// those the redaction mark itself contains.
private func tokens(in body: [UInt8]) -> [String] {
    guard let object = try? JSONSerialization.jsonObject(with: Data(body.prefix(TokenAnswer.maximumBodySize))),
          let fields = object as? [String: Any] else { return [] }
    return ["access_token", "refresh_token"].compactMap { fields[$0] as? String }
        .filter { $0.count >= 8 && !"[redacted]".contains($0) }
}

// MARK: Start (last: top-level globals above are set up in order before this runs)
// libFuzzer's own `main` is not linked (see Package.swift): start its driver here.
var argumentCount = CommandLine.argc
var argumentValues = Optional(CommandLine.unsafeArgv)
exit(LLVMFuzzerRunDriver(&argumentCount, &argumentValues, fuzzTokenResponse))
