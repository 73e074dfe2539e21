//! What the list-and-form rooms share (sections, tags and authors; accounts): a room is one
//! page of lists and small forms, and every form lands on the room again with a line saying
//! what happened, or, when refused, shows the room with the reason and the refusal's status.

use axum::http::StatusCode;
use axum::response::Response;
use minijinja::{Value, context};
use newsdesk_core::{Account, Action};
use newsdesk_services::ServiceError;

use super::{DeskError, Fields, Staff, refusal};
use crate::AppState;
use crate::forms::{render, see_other, val};

/// One room: where it is, how it looks, who may use it, and what it lists.
pub(super) trait Room: Copy {
    /// The room's address; its forms land here again.
    fn path(self) -> &'static str;
    fn template(self) -> &'static str;
    /// What a role must be allowed to open the room and to send its forms.
    fn action(self) -> Action;
    /// The room's own part of the page, for the page's query (a search, a page number).
    async fn lists(
        self,
        state: &AppState,
        staff: &Staff,
        query: &Fields,
    ) -> Result<Value, DeskError>;
}

/// What a form did, as the line the room shows after the redirect. Only these fixed texts
/// can appear: the address cannot make the page say anything else.
fn done_text(code: &str) -> Option<&'static str> {
    Some(match code {
        "added" => "Added.",
        "saved" => "Saved.",
        "moved" => "Moved.",
        "deleted" => "Deleted.",
        "role" => "The role was changed.",
        "disabled" => "The account was disabled and its sessions ended.",
        "enabled" => "The account was enabled.",
        _ => return None,
    })
}

/// A room's page, for those whose role opens it.
pub(super) async fn enter(
    state: &AppState,
    staff: &Staff,
    room: impl Room,
    query: &Fields,
) -> Result<Response, DeskError> {
    staff.may(room.action())?;
    show(state, staff, room, StatusCode::OK, query, None).await
}

/// Runs one form of a room (its CSRF token already checked): the role, then the service;
/// `run` answers with the code of the line the room shows next.
pub(super) async fn act(
    state: &AppState,
    staff: &Staff,
    room: impl Room,
    run: impl AsyncFnOnce(&Account) -> Result<&'static str, ServiceError>,
) -> Result<Response, DeskError> {
    staff.may(room.action())?;
    match run(staff.account()).await {
        Ok(done) => Ok(see_other(&format!("{}?done={done}", room.path()))),
        Err(e) => {
            let (status, words) = refusal(e)?;
            show(state, staff, room, status, &Fields::new(), Some(words)).await
        }
    }
}

/// Renders a room: its lists, its forms, and the line about the last action or refusal.
async fn show(
    state: &AppState,
    staff: &Staff,
    room: impl Room,
    status: StatusCode,
    query: &Fields,
    error: Option<String>,
) -> Result<Response, DeskError> {
    let common = context! {
        site_name => state.config().site.name.clone(),
        session => val(staff.view()),
        error => error,
        done => query.get("done").and_then(|c| done_text(c)),
    };
    let lists = room.lists(state, staff, query).await?;
    Ok(render(
        state,
        room.template(),
        status,
        context! { ..common, ..lists },
    ))
}
