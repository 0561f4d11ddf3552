//! Extractors that turn axum's rejections into [`ApiError`]s, so a malformed body or path gets
//! the same `{error, message}` JSON as every other 4xx.

use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::ApiError;

/// A JSON request body.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let axum::Json(value) = axum::Json::<T>::from_request(request, state).await?;
        Ok(JsonBody(value))
    }
}

/// The `{id}` of a `/v1/datasets/{id}/…` path.
pub struct DatasetId(pub Uuid);

impl<S: Send + Sync> FromRequestParts<S> for DatasetId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(text) = Path::<String>::from_request_parts(parts, state).await?;
        Uuid::parse_str(&text)
            .map(DatasetId)
            .map_err(|_| ApiError::bad_request("bad_id", "the dataset id in the path is not a uuid"))
    }
}
