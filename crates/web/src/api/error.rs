//! The API's one error object, `{"error": {"code", "message", "field"}}`, and the mapping of
//! every failure to it: service errors, malformed requests the extractors refuse, and the
//! router's own 404 and 405. Internal causes are logged, never sent.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use newsdesk_services::ServiceError;
use serde::Serialize;
use utoipa::ToSchema;

use crate::http;

/// What every failed request answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable and machine-readable: `not_found`, `invalid`, `unauthorized`, `forbidden`,
    /// `conflict`, `rate_limited`, `refused`, `gone`, `method_not_allowed`, `internal`, …
    pub code: String,
    /// For a person: what went wrong and what to do.
    pub message: String,
    /// The field or parameter at fault, when there is one.
    pub field: Option<String>,
}

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
    /// Seconds, for 429 and 503.
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            field: None,
            retry_after: None,
        }
    }

    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        ApiError {
            field: Some(field.to_owned()),
            ..ApiError::new(StatusCode::BAD_REQUEST, "invalid", message)
        }
    }

    pub fn not_found(what: &str) -> Self {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("No such {what}."),
        )
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn rate_limited(retry_after: u64) -> Self {
        ApiError {
            retry_after: Some(retry_after.max(1)),
            ..ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!(
                    "Too many requests. Try again in {} seconds.",
                    retry_after.max(1)
                ),
            )
        }
    }

    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "API request failed");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Something went wrong on our side. Please try again in a moment.",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: self.message,
                field: self.field,
            },
        };
        let mut response = (self.status, Json(body)).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, http::NO_STORE);
        if let Some(seconds) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&seconds.to_string())
        {
            headers.insert(header::RETRY_AFTER, v);
        }
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"newsdesk\""),
            );
        }
        response
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Invalid(e) => {
                let field = e.field().map(str::to_owned);
                let status = match e {
                    newsdesk_core::Error::Forbidden { .. } => StatusCode::FORBIDDEN,
                    newsdesk_core::Error::Transition { .. } => StatusCode::CONFLICT,
                    _ => StatusCode::UNPROCESSABLE_ENTITY,
                };
                let code = match status {
                    StatusCode::FORBIDDEN => "forbidden",
                    StatusCode::CONFLICT => "transition",
                    _ => "invalid",
                };
                ApiError {
                    field,
                    ..ApiError::new(status, code, capitalized(&e.to_string()))
                }
            }
            ServiceError::InvalidCredentials => {
                ApiError::unauthorized(ServiceError::InvalidCredentials.to_string())
            }
            e @ (ServiceError::Throttled { .. } | ServiceError::Limited { .. }) => ApiError {
                retry_after: e.retry_after(),
                ..ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", e.to_string())
            },
            e @ ServiceError::Busy { .. } => ApiError {
                retry_after: e.retry_after(),
                ..ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "busy", e.to_string())
            },
            ServiceError::Forbidden(why) => ApiError::forbidden(why.to_string()),
            e @ (ServiceError::LinkInvalid | ServiceError::SetupLinkInvalid) => {
                ApiError::new(StatusCode::BAD_REQUEST, "invalid", e.to_string())
            }
            ServiceError::NotFound(what) => ApiError::not_found(&what.to_string()),
            ServiceError::Conflict { current } => ApiError {
                field: Some("version".into()),
                ..ApiError::new(
                    StatusCode::CONFLICT,
                    "conflict",
                    format!(
                        "Someone else changed this item since you read it (it is now at version {current}). Read it again and apply your change to that version."
                    ),
                )
            },
            ServiceError::Duplicate { field } => ApiError {
                field: Some(field.to_owned()),
                ..ApiError::new(
                    StatusCode::CONFLICT,
                    "duplicate",
                    format!("This {field} is already in use."),
                )
            },
            ServiceError::Refused(why) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "refused", why.to_string())
            }
            e @ ServiceError::QueryTooLong { .. } => ApiError::invalid("q", e.to_string()),
            other => ApiError::internal(other),
        }
    }
}

fn capitalized(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect::<String>() + ".",
        None => String::new(),
    }
}

// The answers most operations share, described once for the OpenAPI document. They are
// never built: the handlers answer with `ApiError`, whose body is `ErrorBody`.

/// Refusals any operation may answer.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum Refusals {
    #[response(
        status = 400,
        description = "A parameter or field is not right; `field` names it"
    )]
    Invalid(ErrorBody),
    #[response(
        status = 401,
        description = "A token is needed and none came, or it is unknown, revoked or expired; or reading needs a key"
    )]
    Unauthorized(ErrorBody),
    #[response(
        status = 429,
        description = "Over the rate limit; `Retry-After` says in how many seconds to try again"
    )]
    RateLimited(ErrorBody),
}

/// A read sent with the `ETag` it already has.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum NotModified {
    #[response(
        status = 304,
        description = "Not modified since the ETag sent in `If-None-Match`"
    )]
    NotModified,
}

/// Refusals of a JSON body as a whole.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum BodyRefusals {
    #[response(status = 413, description = "The body is larger than the API accepts")]
    TooLarge(ErrorBody),
    #[response(status = 415, description = "The body is not sent as JSON")]
    NotJson(ErrorBody),
}
