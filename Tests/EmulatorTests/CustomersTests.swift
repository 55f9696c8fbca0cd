import Foundation
import IManageEmulator
import Testing

@Suite("iManage API: several customers on one host, library ids repeated")
struct CustomersTests {
    @Test("each person's /api names their own customer; another customer's libraries and groups are refused with 403")
    func twoCustomers() async throws {
        try await withEmulator(.demo(customers: 2)) { h in
            let admin2 = try #require(try await h.authorizedTokens(email: "admin2@customer2.example", password: "admin2-password")["access_token"] as? String)
            let alice = try #require(try await h.authorizedTokens()["access_token"] as? String)
            let user = try #require(try await h.get("/api", token: admin2).json()["data"] as? [String: Any])["user"] as? [String: Any]
            #expect(user?["customer_id"] as? String == "2")
            #expect(user?["id"] as? String == "ADMIN2")

            // Customer 2 has its own ACTIVE, whose NRTADMIN is ADMIN2, not ALICE.
            let own = try await h.get("/work/api/v2/customers/2/libraries/ACTIVE/groups/NRTADMIN/members", token: admin2)
            #expect(own.status == 200)
            let members = try #require(try own.json()["data"] as? [[String: Any]]).compactMap { $0["id"] as? String }
            #expect(members == ["ADMIN2"])
            let libraries = try #require(try await h.get("/work/api/v2/customers/2/libraries", token: admin2).json()["data"] as? [[String: Any]])
            #expect(libraries.compactMap { $0["id"] as? String } == ["ACTIVE", "ARCHIVE"])

            // A token of customer 2 on customer 1's paths, and the other way round: 403.
            #expect(try await h.get("/work/api/v2/customers/1/libraries/ACTIVE/groups/NRTADMIN/members", token: admin2).status == 403)
            #expect(try await h.get("/work/api/v2/customers/1/libraries", token: admin2).status == 403)
            #expect(try await h.get("/work/api/v2/customers/2/libraries", token: alice).status == 403)
            #expect(try await h.get("/work/api/v2/customers/9/libraries", token: alice).status == 404)
            let aliceActive = try await h.get("/work/api/v2/customers/1/libraries/ACTIVE/groups/NRTADMIN/members", token: alice)
            #expect(try #require(try aliceActive.json()["data"] as? [[String: Any]]).compactMap { $0["id"] as? String } == ["ALICE"])
        }
    }
}
