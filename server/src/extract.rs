//! Extractors that turn axum's rejections into [`ApiError`]s, so a malformed body or path gets
//! the same `{error, message}` JSON as every other 4xx.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
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

/// A JSON body that may be left out: an empty body is `T::default()`, so `POST …/revoke`
/// works with no body at all. A body that is there must be JSON, as for [`JsonBody`].
pub struct OptionalJsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Default> FromRequest<S> for OptionalJsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let is_json = request
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|essence| essence.trim().to_ascii_lowercase())
            .is_some_and(|essence| essence == "application/json" || essence.ends_with("+json"));
        let bytes = Bytes::from_request(request, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::TooLarge
            } else {
                ApiError::bad_request("bad_json", rejection.body_text())
            }
        })?;
        if bytes.is_empty() {
            return Ok(OptionalJsonBody(T::default()));
        }
        if !is_json {
            return Err(ApiError::UnsupportedMediaType("application/json"));
        }
        let axum::Json(value) = axum::Json::<T>::from_bytes(&bytes)?;
        Ok(OptionalJsonBody(value))
    }
}

/// An extractor for the uuid `{id}` of a path, named for what it identifies; anything else
/// there is 400 `bad_id`.
macro_rules! path_id {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        pub struct $name(pub Uuid);

        impl<S: Send + Sync> FromRequestParts<S> for $name {
            type Rejection = ApiError;

            async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
                let Path(text) = Path::<String>::from_request_parts(parts, state).await?;
                Uuid::parse_str(&text).map($name).map_err(|_| {
                    ApiError::bad_request("bad_id", concat!("the ", $what, " id in the path is not a uuid"))
                })
            }
        }
    };
}

path_id!(
    /// The `{id}` of a `/v1/datasets/{id}/…` path.
    DatasetId,
    "dataset"
);
path_id!(
    /// The `{id}` of `/v1/tokens/{id}`.
    TokenId,
    "token"
);
path_id!(
    /// The `{id}` of `/v1/devices/{id}/…`.
    DeviceId,
    "device"
);

/// The `{id}` and `{response}` of `/v1/datasets/{id}/responses/{response}`; anything but two
/// uuids there is 400 `bad_id`.
pub struct DatasetResponseIds(pub Uuid, pub Uuid);

impl<S: Send + Sync> FromRequestParts<S> for DatasetResponseIds {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path((dataset, response)) = Path::<(String, String)>::from_request_parts(parts, state).await?;
        match (Uuid::parse_str(&dataset), Uuid::parse_str(&response)) {
            (Ok(dataset), Ok(response)) => Ok(DatasetResponseIds(dataset, response)),
            _ => Err(ApiError::bad_request(
                "bad_id",
                "the dataset and response ids in the path must be uuids",
            )),
        }
    }
}
