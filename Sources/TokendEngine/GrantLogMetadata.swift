import Logging
import TokendPolicy
import TokendStore

/// The journal fields of the contract for a line about a grant, so
/// `journalctl TOKEND_LIBRARY=ACTIVE` is the history of one library.
public enum GrantLogMetadata {
    public static func fields(_ key: GrantKey, status: GrantStatus, failure: RefreshFailure? = nil) -> Logger.Metadata {
        var fields: Logger.Metadata = [
            "TOKEND_ORGANISATION": .string(key.organisation),
            (key.kind == .library ? "TOKEND_LIBRARY" : "TOKEND_USER"): .string(key.subject),
            "TOKEND_STATUS": .string(status.rawValue),
        ]
        if let failure {
            fields["TOKEND_ERROR_CLASS"] = .string(failure.failureClass.rawValue)
            if let status = failure.httpStatus { fields["TOKEND_HTTP_STATUS"] = .stringConvertible(status) }
        }
        return fields
    }

    /// How loud a status change is: a person must act → error; passing trouble → warning.
    public static func level(of status: GrantStatus) -> Logger.Level {
        switch status.severity {
        case .ok: .info
        case .warning: .warning
        case .critical, .unknown: .error
        }
    }
}
