//! Comments on the site. The story page (cached for everyone) shows the first page of its
//! threads; the discussion page `/comments/{item}` (never cached, personal) carries the
//! forms: post, reply, like, report, edit within the window, delete one's own, sort and
//! page. Every form needs the reader's session token; a reader who is not signed in is sent
//! to sign-in and back. With JavaScript, posting answers JSON and the page does not reload.

use std::sync::Arc;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use minijinja::context;
use newsdesk_core::comment::CommentSort;
use newsdesk_core::reader::ReaderSession;
use newsdesk_services::ServiceError;
use newsdesk_services::accounts::random_token;
use newsdesk_services::comments::{CommentNode, Thread};

use crate::AppState;
use crate::client::ClientAddress;
use crate::forms::{
    Fields, field, internal, no_store, render, same_secret, see_other, urlencode, val,
};
use crate::site::error_page::not_found_page;
use crate::views::{CommentView, ItemView, PagerView, SiteView, thread_views};

fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

pub(crate) fn discussion_url(item_id: i64) -> String {
    format!("/comments/{item_id}")
}

fn sign_in_to(here: &str) -> Response {
    see_other(&format!("/account/sign-in?next={}", urlencode(here)))
}

/// The discussion page: threads, the reader's forms, sorting and pages.
pub async fn discussion(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(item_id): Path<i64>,
    Query(query): Query<Fields>,
) -> Response {
    let session = match state.reader_session(&headers).await {
        Ok(s) => s,
        Err(e) => return no_store(internal(e), "comments"),
    };
    let response = discussion_page(
        &state,
        session.as_ref(),
        item_id,
        &query,
        StatusCode::OK,
        None,
    )
    .await;
    no_store(response, "comments")
}

async fn discussion_page(
    state: &AppState,
    session: Option<&ReaderSession>,
    item_id: i64,
    query: &Fields,
    status: StatusCode,
    error: Option<String>,
) -> Response {
    let now = Timestamp::now();
    let item = match state.newsroom.item_by_id(item_id, false).await {
        Ok(Some(item)) => item,
        Ok(None) => return not_found_page(state),
        Err(e) => return internal(e),
    };
    let commenting = match state.newsroom.commenting(&item, now).await {
        Ok(c) => c,
        Err(e) => return internal(e),
    };
    let sort = CommentSort::parse(field(query, "sort")).unwrap_or_default();
    let page = field(query, "page").parse::<u32>().unwrap_or(1).max(1);
    let viewer = session.map(|s| s.reader.id);
    let (nodes, total, pager) = match field(query, "thread").parse::<i64>() {
        Ok(root) => match state.newsroom.subthread(root, viewer).await {
            // A thread is shown under its own story only.
            Ok(node) if node.comment.item_id != item_id => {
                return not_found_page(state);
            }
            Ok(node) => {
                let thread = Thread {
                    nodes: vec![node],
                    total: 0,
                    page: 1,
                    pages: 1,
                };
                (thread_views(&state.config(), &thread, viewer), None, None)
            }
            Err(ServiceError::NotFound(_)) => return not_found_page(state),
            Err(e) => return internal(e),
        },
        Err(_) => match state.newsroom.thread(item_id, sort, page, viewer).await {
            Ok(thread) => {
                let base = format!("{}?sort={}", discussion_url(item_id), sort.as_str());
                let pager = PagerView::new(&base, thread.page, thread.pages);
                (
                    thread_views(&state.config(), &thread, viewer),
                    Some(thread.total),
                    Some(pager),
                )
            }
            Err(e) => return internal(e),
        },
    };
    let config = state.config();
    let sections = state.sections();
    let lang = item.language.clone();
    let zone = config.time_zone();
    let item_view = ItemView::new(&config, &sections, &zone, &item);
    let here = format!("{}?sort={}", discussion_url(item_id), sort.as_str());
    let key = match random_token() {
        Ok(k) => k,
        Err(e) => return internal(e),
    };
    let reply_to = field(query, "reply").parse::<i64>().ok();
    render(
        state,
        "comments.html",
        status,
        context! {
            site => val(SiteView::new(&config, &sections, &state.base_url, &lang, Some(&item.section), Timestamp::now())),
            t => val(&*state.theme.strings(&lang)),
            meta => context! {
                title => format!("Comments: {} | {}", item_view.headline, config.site.name),
                description => item_view.teaser.clone(),
                canonical => "",
                kind => "website",
            },
            item => val(item_view),
            item_id => item_id,
            comments => val(nodes),
            total => total,
            pager => pager.map(val),
            sort => sort.as_str(),
            sorts => [("newest", "Newest"), ("oldest", "Oldest"), ("liked", "Most liked")],
            closed => commenting.closed,
            reader => session.map(|s| context! {
                name => s.reader.display_name.clone(),
                verified => s.reader.verified,
                csrf => s.csrf_token.clone(),
            }),
            sign_in_url => format!("/account/sign-in?next={}", urlencode(&here)),
            key => key,
            reply_to => reply_to,
            error => error,
            notice => match field(query, "posted") {
                "held" => Some("Thanks. Your comment waits for a moderator before others can see it."),
                "" => None,
                _ => Some("Your comment is published."),
            },
        },
    )
}

/// The signed-in reader for a comment form, with the form's token checked.
async fn reader_for_form(
    state: &AppState,
    headers: &HeaderMap,
    form: &Fields,
    back: &str,
) -> Result<ReaderSession, Response> {
    match state.reader_session(headers).await {
        Ok(Some(session)) if same_secret(&session.csrf_token, field(form, "csrf")) => Ok(session),
        Ok(Some(_)) => Err((
            StatusCode::FORBIDDEN,
            "This form has expired. Go back, reload the page and send it again.",
        )
            .into_response()),
        Ok(None) => Err(sign_in_to(back)),
        Err(e) => Err(internal(e)),
    }
}

fn refusal_status(e: &ServiceError) -> Option<StatusCode> {
    Some(match e {
        ServiceError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
        ServiceError::Refused(_) => StatusCode::UNPROCESSABLE_ENTITY,
        ServiceError::Throttled { .. } | ServiceError::Limited { .. } => {
            StatusCode::TOO_MANY_REQUESTS
        }
        ServiceError::Forbidden(_) => StatusCode::FORBIDDEN,
        ServiceError::NotFound(_) => StatusCode::NOT_FOUND,
        _ => return None,
    })
}

/// Posts a comment or a reply (`parent`).
pub async fn post(
    State(state): State<Arc<AppState>>,
    client: ClientAddress,
    headers: HeaderMap,
    Path(item_id): Path<i64>,
    Form(form): Form<Fields>,
) -> Response {
    let back = discussion_url(item_id);
    let session = match reader_for_form(&state, &headers, &form, &back).await {
        Ok(s) => s,
        Err(r) => return no_store(r, "comments"),
    };
    let parent = field(&form, "parent").parse::<i64>().ok();
    let key = Some(field(&form, "key")).filter(|k| !k.is_empty());
    let outcome = state
        .newsroom
        .post_comment(
            &session.reader,
            item_id,
            parent,
            field(&form, "body"),
            &client.ip.to_string(),
            key,
            Timestamp::now(),
        )
        .await;
    let json = wants_json(&headers);
    let response = match outcome {
        Ok(posted) => {
            let held = !posted.held_because.is_empty();
            if json {
                let zone = state.config().time_zone();
                let node = CommentNode {
                    comment: posted.comment.clone(),
                    depth: 0,
                    replies: Vec::new(),
                    continues: false,
                };
                let view = CommentView::new(&node, &zone, Some(session.reader.id), &|_| true);
                let html = state
                    .theme
                    .render("comment_one.html", context! { c => val(view) })
                    .unwrap_or_default();
                (
                    StatusCode::CREATED,
                    axum::Json(serde_json::json!({
                        "id": posted.comment.id,
                        "held": held,
                        "html": html,
                    })),
                )
                    .into_response()
            } else {
                let posted_as = if held { "held" } else { "published" };
                see_other(&format!("{back}?posted={posted_as}#c{}", posted.comment.id))
            }
        }
        Err(e) => match refusal_status(&e) {
            Some(status) if json => {
                let mut r = (
                    status,
                    axum::Json(serde_json::json!({ "error": e.to_string() })),
                )
                    .into_response();
                retry_after(&mut r, &e);
                r
            }
            Some(status) => {
                let mut query = Fields::new();
                if let Some(p) = parent {
                    query.insert("reply".into(), p.to_string());
                }
                let mut r = discussion_page(
                    &state,
                    Some(&session),
                    item_id,
                    &query,
                    status,
                    Some(e.to_string()),
                )
                .await;
                retry_after(&mut r, &e);
                r
            }
            None => internal(e),
        },
    };
    no_store(response, "comments")
}

fn retry_after(response: &mut Response, e: &ServiceError) {
    if let Some(retry_after_secs) = e.retry_after()
        && let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string())
    {
        response.headers_mut().insert(header::RETRY_AFTER, v);
    }
}

/// Like, report, edit or delete one comment (`action` from the path).
pub async fn act(
    State(state): State<Arc<AppState>>,
    client: ClientAddress,
    headers: HeaderMap,
    Path((comment_id, action)): Path<(i64, String)>,
    Form(form): Form<Fields>,
) -> Response {
    let item_id = match state.newsroom.story_of_comment(comment_id).await {
        Ok(Some(item_id)) => item_id,
        Ok(None) => return no_store(not_found_page(&state), "comments"),
        Err(e) => return no_store(internal(e), "comments"),
    };
    let back = discussion_url(item_id);
    let session = match reader_for_form(&state, &headers, &form, &back).await {
        Ok(s) => s,
        Err(r) => return no_store(r, "comments"),
    };
    let now = Timestamp::now();
    let reader = &session.reader;
    let outcome: Result<&str, ServiceError> = match action.as_str() {
        "like" => state
            .newsroom
            .toggle_like(reader, comment_id, now)
            .await
            .map(|_| "liked"),
        "report" => state
            .newsroom
            .report_comment(reader, comment_id, field(&form, "reason"), now)
            .await
            .map(|_| "reported"),
        "edit" => state
            .newsroom
            .edit_comment(
                reader,
                comment_id,
                field(&form, "body"),
                &client.ip.to_string(),
                now,
            )
            .await
            .map(|p| {
                if p.held_because.is_empty() {
                    "edited"
                } else {
                    "held"
                }
            }),
        "delete" => state
            .newsroom
            .delete_own_comment(reader, comment_id)
            .await
            .map(|()| "deleted"),
        _ => return no_store(not_found_page(&state), "comments"),
    };
    let response = match outcome {
        Ok(done) => see_other(&format!("{back}?done={done}#c{comment_id}")),
        Err(e) => match refusal_status(&e) {
            Some(status) => {
                let mut r = discussion_page(
                    &state,
                    Some(&session),
                    item_id,
                    &Fields::new(),
                    status,
                    Some(e.to_string()),
                )
                .await;
                retry_after(&mut r, &e);
                r
            }
            None => internal(e),
        },
    };
    no_store(response, "comments")
}
