/// A JSON value read as text whatever its scalar type, so that `"customer_id": 1` and
/// `"customer_id": "1"` both work, while an object or array where text was expected is noticed.
enum LenientText: Decodable, Equatable {
    case text(String)
    case wrongType

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) {
            self = .text(text)
        } else if let number = try? container.decode(Int64.self) {
            self = .text(String(number))
        } else {
            self = .wrongType
        }
    }
}

/// A JSON boolean, noticed when it is something else.
enum LenientBool: Decodable, Equatable {
    case value(Bool)
    case wrongType

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let value = try? container.decode(Bool.self) {
            self = .value(value)
        } else {
            self = .wrongType
        }
    }
}

/// Any JSON value, skipped: lets an array of entries decode even when one entry is not an object.
struct OptionalObject<Wrapped: Decodable>: Decodable {
    let value: Wrapped?

    init(from decoder: any Decoder) throws {
        value = try? Wrapped(from: decoder)
    }
}
