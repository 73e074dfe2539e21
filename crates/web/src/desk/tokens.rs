//! The desk's API tokens room: staff make tokens that act as them in the API (within a role
//! no wider than theirs) and revoke them; admins also make read keys for partners and see and
//! revoke every token. A new token's secret is shown once, on the page that made it.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use jiff::Timestamp;
use minijinja::context;
use newsdesk_core::{Action, Role};
use newsdesk_services::ServiceError;
use newsdesk_services::api_tokens::{IssuedToken, TOKENS_PER_ACCOUNT_MAX};

use super::{CheckedForm, DeskError, Fields, Staff, field, refusal};
use crate::AppState;
use crate::forms::{render, see_other, val};

pub(super) fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/tokens", get(room).post(create))
        .route("/tokens/{id}/revoke", post(revoke))
}

/// What the room shows besides the tokens: a secret just made, or what just happened.
#[derive(Default)]
struct Notice<'a> {
    issued: Option<&'a IssuedToken>,
    revoked: bool,
    error: Option<String>,
}

async fn show(
    state: &AppState,
    staff: &Staff,
    status: StatusCode,
    notice: Notice<'_>,
) -> Result<Response, DeskError> {
    let tokens = state.newsroom.api_tokens_for(staff.account()).await?;
    let role = staff.role();
    let grantable: Vec<&str> = Role::ALL
        .into_iter()
        .filter(|r| role.may_grant(*r))
        .map(Role::as_str)
        .collect();
    let ctx = context! {
        site_name => state.config().site.name.clone(),
        session => val(staff.view()),
        tokens => val(&tokens),
        roles => grantable,
        my_role => role.as_str(),
        admin => role.may(Action::ManageAccounts),
        issued => notice.issued.map(|i| context! { secret => i.secret.clone(), name => i.token.name.clone(), kind => i.token.kind.as_str() }),
        done => notice.revoked.then_some("The token was revoked."),
        error => notice.error,
        max_tokens => TOKENS_PER_ACCOUNT_MAX,
    };
    Ok(render(state, "desk/tokens.html", status, ctx))
}

/// The room again with a refusal's reason, or the error when it is not a refusal.
async fn refused(state: &AppState, staff: &Staff, e: ServiceError) -> Result<Response, DeskError> {
    let (status, words) = refusal(e)?;
    let notice = Notice {
        error: Some(words),
        ..Notice::default()
    };
    show(state, staff, status, notice).await
}

/// The room.
async fn room(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Query(query): Query<Fields>,
) -> Result<Response, DeskError> {
    let notice = Notice {
        revoked: field(&query, "done") == "revoked",
        ..Notice::default()
    };
    show(&state, &staff, StatusCode::OK, notice).await
}

/// Makes a token: a staff token in the chosen role, or (admins, `kind=read`) a read key.
async fn create(
    State(state): State<Arc<AppState>>,
    CheckedForm { staff, form }: CheckedForm<Fields>,
) -> Result<Response, DeskError> {
    let now = Timestamp::now();
    let name = field(&form, "name");
    let made = if field(&form, "kind") == "read" {
        state
            .newsroom
            .create_read_key(staff.account(), name, now)
            .await
    } else {
        match Role::parse(field(&form, "role")) {
            Some(role) => {
                state
                    .newsroom
                    .create_staff_token(staff.account(), name, role, now)
                    .await
            }
            None => {
                Err(newsdesk_core::Error::invalid("role", "is not one of the desk's roles").into())
            }
        }
    };
    match made {
        Ok(issued) => {
            let notice = Notice {
                issued: Some(&issued),
                ..Notice::default()
            };
            show(&state, &staff, StatusCode::CREATED, notice).await
        }
        Err(e) => refused(&state, &staff, e).await,
    }
}

async fn revoke(
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
    CheckedForm { staff, .. }: CheckedForm<Fields>,
) -> Result<Response, DeskError> {
    match state
        .newsroom
        .revoke_api_token(staff.account(), id, Timestamp::now())
        .await
    {
        Ok(()) => Ok(see_other("/desk/tokens?done=revoked")),
        Err(e) => refused(&state, &staff, e).await,
    }
}
