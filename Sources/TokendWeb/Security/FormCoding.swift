import TokendWebInput

/// The pages' forms and query strings: `WebForm` (in TokendWebInput), with a refusal turned
/// into a "bad request" page.
enum FormCoding {
    static func parse(_ text: String) throws(WebFailure) -> [String: String] {
        do {
            return try WebForm.parse(text)
        } catch {
            throw WebFailure.badRequest(error.message)
        }
    }

    /// Encodes pairs for a query string; only unreserved characters stay as they are.
    static func encode(_ pairs: [(String, String)]) -> String {
        WebForm.encode(pairs)
    }

    static func escape(_ text: String) -> String {
        WebForm.escape(text)
    }
}
