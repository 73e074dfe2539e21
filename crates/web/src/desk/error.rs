//! The desk's one error type: every way a desk request can fail, mapped to a response here
//! and nowhere else. A service's refusal gets one status whichever room it came from; a room
//! that shows refusals inline (the room again, the reason in its error line) asks
//! [`refusal`] for the status and the sentence.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use newsdesk_services::ServiceError;

use super::DeskSession;
use crate::forms::{internal, see_other, urlencode};

#[derive(Debug)]
pub(crate) enum DeskError {
    /// No session: sign in, then come back to `next`.
    SignIn { next: String },
    /// Signed in, but the role may not open this page.
    NotForRole(Box<DeskSession>),
    /// The form's CSRF token is missing or is not this session's.
    FormExpired,
    /// A request the desk's own pages never send (a malformed form or parameter).
    BadRequest { status: StatusCode, message: String },
    /// A service's answer.
    Service(ServiceError),
}

impl From<ServiceError> for DeskError {
    fn from(e: ServiceError) -> Self {
        DeskError::Service(e)
    }
}

impl From<newsdesk_core::Error> for DeskError {
    fn from(e: newsdesk_core::Error) -> Self {
        DeskError::Service(e.into())
    }
}

/// The status of a service error that is the person's to fix, or `None` for a failure
/// that is ours (or a limit to wait out, which [`internal`] answers).
pub(crate) fn refusal_status(e: &ServiceError) -> Option<StatusCode> {
    Some(match e {
        ServiceError::Invalid(newsdesk_core::Error::Forbidden { .. })
        | ServiceError::Forbidden(_) => StatusCode::FORBIDDEN,
        ServiceError::Invalid(_) | ServiceError::BadImport(_) => StatusCode::UNPROCESSABLE_ENTITY,
        ServiceError::Duplicate { .. }
        | ServiceError::Refused(_)
        | ServiceError::Conflict { .. } => StatusCode::CONFLICT,
        ServiceError::NotFound(_) => StatusCode::NOT_FOUND,
        ServiceError::SetupLinkInvalid | ServiceError::LinkInvalid => StatusCode::GONE,
        _ => return None,
    })
}

/// The sentence a person reads for a refusal, ending with a full stop.
pub(crate) fn sentence(e: &ServiceError) -> String {
    let text = match e {
        ServiceError::Duplicate { field } => format!("That {field} is already in use"),
        ServiceError::NotFound(what) => format!("There is no {what}"),
        e => e.to_string(),
    };
    if text.ends_with('.') {
        text
    } else {
        format!("{text}.")
    }
}

/// A refusal's status and sentence, for a room that shows it inline; `Err` gives the error
/// back when it is not a refusal (for `?` into [`DeskError`]).
pub(crate) fn refusal(e: ServiceError) -> Result<(StatusCode, String), DeskError> {
    match refusal_status(&e) {
        Some(status) => Ok((status, sentence(&e))),
        None => Err(DeskError::Service(e)),
    }
}

/// A desk page with a title and a message, rendered by the desk's layer (which holds the
/// theme); the error itself does not have the state to render.
#[derive(Debug, Clone)]
pub(crate) struct MessagePage {
    pub status: StatusCode,
    pub title: &'static str,
    pub message: String,
    pub session: Option<Box<DeskSession>>,
}

impl IntoResponse for MessagePage {
    fn into_response(self) -> Response {
        let mut response = self.status.into_response();
        response.extensions_mut().insert(self);
        response
    }
}

impl IntoResponse for DeskError {
    fn into_response(self) -> Response {
        match self {
            DeskError::SignIn { next } => {
                see_other(&format!("/desk/sign-in?next={}", urlencode(&next)))
            }
            DeskError::NotForRole(session) => MessagePage {
                status: StatusCode::FORBIDDEN,
                title: "Not for your role",
                message: format!("Your role ({}) may not open this page.", session.role),
                session: Some(session),
            }
            .into_response(),
            DeskError::FormExpired => MessagePage {
                status: StatusCode::FORBIDDEN,
                title: "This form has expired",
                message: "The form was missing its security token or it no longer matches. Go back, reload the page and send it again.".to_owned(),
                session: None,
            }
            .into_response(),
            DeskError::BadRequest { status, message } => (
                status,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                message,
            )
                .into_response(),
            // The address names nothing this person may see.
            DeskError::Service(ServiceError::NotFound(_)) => not_found(),
            DeskError::Service(e) => match refusal_status(&e) {
                Some(status) => MessagePage {
                    status,
                    title: "This was refused",
                    message: sentence(&e),
                    session: None,
                }
                .into_response(),
                None => internal(e),
            },
        }
    }
}

fn not_found() -> Response {
    MessagePage {
        status: StatusCode::NOT_FOUND,
        title: "No such item",
        message: "This item does not exist, or no longer does.".to_owned(),
        session: None,
    }
    .into_response()
}
