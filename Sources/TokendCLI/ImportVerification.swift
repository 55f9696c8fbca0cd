import Foundation
import IManageClient
import TokendConfig
import TokendEngine
import TokendPolicy
import TokendStore

/// What `import` does with one refresh token, alone or as a line of `import --from`: one refresh
/// (retried when iManage answers with a passing failure), then the admission every new grant goes
/// through (who the token belongs to, the organisation's customer, for a library the NRTADMIN
/// check), then the write. Nothing is stored unless all of it passes.
///
/// A `429` (or a `Retry-After`) pauses the whole organisation through `throttle`: every
/// verification of it waits, not just the line that was answered.
struct ImportVerification: Sendable {
    let client: IManageHTTPClient
    let admission: GrantAdmission
    var throttle = OrganisationThrottle()
    /// Attempts at each step when iManage fails for a passing reason (a 429, a 503, a timeout).
    var attempts = 3

    /// Stores the grant, or says why not (never with the token in it).
    func importToken(
        _ refreshToken: String, for subject: GrantAdmission.Subject, of organisation: OrganisationConfig
    ) async -> Result<GrantRecord, ImportRefusal> {
        let authorization: NewAuthorization
        switch await verifyToken(refreshToken, for: subject, of: organisation) {
        case .success(let verified): authorization = verified
        case .failure(let refusal): return .failure(refusal)
        }
        do {
            try await admission.store.saveAuthorization(authorization, now: Date())
            guard let record = try await admission.store.record(for: authorization.key) else {
                return .failure(ImportRefusal("the grant vanished after it was stored"))
            }
            return .success(record)
        } catch {
            return .failure(ImportRefusal("\(AdmissionFailure(storing: error))"))
        }
    }

    /// Refreshes the token and checks everything about it; returns the grant to store.
    func verifyToken(
        _ refreshToken: String, for subject: GrantAdmission.Subject, of organisation: OrganisationConfig
    ) async -> Result<NewAuthorization, ImportRefusal> {
        var tokens: TokenResponse?
        var attempt = 1
        while tokens == nil {
            await throttle.waitIfPaused(organisation.name)
            switch await client.refresh(
                tokenURL: organisation.tokenURL, credentials: organisation.clientCredentials, refreshToken: refreshToken,
                organisation: organisation.name) {
            case .success(let answer):
                tokens = answer
            case .failure(let failure) where failure.failureClass == .transient && attempt < attempts:
                await backOff(organisation, failure, attempt: attempt)
                attempt += 1
            case .failure(let failure):
                let advice = switch failure.failureClass {
                case .grantDead: "the refresh token is not valid (expired, revoked or already rotated): authorise again"
                case .clientRefused: GrantAdvice.clientRefused
                case .transient: "iManage could not be reached or answered badly: try again later"
                }
                return .failure(ImportRefusal("the refresh token could not be verified: \(failure) — \(advice)"))
            }
        }
        guard let tokens else { return .failure(ImportRefusal("the refresh token could not be verified")) }
        // The refresh may have rotated the token: a passing failure from here on is retried with
        // the tokens in hand, never with a second refresh of the token given.
        attempt = 1
        while true {
            await throttle.waitIfPaused(organisation.name)
            do throws(AdmissionFailure) {
                return .success(try await admission.verify(
                    tokens, presentedRefreshToken: refreshToken, for: subject, of: organisation,
                    message: { "imported, authorised by \($0.name ?? $0.userID)" }))
            } catch {
                if let failure = Self.passingFailure(error), attempt < attempts {
                    await backOff(organisation, failure, attempt: attempt)
                    attempt += 1
                    continue
                }
                return .failure(ImportRefusal("\(error)"))
            }
        }
    }

    /// Waits before another attempt: the organisation's pause when iManage asked for one, else this line's own backoff.
    private func backOff(_ organisation: OrganisationConfig, _ failure: RefreshFailure, attempt: Int) async {
        let backoff = Duration.seconds(1 << attempt)
        if throttle.pauseIfAsked(organisation.name, by: failure, fallback: backoff) { return }
        try? await Task.sleep(for: backoff)
    }

    /// The failure of a step that may pass if tried again (a 429, a 503, a timeout), if it was one.
    private static func passingFailure(_ error: AdmissionFailure) -> RefreshFailure? {
        switch error {
        case .discoveryFailed(let failure), .nrtadminCheckFailed(_, let failure), .librariesFailed(let failure):
            failure.failureClass == .transient ? failure : nil
        default: nil
        }
    }
}

/// Why a token was not imported, in words for the administrator.
struct ImportRefusal: Error, Sendable, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
