import IManageClient
import TokendConfig

// The configuration as the iManage client needs it: one place for the daemon, `import` and the web
// pages. (IManageClient knows nothing of the configuration, so this lives where both meet.)

extension IManageClientSettings {
    /// Timeouts, extra trust roots and the default access-token lifetime of `configuration`.
    public init(_ configuration: TokendConfiguration) {
        self.init(
            connectTimeout: configuration.refresh.connectTimeout, requestTimeout: configuration.refresh.requestTimeout,
            trustRootsFile: configuration.caFile, trustRootsByHost: configuration.trustRootsByHost,
            defaultAccessTokenLifetime: configuration.refresh.defaultAccessTokenLifetime,
            connectionsPerHost: max(8, configuration.refresh.maxConcurrentRefreshes))
    }
}

extension OrganisationConfig {
    /// The organisation's client id and secret, for the token endpoint.
    public var clientCredentials: ClientCredentials {
        ClientCredentials(clientID: clientID, clientSecret: clientSecret.reveal())
    }
}
