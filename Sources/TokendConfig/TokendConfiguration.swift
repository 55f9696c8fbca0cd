import Foundation
import TokendPolicy

/// The daemon's configuration, read from its TOML file, checked and resolved: paths absolute,
/// secrets read, URLs normalised, defaults filled in. Nothing starts on a bad configuration.
public struct TokendConfiguration: Sendable {
    public static let defaultPath = "/etc/imanage-tokend/imanage-tokend.toml"

    /// The configuration file it came from (absolute).
    public var path: String
    /// The SQLite database (absolute), or the PostgreSQL URL (then `postgres` is set).
    public var database: String
    /// `database = "postgresql://…"`: the database several daemons share; `nil` for SQLite.
    public var postgres: PostgresURL? = nil
    /// Read from `database_password_file` (PostgreSQL only); `nil` when none is named or secrets were skipped.
    public var databasePassword: Secret? = nil
    public var databasePasswordFile: String? = nil
    /// The token encryption key, read from `keyFile`; `nil` when the configuration was loaded
    /// without its secrets (``SecretLoading/skip``).
    public var key: SecretBytes?
    /// Whether the key and client secrets were read. Without them (`status`, `history`, `token`,
    /// `refresh`) every client secret is empty and must not be used.
    public var secretsRead: Bool
    /// The key file actually read (in `$CREDENTIALS_DIRECTORY` or at its path).
    public var keyFile: String
    /// Where people reach the daemon's pages, without a trailing slash.
    public var publicURL: URL
    /// The redirect URL to register in iManage: `publicURL` + `/oauth/callback`.
    public var redirectURL: URL
    public var listen: ListenAddress
    /// The local token API's Unix socket (absolute).
    public var apiSocket: String
    /// Extra PEM trust roots for talking to iManage (private CAs, tests), or `nil` for the system's.
    public var caFile: String?
    public var refresh: RefreshSettings
    /// The pre-registered application used by organisations with `use_default_configuration`.
    public var cloudApplication: ClientCredentialsConfig?
    public var organisations: [OrganisationConfig]
    /// `api_socket_group`: the group given the API socket; `nil` when not written (`imanage-tokend`).
    public var apiSocketGroup: String? = nil
    /// `[[api_client]]`: who may do what with the token API; empty means the default rules.
    public var apiClients: [APIClientRule] = []
    /// `metrics_listen`: where `GET /metrics` is served (Prometheus text format); `nil`: not served.
    public var metricsListen: ListenAddress? = nil
    /// `metrics_per_grant`: series per grant (default), or `false` for counts by status only.
    public var metricsPerGrant = true
    /// `[history]`: how long events are kept.
    public var history = HistorySettings()
    /// Every secret file named (`key_file`, each `client_secret_file`), as written, in file order.
    public var secretFiles: [SecretFileReference] = []
    /// `[notify]`: the command and/or webhook told when a grant needs a person; `nil`: nobody is told.
    public var notify: NotifyConfig? = nil

    public init(
        path: String, database: String, key: SecretBytes?, keyFile: String, publicURL: URL,
        listen: ListenAddress, apiSocket: String, caFile: String? = nil, refresh: RefreshSettings = RefreshSettings(),
        cloudApplication: ClientCredentialsConfig? = nil, organisations: [OrganisationConfig]
    ) {
        self.path = path
        self.database = database
        self.key = key
        self.secretsRead = key != nil
        self.keyFile = keyFile
        self.publicURL = publicURL
        self.redirectURL = Self.redirectURL(for: publicURL)
        self.listen = listen
        self.apiSocket = apiSocket
        self.caFile = caFile
        self.refresh = refresh
        self.cloudApplication = cloudApplication
        self.organisations = organisations
    }

    /// The organisation called `name`, if configured.
    public func organisation(named name: String) -> OrganisationConfig? {
        organisations.first { $0.name == name }
    }

    /// Reads, checks and resolves the configuration file at `path`. Secrets named by `*_file`
    /// are looked up in `environment["CREDENTIALS_DIRECTORY"]` first.
    ///
    /// Throws every problem found, each with its file, line and key.
    ///
    /// With `secrets: .skip` no secret file is opened (the key is `nil`, client secrets empty):
    /// for the subcommands that only read the database or talk to the daemon, so that a monitoring
    /// user or a member of the API group needs neither the master key nor a client secret.
    public static func load(
        path: String, environment: [String: String] = ProcessInfo.processInfo.environment,
        secrets: SecretLoading = .read
    ) throws(ConfigurationError) -> TokendConfiguration {
        try ConfigurationLoader(path: path, environment: environment, secrets: secrets).load()
    }

    /// Checks and resolves `contents` as the configuration file at `path`, which need not exist:
    /// relative paths resolve against its directory and every problem names it. Files the
    /// configuration names (the key, secrets) are read as `load(path:environment:)` reads them.
    /// For tests and the fuzzer; the daemon reads its file with `load(path:environment:)`.
    public static func load(
        contents: [UInt8], path: String, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ConfigurationError) -> TokendConfiguration {
        try ConfigurationLoader(path: path, environment: environment).load(contents: contents)
    }

    /// The trust roots file for each host that an organisation with its own `ca_file` talks to.
    public var trustRootsByHost: [String: String] {
        var result: [String: String] = [:]
        for organisation in organisations {
            guard let caFile = organisation.caFile else { continue }
            for host in organisation.hosts { result[host] = caFile }
        }
        return result
    }

    static func redirectURL(for publicURL: URL) -> URL {
        publicURL.appending(encodedPath: "/oauth/callback")
    }
}

/// Whether loading the configuration opens its secret files (`key_file`, `client_secret_file`).
public enum SecretLoading: Sendable {
    /// Read and check every secret: for `run`, `import`, `check-config`.
    case read
    /// Open none: the configuration's other keys are checked as usual.
    case skip
    /// Open no client secret, and the key only if this user can read it (`key` is `nil` otherwise,
    /// never a problem): for `status` and `history`, which need no key but say when it is the wrong one.
    case keyIfReadable
}
