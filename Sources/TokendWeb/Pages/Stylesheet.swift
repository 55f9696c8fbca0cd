import Hummingbird

/// The pages' one stylesheet, served at `/static/tokend.css` (a file of its own so the
/// Content-Security-Policy can forbid inline styles).
enum Stylesheet {
    static let path = "/static/tokend.css"

    static var response: Response {
        Response(
            status: .ok,
            headers: [.contentType: "text/css; charset=utf-8", .cacheControl: "max-age=3600"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: css)))
    }

    static let css = """
        :root { --ink: #1d2330; --muted: #5b6475; --line: #d8dce3; --accent: #1f4e8c; --ok: #1e6b3a; --warn: #8a5a00; --bad: #a4262c; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--ink); background: #f5f6f8; }
        header { background: var(--accent); color: #fff; padding: 0.7rem 1.5rem; display: flex; gap: 1rem; align-items: baseline; }
        header .brand { font-weight: 600; }
        header .org { opacity: 0.85; font-size: 0.9rem; }
        main { max-width: 68rem; margin: 2rem auto; background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 1.5rem 2rem; }
        footer { max-width: 68rem; margin: 0 auto 2rem; color: var(--muted); font-size: 0.85rem; padding: 0 0.5rem; }
        h1 { font-size: 1.5rem; margin: 0 0 1rem; }
        h2 { font-size: 1.15rem; margin: 1.5rem 0 0.5rem; }
        p { margin: 0.5rem 0; }
        a { color: var(--accent); }
        .muted { color: var(--muted); }
        table { border-collapse: collapse; width: 100%; margin: 1rem 0; }
        th, td { text-align: left; padding: 0.55rem 0.6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
        th { font-size: 0.85rem; color: var(--muted); font-weight: 600; text-transform: uppercase; letter-spacing: 0.03em; }
        dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 0.35rem 1.5rem; margin: 1rem 0; }
        dl.facts dt { color: var(--muted); }
        dl.facts dd { margin: 0; }
        .status { display: inline-block; padding: 0.05rem 0.55rem; border-radius: 999px; font-size: 0.85rem; font-weight: 600; border: 1px solid currentColor; }
        .status-ok { color: var(--ok); }
        .status-warning { color: var(--warn); }
        .status-critical { color: var(--bad); }
        .notice { border-left: 4px solid var(--accent); background: #eef3fa; padding: 0.6rem 1rem; margin: 1rem 0; }
        .notice-ok { border-color: var(--ok); background: #edf7f0; }
        .notice-error { border-color: var(--bad); background: #fbeeee; }
        form { margin: 0; }
        form.inline { display: inline; }
        form.authorise { display: flex; gap: 0.5rem; align-items: center; }
        td .actions { flex-wrap: nowrap; }
        label { font-size: 0.9rem; color: var(--muted); }
        input[type=email] { font: inherit; padding: 0.3rem 0.5rem; border: 1px solid var(--line); border-radius: 4px; min-width: 13rem; }
        button, a.button { font: inherit; font-size: 0.95rem; padding: 0.35rem 0.9rem; border-radius: 4px; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; text-decoration: none; display: inline-block; }
        button.secondary, a.button.secondary { background: #fff; color: var(--bad); border-color: var(--bad); }
        a.button.cancel { background: #fff; color: var(--accent); }
        button.link { background: none; border: none; color: var(--accent); padding: 0; text-decoration: underline; }
        .actions { display: flex; gap: 0.75rem; flex-wrap: wrap; align-items: center; }
        """
}
