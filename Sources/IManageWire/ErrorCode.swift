/// The error code a server sent: OAuth's `error` (`invalid_grant`), an iManage API answer's
/// `error.code` (`AUTH_TOKEN_INVALID`), or the `error` iManage puts on its redirect back to the
/// daemon. Codes are logged, stored with a grant's last error and shown on pages, so only text
/// that reads as a code is kept: words of letters joined by `_`, `-` or `.`, each word in one
/// case (`invalid_grant`, `AUTH_TOKEN_INVALID`, `Unauthorized`).
///
/// Anything else is dropped: digits, mixed case, long runs, punctuation. A token that a broken or
/// hostile server echoes as its "code" is random text and fails this with near certainty, while
/// the error codes of RFC 6749 and iManage pass. What came is still seen in the answer's redacted
/// excerpt.
public enum ErrorCode {
    public static let maximumLength = 64
    static let maximumWordLength = 24

    /// `text` when it reads as an error code, else nil.
    public static func sanitised(_ text: String) -> String? {
        guard !text.isEmpty, text.utf8.count <= maximumLength else { return nil }
        let words = text.utf8.split(omittingEmptySubsequences: false) {
            $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".")
        }
        return words.allSatisfy(isWord) ? text : nil
    }

    /// Letters only, not too long, and all lower case, all upper case, or capitalised.
    private static func isWord(_ word: Substring.UTF8View) -> Bool {
        guard !word.isEmpty, word.count <= maximumWordLength else { return false }
        func isUpper(_ byte: UInt8) -> Bool { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) }
        func isLower(_ byte: UInt8) -> Bool { (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) }
        guard word.allSatisfy({ isUpper($0) || isLower($0) }) else { return false }
        let rest = word.dropFirst()
        return rest.allSatisfy(isLower) || word.allSatisfy(isUpper)
    }
}
