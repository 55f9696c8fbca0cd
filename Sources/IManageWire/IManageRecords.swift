/// The signed-in user and their customer, as iManage's discovery call (`GET /api`) reports them.
public struct IManageIdentity: Sendable, Equatable {
    /// The iManage user id (`JSMITH`).
    public var userID: String
    public var email: String?
    public var name: String?
    /// The customer id that the work API paths need (`/work/api/v2/customers/{customerID}/…`).
    public var customerID: String

    public init(userID: String, email: String?, name: String?, customerID: String) {
        self.userID = userID
        self.email = email
        self.name = name
        self.customerID = customerID
    }
}

/// One library of a customer (`ACTIVE`, `ARCHIVE`), as the libraries call lists it.
public struct IManageLibrary: Sendable, Equatable {
    public var id: String
    /// The library's type (`worksite`, …), when iManage says.
    public var type: String?
    /// Whether the library is hidden from users; a missing `is_hidden` means `false`.
    public var isHidden: Bool

    public init(id: String, type: String?, isHidden: Bool) {
        self.id = id
        self.type = type
        self.isHidden = isHidden
    }
}

/// One member of a library group (used for `NRTADMIN`).
public struct IManageGroupMember: Sendable, Equatable {
    public var id: String
    public var email: String?
    public var fullName: String?

    public init(id: String, email: String?, fullName: String?) {
        self.id = id
        self.email = email
        self.fullName = fullName
    }
}
