//! Comment moderation in the desk, for moderators and editors: the queues (held, reported,
//! rejected) with approve, reject with a reason the reader sees, and feature; a reader's
//! history with suspend and ban; a story's own rules (closed, held for review). Every
//! decision is audited in the store's transaction.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use minijinja::context;
use newsdesk_core::Action;
use newsdesk_core::account::Session;
use newsdesk_core::comment::{Decision, Queue};
use newsdesk_core::moderation::{HoldReason, render_comment};
use newsdesk_core::reader::ReaderStatus;
use newsdesk_services::ServiceError;
use newsdesk_services::comments::COMMENTS_PAGE_SIZE;

use crate::AppState;
use crate::desk::{
    csrf_refused, desk_session, internal, no_store, render, require, same_secret, see_other, val,
};
use crate::views::{PagerView, TimeView};

type Fields = HashMap<String, String>;

fn field<'a>(form: &'a Fields, name: &str) -> &'a str {
    form.get(name).map(String::as_str).unwrap_or_default()
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
    session: &Session,
    query: &Fields,
    status: StatusCode,
    error: Option<String>,
) -> Response {
    let queue = queue_of(field(query, "queue"));
    let page = field(query, "page").parse::<u32>().unwrap_or(1).max(1);
    let (entries, total) = match state
        .newsroom
        .moderation_queue(&session.account, queue, page)
        .await
    {
        Ok(found) => found,
        Err(e) => return internal(e),
    };
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
    render(
        state,
        "desk/comments.html",
        status,
        context! {
            site_name => state.config().site.name.clone(),
            session => val(desk_session(session)),
            rows => rows,
            total => total,
            queue => queue_name(queue),
            pager => val(PagerView::new(&base, page.min(pages), pages)),
            error => error,
            done => field(query, "done") == "1",
        },
    )
}

pub async fn queue(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(query): Query<Fields>,
) -> Response {
    let response = match require(&state, &headers, Action::Moderate, "/desk/comments").await {
        Ok(session) => queue_page(&state, &session, &query, StatusCode::OK, None).await,
        Err(r) => r,
    };
    no_store(response, "desk")
}

fn refusal_status(e: &ServiceError) -> Option<StatusCode> {
    Some(match e {
        ServiceError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
        ServiceError::NotFound(_) => StatusCode::NOT_FOUND,
        ServiceError::Forbidden(_) => StatusCode::FORBIDDEN,
        _ => return None,
    })
}

/// The session of a moderation form, with its token checked.
async fn signed(
    state: &AppState,
    headers: &HeaderMap,
    form: &Fields,
    here: &str,
) -> Result<Session, Response> {
    let session = require(state, headers, Action::Moderate, here)
        .await
        .map_err(|r| no_store(r, "desk"))?;
    if !same_secret(&session.csrf_token, field(form, "csrf")) {
        return Err(no_store(csrf_refused(state), "desk"));
    }
    Ok(session)
}

pub async fn decide(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<Fields>,
) -> Response {
    let session = match signed(&state, &headers, &form, "/desk/comments").await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let decision = match field(&form, "decision") {
        "approve" => Decision::Approve,
        "reject" => Decision::Reject(field(&form, "reason").to_owned()),
        "feature" => Decision::Feature(true),
        "unfeature" => Decision::Feature(false),
        _ => {
            let mut query = Fields::new();
            query.insert("queue".into(), field(&form, "queue").to_owned());
            return no_store(
                queue_page(
                    &state,
                    &session,
                    &query,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Some("Choose approve, reject or feature.".into()),
                )
                .await,
                "desk",
            );
        }
    };
    let outcome = state
        .newsroom
        .decide_comment(&session.account, id, &decision, Timestamp::now())
        .await;
    let queue = queue_name(queue_of(field(&form, "queue")));
    let response = match outcome {
        Ok(()) => see_other(&format!("/desk/comments?queue={queue}&done=1")),
        Err(e) => match refusal_status(&e) {
            Some(status) => {
                let mut query = Fields::new();
                query.insert("queue".into(), queue.to_owned());
                queue_page(&state, &session, &query, status, Some(format!("{e}."))).await
            }
            None => internal(e),
        },
    };
    no_store(response, "desk")
}

pub async fn reader(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Response {
    let here = format!("/desk/readers/{id}");
    let session = match require(&state, &headers, Action::Moderate, &here).await {
        Ok(s) => s,
        Err(r) => return no_store(r, "desk"),
    };
    let (reader, comments) = match state.newsroom.reader_history(&session.account, id).await {
        Ok(found) => found,
        Err(ServiceError::NotFound(_)) => return no_store(crate::desk::not_found(&state), "desk"),
        Err(e) => return no_store(internal(e), "desk"),
    };
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
    let response = render(
        &state,
        "desk/reader.html",
        StatusCode::OK,
        context! {
            site_name => state.config().site.name.clone(),
            session => val(desk_session(&session)),
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
    );
    no_store(response, "desk")
}

pub async fn standing(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<Fields>,
) -> Response {
    let here = format!("/desk/readers/{id}");
    let session = match signed(&state, &headers, &form, &here).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let Some(status) = ReaderStatus::parse(field(&form, "status")) else {
        return no_store(
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                "The standing must be active, suspended or banned.",
            )
                .into_response(),
            "desk",
        );
    };
    let response = match state
        .newsroom
        .set_reader_status(&session.account, id, status, Timestamp::now())
        .await
    {
        Ok(()) => see_other(&here),
        Err(ServiceError::NotFound(_)) => crate::desk::not_found(&state),
        Err(e) => internal(e),
    };
    no_store(response, "desk")
}

/// A story's own comment rules, from the editor page.
pub async fn story_rules(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<Fields>,
) -> Response {
    let here = format!("/desk/items/{id}");
    let session = match signed(&state, &headers, &form, &here).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let response = match state
        .newsroom
        .set_story_commenting(
            &session.account,
            id,
            field(&form, "closed") == "yes",
            field(&form, "premoderated") == "yes",
            Timestamp::now(),
        )
        .await
    {
        Ok(()) => see_other(&format!("{here}?saved=1")),
        Err(ServiceError::NotFound(_)) => crate::desk::not_found(&state),
        Err(e) => internal(e),
    };
    no_store(response, "desk")
}

pub(super) fn router() -> axum::Router<Arc<AppState>> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/comments", get(queue))
        .route("/comments/{id}/decide", post(decide))
        .route("/readers/{id}", get(reader))
        .route("/readers/{id}/standing", post(standing))
        .route("/items/{id}/commenting", post(story_rules))
}
