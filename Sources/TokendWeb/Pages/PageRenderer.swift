import HTTPTypes
import Hummingbird

/// Wraps page bodies in the common layout (one stylesheet, no JavaScript) and makes HTML responses.
enum PageRenderer {
    /// A complete page. `body` is HTML whose values the caller has escaped.
    static func page(title: String, organisation: String?, body: String) -> String {
        let org = organisation.map { "<span class=\"org\">\(HTML.escape($0))</span>" } ?? ""
        return """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(HTML.escape(title)) · imanage-tokend</title>
            <link rel="stylesheet" href="/static/tokend.css">
            </head>
            <body>
            <header><span class="brand">iManage authorisations</span>\(org)</header>
            <main>
            \(body)
            </main>
            <footer>imanage-tokend keeps iManage Work authorisations alive. Tokens are never shown on these pages.</footer>
            </body>
            </html>

            """
    }

    static func response(_ html: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "text/html; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }

    /// The page of a failure: what happened, what to do, and where to start again.
    static func failure(_ failure: WebFailure, organisation: String?) -> Response {
        var body = """
            <h1>\(HTML.escape(failure.title))</h1>
            <div class="notice notice-error" role="alert"><p>\(HTML.escape(failure.explanation))</p></div>
            <p><strong>What to do:</strong> \(HTML.escape(failure.nextStep))</p>
            """
        if let retry = failure.retry {
            body += "\n<p><a class=\"button\" href=\"\(HTML.escape(retry.href))\">\(HTML.escape(retry.label))</a></p>"
        }
        return response(page(title: failure.title, organisation: organisation, body: body), status: failure.status)
    }

    /// A 303 to a path of this daemon.
    static func redirect(to location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location])
    }
}
