//! An item's history in the editor: two versions compared, and a past version restored as a
//! new one. The comparison is the newsroom's (`newsdesk_services::history`); this renders
//! it, as the editor renders what changed since a refused save's form was opened.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use jiff::Timestamp;
use minijinja::context;
use serde::Deserialize;

use super::save::{after_item_action, saved_location};
use crate::AppState;
use crate::desk::{CheckedForm, DeskError, Staff};
use crate::forms::{render, val};

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct CompareQuery {
    from: Option<i64>,
    to: Option<i64>,
}

/// Two versions side by side: `to` defaults to the current one, `from` to the one before.
pub(super) async fn compare(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(id): Path<i64>,
    Query(query): Query<CompareQuery>,
) -> Result<Response, DeskError> {
    let compared = state
        .newsroom
        .compare_versions(staff.account(), id, query.from, query.to)
        .await?;
    Ok(render(
        &state,
        "desk/compare.html",
        StatusCode::OK,
        context! {
            site_name => state.config().site.name.clone(),
            session => val(staff.view()),
            id => id,
            headline => compared.headline,
            from => compared.from,
            to => compared.to,
            current_version => compared.current_version,
            changes => val(compared.comparison.changes),
            lines => val(compared.comparison.lines),
        },
    ))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct RestoreForm {
    /// The item's version the form was shown at.
    version: i64,
    /// The version to bring back.
    restore: i64,
}

pub(super) async fn restore(
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
    CheckedForm { staff, form }: CheckedForm<RestoreForm>,
) -> Result<Response, DeskError> {
    let outcome = state
        .newsroom
        .restore_revision(
            staff.account(),
            id,
            form.restore,
            form.version,
            Timestamp::now(),
        )
        .await;
    after_item_action(
        &staff,
        outcome.map(|saved| saved_location(&saved)),
        "Cannot restore",
    )
}
