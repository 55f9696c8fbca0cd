import Foundation

/// One iManage Work deployment, as the "iManage Settings" form of the setup guide describes it,
/// with its base URLs and client credentials resolved.
public struct OrganisationConfig: Sendable {
    /// The iManage region choice: the public cloud host, or URLs of one's own.
    public enum Region: String, Sendable, CaseIterable {
        /// `https://cloudimanage.com` for everything.
        case `default`
        /// Authorization, Token and Endpoint URLs given in the configuration.
        case custom
    }

    /// The public cloud host used by region `default`.
    public static let defaultCloudURL = URL(string: "https://cloudimanage.com")!

    public var name: String
    /// `false` switches the organisation off without deleting anything.
    public var enabled: Bool
    /// `true`: the client id and secret come from `[cloud_application]`.
    public var useDefaultConfiguration: Bool
    public var region: Region
    /// Base URLs, without a trailing slash.
    public var authorizationBase: URL
    public var tokenBase: URL
    public var endpointBase: URL
    public var clientID: String
    public var clientSecret: Secret
    /// Where the client secret was read from (shown by `check-config`).
    public var clientSecretFile: String
    /// Whether authorisation requests use PKCE (S256); iManage's support is undocumented.
    public var pkce: Bool
    /// The iManage customer this organisation is (`data.user.customer_id` of `/api`), when
    /// configured. Without it the first authorisation or import pins one (kept in the database).
    public var customerID: String?
    /// The organisation's own extra trust roots (an on-premise server's private CA), trusted for
    /// its hosts only; `nil` uses the top-level `ca_file`, if any.
    public var caFile: String?
    /// The line of the organisation's `[[organisation]]` header in the configuration file.
    public var line: Int

    public init(
        name: String, enabled: Bool = true, useDefaultConfiguration: Bool, region: Region,
        authorizationBase: URL, tokenBase: URL, endpointBase: URL,
        clientID: String, clientSecret: Secret, clientSecretFile: String, pkce: Bool = true,
        customerID: String? = nil, caFile: String? = nil, line: Int = 0
    ) {
        self.name = name
        self.enabled = enabled
        self.useDefaultConfiguration = useDefaultConfiguration
        self.region = region
        self.authorizationBase = authorizationBase
        self.tokenBase = tokenBase
        self.endpointBase = endpointBase
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.clientSecretFile = clientSecretFile
        self.pkce = pkce
        self.customerID = customerID
        self.caFile = caFile
        self.line = line
    }

    /// The hosts the organisation talks to (lower case): its authorization, token and endpoint hosts.
    public var hosts: Set<String> {
        Set([authorizationBase, tokenBase, endpointBase].compactMap { $0.host?.lowercased() })
    }

    /// Where a person is sent to authorise: `authorizationBase` + `/auth/oauth2/authorize`.
    public var authorizeURL: URL { authorizationBase.appending(encodedPath: "/auth/oauth2/authorize") }

    /// The token endpoint: `tokenBase` + `/auth/oauth2/token`.
    public var tokenURL: URL { tokenBase.appending(encodedPath: "/auth/oauth2/token") }

    /// Discovery (the signed-in user and their customer id): `endpointBase` + `/api`.
    public var discoveryURL: URL { endpointBase.appending(encodedPath: "/api") }

    /// The libraries of a customer: `/work/api/v2/customers/{customerID}/libraries`.
    public func librariesURL(customerID: String) -> URL {
        endpointBase.appending(encodedPath: "/work/api/v2/customers/\(PathSegment.encode(customerID))/libraries")
    }

    /// The NRTADMIN members of a library:
    /// `/work/api/v2/customers/{customerID}/libraries/{library}/groups/NRTADMIN/members`.
    public func nrtadminMembersURL(customerID: String, library: String) -> URL {
        endpointBase.appending(
            encodedPath: "/work/api/v2/customers/\(PathSegment.encode(customerID))/libraries/\(PathSegment.encode(library))/groups/NRTADMIN/members")
    }
}

/// A client id and its secret: the one pre-registered application of `[cloud_application]`.
public struct ClientCredentialsConfig: Sendable {
    public var clientID: String
    public var clientSecret: Secret
    /// Where the secret was read from.
    public var clientSecretFile: String

    public init(clientID: String, clientSecret: Secret, clientSecretFile: String) {
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.clientSecretFile = clientSecretFile
    }
}
