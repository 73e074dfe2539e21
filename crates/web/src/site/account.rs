//! Readers' account pages under `/account`: sign-up, sign-in (and back to the story),
//! sign-out, the mailed verification and password-reset links, and the display name. Every
//! form carries a CSRF token (before sign-in a double-submit cookie, after it the session's),
//! and nothing here is cached. The reader's cookie is apart from the desk's.

use std::sync::Arc;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use minijinja::context;
use newsdesk_core::reader::ReaderSession;
use newsdesk_core::reader::SignUp;
use newsdesk_services::ServiceError;
use newsdesk_services::accounts::random_token;
use newsdesk_services::readers::READER_SESSION_LIFETIME;

use crate::AppState;
use crate::client::ClientAddress;
use crate::forms::{Fields, cookie, field, internal, no_store, same_secret, see_other, val};
use crate::views::SiteView;

pub const READER_COOKIE: &str = "nd_reader";
/// Before sign-in there is no session: the form's token is also a cookie (double submit).
const FORM_COOKIE: &str = "nd_rform";

/// Only this site's public pages are returned to after sign-in: never another site, never
/// the desk.
pub(crate) fn safe_return(next: &str) -> String {
    crate::redirect::same_site_path(next)
        .filter(|path| {
            let lower = path.to_ascii_lowercase();
            !under(&lower, "/desk") && !under(&lower, "/account")
        })
        .unwrap_or_else(|| "/".to_owned())
}

/// Whether `path` is `area` or below it (`/desk`, `/desk/…`, `/desk?…`, not `/desktop`).
pub(crate) fn under(path: &str, area: &str) -> bool {
    path.strip_prefix(area)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(['/', '?', '#']))
}

impl AppState {
    /// The signed-in reader of a request, if any.
    pub(crate) async fn reader_session(
        &self,
        headers: &HeaderMap,
    ) -> Result<Option<ReaderSession>, ServiceError> {
        match cookie(headers, READER_COOKIE) {
            Some(token) => self.newsroom.reader_session(token, Timestamp::now()).await,
            None => Ok(None),
        }
    }

    /// The address mailed links start with.
    fn links_base(&self) -> &str {
        &self.base_url
    }
}

/// An account page: `view` picks the part of `account.html` to show.
fn page(
    state: &AppState,
    status: StatusCode,
    view: &str,
    session: Option<&ReaderSession>,
    extra: minijinja::Value,
) -> Response {
    let config = state.config();
    let language = config.site.default_language.clone();
    let site = SiteView::new(
        &config,
        &state.sections(),
        &state.base_url,
        &language,
        None,
        Timestamp::now(),
    );
    let title = match view {
        "sign_in" => "Sign in",
        "sign_up" => "Create an account",
        "reset" | "reset_new" => "Reset your password",
        "profile" => "Your account",
        _ => "Your account",
    };
    let ctx = context! {
        site => val(site),
        t => val(&*state.theme.strings(&language)),
        meta => context! {
            title => format!("{title} | {}", config.site.name),
            description => title,
            canonical => "",
            kind => "website",
        },
        view => view,
        title => title,
        reader => session.map(|s| context! {
            display_name => s.reader.display_name.clone(),
            verified => s.reader.verified,
            csrf => s.csrf_token.clone(),
        }),
        ..extra
    };
    let response = crate::forms::render(state, "account.html", status, ctx);
    no_store(response, "account")
}

/// A page with a form that needs a fresh double-submit token.
fn form_page(
    state: &AppState,
    status: StatusCode,
    view: &str,
    extra: minijinja::Value,
) -> Response {
    let token = match random_token() {
        Ok(t) => t,
        Err(e) => return internal(e),
    };
    let mut response = page(
        state,
        status,
        view,
        None,
        context! { csrf => token.clone(), ..extra },
    );
    response.headers_mut().append(
        header::SET_COOKIE,
        state.set_cookie_at(FORM_COOKIE, &token, 3600, "/account"),
    );
    response
}

fn form_token_ok(headers: &HeaderMap, form: &Fields) -> bool {
    cookie(headers, FORM_COOKIE).is_some_and(|c| {
        let sent = field(form, "csrf");
        !sent.is_empty() && same_secret(c, sent)
    })
}

fn expired_form(state: &AppState) -> Response {
    page(
        state,
        StatusCode::FORBIDDEN,
        "message",
        None,
        context! { message => "This form has expired. Go back, reload the page and send it again." },
    )
}

/// The form again with why it must wait: 429 over a limit, 503 when hashing is busy, and
/// `Retry-After` either way.
fn wait_page(state: &AppState, e: &ServiceError, view: &str, extra: minijinja::Value) -> Response {
    let status = if matches!(e, ServiceError::Busy { .. }) {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::TOO_MANY_REQUESTS
    };
    let mut response = form_page(
        state,
        status,
        view,
        context! { error => e.to_string(), ..extra },
    );
    if let Some(secs) = e.retry_after()
        && let Ok(v) = HeaderValue::from_str(&secs.to_string())
    {
        response.headers_mut().insert(header::RETRY_AFTER, v);
    }
    response
}

fn signed_in_response(state: &AppState, token: &str, to: &str) -> Response {
    let mut response = see_other(to);
    response.headers_mut().append(
        header::SET_COOKIE,
        state.set_cookie_at(READER_COOKIE, token, READER_SESSION_LIFETIME.as_secs(), "/"),
    );
    response.headers_mut().append(
        header::SET_COOKIE,
        state.set_cookie_at(FORM_COOKIE, "", 0, "/account"),
    );
    no_store(response, "account")
}

pub async fn sign_in_form(
    State(state): State<Arc<AppState>>,
    Query(query): Query<Fields>,
) -> Response {
    let next = safe_return(field(&query, "next"));
    form_page(&state, StatusCode::OK, "sign_in", context! { next => next })
}

pub async fn sign_in(
    State(state): State<Arc<AppState>>,
    client: ClientAddress,
    headers: HeaderMap,
    Form(form): Form<Fields>,
) -> Response {
    if !form_token_ok(&headers, &form) {
        return expired_form(&state);
    }
    let next = safe_return(field(&form, "next"));
    let outcome = state
        .newsroom
        .reader_sign_in(
            field(&form, "email"),
            field(&form, "password"),
            &client.ip.to_string(),
            Timestamp::now(),
        )
        .await;
    match outcome {
        Ok(signed_in) => signed_in_response(&state, &signed_in.token, &next),
        Err(e @ ServiceError::InvalidCredentials) => form_page(
            &state,
            StatusCode::UNAUTHORIZED,
            "sign_in",
            context! { next => next, email => field(&form, "email"), error => e.to_string() },
        ),
        Err(e) if e.retry_after().is_some() => wait_page(
            &state,
            &e,
            "sign_in",
            context! { next => next, email => field(&form, "email") },
        ),
        Err(e) => internal(e),
    }
}

pub async fn sign_up_form(
    State(state): State<Arc<AppState>>,
    Query(query): Query<Fields>,
) -> Response {
    let next = safe_return(field(&query, "next"));
    form_page(&state, StatusCode::OK, "sign_up", context! { next => next })
}

pub async fn sign_up(
    State(state): State<Arc<AppState>>,
    client: ClientAddress,
    headers: HeaderMap,
    Form(form): Form<Fields>,
) -> Response {
    if !form_token_ok(&headers, &form) {
        return expired_form(&state);
    }
    let input = SignUp {
        email: field(&form, "email").to_owned(),
        display_name: field(&form, "display_name").to_owned(),
        password: field(&form, "password").to_owned(),
    };
    match state
        .newsroom
        .sign_up(
            &input,
            &client.ip.to_string(),
            state.links_base(),
            Timestamp::now(),
        )
        .await
    {
        Ok(()) => page(
            &state,
            StatusCode::OK,
            "message",
            None,
            context! { message => "Check your mail: we sent a link to confirm your address. Then sign in and join the conversation." },
        ),
        Err(ServiceError::Invalid(e)) => form_page(
            &state,
            StatusCode::UNPROCESSABLE_ENTITY,
            "sign_up",
            context! {
                next => safe_return(field(&form, "next")),
                email => input.email,
                display_name => input.display_name,
                error => format!("{e}."),
            },
        ),
        Err(e) if e.retry_after().is_some() => wait_page(
            &state,
            &e,
            "sign_up",
            context! {
                next => safe_return(field(&form, "next")),
                email => input.email,
                display_name => input.display_name,
            },
        ),
        Err(e) => internal(e),
    }
}

pub async fn verify(State(state): State<Arc<AppState>>, Path(token): Path<String>) -> Response {
    match state.newsroom.verify_reader(&token, Timestamp::now()).await {
        Ok(_) => page(
            &state,
            StatusCode::OK,
            "message",
            None,
            context! { message => "Your address is confirmed. You can comment now.", sign_in => true },
        ),
        Err(e @ ServiceError::LinkInvalid) => page(
            &state,
            StatusCode::GONE,
            "message",
            None,
            context! { message => e.to_string() },
        ),
        Err(e) => internal(e),
    }
}

pub async fn reset_form(State(state): State<Arc<AppState>>) -> Response {
    form_page(&state, StatusCode::OK, "reset", context! {})
}

pub async fn request_reset(
    State(state): State<Arc<AppState>>,
    client: ClientAddress,
    headers: HeaderMap,
    Form(form): Form<Fields>,
) -> Response {
    if !form_token_ok(&headers, &form) {
        return expired_form(&state);
    }
    match state
        .newsroom
        .request_password_reset(
            field(&form, "email"),
            &client.ip.to_string(),
            state.links_base(),
            Timestamp::now(),
        )
        .await
    {
        Ok(()) => page(
            &state,
            StatusCode::OK,
            "message",
            None,
            context! { message => "If that address has an account, a link to choose a new password is on its way. It works for one hour." },
        ),
        Err(ServiceError::Invalid(e)) => form_page(
            &state,
            StatusCode::UNPROCESSABLE_ENTITY,
            "reset",
            context! { email => field(&form, "email"), error => format!("{e}.") },
        ),
        Err(e) if e.retry_after().is_some() => wait_page(
            &state,
            &e,
            "reset",
            context! { email => field(&form, "email") },
        ),
        Err(e) => internal(e),
    }
}

pub async fn new_password_form(
    State(state): State<Arc<AppState>>,
    Path(token): Path<String>,
) -> Response {
    // The link itself is the secret: a cross-site form would have to know it.
    page(
        &state,
        StatusCode::OK,
        "reset_new",
        None,
        context! { token => token },
    )
}

pub async fn set_new_password(
    State(state): State<Arc<AppState>>,
    Path(token): Path<String>,
    Form(form): Form<Fields>,
) -> Response {
    match state
        .newsroom
        .reset_password(&token, field(&form, "password"), Timestamp::now())
        .await
    {
        Ok(()) => page(
            &state,
            StatusCode::OK,
            "message",
            None,
            context! { message => "Your password is changed and you are signed out everywhere. Sign in with the new one.", sign_in => true },
        ),
        Err(ServiceError::Invalid(e)) => page(
            &state,
            StatusCode::UNPROCESSABLE_ENTITY,
            "reset_new",
            None,
            context! { token => token, error => format!("{e}.") },
        ),
        Err(e @ ServiceError::LinkInvalid) => page(
            &state,
            StatusCode::GONE,
            "message",
            None,
            context! { message => e.to_string() },
        ),
        Err(e) => internal(e),
    }
}

/// The signed-in reader, or the sign-in page that brings them back here.
async fn signed_in(state: &AppState, headers: &HeaderMap) -> Result<ReaderSession, Response> {
    match state.reader_session(headers).await {
        Ok(Some(session)) => Ok(session),
        Ok(None) => Err(no_store(see_other("/account/sign-in"), "account")),
        Err(e) => Err(internal(e)),
    }
}

pub async fn profile(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(query): Query<Fields>,
) -> Response {
    let session = match signed_in(&state, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let done = (field(&query, "done") == "name").then_some("Your display name is changed.");
    page(
        &state,
        StatusCode::OK,
        "profile",
        Some(&session),
        context! { done => done },
    )
}

pub async fn change_name(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Form(form): Form<Fields>,
) -> Response {
    let session = match signed_in(&state, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if !same_secret(&session.csrf_token, field(&form, "csrf")) {
        return expired_form(&state);
    }
    match state
        .newsroom
        .change_display_name(&session.reader, field(&form, "display_name"))
        .await
    {
        Ok(_) => no_store(see_other("/account?done=name"), "account"),
        Err(ServiceError::Invalid(e)) => page(
            &state,
            StatusCode::UNPROCESSABLE_ENTITY,
            "profile",
            Some(&session),
            context! { error => format!("{e}.") },
        ),
        Err(e) => internal(e),
    }
}

pub async fn sign_out(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Form(form): Form<Fields>,
) -> Response {
    let session = match signed_in(&state, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if !same_secret(&session.csrf_token, field(&form, "csrf")) {
        return expired_form(&state);
    }
    if let Some(token) = cookie(&headers, READER_COOKIE)
        && let Err(e) = state.newsroom.reader_sign_out(token).await
    {
        return internal(e);
    }
    let mut response = see_other("/");
    response.headers_mut().append(
        header::SET_COOKIE,
        state.set_cookie_at(READER_COOKIE, "", 0, "/"),
    );
    no_store(response.into_response(), "account")
}

/// The reader's data as a JSON download.
pub async fn export(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let session = match signed_in(&state, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    match state.newsroom.export_reader(&session.reader).await {
        Ok(data) => {
            let mut response = axum::Json(data).into_response();
            response.headers_mut().insert(
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment; filename=\"my-comments.json\""),
            );
            no_store(response, "account")
        }
        Err(e) => internal(e),
    }
}

/// Deletes the account after the password is given again.
pub async fn delete(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Form(form): Form<Fields>,
) -> Response {
    let session = match signed_in(&state, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if !same_secret(&session.csrf_token, field(&form, "csrf")) {
        return expired_form(&state);
    }
    match state
        .newsroom
        .delete_reader_account(&session.reader, field(&form, "password"), Timestamp::now())
        .await
    {
        Ok(()) => {
            let mut response = page(
                &state,
                StatusCode::OK,
                "message",
                None,
                context! { message => "Your account is deleted. Thank you for reading." },
            );
            response.headers_mut().append(
                header::SET_COOKIE,
                state.set_cookie_at(READER_COOKIE, "", 0, "/"),
            );
            response
        }
        Err(ServiceError::InvalidCredentials) => page(
            &state,
            StatusCode::UNPROCESSABLE_ENTITY,
            "profile",
            Some(&session),
            context! { error => "The password is not right; the account is not deleted." },
        ),
        Err(e) => internal(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_in_returns_only_to_this_sites_public_pages() {
        for ok in ["/", "/world/a-story#comments", "/ru/world/x?sort=liked"] {
            assert_eq!(safe_return(ok), ok);
        }
        for refused in [
            "",
            "https://elsewhere.example/",
            "//elsewhere.example/",
            "/\\elsewhere.example",
            "/desk/new",
            "/account/sign-in",
            "javascript:alert(1)",
            "/DESK/new",
            "/%09/evil.example/phish",
        ] {
            assert_eq!(safe_return(refused), "/", "{refused}");
        }
    }
}
