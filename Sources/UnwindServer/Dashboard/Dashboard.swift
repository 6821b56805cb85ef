import HTTPTypes
import Hummingbird

/// The web dashboard: two HTML pages, one stylesheet and one script, compiled into the binary (no build step, no
/// files to install). The pages carry no data; the script reads it from `/api/v1` with the token the operator
/// typed (kept in the tab's sessionStorage) and builds the DOM with `textContent` only, so nothing a workflow
/// input holds can become markup.
enum Dashboard {
    struct Asset: Sendable {
        var path: String
        var contentType: String
        var body: String
        var cache: String
    }

    static let routes: [Asset] = [
        Asset(path: "/", contentType: "text/html; charset=utf-8", body: page(title: "Workflows", kind: "list"), cache: "no-store"),
        Asset(path: "/workflows/{id}", contentType: "text/html; charset=utf-8", body: page(title: "Workflow", kind: "workflow"), cache: "no-store"),
        Asset(path: "/assets/dashboard.css", contentType: "text/css; charset=utf-8", body: DashboardStyle.css, cache: "max-age=300"),
        Asset(path: "/assets/dashboard.js", contentType: "text/javascript; charset=utf-8", body: DashboardScript.js, cache: "max-age=300"),
    ]

    static func response(_ asset: Asset) -> Response {
        var response = JSONResponse.text(asset.body, contentType: asset.contentType, cache: asset.cache)
        // Defence in depth: no inline script or style can run even if something slipped through.
        response.headers[.contentSecurityPolicy] =
            "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        return response
    }

    static func page(title: String, kind: String) -> String {
        """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(title) · Unwind</title>
        <link rel="stylesheet" href="/assets/dashboard.css">
        <script src="/assets/dashboard.js" defer></script>
        </head>
        <body data-page="\(kind)">
        <header class="bar">
          <a class="brand" href="/">Unwind</a>
          <form id="token-form" class="token" autocomplete="off">
            <label for="token-input">API token</label>
            <input id="token-input" type="password" placeholder="paste the token" spellcheck="false">
            <button type="submit" id="token-save">Use</button>
            <button type="button" id="token-forget">Forget</button>
            <span id="token-state" class="muted"></span>
          </form>
        </header>
        <main id="main">
          <p id="status-line" class="muted" role="status">loading…</p>
          <noscript><p class="error">The dashboard needs JavaScript; the same data is at /api/v1.</p></noscript>
        </main>
        </body>
        </html>
        """
    }
}
