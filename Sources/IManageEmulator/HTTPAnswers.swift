import HTTPTypes
import Hummingbird

/// Ready-made HTTP answers: JSON, HTML, OAuth errors, iManage API errors, redirects.
enum HTTPAnswers {
    static let authTokenHeader = HTTPField.Name("X-Auth-Token")!
    static let pragmaHeader = HTTPField.Name("Pragma")!

    /// A JSON answer; `body` must already be JSON text.
    static func json(_ body: String, status: HTTPResponse.Status = .ok, noStore: Bool = false) -> Response {
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]
        if noStore {
            // RFC 6749 §5.1: answers carrying tokens must not be cached.
            headers[.cacheControl] = "no-store"
            headers[pragmaHeader] = "no-cache"
        }
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }

    /// An HTML page.
    static func html(_ page: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status,
            headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: page)))
    }

    static func text(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "text/plain; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    /// An OAuth error of the token endpoint: 401 for `invalid_client`, 400 otherwise.
    static func oauthError(_ error: OAuthError) -> Response {
        oauthError(code: error.code, description: error.description)
    }

    static func oauthError(code: OAuthError.Code, description: String?) -> Response {
        var body = "{\"error\":" + JSONText.string(code.rawValue)
        if let description { body += ",\"error_description\":" + JSONText.string(description) }
        body += "}"
        return json(body, status: code == .invalidClient ? .unauthorized : .badRequest, noStore: true)
    }

    /// An iManage API error: `{"error":{"code":…,"code_message":…}}`.
    static func apiError(status: HTTPResponse.Status, code: String, message: String) -> Response {
        json(
            "{\"error\":{\"code\":" + JSONText.string(code) + ",\"code_message\":" + JSONText.string(message) + "}}",
            status: status)
    }

    /// A 302 to `location`.
    static func redirect(to location: String) -> Response {
        Response(status: .found, headers: [.location: location, .cacheControl: "no-store"])
    }

    /// A control API error: `{"error":"code","message":"…"}`.
    static func controlError(_ code: String, _ message: String, status: HTTPResponse.Status = .badRequest) -> Response {
        json("{\"error\":" + JSONText.string(code) + ",\"message\":" + JSONText.string(message) + "}", status: status)
    }

    static func controlError(_ error: EmulatorError) -> Response {
        let status: HTTPResponse.Status =
            switch error {
            case .unknownUser, .unknownLibrary, .unknownClient: .notFound
            default: .badRequest
            }
        return controlError(error.code, error.description, status: status)
    }
}
