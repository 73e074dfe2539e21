//! The items room: the content list (every item of every status, filtered and paged) and
//! the editor, split by what it does: the form (and its field model), the save, history and
//! comparison, autosave.

mod autosave;
mod fields;
mod form;
mod history;
mod save;

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use minijinja::context;
use newsdesk_core::item::DeskQuery;
use newsdesk_core::{Action, ItemKind, ItemStatus};

use super::{DESK_PAGE_SIZE, DeskError, Fields, Staff};
use crate::forms::{render, urlencode, val};
use crate::views::{ItemView, PagerView};
use crate::{AppState, paths};

pub use autosave::AUTOSAVE_MAX_BYTES;

/// The editor's form may carry an image: the upload limit plus room for the text.
pub(crate) const EDITOR_BODY_LIMIT: usize =
    newsdesk_services::uploads::UPLOAD_MAX_BYTES + 1024 * 1024;

pub(super) fn router() -> Router<Arc<AppState>> {
    let editor_body = DefaultBodyLimit::max(EDITOR_BODY_LIMIT);
    let autosave_body = DefaultBodyLimit::max(AUTOSAVE_MAX_BYTES);
    Router::new()
        .route("/", get(list))
        .route(
            "/new",
            get(form::new_form).post(save::create).layer(editor_body),
        )
        .route(
            "/items/{id}",
            get(form::edit_form).post(save::update).layer(editor_body),
        )
        .route("/preview", post(form::preview))
        .route("/items/{id}/delete", post(save::delete))
        .route("/items/{id}/related", post(save::set_related))
        .route("/items/{id}/notes", post(save::add_note))
        .route("/items/{id}/compare", get(history::compare))
        .route("/items/{id}/restore", post(history::restore))
        .route(
            "/new/autosave",
            post(autosave::autosave_new).layer(autosave_body),
        )
        .route(
            "/items/{id}/autosave",
            post(autosave::autosave_item).layer(autosave_body),
        )
        .route("/new/autosave/discard", post(autosave::discard_new))
        .route("/items/{id}/autosave/discard", post(autosave::discard_item))
}

/// The content list: every item of every status, filtered, searched, newest change first.
async fn list(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Query(params): Query<Fields>,
) -> Result<Response, DeskError> {
    let param = |k: &str| params.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    let page: u32 = match param("page").map(str::parse::<u32>) {
        None => 1,
        Some(Ok(n)) if n >= 1 => n,
        Some(_) => {
            return Err(DeskError::BadRequest {
                status: StatusCode::BAD_REQUEST,
                message: "The page number must be a whole number from 1.".to_owned(),
            });
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
        published_or_written_by: (!staff.role().may(Action::ViewAllItems))
            .then(|| staff.account().email.clone()),
        limit: DESK_PAGE_SIZE,
        offset: (page - 1).saturating_mul(DESK_PAGE_SIZE),
    };
    let (items, total) = state.newsroom.desk_items(&query).await?;
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
    Ok(render(
        &state,
        "desk/items.html",
        StatusCode::OK,
        context! {
            site_name => state.config().site.name.clone(),
            session => val(staff.view()),
            rows => rows,
            total => total,
            pager => val(pager),
            filters => val(params.clone()),
            statuses => ["draft", "in_review", "scheduled", "published", "unpublished"],
            sections => val(sections.iter().map(|s| (s.slug.clone(), s.name.clone())).collect::<Vec<_>>()),
            languages => state.config().site.languages.clone(),
        },
    ))
}
