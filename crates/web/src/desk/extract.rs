//! How a desk handler learns who is asking: [`Staff`] is the signed-in staff member (or the
//! way to sign in), [`CheckedForm`] a posted form whose CSRF token matched the session's.
//! Every desk route that needs a person takes one of them, so no handler reads cookies or
//! compares tokens itself.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, OriginalUri, Request};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode, header};
use axum::response::IntoResponse;
use jiff::Timestamp;
use newsdesk_core::account::{Account, Session};
use newsdesk_core::{Action, Role};
use serde::de::DeserializeOwned;

use super::error::DeskError;
use super::{DeskSession, SESSION_COOKIE};
use crate::AppState;
pub(crate) use crate::forms::{Fields, field};
use crate::forms::{cookie, same_secret};

/// The signed-in staff member making the request. Rejects with the way to sign in (and
/// back) when there is no live session, and with "not for your role" for an account that
/// may not use the desk; a handler asks [`Staff::may`] for anything more.
#[derive(Debug, Clone)]
pub(crate) struct Staff {
    pub session: Session,
    /// The session cookie's value, for the handlers that end or keep this session.
    pub token: String,
}

impl Staff {
    pub fn account(&self) -> &Account {
        &self.session.account
    }

    pub fn role(&self) -> Role {
        self.session.account.role
    }

    /// Whether the role may do `action`, as the error that refuses the page when not.
    pub fn may(&self, action: Action) -> Result<(), DeskError> {
        if self.role().may(action) {
            Ok(())
        } else {
            Err(DeskError::NotForRole(Box::new(self.view())))
        }
    }

    /// For forms read another way (multipart): the posted token must be this session's.
    pub fn check_csrf(&self, sent: &str) -> Result<(), DeskError> {
        if same_secret(&self.session.csrf_token, sent) {
            Ok(())
        } else {
            Err(DeskError::FormExpired)
        }
    }

    /// What the desk's templates show of the session.
    pub fn view(&self) -> DeskSession {
        DeskSession::of(&self.session)
    }
}

impl FromRequestParts<Arc<AppState>> for Staff {
    type Rejection = DeskError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, DeskError> {
        if let Some(staff) = parts.extensions.get::<Staff>() {
            return Ok(staff.clone());
        }
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE).map(str::to_owned) else {
            return Err(DeskError::SignIn {
                next: return_to(parts),
            });
        };
        let Some(session) = state.newsroom.session(&token, Timestamp::now()).await? else {
            return Err(DeskError::SignIn {
                next: return_to(parts),
            });
        };
        let staff = Staff { session, token };
        staff.may(Action::UseDesk)?;
        parts.extensions.insert(staff.clone());
        Ok(staff)
    }
}

/// Where sign-in sends a person back to: the page itself for a page, the page the form was
/// on for a form (a form's own address answers only posts). `next` is checked again at
/// sign-in, so a forged `Referer` can only choose another desk page.
fn return_to(parts: &Parts) -> String {
    let uri = parts
        .extensions
        .get::<OriginalUri>()
        .map_or(&parts.uri, |OriginalUri(uri)| uri);
    if parts.method == Method::GET || parts.method == Method::HEAD {
        return uri
            .path_and_query()
            .map_or_else(|| uri.path().to_owned(), |p| p.as_str().to_owned());
    }
    parts
        .headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|referer| {
            let after_scheme = referer.split_once("://").map_or(referer, |(_, rest)| rest);
            after_scheme.find('/').map(|at| &after_scheme[at..])
        })
        .filter(|path| path.starts_with("/desk"))
        .unwrap_or("/desk")
        .to_owned()
}

/// A posted form from a signed-in staff member whose CSRF token (the `csrf` field) is the
/// session's. The body is read once; `T` is any form shape serde can fill ([`Fields`] for
/// name → value).
pub(crate) struct CheckedForm<T> {
    pub staff: Staff,
    pub form: T,
}

impl<T: DeserializeOwned> FromRequest<Arc<AppState>> for CheckedForm<T> {
    type Rejection = DeskError;

    async fn from_request(req: Request, state: &Arc<AppState>) -> Result<Self, DeskError> {
        let (mut parts, body) = req.into_parts();
        let staff = Staff::from_request_parts(&mut parts, state).await?;
        let bytes = Bytes::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(|rejection| {
                let status = rejection.into_response().status();
                let message = if status == StatusCode::PAYLOAD_TOO_LARGE {
                    "The form is larger than this page takes."
                } else {
                    "The form could not be read; send it again."
                };
                DeskError::BadRequest {
                    status,
                    message: message.to_owned(),
                }
            })?;
        let sent = form_urlencoded::parse(&bytes)
            .find(|(name, _)| name == "csrf")
            .map(|(_, value)| value.into_owned())
            .unwrap_or_default();
        staff.check_csrf(&sent)?;
        let form = serde_urlencoded::from_bytes(&bytes).map_err(|e| DeskError::BadRequest {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            message: format!("The form could not be read: {e}."),
        })?;
        Ok(CheckedForm { staff, form })
    }
}
