import IManageWire

/// The HTML of the emulator's sign-in page and its 400 page. Every value echoed into the
/// page is HTML-escaped.
enum SignInPage {
    /// The sign-in form: email (prefilled from `login_hint`), password, Sign in and Deny.
    static func form(for request: AuthorizationRequest, email: String?, error: String?) -> String {
        var hidden = ""
        for (name, value) in request.hiddenFields {
            hidden += "      <input type=\"hidden\" name=\"\(escape(name))\" value=\"\(escape(value))\">\n"
        }
        let errorBlock = error.map { "    <p class=\"error\" role=\"alert\">\(escape($0))</p>\n" } ?? ""
        let scope = request.scope.map { " (scope: \(escape($0)))" } ?? ""
        return """
            <!DOCTYPE html>
            <html lang="en">
            <head>
              <meta charset="utf-8">
              <title>Sign in to iManage Work</title>
              <style>
                body { font-family: sans-serif; max-width: 26em; margin: 4em auto; }
                label, input, button { display: block; margin: 0.4em 0; }
                .error { color: #b00020; }
              </style>
            </head>
            <body>
              <h1>Sign in to iManage Work</h1>
              <p>The application <strong>\(escape(request.clientID))</strong> asks to access iManage Work on your behalf\(scope).</p>
            \(errorBlock)  <form method="post" action="/auth/oauth2/authorize">
            \(hidden)      <label for="email">Email</label>
                  <input id="email" name="email" type="email" autocomplete="username" value="\(escape(email ?? ""))">
                  <label for="password">Password</label>
                  <input id="password" name="password" type="password" autocomplete="current-password">
                  <button type="submit" name="action" value="sign_in">Sign in</button>
                  <button type="submit" name="action" value="deny" formnovalidate>Deny</button>
              </form>
              <p><small>iManage Work emulator: not the real service.</small></p>
            </body>
            </html>

            """
    }

    /// The page shown when an authorize request cannot be answered by redirect (unknown
    /// client, redirect URI not allowed, malformed parameters).
    static func rejection(_ message: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head><meta charset="utf-8"><title>Cannot sign in</title></head>
        <body>
          <h1>This sign-in request is not valid</h1>
          <p>\(escape(message))</p>
        </body>
        </html>

        """
    }

    private static func escape(_ text: String) -> String { HTMLText.escape(text) }
}
