//! The admin page (clients/web/admin), built into the binary like the analyst dashboard. It
//! holds no data of its own: every figure on it comes from the API with the admin's token.

use axum::http::header;
use axum::response::IntoResponse;

const PAGE: &str = include_str!("../../../clients/web/admin/index.html");
const SCRIPT: &str = include_str!("../../../clients/web/admin/admin.js");
const STYLE: &str = include_str!("../../../clients/web/admin/admin.css");

pub async fn page() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], PAGE)
}

pub async fn script() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], SCRIPT)
}

pub async fn style() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], STYLE)
}
