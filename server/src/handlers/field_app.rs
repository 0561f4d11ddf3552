//! The field worker's web app (`clients/web`), served from disk at the root of the origin so
//! its service worker's scope covers the whole app and the API is same-origin.
//!
//! Only the files the app is made of are reachable: a fixed list at the root, and plain file
//! names under `app/`, `vendor/` and `pkg/` with an allowed extension. Nothing else in the folder (tests,
//! `node_modules`) and nothing outside it can be named. Files are read per request, so a new
//! `scripts/build-wasm` shows up without a restart; phones revalidate with `ETag` and get a 304
//! when nothing changed, and the engine goes out gzipped when `build-wasm` left a `.gz` of it.

use std::path::Path;
use std::time::UNIX_EPOCH;

use axum::body::Body;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::{ApiError, AppState, Result};

pub async fn index(State(state): State<AppState>, headers: HeaderMap) -> Result<Response> {
    serve(&state.web_root, "index.html", &headers).await
}

/// `/sw.js`, `/style.css`, `/manifest.webmanifest`, `/icon.svg`, `/index.html`.
pub async fn root_file(
    State(state): State<AppState>,
    UrlPath(name): UrlPath<String>,
    headers: HeaderMap,
) -> Result<Response> {
    const ROOT_FILES: [&str; 5] = [
        "index.html",
        "sw.js",
        "style.css",
        "manifest.webmanifest",
        "icon.svg",
    ];
    if !ROOT_FILES.contains(&name.as_str()) {
        return Err(ApiError::NotFound("route".into()));
    }
    serve(&state.web_root, &name, &headers).await
}

/// `/app/*.js`: the app's modules.
pub async fn app_module(
    State(state): State<AppState>,
    UrlPath(name): UrlPath<String>,
    headers: HeaderMap,
) -> Result<Response> {
    serve_in(&state.web_root, "app", &name, &["js"], &headers).await
}

/// `/vendor/*.js`: libraries from elsewhere, kept as published next to their licences
/// (`clients/web/vendor/`), loaded only by the screens that need them.
pub async fn vendored(
    State(state): State<AppState>,
    UrlPath(name): UrlPath<String>,
    headers: HeaderMap,
) -> Result<Response> {
    serve_in(&state.web_root, "vendor", &name, &["js"], &headers).await
}

/// `/pkg/*.js` and `/pkg/*.wasm`: the engine and its glue, written by `scripts/build-wasm`.
pub async fn engine_file(
    State(state): State<AppState>,
    UrlPath(name): UrlPath<String>,
    headers: HeaderMap,
) -> Result<Response> {
    serve_in(&state.web_root, "pkg", &name, &["js", "wasm"], &headers).await
}

async fn serve_in(
    root: &Path,
    folder: &str,
    name: &str,
    extensions: &[&str],
    headers: &HeaderMap,
) -> Result<Response> {
    let plain = !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    let allowed = Path::new(name)
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| extensions.contains(&e));
    if !plain || !allowed {
        return Err(ApiError::NotFound("file".into()));
    }
    serve(root, &format!("{folder}/{name}"), headers).await
}

async fn serve(root: &Path, relative: &str, headers: &HeaderMap) -> Result<Response> {
    let path = root.join(relative);
    // No log line here: the name comes from the client, and `serve` already warns at start-up
    // when the engine is not built.
    let Ok(meta) = tokio::fs::metadata(&path).await else {
        return Err(ApiError::NotFound("file".into()));
    };
    let etag = entity_tag(&meta);
    if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|sent| sent.as_bytes() == etag.as_bytes())
    {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response());
    }

    let mut gzipped = false;
    let mut body_path = path.clone();
    if relative.ends_with(".wasm") && accepts_gzip(headers) {
        let gz = path.with_extension("wasm.gz");
        if tokio::fs::metadata(&gz)
            .await
            .and_then(|g| Ok(g.modified()? >= meta.modified()?))
            .unwrap_or(false)
        {
            body_path = gz;
            gzipped = true;
        }
    }
    let bytes = tokio::fs::read(&body_path)
        .await
        .map_err(|_| ApiError::NotFound("file".into()))?;

    let mut response = Response::new(Body::from(bytes));
    let out = response.headers_mut();
    out.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(relative)),
    );
    // Always revalidate: the service worker, not the HTTP cache, keeps the app offline.
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    out.insert(header::ETAG, HeaderValue::from_str(&etag).expect("hex etag"));
    if relative.ends_with(".wasm") {
        out.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    if gzipped {
        out.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    Ok(response)
}

/// Size and modification time: cheap, and changes whenever a build rewrites the file.
fn entity_tag(meta: &std::fs::Metadata) -> String {
    let modified = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    format!("\"{:x}-{:x}\"", meta.len(), modified)
}

fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';');
            let name = parts.next().unwrap_or("").trim();
            let refused = parts.any(|p| matches!(p.trim(), "q=0" | "q=0.0" | "q=0.00" | "q=0.000"));
            name.eq_ignore_ascii_case("gzip") && !refused
        })
}

/// ES modules and service workers are refused by browsers under any other type than these.
fn content_type(relative: &str) -> &'static str {
    match Path::new(relative).extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("webmanifest") => "application/manifest+json",
        Some("svg") => "image/svg+xml",
        Some("wasm") => "application/wasm",
        _ => "application/octet-stream",
    }
}
