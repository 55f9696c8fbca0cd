import Foundation
import IManageClient
import TokendConfig
import TokendEngine
import TokendPolicy
import TokendStore

/// What `import` does with one refresh token, alone or as a line of `import --from`: one refresh
/// (retried when iManage answers with a passing failure), then the admission every new grant goes
/// through (who the token belongs to, the organisation's customer, for a library the NRTADMIN
/// check, the write). Nothing is stored unless all of it passes.
struct ImportVerification: Sendable {
    let client: IManageHTTPClient
    let admission: GrantAdmission
    /// Attempts at the refresh when iManage fails for a passing reason (a 429, a 503, a timeout).
    var attempts = 3
    /// The longest wait between attempts (a `Retry-After` is honoured up to this).
    var longestWait: TimeInterval = 30

    /// Stores the grant, or says why not (never with the token in it).
    func importToken(
        _ refreshToken: String, for subject: GrantAdmission.Subject, of organisation: OrganisationConfig
    ) async -> Result<GrantRecord, ImportRefusal> {
        var tokens: TokenResponse?
        var attempt = 1
        while tokens == nil {
            switch await client.refresh(
                tokenURL: organisation.tokenURL, credentials: organisation.clientCredentials, refreshToken: refreshToken,
                organisation: organisation.name) {
            case .success(let answer):
                tokens = answer
            case .failure(let failure) where failure.failureClass == .transient && attempt < attempts:
                let wait = min(longestWait, failure.retryAfter ?? Double(1 << attempt))
                try? await Task.sleep(for: .seconds(wait))
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
        do throws(AdmissionFailure) {
            return .success(try await admission.admit(
                tokens, presentedRefreshToken: refreshToken, for: subject, of: organisation,
                message: { "imported, authorised by \($0.name ?? $0.userID)" }))
        } catch {
            return .failure(ImportRefusal("\(error)"))
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
