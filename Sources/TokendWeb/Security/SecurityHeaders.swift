import HTTPTypes
import Hummingbird
import Logging

/// Adds the security headers to every answer, including error pages, and turns errors that
/// escape a route (an unknown path, a bug) into plain pages that reveal nothing.
///
/// Hummingbird's `ContentSecurityMiddleware` sets a fixed policy only; these pages need
/// `form-action` to include iManage's authorize origins (a form posted to the Tracker page is
/// answered by a redirect to iManage, which browsers check against `form-action`), plus
/// Referrer-Policy, framing and caching headers.
struct SecurityHeaders<Context: RequestContext>: RouterMiddleware {
    /// The origins (`https://host[:port]`) of the organisations' authorize endpoints.
    let authorizeOrigins: @Sendable () -> [String]
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as any HTTPResponseError where error.status == .notFound || error.status == .methodNotAllowed {
            response = PageRenderer.failure(.notFound, organisation: nil)
        } catch {
            logger.error("web page \(request.method) \(request.uri.path) failed: \(type(of: error))")
            response = PageRenderer.failure(.internalError, organisation: nil)
        }
        let formAction = (["'self'"] + authorizeOrigins()).joined(separator: " ")
        response.headers[.contentSecurityPolicy] =
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action \(formAction); frame-ancestors 'none'; base-uri 'none'"
        response.headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        response.headers[HTTPField.Name("Cross-Origin-Opener-Policy")!] = "same-origin"
        if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        // HEAD (answered by the GET route, see the router's options): the same status and
        // headers, Content-Length included, and no body; error pages too.
        if request.method == .head { response = Response(status: response.status, headers: response.headers, body: ResponseBody()) }
        return response
    }
}
