/// Everything an emulated iManage Work deployment starts with: where it listens, its
/// people, libraries and registered OAuth applications, and the token policy.
///
/// The token policy fields are the starting values of ``EmulatorSettings``; they can be
/// changed while the emulator runs.
public struct EmulatorConfiguration: Sendable {
    /// A person who can sign in.
    public struct User: Sendable, Equatable {
        /// The iManage user id, such as `ALICE`. Ids are compared without regard to case.
        public var id: String
        public var email: String
        public var name: String
        public var password: String
        /// The customer the person belongs to; `nil`: the deployment's ``EmulatorConfiguration/customerID``.
        public var customerID: String?

        public init(id: String, email: String, name: String, password: String, customerID: String? = nil) {
            self.id = id
            self.email = email
            self.name = name
            self.password = password
            self.customerID = customerID
        }
    }

    /// A library (database) of the deployment with its NRTADMIN group.
    public struct Library: Sendable, Equatable {
        public var id: String
        public var type: String
        public var isHidden: Bool
        /// User ids of the library's NRTADMIN group, in listing order.
        public var nrtAdmins: [String]
        /// The customer the library belongs to; `nil`: the deployment's ``EmulatorConfiguration/customerID``.
        /// Library ids repeat across customers (`ACTIVE` is common), as in iManage.
        public var customerID: String?

        public init(
            id: String, type: String = "worksite", isHidden: Bool = false, nrtAdmins: [String] = [], customerID: String? = nil
        ) {
            self.id = id
            self.type = type
            self.isHidden = isHidden
            self.nrtAdmins = nrtAdmins
            self.customerID = customerID
        }
    }

    /// An application registered in Control Center.
    public struct OAuthClient: Sendable, Equatable {
        public var id: String
        public var secret: String
        /// Redirect URIs accepted exactly as written. Empty: any `http` or `https` URI on a loopback host.
        public var redirectURIs: [String]
        /// Control Center's "Allow Refresh Token": when false, no refresh token is ever issued.
        public var issueRefreshTokens: Bool

        public init(id: String, secret: String, redirectURIs: [String] = [], issueRefreshTokens: Bool = true) {
            self.id = id
            self.secret = secret
            self.redirectURIs = redirectURIs
            self.issueRefreshTokens = issueRefreshTokens
        }
    }

    /// Address to listen on.
    public var host: String = "127.0.0.1"
    /// Port to listen on; 0 picks a free one (read it back from ``IManageEmulator/port``).
    public var port: Int = 0
    /// The customer id that appears in `/api` and in the library paths, for people and libraries
    /// that name no customer of their own.
    public var customerID: String = "1"
    public var users: [User] = []
    public var libraries: [Library] = []
    public var clients: [OAuthClient] = []

    /// Seconds an access token lives.
    public var accessTokenLifetime: Int = 1800
    /// Whether token answers carry `expires_in`.
    public var includesExpiresIn: Bool = true
    /// Seconds a refresh token lives (iManage's default is 365 days).
    public var refreshTokenLifetime: Int = 365 * 24 * 3600
    /// When true the refresh token's lifetime starts again at every refresh; when false
    /// (the default) it counts from the sign-in that created the grant.
    public var refreshTokenLifetimeRestartsOnRefresh: Bool = false
    /// Whether every refresh issues a new refresh token and retires the presented one.
    public var rotatesRefreshTokens: Bool = false
    /// Seconds a rotated refresh token is still honoured (answering the chain's current tokens).
    public var rotationGraceSeconds: Int = 0
    /// Whether the authorize endpoint refuses requests without a PKCE `code_challenge`.
    public var requirePKCE: Bool = false
    /// Seconds an authorization code can be exchanged.
    public var authorizationCodeLifetime: Int = 60
    /// Whether to keep every token, code and PKCE verifier that passes through, for a test
    /// that searches a client's output for them (``IssuedSecrets``). Off: nothing is kept.
    public var recordsSecrets: Bool = false
    /// The `iss` parameter (RFC 9207) of the authorization responses; iManage documents none.
    public var issuerParameter: IssuerParameter = .none

    /// What the authorization responses carry as `iss`.
    public enum IssuerParameter: Sendable, Equatable {
        /// No `iss`, as iManage documents it.
        case none
        /// The emulator's own address (`http://` and the request's host), as an honest server sends it.
        case own
        /// This value, as a server in a mix-up attack would send its own (another) issuer.
        case fixed(String)
    }

    public init(
        host: String = "127.0.0.1", port: Int = 0, customerID: String = "1",
        users: [User] = [], libraries: [Library] = [], clients: [OAuthClient] = []
    ) {
        self.host = host
        self.port = port
        self.customerID = customerID
        self.users = users
        self.libraries = libraries
        self.clients = clients
    }

    /// The demo deployment: customer 1, three people, three libraries, one client.
    ///
    /// ALICE is NRTADMIN of ACTIVE and ARCHIVE, BOB of LITIGATION, CAROL of none.
    /// The client `tokend-demo` (secret `demo-secret`) may receive refresh tokens and
    /// accepts any loopback redirect URI. All of it is fake demo data.
    public static var demo: EmulatorConfiguration {
        EmulatorConfiguration(
            customerID: "1",
            users: [
                User(id: "ALICE", email: "alice@example.com", name: "Alice Admin", password: "alice-password"),
                User(id: "BOB", email: "bob@example.com", name: "Bob Barrister", password: "bob-password"),
                User(id: "CAROL", email: "carol@example.com", name: "Carol Clerk", password: "carol-password"),
            ],
            libraries: [
                Library(id: "ACTIVE", nrtAdmins: ["ALICE"]),
                Library(id: "ARCHIVE", nrtAdmins: ["ALICE"]),
                Library(id: "LITIGATION", nrtAdmins: ["BOB"]),
            ],
            clients: [
                OAuthClient(id: "tokend-demo", secret: "demo-secret", redirectURIs: [], issueRefreshTokens: true)
            ]
        )
    }

    /// The demo deployment with `count - 1` more customers beside customer 1, as cloud customers share
    /// `cloudimanage.com`: customer `k` has ADMIN`k` (`admink@customerk.example`, password
    /// `admink-password`), NRTADMIN of its own ACTIVE and ARCHIVE, and USER`k`
    /// (`userk@customerk.example`, `userk-password`). The library ids repeat customer 1's on purpose.
    public static func demo(customers count: Int) -> EmulatorConfiguration {
        var configuration = demo
        guard count >= 2 else { return configuration }
        for number in 2...count {
            let customer = String(number)
            let admin = "ADMIN\(number)", user = "USER\(number)"
            configuration.users += [
                User(id: admin, email: "admin\(number)@customer\(number).example", name: "Admin of customer \(number)",
                     password: "admin\(number)-password", customerID: customer),
                User(id: user, email: "user\(number)@customer\(number).example", name: "User of customer \(number)",
                     password: "user\(number)-password", customerID: customer),
            ]
            configuration.libraries += [
                Library(id: "ACTIVE", nrtAdmins: [admin], customerID: customer),
                Library(id: "ARCHIVE", nrtAdmins: [admin], customerID: customer),
            ]
        }
        return configuration
    }

    /// The customer of a person or library that may name none.
    func customer(_ own: String?) -> String { own ?? customerID }

    /// The token policy part, as the emulator starts with it.
    public var initialSettings: EmulatorSettings {
        EmulatorSettings(
            accessTokenLifetime: accessTokenLifetime,
            includesExpiresIn: includesExpiresIn,
            refreshTokenLifetime: refreshTokenLifetime,
            refreshTokenLifetimeRestartsOnRefresh: refreshTokenLifetimeRestartsOnRefresh,
            rotatesRefreshTokens: rotatesRefreshTokens,
            rotationGraceSeconds: rotationGraceSeconds,
            requirePKCE: requirePKCE
        )
    }

    /// Checks the configuration for mistakes that would make the emulator misbehave.
    func validate() throws(EmulatorError) {
        func fail(_ message: String) -> EmulatorError { .invalidConfiguration(message) }
        guard (0...65535).contains(port) else { throw fail("port \(port) is outside 0...65535") }
        guard !host.isEmpty else { throw fail("host is empty") }
        guard !customerID.isEmpty else { throw fail("customer id is empty") }
        var userIDs = Set<String>()
        var emails = Set<String>()
        for user in users {
            guard !user.id.isEmpty, !user.email.isEmpty else { throw fail("a user has an empty id or email") }
            guard userIDs.insert(user.id.uppercased()).inserted else { throw fail("user \(user.id) appears twice") }
            guard emails.insert(user.email.lowercased()).inserted else { throw fail("email \(user.email) appears twice") }
        }
        var libraryIDs = Set<String>()
        let customerOfUser = Dictionary(users.map { ($0.id.uppercased(), customer($0.customerID)) }, uniquingKeysWith: { first, _ in first })
        for library in libraries {
            guard !library.id.isEmpty else { throw fail("a library has an empty id") }
            let owner = customer(library.customerID)
            guard !owner.isEmpty else { throw fail("library \(library.id) has an empty customer id") }
            guard libraryIDs.insert(owner + "/" + library.id.uppercased()).inserted else {
                throw fail("library \(library.id) of customer \(owner) appears twice")
            }
            for member in library.nrtAdmins {
                guard let memberCustomer = customerOfUser[member.uppercased()] else {
                    throw fail("library \(library.id) names unknown NRTADMIN \(member)")
                }
                guard memberCustomer == owner else {
                    throw fail("library \(library.id) of customer \(owner) names NRTADMIN \(member) of customer \(memberCustomer)")
                }
            }
        }
        var clientIDs = Set<String>()
        for client in clients {
            guard !client.id.isEmpty else { throw fail("a client has an empty id") }
            guard clientIDs.insert(client.id).inserted else { throw fail("client \(client.id) appears twice") }
        }
        guard authorizationCodeLifetime > 0 else { throw fail("the authorization code lifetime must be positive") }
        if let problem = initialSettings.problem { throw fail(problem) }
    }
}
