import HTTPTypes
import Hummingbird
import NIOCore

/// Thrown after a "drop" fault closed the connection, so no answer is written.
struct ConnectionDropped: Error {}

extension EmulatorCore {
    /// If an installed fault hits this request, carries it out and returns its answer (or throws
    /// ``ConnectionDropped``); nil when the request should be served normally. Counts the hit.
    func injectedFault(for endpoint: EmulatorEndpoint, context: EmulatorRequestContext) async throws -> Response? {
        guard let (id, fault) = faults.take(for: endpoint) else { return nil }
        counters.record(endpoint, fault.outcome)
        switch fault.kind {
        case .serverError(let status):
            return HTTPAnswers.html(Self.errorPage(status), status: HTTPResponse.Status(code: status))
        case .tooManyRequests(let seconds):
            var response = HTTPAnswers.json("{\"error\":\"too_many_requests\"}", status: .tooManyRequests)
            response.headers[.retryAfter] = String(seconds)
            return response
        case .hang(let seconds, let ending):
            await hangs.hold(seconds: seconds, faultID: id)
            switch ending {
            case .gatewayTimeout:
                return HTTPAnswers.html(Self.errorPage(504), status: .gatewayTimeout)
            case .drop:
                try? await context.channel.close().get()
                throw ConnectionDropped()
            }
        case .invalidGrant:
            return HTTPAnswers.oauthError(code: .invalidGrant, description: "injected fault")
        case .invalidClient:
            return HTTPAnswers.oauthError(code: .invalidClient, description: "injected fault")
        case .unauthorizedClient:
            return HTTPAnswers.oauthError(code: .unauthorizedClient, description: "injected fault")
        case .nonJSON:
            return HTTPAnswers.html(Self.proxyPage)
        }
    }

    /// A bare error page, as a load balancer in front of the server would send.
    static func errorPage(_ status: Int) -> String {
        let title = "\(status) \(HTTPResponse.Status(code: status).reasonPhrase)"
        return "<html><head><title>\(title)</title></head><body><h1>\(title)</h1></body></html>\n"
    }

    /// What a captive portal or misconfigured proxy answers instead of the real server.
    static let proxyPage = """
        <!DOCTYPE html>
        <html><head><title>Network access</title></head>
        <body><h1>Please sign in to continue</h1><p>This network requires authentication.</p></body></html>

        """
}
