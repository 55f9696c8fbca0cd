/// Why a form body or query string was refused. The messages may name a parameter, never
/// repeat its value.
public enum FormError: Error, Sendable, Equatable {
    /// A malformed percent escape, text that is not UTF-8, or a name longer than the limit.
    case malformed
    /// A value longer than the limit.
    case tooLong(name: String)
    /// The same name twice: refused rather than guessing which one was meant.
    case repeated(name: String)
    /// More parameters than the limit.
    case tooMany

    /// What a person is told.
    public var message: String {
        switch self {
        case .malformed: "The request's parameters are malformed."
        case .tooLong(let name): "The parameter \(name) is too long."
        case .repeated(let name): "The parameter \(name) appears more than once."
        case .tooMany: "The request has too many parameters."
        }
    }
}
