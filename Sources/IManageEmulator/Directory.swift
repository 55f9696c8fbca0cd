/// The people and libraries of the emulated deployment, as they stand now: who may sign
/// in, and who is in each library's NRTADMIN group.
struct Directory: Sendable {
    struct Person: Sendable {
        let user: EmulatorConfiguration.User
        /// The customer the person belongs to: what `/api` reports, and whose paths they may read.
        let customerID: String
        /// False after the user was revoked: sign-in refused, API refused.
        var isEnabled = true
    }

    struct LibraryEntry: Sendable {
        let library: EmulatorConfiguration.Library
        let customerID: String
        /// Canonical user ids in the NRTADMIN group, in listing order.
        var nrtAdmins: [String]
    }

    /// The deployment's first customer (the one people and libraries belong to unless they name another).
    let customerID: String
    private(set) var people: [String: Person] = [:]
    private var userIDByEmail: [String: String] = [:]
    private(set) var libraries: [LibraryEntry] = []
    /// "customer/LIBRARY" (upper case) to its index in `libraries`: library ids repeat across customers.
    private var libraryIndex: [String: Int] = [:]
    private var clients: [String: EmulatorConfiguration.OAuthClient] = [:]

    init(_ configuration: EmulatorConfiguration) {
        customerID = configuration.customerID
        for user in configuration.users {
            people[user.id.uppercased()] = Person(user: user, customerID: configuration.customer(user.customerID))
            userIDByEmail[user.email.lowercased()] = user.id.uppercased()
        }
        for library in configuration.libraries {
            let customer = configuration.customer(library.customerID)
            libraryIndex[Self.libraryKey(library.id, customer: customer)] = libraries.count
            libraries.append(LibraryEntry(
                library: library, customerID: customer, nrtAdmins: library.nrtAdmins.map { $0.uppercased() }))
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

    /// Whether any person or library belongs to `customer`.
    func hasCustomer(_ customer: String) -> Bool {
        libraries.contains { $0.customerID == customer } || people.values.contains { $0.customerID == customer }
    }

    /// The libraries of `customer`, in configuration order.
    func libraries(of customer: String) -> [LibraryEntry] {
        libraries.filter { $0.customerID == customer }
    }

    /// The library `id` of `customer` (by default the deployment's first customer).
    func library(_ id: String, customer: String? = nil) -> LibraryEntry? {
        libraryIndex[Self.libraryKey(id, customer: customer ?? customerID)].map { libraries[$0] }
    }

    private static func libraryKey(_ id: String, customer: String) -> String { customer + "/" + id.uppercased() }

    /// Adds a user to a library's NRTADMIN group (the library of the user's own customer); false when
    /// the library or user is unknown.
    mutating func addNRTAdmin(userID canonicalID: String, library id: String) -> Bool {
        guard let person = people[canonicalID],
              let index = libraryIndex[Self.libraryKey(id, customer: person.customerID)] else { return false }
        if !libraries[index].nrtAdmins.contains(canonicalID) { libraries[index].nrtAdmins.append(canonicalID) }
        return true
    }

    /// Removes a user from a library's NRTADMIN group; false when the library or user is unknown.
    mutating func removeNRTAdmin(userID canonicalID: String, library id: String) -> Bool {
        guard let person = people[canonicalID],
              let index = libraryIndex[Self.libraryKey(id, customer: person.customerID)] else { return false }
        libraries[index].nrtAdmins.removeAll { $0 == canonicalID }
        return true
    }
}
