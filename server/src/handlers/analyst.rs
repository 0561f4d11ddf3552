//! The analyst dashboard (clients/web/analyst), built into the binary so it is served the same
//! wherever the server runs from, with nothing fetched from elsewhere.

use axum::http::header;
use axum::response::IntoResponse;

const PAGE: &str = include_str!("../../../clients/web/analyst/index.html");
const SCRIPT: &str = include_str!("../../../clients/web/analyst/dashboard.js");
const STYLE: &str = include_str!("../../../clients/web/analyst/dashboard.css");

pub async fn page() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], PAGE)
}

pub async fn script() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], SCRIPT)
}

pub async fn style() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], STYLE)
}
