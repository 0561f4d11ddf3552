//! The pages built into the binary, served the same wherever the server runs from, with nothing
//! fetched from elsewhere: the analyst dashboard (`clients/web/analyst`) and the admin page
//! (`clients/web/admin`). Neither holds data of its own: every figure on them comes from the API
//! with the token its user types in.

use axum::Router;
use axum::http::header;
use axum::routing::get;

/// A page at `/{name}`, with its script and style beside it.
struct Page {
    name: &'static str,
    /// What the OpenAPI document says of it.
    summary: &'static str,
    html: &'static str,
    script: (&'static str, &'static str),
    style: (&'static str, &'static str),
}

const PAGES: [Page; 2] = [
    Page {
        name: "analyst",
        summary: "The analyst dashboard page",
        html: include_str!("../../../clients/web/analyst/index.html"),
        script: (
            "dashboard.js",
            include_str!("../../../clients/web/analyst/dashboard.js"),
        ),
        style: (
            "dashboard.css",
            include_str!("../../../clients/web/analyst/dashboard.css"),
        ),
    },
    Page {
        name: "admin",
        summary: "The admin page",
        html: include_str!("../../../clients/web/admin/index.html"),
        script: ("admin.js", include_str!("../../../clients/web/admin/admin.js")),
        style: ("admin.css", include_str!("../../../clients/web/admin/admin.css")),
    },
];

/// Each page's path (its files and its `/{name}/` twin left out) and what it is.
pub fn described() -> impl Iterator<Item = (String, &'static str)> {
    PAGES.iter().map(|page| (format!("/{}", page.name), page.summary))
}

/// The routes of every built-in page: `/{name}`, `/{name}/` and its two files.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    let mut router = Router::new();
    for page in &PAGES {
        let html = page.html;
        let serve_html =
            get(move || async move { ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html) });
        let (script_name, script) = page.script;
        let (style_name, style) = page.style;
        router =
            router
                .route(&format!("/{}", page.name), serve_html.clone())
                .route(&format!("/{}/", page.name), serve_html)
                .route(
                    &format!("/{}/{script_name}", page.name),
                    get(move || async move {
                        ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], script)
                    }),
                )
                .route(
                    &format!("/{}/{style_name}", page.name),
                    get(move || async move { ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], style) }),
                );
    }
    router
}
