//! The desk's entrance: sign-in and sign-out, the first admin's set-up page, and a staff
//! member's password change. Sign-in has no session to hold a CSRF token yet, so its form
//! token is double-submitted as a cookie; the set-up link is itself the secret.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use jiff::Timestamp;
use minijinja::context;
use newsdesk_core::{AccountInput, Role};
use newsdesk_services::ServiceError;
use newsdesk_services::accounts::{SESSION_LIFETIME, random_token};
use serde::Deserialize;

use super::{CheckedForm, DeskError, FORM_COOKIE, Fields, SESSION_COOKIE, Staff, field};
use crate::AppState;
use crate::client::ClientAddress;
use crate::forms::{cookie, render, same_secret, see_other};

pub(super) fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/sign-in", get(sign_in_form).post(sign_in))
        .route("/sign-out", post(sign_out))
        .route("/password", get(password_form).post(change_password))
        .route("/setup/{token}", get(setup_form).post(setup))
}

impl AppState {
    /// A cookie of the desk's (path `/desk`).
    fn set_desk_cookie(&self, name: &str, value: &str, max_age: i64) -> HeaderValue {
        self.set_cookie_at(name, value, max_age, "/desk")
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct NextQuery {
    next: String,
}

/// Only desk addresses are followed after sign-in, so the form cannot bounce a person to
/// another site.
fn safe_next(next: &str) -> String {
    crate::redirect::same_site_path(next)
        .filter(|path| crate::site::account::under(path, "/desk"))
        .unwrap_or_else(|| "/desk".to_owned())
}

fn sign_in_page(
    state: &AppState,
    status: StatusCode,
    next: &str,
    email: &str,
    error: Option<String>,
) -> Result<Response, DeskError> {
    let token = random_token()?;
    let mut response = render(
        state,
        "desk/sign_in.html",
        status,
        context! {
            site_name => state.config().site.name.clone(),
            csrf => token.clone(),
            next => next,
            email => email,
            error => error,
        },
    );
    response.headers_mut().append(
        header::SET_COOKIE,
        state.set_desk_cookie(FORM_COOKIE, &token, 3600),
    );
    Ok(response)
}

async fn sign_in_form(
    State(state): State<Arc<AppState>>,
    Query(query): Query<NextQuery>,
) -> Result<Response, DeskError> {
    sign_in_page(&state, StatusCode::OK, &safe_next(&query.next), "", None)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SignInForm {
    email: String,
    password: String,
    csrf: String,
    next: String,
}

async fn sign_in(
    State(state): State<Arc<AppState>>,
    client: ClientAddress,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Result<Response, DeskError> {
    let next = safe_next(&form.next);
    let csrf_ok = cookie(&headers, FORM_COOKIE)
        .is_some_and(|c| !form.csrf.is_empty() && same_secret(c, &form.csrf));
    if !csrf_ok {
        return Err(DeskError::FormExpired);
    }
    let outcome = state
        .newsroom
        .sign_in(
            &form.email,
            &form.password,
            &client.ip.to_string(),
            Timestamp::now(),
        )
        .await;
    match outcome {
        Ok(signed_in) => {
            let mut response = see_other(&next);
            response.headers_mut().append(
                header::SET_COOKIE,
                state.set_desk_cookie(SESSION_COOKIE, &signed_in.token, SESSION_LIFETIME.as_secs()),
            );
            response.headers_mut().append(
                header::SET_COOKIE,
                state.set_desk_cookie(FORM_COOKIE, "", 0),
            );
            Ok(response)
        }
        Err(e @ ServiceError::InvalidCredentials) => sign_in_page(
            &state,
            StatusCode::UNAUTHORIZED,
            &next,
            &form.email,
            Some(e.to_string()),
        ),
        // A limit or a busy hasher: the form again, with the wait in words and in the header.
        Err(e) if e.retry_after().is_some() => {
            let status = if matches!(e, ServiceError::Busy { .. }) {
                StatusCode::SERVICE_UNAVAILABLE
            } else {
                StatusCode::TOO_MANY_REQUESTS
            };
            let retry_after_secs = e.retry_after().unwrap_or_default();
            let mut response =
                sign_in_page(&state, status, &next, &form.email, Some(e.to_string()))?;
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            Ok(response)
        }
        Err(e) => Err(e.into()),
    }
}

async fn sign_out(
    State(state): State<Arc<AppState>>,
    CheckedForm { staff, .. }: CheckedForm<Fields>,
) -> Result<Response, DeskError> {
    state.newsroom.sign_out(&staff.token).await?;
    let mut response = see_other("/desk/sign-in");
    response.headers_mut().append(
        header::SET_COOKIE,
        state.set_desk_cookie(SESSION_COOKIE, "", 0),
    );
    Ok(response)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SetupForm {
    name: String,
    email: String,
    password: String,
}

async fn setup_form(State(state): State<Arc<AppState>>, Path(token): Path<String>) -> Response {
    render(
        &state,
        "desk/setup.html",
        StatusCode::OK,
        context! { site_name => state.config().site.name.clone(), token => token, error => None::<String> },
    )
}

/// The set-up link is itself the secret (a one-time token): it needs no separate CSRF token,
/// since a cross-site form would have to know it.
async fn setup(
    State(state): State<Arc<AppState>>,
    client: ClientAddress,
    Path(token): Path<String>,
    Form(form): Form<SetupForm>,
) -> Result<Response, DeskError> {
    let input = AccountInput {
        email: form.email.clone(),
        name: form.name.clone(),
        role: Role::Admin,
        password: form.password.clone(),
    };
    let now = Timestamp::now();
    match state.newsroom.complete_setup(&token, &input, now).await {
        Ok(_) => {
            let signed_in = state
                .newsroom
                .sign_in(&form.email, &form.password, &client.ip.to_string(), now)
                .await?;
            let mut response = see_other("/desk");
            response.headers_mut().append(
                header::SET_COOKIE,
                state.set_desk_cookie(SESSION_COOKIE, &signed_in.token, SESSION_LIFETIME.as_secs()),
            );
            Ok(response)
        }
        Err(
            e @ (ServiceError::Invalid(_)
            | ServiceError::Duplicate { .. }
            | ServiceError::SetupLinkInvalid),
        ) => {
            // The form again: a taken address or a short password is the person's to fix
            // here, whatever status the desk gives the same refusal elsewhere.
            let status = if matches!(e, ServiceError::SetupLinkInvalid) {
                StatusCode::GONE
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            Ok(render(
                &state,
                "desk/setup.html",
                status,
                context! { site_name => state.config().site.name.clone(), token => token, error => Some(e.to_string()), name => form.name, email => form.email },
            ))
        }
        Err(e) => Err(e.into()),
    }
}

fn password_page(
    state: &AppState,
    staff: &Staff,
    status: StatusCode,
    error: Option<String>,
    done: bool,
) -> Response {
    render(
        state,
        "desk/password.html",
        status,
        context! { site_name => state.config().site.name.clone(), session => crate::forms::val(staff.view()), error => error, done => done },
    )
}

async fn password_form(State(state): State<Arc<AppState>>, staff: Staff) -> Response {
    password_page(&state, &staff, StatusCode::OK, None, false)
}

async fn change_password(
    State(state): State<Arc<AppState>>,
    CheckedForm { staff, form }: CheckedForm<Fields>,
) -> Result<Response, DeskError> {
    let outcome = state
        .newsroom
        .change_password(
            &staff.token,
            staff.account(),
            field(&form, "current"),
            field(&form, "new"),
        )
        .await;
    let (status, error) = match outcome {
        Ok(()) => return Ok(password_page(&state, &staff, StatusCode::OK, None, true)),
        Err(ServiceError::InvalidCredentials) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "The current password is not right.".to_owned(),
        ),
        Err(e @ ServiceError::Invalid(_)) => (StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
        Err(e @ ServiceError::Busy { .. }) => (StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
        Err(e) => return Err(e.into()),
    };
    Ok(password_page(&state, &staff, status, Some(error), false))
}
