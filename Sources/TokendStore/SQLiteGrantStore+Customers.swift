import Foundation
import TokendPolicy

/// The iManage customer an organisation was pinned to by its first authorisation or import.
public struct PinnedCustomer: Sendable, Equatable {
    public var organisation: String
    public var customerID: String
    public var pinnedAt: Date
    /// Who or what pinned it ("authorised by Alice Admin on the web page", "import").
    public var pinnedBy: String

    public init(organisation: String, customerID: String, pinnedAt: Date, pinnedBy: String) {
        self.organisation = organisation
        self.customerID = customerID
        self.pinnedAt = pinnedAt
        self.pinnedBy = pinnedBy
    }
}

extension SQLiteGrantStore {
    /// The pin of `organisation`, if any.
    public func pinnedCustomer(of organisation: String) throws -> PinnedCustomer? {
        try read { db in try Self.pin(db, organisation) }
    }

    /// Every pin, by organisation name.
    public func pinnedCustomers() throws -> [PinnedCustomer] {
        try read { db in
            let row = try db.prepare("SELECT name, customer_id, pinned_at, pinned_by FROM organisations ORDER BY name")
            var result: [PinnedCustomer] = []
            while try row.step() { result.append(Self.pinnedCustomer(from: row)) }
            return result
        }
    }

    static func pin(_ db: SQLiteConnection, _ organisation: String) throws -> PinnedCustomer? {
        let row = try db.prepare("SELECT name, customer_id, pinned_at, pinned_by FROM organisations WHERE name = ?").bind(organisation)
        return try row.step() ? pinnedCustomer(from: row) : nil
    }

    private static func pinnedCustomer(from row: SQLiteStatement) -> PinnedCustomer {
        PinnedCustomer(
            organisation: row.string(0) ?? "", customerID: row.string(1) ?? "",
            pinnedAt: row.date(2) ?? .distantPast, pinnedBy: row.string(3) ?? "")
    }
}
