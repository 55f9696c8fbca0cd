import Crypto
import Foundation

/// A secret string (a client secret) that never prints itself.
///
/// `description`, `debugDescription`, string interpolation and `dump` show only its fingerprint;
/// the value is read with `reveal()`, so every place that uses it is easy to find.
public struct Secret: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    private let value: String

    public init(_ value: String) {
        self.value = value
    }

    /// The secret itself: only for putting it where it is sent (the token request's form body).
    public func reveal() -> String { value }

    /// `sha256:` and the first 12 hex digits of the SHA-256 of the secret: safe to show and log.
    public var fingerprint: String { Fingerprint.of(Array(value.utf8)) }

    public var description: String { fingerprint }
    public var debugDescription: String { "Secret(\(fingerprint))" }
    public var customMirror: Mirror { Mirror(self, children: ["fingerprint": fingerprint]) }
}

/// Secret bytes (the 32-byte token encryption key) that never print themselves.
public struct SecretBytes: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    private let bytes: [UInt8]

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    public var count: Int { bytes.count }

    /// The bytes themselves: only for handing them to the cipher.
    public func reveal() -> [UInt8] { bytes }

    /// `sha256:` and the first 12 hex digits of the SHA-256 of the bytes.
    public var fingerprint: String { Fingerprint.of(bytes) }

    public var description: String { fingerprint }
    public var debugDescription: String { "SecretBytes(\(fingerprint))" }
    public var customMirror: Mirror { Mirror(self, children: ["fingerprint": fingerprint]) }
}

/// The short, safe name of a secret: enough to tell two apart or notice a change, useless to guess it.
public enum Fingerprint {
    public static func of(_ bytes: [UInt8]) -> String {
        let digest = SHA256.hash(data: bytes)
        let hex = digest.prefix(6).map { byte in
            let text = String(byte, radix: 16)
            return byte < 16 ? "0" + text : text
        }
        return "sha256:" + hex.joined()
    }
}
