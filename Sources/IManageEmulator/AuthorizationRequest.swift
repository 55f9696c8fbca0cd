import Foundation
import IManageWire

/// The OAuth parameters of an authorize request (from the query of the GET, or the hidden
/// fields of the sign-in form's POST), checked against the registered client.
struct AuthorizationRequest: Sendable {
    let clientID: String
    let redirectURI: String
    let responseType: String?
    let state: String?
    let scope: String?
    let loginHint: String?
    let codeChallenge: String?
    let codeChallengeMethod: String?

    /// The longest value accepted for any parameter.
    static let maximumParameterLength = 2048

    /// Why a request cannot even be answered with a redirect: shown as a 400 page.
    struct Rejection: Error {
        let message: String
    }

    /// An error to send back to the client through its redirect URI (RFC 6749 §4.1.2.1).
    struct RedirectedError: Error {
        let code: String
        let description: String
    }

    /// Reads the parameters and checks the client and redirect URI; a failure here must never redirect.
    init(parameters: [String: String], directory: Directory) throws(Rejection) {
        for (name, value) in parameters where value.utf8.count > Self.maximumParameterLength {
            throw Rejection(message: "The parameter \(name) is too long.")
        }
        guard let clientID = parameters["client_id"], !clientID.isEmpty else {
            throw Rejection(message: "The request has no client_id.")
        }
        guard let client = directory.client(clientID) else {
            throw Rejection(message: "The application \(clientID) is not registered.")
        }
        guard let redirectURI = parameters["redirect_uri"], !redirectURI.isEmpty else {
            throw Rejection(message: "The request has no redirect_uri.")
        }
        guard RedirectURIPolicy.allows(redirectURI, for: client) else {
            throw Rejection(message: "The redirect_uri is not registered for this application.")
        }
        self.clientID = clientID
        self.redirectURI = redirectURI
        responseType = parameters["response_type"]
        state = parameters["state"]
        scope = parameters["scope"]
        loginHint = parameters["login_hint"]
        codeChallenge = parameters["code_challenge"].flatMap { $0.isEmpty ? nil : $0 }
        codeChallengeMethod = parameters["code_challenge_method"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Checks what is reported to the client by redirect: response type and PKCE.
    func validateForRedirect(requirePKCE: Bool) throws(RedirectedError) {
        guard responseType == "code" else {
            throw RedirectedError(code: "unsupported_response_type", description: "only response_type=code is supported")
        }
        if let codeChallenge {
            guard (codeChallengeMethod ?? "plain") == "S256" else {
                throw RedirectedError(code: "invalid_request", description: "code_challenge_method must be S256")
            }
            guard PKCE.isWellFormedChallenge(codeChallenge) else {
                throw RedirectedError(code: "invalid_request", description: "code_challenge is malformed")
            }
        } else if codeChallengeMethod != nil {
            throw RedirectedError(code: "invalid_request", description: "code_challenge_method without code_challenge")
        } else if requirePKCE {
            throw RedirectedError(code: "invalid_request", description: "code_challenge required")
        }
    }

    /// The redirect URI with `parameters` (and `state`, when given) added to its query.
    func redirect(with parameters: [(String, String)]) -> String {
        var pairs = parameters
        if let state { pairs.append(("state", state)) }
        let separator = redirectURI.contains("?") ? "&" : "?"
        return redirectURI + separator + FormEncoding.encode(pairs)
    }

    /// The parameters to carry in the sign-in form's hidden fields.
    var hiddenFields: [(String, String)] {
        var fields = [("client_id", clientID), ("redirect_uri", redirectURI)]
        if let responseType { fields.append(("response_type", responseType)) }
        if let state { fields.append(("state", state)) }
        if let scope { fields.append(("scope", scope)) }
        if let codeChallenge { fields.append(("code_challenge", codeChallenge)) }
        if let codeChallengeMethod { fields.append(("code_challenge_method", codeChallengeMethod)) }
        return fields
    }
}

/// Which redirect URIs a client may use: its registered list exactly, or, when the list is
/// empty, any `http`/`https` URI on a loopback host (`localhost`, 127.0.0.0/8, `[::1]`).
enum RedirectURIPolicy {
    static func allows(_ uri: String, for client: EmulatorConfiguration.OAuthClient) -> Bool {
        if !client.redirectURIs.isEmpty { return client.redirectURIs.contains(uri) }
        return isLoopbackHTTP(uri)
    }

    static func isLoopbackHTTP(_ uri: String) -> Bool {
        guard let components = URLComponents(string: uri),
            let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https",
            components.fragment == nil, components.user == nil, components.password == nil,
            let host = components.host?.lowercased()
        else { return false }
        if host == "localhost" || host == "::1" || host == "[::1]" { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4, octets[0] == "127" else { return false }
        return octets.allSatisfy { octet in UInt8(octet).map { String($0) == octet } ?? false }
    }
}
