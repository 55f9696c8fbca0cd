/// The text of a `tokend.toml` as the tests write it: the top-level settings, a `[refresh]` table
/// with short intervals, and organisations at one iManage (the emulator), each on its own lines
/// so that a test may edit the written text (`name = "demo"`, `minimum_interval_seconds = 0.5`).
public struct TestConfiguration: Sendable {
    public var publicURL = "http://127.0.0.1:8080"
    /// `listen = "…"`, when the test's daemon serves its web pages.
    public var listen: String?
    /// Lines added after the top-level settings, as written.
    public var topLevel = ""
    /// The lines of `[refresh]`; empty: no such table.
    public var refresh: [String] = []
    public var organisations: [TestOrganisation] = []
    /// Tables added at the end, as written.
    public var tables = ""

    public init(
        publicURL: String = "http://127.0.0.1:8080", listen: String? = nil, topLevel: String = "", refresh: [String] = [],
        organisations: [TestOrganisation] = [], tables: String = ""
    ) {
        self.publicURL = publicURL
        self.listen = listen
        self.topLevel = topLevel
        self.refresh = refresh
        self.organisations = organisations
        self.tables = tables
    }

    /// `[refresh]` lines for lifetimes of seconds: `minimumInterval`, backoff from 1 s to 2 s, then `extra`.
    public static func quickRefresh(minimumInterval: Double = 0.5, extra: [String] = []) -> [String] {
        ["minimum_interval_seconds = \(minimumInterval)", "backoff_initial_seconds = 1", "backoff_max_seconds = 2"] + extra
    }

    public var text: String {
        var lines = [
            #"database = "tokend.sqlite""#, #"key_file = "token.key""#, #"public_url = "\#(publicURL)""#, #"api_socket = "api.sock""#,
        ]
        if let listen { lines.append(#"listen = "\#(listen)""#) }
        lines.append(topLevel)
        if !refresh.isEmpty { lines += ["[refresh]"] + refresh }
        lines += organisations.map(\.text)
        lines.append(tables)
        return lines.joined(separator: "\n") + "\n"
    }
}

/// An `[[organisation]]` table at a custom iManage (`use_default_configuration = false`).
public struct TestOrganisation: Sendable {
    public var name: String
    /// The iManage base URL (authorization and token URLs).
    public var iManage: String
    public var clientSecretFile: String
    /// `enabled = …`; `nil` writes none (enabled).
    public var enabled: Bool?
    /// `pkce = …`; `nil` writes none.
    public var pkce: Bool?
    /// `customer_id = "…"`; `nil` writes none.
    public var customerID: String?
    /// Lines added at the end of the table, as written.
    public var extra: String

    public init(
        _ name: String = "demo", at iManage: String, clientSecretFile: String = "secret", enabled: Bool? = nil, pkce: Bool? = nil,
        customerID: String? = "1", extra: String = ""
    ) {
        self.name = name
        self.iManage = iManage
        self.clientSecretFile = clientSecretFile
        self.enabled = enabled
        self.pkce = pkce
        self.customerID = customerID
        self.extra = extra
    }

    public var text: String {
        var lines = ["[[organisation]]", #"name = "\#(name)""#]
        if let enabled { lines.append("enabled = \(enabled)") }
        lines += [
            "use_default_configuration = false", #"region = "custom""#,
            #"authorization_url = "\#(iManage)""#, #"token_url = "\#(iManage)""#,
            #"client_id = "tokend-demo""#, #"client_secret_file = "\#(clientSecretFile)""#,
        ]
        if let pkce { lines.append("pkce = \(pkce)") }
        if let customerID { lines.append(#"customer_id = "\#(customerID)""#) }
        lines.append(extra)
        return lines.joined(separator: "\n")
    }
}
