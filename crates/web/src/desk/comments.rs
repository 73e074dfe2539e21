//! Comment moderation in the desk, for moderators and editors: the queues (held, reported,
//! rejected) with approve, reject with a reason the reader sees, and feature; a reader's
//! history with suspend and ban; a story's own rules (closed, held for review). Every
//! decision is audited in the store's transaction.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use jiff::Timestamp;
use minijinja::context;
use newsdesk_core::Action;
use newsdesk_core::comment::{Decision, Queue};
use newsdesk_core::moderation::{HoldReason, render_comment};
use newsdesk_core::reader::ReaderStatus;
use newsdesk_services::comments::COMMENTS_PAGE_SIZE;

use super::{CheckedForm, DeskError, Fields, Staff, field, refusal};
use crate::AppState;
use crate::forms::{render, see_other, val};
use crate::views::{PagerView, TimeView};

pub(super) fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/comments", get(queue))
        .route("/comments/{id}/decide", post(decide))
        .route("/readers/{id}", get(reader))
        .route("/readers/{id}/standing", post(standing))
        .route("/items/{id}/commenting", post(story_rules))
}

fn queue_of(name: &str) -> Queue {
    match name {
        "reported" => Queue::Reported,
        "rejected" => Queue::Rejected,
        _ => Queue::Held,
    }
}

fn queue_name(queue: Queue) -> &'static str {
    match queue {
        Queue::Held => "held",
        Queue::Reported => "reported",
        Queue::Rejected => "rejected",
    }
}

async fn queue_page(
    state: &AppState,
    staff: &Staff,
    query: &Fields,
    status: StatusCode,
    error: Option<String>,
) -> Result<Response, DeskError> {
    let queue = queue_of(field(query, "queue"));
    let page = field(query, "page").parse::<u32>().unwrap_or(1).max(1);
    let (entries, total) = state
        .newsroom
        .moderation_queue(staff.account(), queue, page)
        .await?;
    let zone = state.config().time_zone();
    let rows: Vec<_> = entries
        .iter()
        .map(|q| {
            let c = &q.comment;
            context! {
                id => c.id,
                item_id => c.item_id,
                item => q.item_headline.clone(),
                author => c.author.clone().unwrap_or_else(|| "A former reader".into()),
                reader_id => c.reader_id,
                email => q.reader_email.clone(),
                html => render_comment(&c.body),
                why => HoldReason::decode_all(&c.hold_reasons).iter().map(ToString::to_string).collect::<Vec<_>>(),
                reports => c.reports,
                featured => c.featured,
                reject_reason => c.reject_reason.clone(),
                at => val(TimeView::new(c.created_at, &zone)),
            }
        })
        .collect();
    let pages = total.div_ceil(u64::from(COMMENTS_PAGE_SIZE)).max(1) as u32;
    let base = format!("/desk/comments?queue={}", queue_name(queue));
    Ok(render(
        state,
        "desk/comments.html",
        status,
        context! {
            site_name => state.config().site.name.clone(),
            session => val(staff.view()),
            rows => rows,
            total => total,
            queue => queue_name(queue),
            pager => val(PagerView::new(&base, page.min(pages), pages)),
            error => error,
            done => field(query, "done") == "1",
        },
    ))
}

/// The first page of `queue` again, with why a decision was not taken.
async fn queue_refused(
    state: &AppState,
    staff: &Staff,
    queue: &str,
    status: StatusCode,
    words: String,
) -> Result<Response, DeskError> {
    let query = Fields::from([("queue".to_owned(), queue.to_owned())]);
    queue_page(state, staff, &query, status, Some(words)).await
}

async fn queue(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Query(query): Query<Fields>,
) -> Result<Response, DeskError> {
    staff.may(Action::Moderate)?;
    queue_page(&state, &staff, &query, StatusCode::OK, None).await
}

async fn decide(
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
    CheckedForm { staff, form }: CheckedForm<Fields>,
) -> Result<Response, DeskError> {
    staff.may(Action::Moderate)?;
    let decision = match field(&form, "decision") {
        "approve" => Decision::Approve,
        "reject" => Decision::Reject(field(&form, "reason").to_owned()),
        "feature" => Decision::Feature(true),
        "unfeature" => Decision::Feature(false),
        _ => {
            return queue_refused(
                &state,
                &staff,
                field(&form, "queue"),
                StatusCode::UNPROCESSABLE_ENTITY,
                "Choose approve, reject or feature.".to_owned(),
            )
            .await;
        }
    };
    let outcome = state
        .newsroom
        .decide_comment(staff.account(), id, &decision, Timestamp::now())
        .await;
    let queue = queue_name(queue_of(field(&form, "queue")));
    match outcome {
        Ok(()) => Ok(see_other(&format!("/desk/comments?queue={queue}&done=1"))),
        Err(e) => {
            let (status, words) = refusal(e)?;
            queue_refused(&state, &staff, queue, status, words).await
        }
    }
}

async fn reader(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(id): Path<i64>,
) -> Result<Response, DeskError> {
    staff.may(Action::Moderate)?;
    let (reader, comments) = state.newsroom.reader_history(staff.account(), id).await?;
    let zone = state.config().time_zone();
    let rows: Vec<_> = comments
        .iter()
        .map(|c| {
            context! {
                id => c.id,
                item_id => c.item_id,
                status => c.status.as_str(),
                html => render_comment(&c.body),
                reject_reason => c.reject_reason.clone(),
                at => val(TimeView::new(c.created_at, &zone)),
            }
        })
        .collect();
    Ok(render(
        &state,
        "desk/reader.html",
        StatusCode::OK,
        context! {
            site_name => state.config().site.name.clone(),
            session => val(staff.view()),
            reader => context! {
                id => reader.id,
                name => reader.display_name.clone(),
                email => reader.email.clone(),
                verified => reader.verified,
                status => reader.status.as_str(),
                since => val(TimeView::new(reader.created_at, &zone)),
            },
            comments => rows,
            statuses => ["active", "suspended", "banned"],
        },
    ))
}

async fn standing(
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
    CheckedForm { staff, form }: CheckedForm<Fields>,
) -> Result<Response, DeskError> {
    staff.may(Action::Moderate)?;
    let status =
        ReaderStatus::parse(field(&form, "status")).ok_or_else(|| DeskError::BadRequest {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            message: "The standing must be active, suspended or banned.".to_owned(),
        })?;
    state
        .newsroom
        .set_reader_status(staff.account(), id, status, Timestamp::now())
        .await?;
    Ok(see_other(&format!("/desk/readers/{id}")))
}

/// A story's own comment rules, from the editor page.
async fn story_rules(
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
    CheckedForm { staff, form }: CheckedForm<Fields>,
) -> Result<Response, DeskError> {
    staff.may(Action::Moderate)?;
    state
        .newsroom
        .set_story_commenting(
            staff.account(),
            id,
            field(&form, "closed") == "yes",
            field(&form, "premoderated") == "yes",
            Timestamp::now(),
        )
        .await?;
    Ok(see_other(&format!("/desk/items/{id}?saved=1")))
}
