//! The web layer's one error type, and its mapping to HTTP status and a reader's message.
//! Internal failures are logged with their cause and shown only as a generic apology.

use axum::http::StatusCode;
use newsdesk_services::ServiceError;

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// 404: no such page.
    #[error("We could not find that page.")]
    NotFound,
    /// 410: the item was published once and has been taken down.
    #[error("This article has been removed.")]
    Gone,
    /// 400: something in the address the reader sent is malformed; the text says what.
    #[error("{0}")]
    BadRequest(String),
    /// 405: the site's pages are read with GET and HEAD only.
    #[error("This address only answers GET and HEAD requests.")]
    MethodNotAllowed,
    /// 500: our fault; the cause is logged, never shown.
    #[error("Something went wrong on our side. Please try again in a moment.")]
    Internal(String),
}

impl WebError {
    pub fn status(&self) -> StatusCode {
        match self {
            WebError::NotFound => StatusCode::NOT_FOUND,
            WebError::Gone => StatusCode::GONE,
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<ServiceError> for WebError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::NotFound(_) => WebError::NotFound,
            e @ ServiceError::QueryTooLong { .. } => WebError::BadRequest(e.to_string()),
            other => WebError::Internal(other.to_string()),
        }
    }
}

impl From<minijinja::Error> for WebError {
    fn from(e: minijinja::Error) -> Self {
        WebError::Internal(format!("template: {e:#}"))
    }
}
