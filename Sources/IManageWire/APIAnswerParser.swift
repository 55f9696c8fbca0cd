import Foundation

/// What is wrong with an answer of iManage's API, in words for an administrator.
public struct APIAnswerProblem: Error, Sendable, Equatable {
    public var text: String
    public init(_ text: String) { self.text = text }
}

/// Reads the answers of iManage's work API (discovery, libraries, group members) and checks
/// every field the daemon relies on. Pure and total: any bytes give a value or a problem.
public enum APIAnswerParser {
    /// The longest identifier, email or name accepted; iManage's are far shorter.
    public static let maximumFieldLength = 256

    public static func identity(_ body: [UInt8]) -> Result<IManageIdentity, APIAnswerProblem> {
        guard let answer = try? JSONDecoder().decode(DiscoveryAnswer.self, from: Data(body)) else {
            return .failure(APIAnswerProblem("the discovery answer is not a JSON object of the expected shape"))
        }
        guard let user = answer.data?.user else {
            return .failure(APIAnswerProblem("the discovery answer has no data.user object"))
        }
        return Result {
            let userID = try identifier(user.id, field: "data.user.id")
            let customerID = try identifier(user.customerID, field: "data.user.customer_id")
            let email = try optionalText(user.email, field: "data.user.email")
            let name = try optionalText(user.name, field: "data.user.name")
            return IManageIdentity(userID: userID, email: email, name: name, customerID: customerID)
        }.mapError { $0 as? APIAnswerProblem ?? APIAnswerProblem("the discovery answer is malformed") }
    }

    public static func libraries(_ body: [UInt8]) -> Result<[IManageLibrary], APIAnswerProblem> {
        list(body, of: LibraryEntry.self, what: "libraries") { entry, position in
            guard let entry else { throw APIAnswerProblem("library \(position) is not a JSON object") }
            let hidden: Bool
            switch entry.isHidden {
            case nil: hidden = false
            case .value(let value)?: hidden = value
            case .wrongType?: throw APIAnswerProblem("library \(position)'s is_hidden is not true or false")
            }
            let id = try identifier(entry.id, field: "library \(position)'s id")
            let type = try optionalText(entry.type, field: "library \(position)'s type")
            return IManageLibrary(id: id, type: type, isHidden: hidden)
        }
    }

    public static func groupMembers(_ body: [UInt8]) -> Result<[IManageGroupMember], APIAnswerProblem> {
        list(body, of: MemberEntry.self, what: "group members") { entry, position in
            guard let entry else { throw APIAnswerProblem("member \(position) is not a JSON object") }
            let id = try identifier(entry.id, field: "member \(position)'s id")
            let email = try optionalText(entry.email, field: "member \(position)'s email")
            let fullName = try optionalText(entry.fullName, field: "member \(position)'s full_name")
                ?? optionalText(entry.name, field: "member \(position)'s name")
            return IManageGroupMember(id: id, email: email, fullName: fullName)
        }
    }

    /// The `error.code` of an iManage API error answer, if it is a short plain code.
    public static func errorCode(_ body: [UInt8]) -> String? {
        guard let answer = try? JSONDecoder().decode(APIErrorAnswer.self, from: Data(body)),
              case .text(let code)? = answer.error?.value?.code
        else { return nil }
        return ErrorCode.sanitised(code)
    }

    // MARK: - Fields

    private static func list<Entry: Decodable, Record>(
        _ body: [UInt8], of _: Entry.Type, what: String,
        _ make: (Entry?, Int) throws -> Record
    ) -> Result<[Record], APIAnswerProblem> {
        guard let answer = try? JSONDecoder().decode(ListAnswer<Entry>.self, from: Data(body)) else {
            return .failure(APIAnswerProblem("the \(what) answer is not a JSON object of the expected shape"))
        }
        guard let entries = answer.data else {
            return .failure(APIAnswerProblem("the \(what) answer has no data list"))
        }
        return Result {
            try entries.enumerated().map { index, entry in try make(entry.value, index + 1) }
        }.mapError { $0 as? APIAnswerProblem ?? APIAnswerProblem("the \(what) answer is malformed") }
    }

    /// A required identifier: present, text, not empty, short, and without control characters.
    static func identifier(_ value: LenientText?, field: String) throws -> String {
        guard let value else { throw APIAnswerProblem("\(field) is missing") }
        guard case .text(let text) = value else { throw APIAnswerProblem("\(field) is not a string") }
        guard !text.trimmingCharacters(in: .whitespaces).isEmpty else { throw APIAnswerProblem("\(field) is empty") }
        try checkShape(text, field: field)
        return text
    }

    /// An optional text: absent, `null` and `""` mean `nil`; a wrong type or odd content is a problem.
    static func optionalText(_ value: LenientText?, field: String) throws -> String? {
        guard let value else { return nil }
        guard case .text(let text) = value else { throw APIAnswerProblem("\(field) is not a string") }
        guard !text.isEmpty else { return nil }
        try checkShape(text, field: field)
        return text
    }

    private static func checkShape(_ text: String, field: String) throws {
        guard text.utf8.count <= maximumFieldLength else {
            throw APIAnswerProblem("\(field) is longer than \(maximumFieldLength) bytes")
        }
        guard !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw APIAnswerProblem("\(field) contains control characters")
        }
    }
}

// MARK: - Wire shapes

private struct DiscoveryAnswer: Decodable {
    struct DataPart: Decodable { var user: User? }
    struct User: Decodable {
        var id: LenientText?
        var email: LenientText?
        var name: LenientText?
        var customerID: LenientText?
        enum CodingKeys: String, CodingKey { case id, email, name, customerID = "customer_id" }
    }
    var data: DataPart?
}

private struct ListAnswer<Entry: Decodable>: Decodable {
    var data: [OptionalObject<Entry>]?
}

private struct LibraryEntry: Decodable {
    var id: LenientText?
    var type: LenientText?
    var isHidden: LenientBool?
    enum CodingKeys: String, CodingKey { case id, type, isHidden = "is_hidden" }
}

private struct MemberEntry: Decodable {
    var id: LenientText?
    var email: LenientText?
    var fullName: LenientText?
    var name: LenientText?
    enum CodingKeys: String, CodingKey { case id, email, fullName = "full_name", name }
}

private struct APIErrorAnswer: Decodable {
    struct Inner: Decodable {
        var code: LenientText?
    }
    var error: OptionalObject<Inner>?
}
