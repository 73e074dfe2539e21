//! The desk's front door and first room: sign-in and sign-out, the first-admin set-up page,
//! password change, and the content list. Every route checks the session and the role on
//! the server, every form carries a CSRF token, and nothing here is ever cached.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Form;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use minijinja::context;
use newsdesk_core::{AccountInput, Action, ItemKind, ItemStatus, Role};
use newsdesk_services::ServiceError;
use newsdesk_services::accounts::{SESSION_LIFETIME, random_token};
use newsdesk_store::{DeskQuery, Session};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::client::ClientAddress;
use crate::metrics::RouteName;
use crate::paths;
use crate::views::{ItemView, PagerView};

pub const SESSION_COOKIE: &str = "nd_session";
/// Before sign-in there is no session to hold a CSRF token: the form's token is also set
/// as a cookie, and the two must match (double submit).
pub const FORM_COOKIE: &str = "nd_form";
/// Items per page of the content list.
const DESK_PAGE_SIZE: u32 = 30;

pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Compares secrets in time that does not depend on where they first differ.
pub(crate) fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

impl AppState {
    fn set_cookie(&self, name: &str, value: &str, max_age: i64) -> HeaderValue {
        self.set_cookie_at(name, value, max_age, "/desk")
    }

    /// A cookie for `path` and below: HttpOnly, SameSite=Lax. `observe` adds `Secure` to
    /// every cookie of a request that came over https.
    pub(crate) fn set_cookie_at(
        &self,
        name: &str,
        value: &str,
        max_age: i64,
        path: &str,
    ) -> HeaderValue {
        HeaderValue::from_str(&format!(
            "{name}={value}; Path={path}; HttpOnly; SameSite=Lax; Max-Age={max_age}"
        ))
        .unwrap_or(HeaderValue::from_static(""))
    }

    async fn current_session(&self, headers: &HeaderMap) -> Result<Option<Session>, ServiceError> {
        match cookie(headers, SESSION_COOKIE) {
            Some(token) => self.newsroom.session(token, Timestamp::now()).await,
            None => Ok(None),
        }
    }
}

pub(crate) fn no_store(mut response: Response, route: &'static str) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response.extensions_mut().insert(RouteName(route));
    response
}

pub(crate) fn see_other(to: &str) -> Response {
    (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, crate::redirect::location(to))],
    )
        .into_response()
}

pub(crate) fn render(
    state: &AppState,
    template: &str,
    status: StatusCode,
    ctx: minijinja::Value,
) -> Response {
    match state.theme.render(template, ctx) {
        Ok(html) => (
            status,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            Body::from(html),
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, template, "desk template failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong on our side.",
            )
                .into_response()
        }
    }
}

pub(crate) fn internal(e: ServiceError) -> Response {
    // Waiting is not failing: a busy password hasher or a limit is the asker's to wait out,
    // whichever page asked (a reader's reset, an account added in the desk).
    if let Some(secs) = e.retry_after() {
        let status = if matches!(e, ServiceError::Busy { .. }) {
            StatusCode::SERVICE_UNAVAILABLE
        } else {
            StatusCode::TOO_MANY_REQUESTS
        };
        return (
            status,
            [(header::RETRY_AFTER, secs.to_string())],
            e.to_string(),
        )
            .into_response();
    }
    tracing::error!(error = %e, "desk request failed");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong on our side. Please try again in a moment.",
    )
        .into_response()
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NextQuery {
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
) -> Response {
    let token = match random_token() {
        Ok(t) => t,
        Err(e) => return internal(e),
    };
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
        state.set_cookie(FORM_COOKIE, &token, 3600),
    );
    response
}

pub async fn sign_in_form(
    State(state): State<Arc<AppState>>,
    Query(query): Query<NextQuery>,
) -> Response {
    no_store(
        sign_in_page(&state, StatusCode::OK, &safe_next(&query.next), "", None),
        "desk",
    )
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SignInForm {
    email: String,
    password: String,
    csrf: String,
    next: String,
}

pub async fn sign_in(
    State(state): State<Arc<AppState>>,
    client: ClientAddress,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Response {
    let next = safe_next(&form.next);
    let csrf_ok = cookie(&headers, FORM_COOKIE)
        .is_some_and(|c| !form.csrf.is_empty() && same_secret(c, &form.csrf));
    if !csrf_ok {
        return no_store(csrf_refused(&state), "desk");
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
    let response = match outcome {
        Ok(signed_in) => {
            let mut response = see_other(&next);
            response.headers_mut().append(
                header::SET_COOKIE,
                state.set_cookie(SESSION_COOKIE, &signed_in.token, SESSION_LIFETIME.as_secs()),
            );
            response
                .headers_mut()
                .append(header::SET_COOKIE, state.set_cookie(FORM_COOKIE, "", 0));
            response
        }
        Err(e @ ServiceError::InvalidCredentials) => sign_in_page(
            &state,
            StatusCode::UNAUTHORIZED,
            &next,
            &form.email,
            Some(e.to_string()),
        ),
        Err(e) if e.retry_after().is_some() => {
            let status = if matches!(e, ServiceError::Busy { .. }) {
                StatusCode::SERVICE_UNAVAILABLE
            } else {
                StatusCode::TOO_MANY_REQUESTS
            };
            let retry_after_secs = e.retry_after().unwrap_or_default();
            let mut response =
                sign_in_page(&state, status, &next, &form.email, Some(e.to_string()));
            if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
            response
        }
        Err(e) => internal(e),
    };
    no_store(response, "desk")
}

pub(crate) fn not_found(state: &AppState) -> Response {
    render(
        state,
        "desk/message.html",
        StatusCode::NOT_FOUND,
        context! {
            site_name => state.config().site.name.clone(),
            title => "No such item",
            message => "This item does not exist, or no longer does.",
        },
    )
}

pub(crate) fn csrf_refused(state: &AppState) -> Response {
    render(
        state,
        "desk/message.html",
        StatusCode::FORBIDDEN,
        context! {
            site_name => state.config().site.name.clone(),
            title => "This form has expired",
            message => "The form was missing its security token or it no longer matches. Go back, reload the page and send it again.",
        },
    )
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CsrfForm {
    csrf: String,
}

pub async fn sign_out(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    let session = match state.current_session(&headers).await {
        Ok(s) => s,
        Err(e) => return no_store(internal(e), "desk"),
    };
    let Some(session) = session else {
        return no_store(see_other("/desk/sign-in"), "desk");
    };
    if !same_secret(&session.csrf_token, &form.csrf) {
        return no_store(csrf_refused(&state), "desk");
    }
    if let Some(token) = cookie(&headers, SESSION_COOKIE)
        && let Err(e) = state.newsroom.sign_out(token).await
    {
        return no_store(internal(e), "desk");
    }
    let mut response = see_other("/desk/sign-in");
    response
        .headers_mut()
        .append(header::SET_COOKIE, state.set_cookie(SESSION_COOKIE, "", 0));
    no_store(response, "desk")
}

/// The session of a request to a page that needs one, or the response that sends the
/// person to sign in (or tells them their role may not).
pub(crate) async fn require(
    state: &AppState,
    headers: &HeaderMap,
    action: Action,
    here: &str,
) -> Result<Session, Response> {
    match state.current_session(headers).await {
        Ok(Some(session)) if session.account.role.may(action) => Ok(session),
        Ok(Some(session)) => Err(render(
            state,
            "desk/message.html",
            StatusCode::FORBIDDEN,
            context! {
                site_name => state.config().site.name.clone(),
                title => "Not for your role",
                message => format!("Your role ({}) may not open this page.", session.account.role.as_str()),
                session => val(desk_session(&session)),
            },
        )),
        Ok(None) => Err(see_other(&format!(
            "/desk/sign-in?next={}",
            urlencode(here)
        ))),
        Err(e) => Err(internal(e)),
    }
}

pub(crate) fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[derive(Serialize)]
pub(crate) struct DeskSession {
    name: String,
    email: String,
    role: &'static str,
    csrf: String,
    may_manage_accounts: bool,
    may_manage_labels: bool,
    may_manage_settings: bool,
    may_manage_webhooks: bool,
    may_write: bool,
    may_moderate: bool,
}

pub(crate) fn desk_session(session: &Session) -> DeskSession {
    DeskSession {
        name: session.account.name.clone(),
        email: session.account.email.clone(),
        role: session.account.role.as_str(),
        csrf: session.csrf_token.clone(),
        may_manage_accounts: session.account.role.may(Action::ManageAccounts),
        may_manage_labels: session.account.role.may(Action::ManageLabels),
        may_manage_settings: session.account.role.may(Action::ManageSettings),
        may_manage_webhooks: session.account.role.may(Action::ManageWebhooks),
        may_write: session.account.role.may(Action::WriteOwnDrafts),
        may_moderate: session.account.role.may(Action::Moderate),
    }
}

pub(crate) fn val<T: Serialize>(value: T) -> minijinja::Value {
    minijinja::Value::from(minijinja::value::Serde(value))
}

/// The content list: every item of every status, filtered, searched, newest change first.
pub async fn items(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let session = match require(&state, &headers, Action::UseDesk, "/desk").await {
        Ok(s) => s,
        Err(r) => return no_store(r, "desk"),
    };
    let param = |k: &str| params.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    let page: u32 = match param("page").map(str::parse::<u32>) {
        None => 1,
        Some(Ok(n)) if n >= 1 => n,
        Some(_) => {
            return no_store(
                (
                    StatusCode::BAD_REQUEST,
                    "The page number must be a whole number from 1.",
                )
                    .into_response(),
                "desk",
            );
        }
    };
    let query = DeskQuery {
        status: param("status").and_then(ItemStatus::parse),
        kind: param("kind").and_then(ItemKind::parse),
        section: param("section").map(str::to_owned),
        language: param("language").map(str::to_owned),
        author: param("author").map(str::to_owned),
        breaking: param("breaking").map(|v| v == "yes"),
        headline: param("q").map(str::to_owned),
        published_or_written_by: (!session.account.role.may(Action::ViewAllItems))
            .then(|| session.account.email.clone()),
        limit: DESK_PAGE_SIZE,
        offset: (page - 1).saturating_mul(DESK_PAGE_SIZE),
    };
    let (items, total) = match state.newsroom.store().desk_items(&query).await {
        Ok(found) => found,
        Err(e) => return no_store(internal(e.into()), "desk"),
    };
    let pages = total.div_ceil(u64::from(DESK_PAGE_SIZE)).max(1) as u32;
    let zone = state.config().time_zone();
    let sections = state.sections();
    let rows: Vec<_> = items
        .iter()
        .map(|item| {
            context! {
                item => val(ItemView::new(&state.config(), &sections, &zone, item)),
                status => item.status.as_str(),
                changed => val(crate::views::TimeView::new(item.changed_at, &zone)),
                public_url => (item.status == ItemStatus::Published).then(|| paths::item_url(&state.config(), item)),
            }
        })
        .collect();
    // The filters echo back what was asked, and the pager keeps them.
    let mut kept: Vec<(String, String)> = params
        .iter()
        .filter(|(k, v)| !matches!(k.as_str(), "page" | "deleted") && !v.trim().is_empty())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    kept.sort();
    let base = if kept.is_empty() {
        "/desk".to_owned()
    } else {
        let query: Vec<String> = kept
            .iter()
            .map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v)))
            .collect();
        format!("/desk?{}", query.join("&"))
    };
    let pager = PagerView::new(&base, page.min(pages), pages);
    let response = render(
        &state,
        "desk/items.html",
        StatusCode::OK,
        context! {
            site_name => state.config().site.name.clone(),
            session => val(desk_session(&session)),
            rows => rows,
            total => total,
            pager => val(pager),
            filters => val(params.clone()),
            statuses => ["draft", "in_review", "scheduled", "published", "unpublished"],
            sections => val(sections.iter().map(|s| (s.slug.clone(), s.name.clone())).collect::<Vec<_>>()),
            languages => state.config().site.languages.clone(),
        },
    );
    no_store(response, "desk")
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SetupForm {
    name: String,
    email: String,
    password: String,
}

pub async fn setup_form(State(state): State<Arc<AppState>>, Path(token): Path<String>) -> Response {
    let response = render(
        &state,
        "desk/setup.html",
        StatusCode::OK,
        context! { site_name => state.config().site.name.clone(), token => token, error => None::<String> },
    );
    no_store(response, "desk")
}

/// The set-up link is itself the secret (a one-time token): it needs no separate CSRF token,
/// since a cross-site form would have to know it.
pub async fn setup(
    State(state): State<Arc<AppState>>,
    client: ClientAddress,
    Path(token): Path<String>,
    Form(form): Form<SetupForm>,
) -> Response {
    let input = AccountInput {
        email: form.email.clone(),
        name: form.name.clone(),
        role: Role::Admin,
        password: form.password.clone(),
    };
    let now = Timestamp::now();
    let response = match state.newsroom.complete_setup(&token, &input, now).await {
        Ok(_) => match state
            .newsroom
            .sign_in(&form.email, &form.password, &client.ip.to_string(), now)
            .await
        {
            Ok(signed_in) => {
                let mut response = see_other("/desk");
                response.headers_mut().append(
                    header::SET_COOKIE,
                    state.set_cookie(SESSION_COOKIE, &signed_in.token, SESSION_LIFETIME.as_secs()),
                );
                response
            }
            Err(e) => internal(e),
        },
        Err(
            e @ (ServiceError::Invalid(_)
            | ServiceError::Duplicate { .. }
            | ServiceError::SetupLinkInvalid),
        ) => {
            let status = if matches!(e, ServiceError::SetupLinkInvalid) {
                StatusCode::GONE
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            render(
                &state,
                "desk/setup.html",
                status,
                context! { site_name => state.config().site.name.clone(), token => token, error => Some(e.to_string()), name => form.name, email => form.email },
            )
        }
        Err(e) => internal(e),
    };
    no_store(response, "desk")
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PasswordForm {
    csrf: String,
    current: String,
    new: String,
}

pub async fn password_form(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let session = match require(&state, &headers, Action::UseDesk, "/desk/password").await {
        Ok(s) => s,
        Err(r) => return no_store(r, "desk"),
    };
    let response = render(
        &state,
        "desk/password.html",
        StatusCode::OK,
        context! { site_name => state.config().site.name.clone(), session => val(desk_session(&session)), error => None::<String>, done => false },
    );
    no_store(response, "desk")
}

pub async fn change_password(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Form(form): Form<PasswordForm>,
) -> Response {
    let session = match require(&state, &headers, Action::UseDesk, "/desk/password").await {
        Ok(s) => s,
        Err(r) => return no_store(r, "desk"),
    };
    if !same_secret(&session.csrf_token, &form.csrf) {
        return no_store(csrf_refused(&state), "desk");
    }
    let token = cookie(&headers, SESSION_COOKIE).unwrap_or_default();
    let outcome = state
        .newsroom
        .change_password(token, &session.account, &form.current, &form.new)
        .await;
    let (status, error, done) = match outcome {
        Ok(()) => (StatusCode::OK, None, true),
        Err(ServiceError::InvalidCredentials) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("The current password is not right.".to_owned()),
            false,
        ),
        Err(e @ ServiceError::Invalid(_)) => {
            (StatusCode::UNPROCESSABLE_ENTITY, Some(e.to_string()), false)
        }
        Err(e @ ServiceError::Busy { .. }) => {
            (StatusCode::SERVICE_UNAVAILABLE, Some(e.to_string()), false)
        }
        Err(e) => return no_store(internal(e), "desk"),
    };
    let response = render(
        &state,
        "desk/password.html",
        status,
        context! { site_name => state.config().site.name.clone(), session => val(desk_session(&session)), error => error, done => done },
    );
    no_store(response, "desk")
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PageQuery {
    page: Option<u32>,
}

/// The audit log, for admins: who did what, newest first.
pub async fn audit(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(query): Query<PageQuery>,
) -> Response {
    let session = match require(&state, &headers, Action::ManageAccounts, "/desk/audit").await {
        Ok(s) => s,
        Err(r) => return no_store(r, "desk"),
    };
    let page = query.page.unwrap_or(1).max(1);
    let (entries, total) = match state
        .newsroom
        .store()
        .audit_log(DESK_PAGE_SIZE, (page - 1).saturating_mul(DESK_PAGE_SIZE))
        .await
    {
        Ok(found) => found,
        Err(e) => return no_store(internal(e.into()), "desk"),
    };
    let zone = state.config().time_zone();
    let rows: Vec<_> = entries
        .iter()
        .map(|e| {
            let item_id = e
                .subject
                .strip_prefix("item:")
                .and_then(|id| id.parse::<i64>().ok());
            context! {
                at => val(crate::views::TimeView::new(e.at, &zone)),
                actor => e.actor.clone(),
                action => e.action.clone(),
                subject => e.subject.clone(),
                detail => e.detail.clone(),
                item_url => item_id.map(|id| format!("/desk/items/{id}")),
            }
        })
        .collect();
    let pages = total.div_ceil(u64::from(DESK_PAGE_SIZE)).max(1) as u32;
    let response = render(
        &state,
        "desk/audit.html",
        StatusCode::OK,
        context! {
            site_name => state.config().site.name.clone(),
            session => val(desk_session(&session)),
            rows => rows,
            total => total,
            pager => val(PagerView::new("/desk/audit", page.min(pages), pages)),
        },
    );
    no_store(response, "desk")
}
