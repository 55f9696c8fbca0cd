/// The people and libraries of the emulated deployment, as they stand now: who may sign
/// in, and who is in each library's NRTADMIN group.
struct Directory: Sendable {
    struct Person: Sendable {
        let user: EmulatorConfiguration.User
        /// False after the user was revoked: sign-in refused, API refused.
        var isEnabled = true
    }

    struct LibraryEntry: Sendable {
        let library: EmulatorConfiguration.Library
        /// Canonical user ids in the NRTADMIN group, in listing order.
        var nrtAdmins: [String]
    }

    let customerID: String
    private(set) var people: [String: Person] = [:]
    private var userIDByEmail: [String: String] = [:]
    private(set) var libraries: [LibraryEntry] = []
    private var libraryIndex: [String: Int] = [:]
    private var clients: [String: EmulatorConfiguration.OAuthClient] = [:]

    init(_ configuration: EmulatorConfiguration) {
        customerID = configuration.customerID
        for user in configuration.users {
            people[user.id.uppercased()] = Person(user: user)
            userIDByEmail[user.email.lowercased()] = user.id.uppercased()
        }
        for library in configuration.libraries {
            libraryIndex[library.id.uppercased()] = libraries.count
            libraries.append(LibraryEntry(library: library, nrtAdmins: library.nrtAdmins.map { $0.uppercased() }))
        }
        for client in configuration.clients { clients[client.id] = client }
    }

    /// The canonical (upper-case) id of a user named by id or email, if they exist.
    func userID(named name: String) -> String? {
        let upper = name.uppercased()
        if people[upper] != nil { return upper }
        return userIDByEmail[name.lowercased()]
    }

    func person(_ canonicalID: String) -> Person? { people[canonicalID] }

    func isEnabled(_ canonicalID: String) -> Bool { people[canonicalID]?.isEnabled ?? false }

    mutating func setEnabled(_ enabled: Bool, userID canonicalID: String) {
        people[canonicalID]?.isEnabled = enabled
    }

    func client(_ id: String) -> EmulatorConfiguration.OAuthClient? { clients[id] }

    func library(_ id: String) -> LibraryEntry? {
        libraryIndex[id.uppercased()].map { libraries[$0] }
    }

    /// Adds a user to a library's NRTADMIN group; false when the library or user is unknown.
    mutating func addNRTAdmin(userID canonicalID: String, library id: String) -> Bool {
        guard let index = libraryIndex[id.uppercased()], people[canonicalID] != nil else { return false }
        if !libraries[index].nrtAdmins.contains(canonicalID) { libraries[index].nrtAdmins.append(canonicalID) }
        return true
    }

    /// Removes a user from a library's NRTADMIN group; false when the library or user is unknown.
    mutating func removeNRTAdmin(userID canonicalID: String, library id: String) -> Bool {
        guard let index = libraryIndex[id.uppercased()], people[canonicalID] != nil else { return false }
        libraries[index].nrtAdmins.removeAll { $0 == canonicalID }
        return true
    }
}
