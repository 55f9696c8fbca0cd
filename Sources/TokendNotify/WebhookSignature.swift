import Crypto
import Foundation

/// `X-Tokend-Signature: sha256=HEX`: the HMAC-SHA256 of the exact body with the webhook's secret.
public enum WebhookSignature {
    public static let header = "X-Tokend-Signature"

    public static func sign(_ body: Data, secret: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8)))
        return "sha256=" + mac.map { String(format: "%02x", $0) }.joined()
    }

    /// Whether `signature` is the right one for `body` (compared in constant time), as a receiver checks it.
    public static func verify(_ signature: String, body: Data, secret: String) -> Bool {
        guard signature.hasPrefix("sha256="), let expected = hexBytes(String(signature.dropFirst(7))) else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(expected, authenticating: body, using: SymmetricKey(data: Data(secret.utf8)))
    }

    private static func hexBytes(_ hex: String) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count == 64 else { return nil }
        var bytes: [UInt8] = []
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let byte = UInt8(String(decoding: digits[index...index + 1], as: UTF8.self), radix: 16) else { return nil }
            bytes.append(byte)
        }
        return bytes
    }
}
