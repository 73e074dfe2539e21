//! The desk: where the newsroom writes, reviews, schedules and publishes. Each room is a
//! module with its own `router()`: `items` (the content list and the editor), `sections`
//! (sections, tags, authors), `accounts` (people, settings, the audit log), `comments`
//! (moderation), `webhooks`, `tokens` and `media`; `entrance` signs people in and out.
//!
//! A handler takes [`Staff`] (the signed-in member) or [`CheckedForm`] (a form whose CSRF
//! token matched), returns `Result<_, DeskError>`, and leaves the rest to this module: the
//! desk's layer renders the message pages errors ask for, and marks every desk response
//! `no-store` (nothing here is ever cached) and as the `desk` route in the metrics.

mod accounts;
mod comments;
mod entrance;
mod error;
mod extract;
pub(crate) mod items;
mod media;
mod room;
mod sections;
mod tokens;
mod webhooks;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use minijinja::context;
use newsdesk_core::Action;
use newsdesk_core::account::Session;
use serde::Serialize;

pub(crate) use error::{DeskError, MessagePage, refusal, refusal_status, sentence};
pub(crate) use extract::{CheckedForm, Fields, Staff, field};

use crate::AppState;
use crate::forms::{no_store, render, val};

/// The staff session cookie (path `/desk`).
pub const SESSION_COOKIE: &str = "nd_session";
/// Before sign-in there is no session to hold a CSRF token: the form's token is also set
/// as a cookie, and the two must match (double submit).
pub const FORM_COOKIE: &str = "nd_form";
/// Rows per page of the desk's long lists (content, audit log).
pub(crate) const DESK_PAGE_SIZE: u32 = 30;

/// Every desk address, under `/desk`.
pub(crate) fn router(state: &Arc<AppState>) -> Router<Arc<AppState>> {
    Router::new()
        .merge(entrance::router())
        .merge(items::router())
        .merge(sections::router())
        .merge(accounts::router())
        .merge(comments::router())
        .merge(webhooks::router())
        .merge(tokens::router())
        .merge(media::router())
        .layer(middleware::from_fn_with_state(state.clone(), finish))
}

/// Renders the message page an error asked for, and marks the response as the desk's.
async fn finish(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    if let Some(page) = response.extensions_mut().remove::<MessagePage>() {
        response = render(
            &state,
            "desk/message.html",
            page.status,
            context! {
                site_name => state.config().site.name.clone(),
                title => page.title,
                message => page.message,
                session => page.session.map(|s| val(*s)),
            },
        );
    }
    no_store(response, "desk")
}

/// What the desk's templates show of a session: who, and which rooms their role opens.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct DeskSession {
    name: String,
    email: String,
    pub role: &'static str,
    csrf: String,
    may_manage_accounts: bool,
    may_manage_labels: bool,
    may_manage_settings: bool,
    may_manage_webhooks: bool,
    may_write: bool,
    may_moderate: bool,
}

impl DeskSession {
    pub fn of(session: &Session) -> Self {
        let role = session.account.role;
        DeskSession {
            name: session.account.name.clone(),
            email: session.account.email.clone(),
            role: role.as_str(),
            csrf: session.csrf_token.clone(),
            may_manage_accounts: role.may(Action::ManageAccounts),
            may_manage_labels: role.may(Action::ManageLabels),
            may_manage_settings: role.may(Action::ManageSettings),
            may_manage_webhooks: role.may(Action::ManageWebhooks),
            may_write: role.may(Action::WriteOwnDrafts),
            may_moderate: role.may(Action::Moderate),
        }
    }
}
