import IManageClient
import TokendPolicy

/// What an answer of a library's NRTADMIN members endpoint says of one person. It fails closed:
/// iManage refusing to list the group (403) or not knowing the library (404) means "not a member",
/// as for the web pages and `import`; only a passing failure leaves it unknown.
enum NrtadminMembership: Sendable, Equatable {
    case member
    case notMember
    case unknown(RefreshFailure)

    static func decide(_ answer: Result<[IManageGroupMember], RefreshFailure>, userID: String) -> NrtadminMembership {
        switch answer {
        case .success(let members):
            members.contains { $0.id.caseInsensitiveCompare(userID) == .orderedSame } ? .member : .notMember
        case .failure(let failure) where failure.httpStatus == 403 || failure.httpStatus == 404:
            .notMember
        case .failure(let failure):
            .unknown(failure)
        }
    }
}
