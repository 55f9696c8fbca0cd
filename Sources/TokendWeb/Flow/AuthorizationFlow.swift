import Foundation
import IManageClient
import TokendConfig
import TokendEngine
import TokendPolicy
import TokendStore

/// The calls to iManage behind the callback, each turning a failure into a page a person can
/// act on: exchange the code, then the admission's steps (who signed in, of which customer,
/// NRTADMIN membership, the write).
struct AuthorizationFlow: Sendable {
    let client: IManageHTTPClient
    let admission: GrantAdmission
    let redirectURL: URL

    /// The organisation's client credentials.
    static func credentials(_ organisation: OrganisationConfig) -> ClientCredentials {
        organisation.clientCredentials
    }

    /// Trades the code for tokens.
    func exchange(
        code: String, verifier: String?, organisation: OrganisationConfig, retry: RetryLink?
    ) async throws(WebFailure) -> TokenResponse {
        let result = await client.exchangeCode(
            tokenURL: organisation.tokenURL, credentials: Self.credentials(organisation), code: code,
            redirectURI: redirectURL.absoluteString, codeVerifier: verifier, organisation: organisation.name)
        switch result {
        case .success(let tokens): return tokens
        case .failure(let failure): throw WebFailure.fromIManage(failure, organisation: organisation.name, retry: retry)
        }
    }

    /// Who signed in (`GET /api`), refused when of another iManage customer than the organisation.
    func identify(
        _ tokens: TokenResponse, organisation: OrganisationConfig, retry: RetryLink?
    ) async throws(WebFailure) -> IManageIdentity {
        do throws(AdmissionFailure) {
            return try await admission.identify(accessToken: tokens.accessToken, organisation: organisation)
        } catch {
            throw WebFailure.admission(error, organisation: organisation.name, retry: retry)
        }
    }

    /// The libraries of the organisation's customer where `identity` is NRTADMIN, in iManage's order.
    func nrtadminLibraries(
        _ identity: IManageIdentity, accessToken: String, organisation: OrganisationConfig, retry: RetryLink?
    ) async throws(WebFailure) -> [String] {
        do throws(AdmissionFailure) {
            return try await admission.nrtadminLibraries(identity, accessToken: accessToken, organisation: organisation)
        } catch {
            throw WebFailure.admission(error, organisation: organisation.name, retry: retry)
        }
    }

    /// Stores the grant through the admission (customer and, for a library, NRTADMIN checked again)
    /// and returns it.
    func save(
        _ subject: GrantAdmission.Subject, identity: IManageIdentity, tokens: TokenResponse, organisation: OrganisationConfig,
        now: Date, message: String, retry: RetryLink?
    ) async throws(WebFailure) -> GrantRecord {
        do throws(AdmissionFailure) {
            return try await admission.admit(
                tokens, for: subject, of: organisation, identity: identity, message: { _ in message }, now: now)
        } catch {
            throw WebFailure.admission(error, organisation: organisation.name, retry: retry)
        }
    }
}
