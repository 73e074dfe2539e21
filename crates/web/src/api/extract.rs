//! Reading requests the API's way: a malformed body, query or path is refused with the error
//! object naming the field at fault (`limit`, `body`, `parent_id`), never with a framework's
//! plain-text message.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;

use super::BODY_LIMIT;
use super::error::ApiError;

/// A JSON body.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| {
                let v = v.trim();
                v.eq_ignore_ascii_case("application/json")
                    || (v.starts_with("application/") && v.ends_with("+json"))
            });
        if !is_json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Send the body as JSON, with `Content-Type: application/json`.",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|_| {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                format!("The request body is larger than the API accepts ({BODY_LIMIT} bytes)."),
            )
        })?;
        let mut de = serde_json::Deserializer::from_slice(&bytes);
        let value = serde_path_to_error::deserialize(&mut de).map_err(|e| refused("body", e))?;
        // One JSON value and nothing after it but whitespace: a body with more is not the
        // document its sender meant, whatever its first part says.
        de.end().map_err(|e| {
            ApiError::invalid(
                "body",
                format!(
                    "The body is not right: there is text after the JSON value (line {}, column {}).",
                    e.line(),
                    e.column()
                ),
            )
        })?;
        Ok(ApiJson(value))
    }
}

/// The query string.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or("");
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(ApiQuery)
            .map_err(|e| refused("query", e))
    }
}

fn refused<E: std::fmt::Display>(whole: &str, e: serde_path_to_error::Error<E>) -> ApiError {
    let path = e.path().to_string();
    let inner = e.inner().to_string();
    if path == "." || path.is_empty() {
        // The whole thing is wrong (not an object, a missing field: serde names it inside).
        let field = inner
            .split('`')
            .nth(1)
            .filter(|_| inner.starts_with("missing field"))
            .unwrap_or(whole);
        return ApiError::invalid(field, format!("The {whole} is not right: {inner}."));
    }
    ApiError::invalid(&path, format!("`{path}` is not right: {inner}."))
}

/// Whole numbers in JSON bodies. JSON Schema counts `3.0` as the integer 3 and some clients
/// write numbers that way, so an integral float is read as its integer; a fraction is refused.
pub mod whole {
    use serde::{Deserialize, Deserializer, de::Error};

    fn integral<'de, D: Deserializer<'de>>(
        value: Option<serde_json::Number>,
    ) -> Result<Option<i128>, D::Error> {
        let Some(n) = value else { return Ok(None) };
        if let Some(i) = n.as_i64() {
            return Ok(Some(i128::from(i)));
        }
        if let Some(u) = n.as_u64() {
            return Ok(Some(i128::from(u)));
        }
        match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 1e19 => Ok(Some(f as i128)),
            _ => Err(D::Error::custom(format!(
                "expected a whole number, not {n}"
            ))),
        }
    }

    pub fn i64_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        integral::<D>(Option::<serde_json::Number>::deserialize(d)?)?
            .map(|v| i64::try_from(v).map_err(|_| D::Error::custom(format!("{v} is out of range"))))
            .transpose()
    }

    pub fn u32_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
        integral::<D>(Option::<serde_json::Number>::deserialize(d)?)?
            .map(|v| u32::try_from(v).map_err(|_| D::Error::custom(format!("{v} is out of range"))))
            .transpose()
    }
}
