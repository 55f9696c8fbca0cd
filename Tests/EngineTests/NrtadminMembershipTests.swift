import IManageClient
import Testing
@testable import TokendEngine
import TokendPolicy

@Suite("NRTADMIN membership fails closed")
struct NrtadminMembershipTests {
    let members = [IManageGroupMember(id: "ALICE", email: nil, fullName: nil)]

    @Test func aListedMemberIsOneWhateverTheCase() {
        #expect(NrtadminMembership.decide(.success(members), userID: "alice") == .member)
        #expect(NrtadminMembership.decide(.success(members), userID: "BOB") == .notMember)
    }

    @Test(arguments: [403, 404])
    func iManageRefusingToListTheGroupMeansNotAMember(status: Int) {
        let refused = RefreshFailure(.grantDead, httpStatus: status, detail: "refused")
        #expect(NrtadminMembership.decide(.failure(refused), userID: "ALICE") == .notMember)
    }

    @Test(arguments: [500, 503])
    func aPassingFailureLeavesItUnknown(status: Int) {
        let failure = RefreshFailure(.transient, httpStatus: status, detail: "unavailable")
        #expect(NrtadminMembership.decide(.failure(failure), userID: "ALICE") == .unknown(failure))
        #expect(NrtadminMembership.decide(.failure(RefreshFailure(.transient, detail: "timeout")), userID: "ALICE") != .notMember)
    }
}
