//! The desk's API tokens room: staff make tokens that act as them in the API (within a role
//! no wider than theirs) and revoke them; admins also make read keys for partners and see and
//! revoke every token. A new token's secret is shown once, on the page that made it.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use jiff::Timestamp;
use minijinja::context;
use newsdesk_core::account::Session;
use newsdesk_core::{Action, Role};
use newsdesk_services::ServiceError;
use newsdesk_services::api_tokens::IssuedToken;

use crate::AppState;
use crate::desk::{
    csrf_refused, desk_session, internal, no_store, render, require, same_secret, see_other, val,
};

type Fields = HashMap<String, String>;

const ROOM: &str = "/desk/tokens";

fn field<'a>(form: &'a Fields, name: &str) -> &'a str {
    form.get(name).map(String::as_str).unwrap_or_default()
}

async fn show(
    state: &AppState,
    session: &Session,
    status: StatusCode,
    issued: Option<&IssuedToken>,
    done: bool,
    error: Option<String>,
) -> Response {
    let tokens = match state.newsroom.api_tokens_for(&session.account).await {
        Ok(t) => t,
        Err(e) => return internal(e),
    };
    let grantable: Vec<&str> = Role::ALL
        .into_iter()
        .filter(|r| session.account.role.may_grant(*r))
        .map(Role::as_str)
        .collect();
    let ctx = context! {
        site_name => state.config().site.name.clone(),
        session => val(desk_session(session)),
        tokens => val(&tokens),
        roles => grantable,
        my_role => session.account.role.as_str(),
        admin => session.account.role.may(Action::ManageAccounts),
        issued => issued.map(|i| context! { secret => i.secret.clone(), name => i.token.name.clone(), kind => i.token.kind.as_str() }),
        done => done.then_some("The token was revoked."),
        error => error,
        max_tokens => newsdesk_services::api_tokens::TOKENS_PER_ACCOUNT_MAX,
    };
    render(state, "desk/tokens.html", status, ctx)
}

fn status_for(e: &ServiceError) -> Option<StatusCode> {
    Some(match e {
        ServiceError::Forbidden(_) => StatusCode::FORBIDDEN,
        ServiceError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
        ServiceError::Refused(_) => StatusCode::CONFLICT,
        ServiceError::NotFound(_) => StatusCode::NOT_FOUND,
        _ => return None,
    })
}

/// The room.
pub async fn room(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(query): Query<Fields>,
) -> Response {
    let response = match require(&state, &headers, Action::UseDesk, ROOM).await {
        Ok(session) => {
            show(
                &state,
                &session,
                StatusCode::OK,
                None,
                field(&query, "done") == "revoked",
                None,
            )
            .await
        }
        Err(r) => r,
    };
    no_store(response, "desk")
}

/// Makes a token: a staff token in the chosen role, or (admins, `kind=read`) a read key.
pub async fn create(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Form(form): Form<Fields>,
) -> Response {
    let session = match require(&state, &headers, Action::UseDesk, ROOM).await {
        Ok(s) => s,
        Err(r) => return no_store(r, "desk"),
    };
    if !same_secret(&session.csrf_token, field(&form, "csrf")) {
        return no_store(csrf_refused(&state), "desk");
    }
    let now = Timestamp::now();
    let name = field(&form, "name");
    let made = if field(&form, "kind") == "read" {
        state
            .newsroom
            .create_read_key(&session.account, name, now)
            .await
    } else {
        match Role::parse(field(&form, "role")) {
            Some(role) => {
                state
                    .newsroom
                    .create_staff_token(&session.account, name, role, now)
                    .await
            }
            None => {
                Err(newsdesk_core::Error::invalid("role", "is not one of the desk's roles").into())
            }
        }
    };
    let response = match made {
        Ok(issued) => {
            show(
                &state,
                &session,
                StatusCode::CREATED,
                Some(&issued),
                false,
                None,
            )
            .await
        }
        Err(e) => match status_for(&e) {
            Some(status) => show(&state, &session, status, None, false, Some(e.to_string())).await,
            None => internal(e),
        },
    };
    no_store(response, "desk")
}

pub async fn revoke(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<Fields>,
) -> Response {
    let session = match require(&state, &headers, Action::UseDesk, ROOM).await {
        Ok(s) => s,
        Err(r) => return no_store(r, "desk"),
    };
    if !same_secret(&session.csrf_token, field(&form, "csrf")) {
        return no_store(csrf_refused(&state), "desk");
    }
    let response = match state
        .newsroom
        .revoke_api_token(&session.account, id, Timestamp::now())
        .await
    {
        Ok(()) => see_other(&format!("{ROOM}?done=revoked")),
        Err(e) => match status_for(&e) {
            Some(status) => show(&state, &session, status, None, false, Some(e.to_string())).await,
            None => internal(e),
        },
    };
    no_store(response, "desk")
}

pub(super) fn router() -> axum::Router<Arc<AppState>> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/tokens", get(room).post(create))
        .route("/tokens/{id}/revoke", post(revoke))
}
