//! The accounts room (admins): the staff accounts with their roles, the site's settings as
//! this instance runs with them, and the audit log of who did what.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use minijinja::context;
use newsdesk_core::Action;
use serde::Deserialize;

use super::sections::{accounts, add_account, change_role, set_disabled, settings};
use super::{DESK_PAGE_SIZE, DeskError, Staff};
use crate::AppState;
use crate::forms::{render, val};
use crate::views::{PagerView, TimeView};

pub(super) fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/accounts", get(accounts).post(add_account))
        .route("/accounts/{id}/role", post(change_role))
        .route("/accounts/{id}/disable", post(set_disabled))
        .route("/settings", get(settings))
        .route("/audit", get(audit))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PageQuery {
    page: Option<u32>,
}

/// The audit log, for admins: who did what, newest first.
async fn audit(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Query(query): Query<PageQuery>,
) -> Result<Response, DeskError> {
    staff.may(Action::ManageAccounts)?;
    let page = query.page.unwrap_or(1).max(1);
    let (entries, total) = state
        .newsroom
        .audit_log(DESK_PAGE_SIZE, (page - 1).saturating_mul(DESK_PAGE_SIZE))
        .await?;
    let zone = state.config().time_zone();
    let rows: Vec<_> = entries
        .iter()
        .map(|e| {
            let item_id = e
                .subject
                .strip_prefix("item:")
                .and_then(|id| id.parse::<i64>().ok());
            context! {
                at => val(TimeView::new(e.at, &zone)),
                actor => e.actor.clone(),
                action => e.action.clone(),
                subject => e.subject.clone(),
                detail => e.detail.clone(),
                item_url => item_id.map(|id| format!("/desk/items/{id}")),
            }
        })
        .collect();
    let pages = total.div_ceil(u64::from(DESK_PAGE_SIZE)).max(1) as u32;
    Ok(render(
        &state,
        "desk/audit.html",
        StatusCode::OK,
        context! {
            site_name => state.config().site.name.clone(),
            session => val(staff.view()),
            rows => rows,
            total => total,
            pager => val(PagerView::new("/desk/audit", page.min(pages), pages)),
        },
    ))
}
