//! Readers through the API: signing in for a token, and comments — reading an item's threads,
//! posting, replying, liking, reporting, editing and deleting — by the same services, rules
//! and moderation pipeline as the site's forms.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use newsdesk_core::comment::CommentSort;
use newsdesk_services::api_tokens::{READER_PREFIX, TokenHolder};
use newsdesk_services::comments::{COMMENTS_MAX_PAGE, CommentNode};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::Caller;
use super::error::{ApiError, BodyRefusals, ErrorBody, NotModified, Refusals};
use super::extract::{ApiJson, ApiQuery};
use super::model::{CommentOut, CommentPage, edit_window};
use super::{check_id, private_json, respond};
use crate::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    #[schema(max_length = 254)]
    pub email: String,
    #[schema(max_length = 256)]
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReaderOut {
    pub id: i64,
    pub display_name: String,
    /// Only readers who confirmed their address may comment.
    pub verified: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SignedIn {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: Timestamp,
    pub reader: ReaderOut,
}

/// Signs a reader in (an account made on the site) and hands out a token for commenting.
/// Failed attempts are throttled per account and per address, as on the site.
#[utoipa::path(
    post,
    path = "/api/v1/auth/sign-in",
    tag = "readers",
    request_body = SignIn,
    responses(
        (status = 200, body = SignedIn),
        (status = 503, body = ErrorBody, description = "Every turn at checking passwords is taken; `Retry-After` says when to try again"),
        Refusals,
        BodyRefusals,
    ),
    security(())
)]
pub async fn sign_in(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiJson(input): ApiJson<SignIn>,
) -> Result<Response, ApiError> {
    let now = Timestamp::now();
    let signed = state
        .newsroom
        .reader_sign_in(&input.email, &input.password, &caller.address, now)
        .await?;
    let reader = signed.session.reader;
    let body = SignedIn {
        token: format!("{READER_PREFIX}{}", signed.token),
        expires_at: now + newsdesk_services::readers::READER_SESSION_LIFETIME,
        reader: ReaderOut {
            id: reader.id,
            display_name: reader.display_name,
            verified: reader.verified,
        },
    };
    Ok(private_json(StatusCode::OK, &body))
}

/// Ends the reader's token.
#[utoipa::path(
    post,
    path = "/api/v1/auth/sign-out",
    tag = "readers",
    responses(
        (status = 204, description = "Signed out"),
        (status = 403, body = ErrorBody),
        Refusals,
    ),
    security(("bearer" = []))
)]
pub async fn sign_out(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    caller.reader()?;
    let token = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().split_once(' '))
        .and_then(|(_, t)| t.trim().strip_prefix(READER_PREFIX))
        .ok_or_else(|| {
            ApiError::unauthorized("Send the reader's token as `Authorization: Bearer <token>`.")
        })?;
    state.newsroom.reader_sign_out(token).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    /// `reader`, `staff` or `read_key`.
    pub kind: String,
    pub id: i64,
    pub name: String,
    /// Staff: the role the token acts in.
    pub role: Option<String>,
}

/// Who the token belongs to.
#[utoipa::path(
    get,
    path = "/api/v1/me",
    tag = "readers",
    responses(
        (status = 200, body = Me),
        Refusals,
    ),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn me(caller: Caller) -> Result<Response, ApiError> {
    let me = match &caller.holder {
        Some(TokenHolder::Reader(r)) => Me {
            kind: "reader".into(),
            id: r.id,
            name: r.display_name.clone(),
            role: None,
        },
        Some(TokenHolder::Staff { account, .. }) => Me {
            kind: "staff".into(),
            id: account.id,
            name: account.name.clone(),
            role: Some(account.role.as_str().into()),
        },
        Some(TokenHolder::ReadKey { token_id, name }) => Me {
            kind: "read_key".into(),
            id: *token_id,
            name: name.clone(),
            role: None,
        },
        None => {
            return Err(ApiError::unauthorized(
                "Send a token as `Authorization: Bearer <token>`.",
            ));
        }
    };
    Ok(private_json(StatusCode::OK, &me))
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Order {
    Newest,
    Oldest,
    Liked,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ThreadParams {
    #[param(inline)]
    pub sort: Option<Order>,
    #[param(minimum = 1, maximum = 500)]
    pub page: Option<u32>,
}

/// One page of an item's comments: featured first, then in the chosen order, replies nested.
#[utoipa::path(
    get,
    path = "/api/v1/items/{id}/comments",
    tag = "comments",
    params(("id" = i64, Path, minimum = 1), ThreadParams),
    responses(
        (status = 200, body = CommentPage),
        (status = 404, body = ErrorBody),
        Refusals,
        NotModified,
    ),
    security((), ("bearer" = []), ("api_key" = []))
)]
pub async fn thread(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    ApiQuery(params): ApiQuery<ThreadParams>,
) -> Result<Response, ApiError> {
    let id = check_id("id", &id)?;
    let page = params.page.unwrap_or(1);
    if !(1..=COMMENTS_MAX_PAGE).contains(&page) {
        return Err(ApiError::invalid(
            "page",
            format!("`page` must be between 1 and {COMMENTS_MAX_PAGE}."),
        ));
    }
    let item = state
        .newsroom
        .item_by_id(id, false)
        .await?
        .ok_or_else(|| ApiError::not_found("item"))?;
    let sort = match params.sort {
        Some(Order::Oldest) => CommentSort::Oldest,
        Some(Order::Liked) => CommentSort::MostLiked,
        _ => CommentSort::Newest,
    };
    let viewer = caller.reader_id();
    let thread = state.newsroom.thread(item.id, sort, page, viewer).await?;
    let open = !state
        .newsroom
        .commenting(&item, Timestamp::now())
        .await?
        .closed;
    let config = state.config();
    let editable = edit_window(&config);
    let body = CommentPage {
        total: thread.total,
        page: thread.page,
        pages: thread.pages,
        open,
        comments: thread
            .nodes
            .iter()
            .map(|n| CommentOut::new(n, viewer, &editable))
            .collect(),
    };
    respond(&state, &caller, &headers, &body).await
}

/// One comment with its replies (deep threads continue here).
#[utoipa::path(
    get,
    path = "/api/v1/comments/{id}",
    tag = "comments",
    params(("id" = i64, Path, minimum = 1)),
    responses(
        (status = 200, body = CommentOut),
        (status = 404, body = ErrorBody),
        Refusals,
        NotModified,
    ),
    security((), ("bearer" = []), ("api_key" = []))
)]
pub async fn comment(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = check_id("id", &id)?;
    let viewer = caller.reader_id();
    let node = state.newsroom.subthread(id, viewer).await?;
    let config = state.config();
    let body = CommentOut::new(&node, viewer, &edit_window(&config));
    respond(&state, &caller, &headers, &body).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewComment {
    /// Plain text; blank lines separate paragraphs.
    #[schema(min_length = 1)]
    pub body: String,
    /// The comment this replies to.
    #[schema(minimum = 1)]
    #[serde(default, deserialize_with = "super::extract::whole::i64_opt")]
    pub parent_id: Option<i64>,
    /// A random key the app makes per comment: sending the same one twice posts once.
    #[schema(max_length = 64)]
    pub client_key: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Posted {
    pub comment: CommentOut,
    /// Why it waits for a moderator, in words; empty when it is published.
    pub held_because: Vec<String>,
}

fn posted(p: newsdesk_services::comments::Posted, reader: i64) -> Posted {
    let node = CommentNode {
        comment: p.comment,
        depth: 0,
        replies: Vec::new(),
        continues: false,
    };
    Posted {
        comment: CommentOut::new(&node, Some(reader), &|_| true),
        held_because: p.held_because,
    }
}

/// Posts a comment or a reply as the signed-in reader, through the moderation pipeline.
#[utoipa::path(
    post,
    path = "/api/v1/items/{id}/comments",
    tag = "comments",
    params(("id" = i64, Path, minimum = 1)),
    request_body = NewComment,
    responses(
        (status = 201, description = "Published, or held for a moderator (see `held_because`)", body = Posted),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, description = "Refused: closed, too long, a repeat, …", body = ErrorBody),
        Refusals,
        BodyRefusals,
    ),
    security(("bearer" = []))
)]
pub async fn post(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<NewComment>,
) -> Result<Response, ApiError> {
    let id = check_id("id", &id)?;
    let reader = caller.reader()?;
    if let Some(parent) = input.parent_id {
        check_id("parent_id", &parent.to_string())?;
    }
    if input
        .client_key
        .as_ref()
        .is_some_and(|k| k.chars().count() > newsdesk_services::comments::CLIENT_KEY_MAX)
    {
        return Err(ApiError::invalid(
            "client_key",
            format!(
                "`client_key` can be at most {} characters.",
                newsdesk_services::comments::CLIENT_KEY_MAX
            ),
        ));
    }
    let done = state
        .newsroom
        .post_comment(
            reader,
            id,
            input.parent_id,
            &input.body,
            &caller.address,
            input.client_key.as_deref().filter(|k| !k.is_empty()),
            Timestamp::now(),
        )
        .await?;
    Ok(private_json(StatusCode::CREATED, &posted(done, reader.id)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditComment {
    #[schema(min_length = 1)]
    pub body: String,
}

/// Edits the reader's own comment within the edit window; it goes through moderation again.
#[utoipa::path(
    patch,
    path = "/api/v1/comments/{id}",
    tag = "comments",
    params(("id" = i64, Path, minimum = 1)),
    request_body = EditComment,
    responses(
        (status = 200, body = Posted),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
        Refusals,
        BodyRefusals,
    ),
    security(("bearer" = []))
)]
pub async fn edit(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<EditComment>,
) -> Result<Response, ApiError> {
    let id = check_id("id", &id)?;
    let reader = caller.reader()?;
    let done = state
        .newsroom
        .edit_comment(reader, id, &input.body, &caller.address, Timestamp::now())
        .await?;
    Ok(private_json(StatusCode::OK, &posted(done, reader.id)))
}

/// Deletes the reader's own comment; replies keep their place under a marker.
#[utoipa::path(
    delete,
    path = "/api/v1/comments/{id}",
    tag = "comments",
    params(("id" = i64, Path, minimum = 1)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
        Refusals,
    ),
    security(("bearer" = []))
)]
pub async fn delete(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = check_id("id", &id)?;
    let reader = caller.reader()?;
    state.newsroom.delete_own_comment(reader, id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Liked {
    /// Whether the reader likes it now (liking again takes the like back).
    pub liked: bool,
}

/// Likes a comment, or takes the like back.
#[utoipa::path(
    post,
    path = "/api/v1/comments/{id}/like",
    tag = "comments",
    params(("id" = i64, Path, minimum = 1)),
    responses(
        (status = 200, body = Liked),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
        Refusals,
    ),
    security(("bearer" = []))
)]
pub async fn like(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = check_id("id", &id)?;
    let reader = caller.reader()?;
    let liked = state
        .newsroom
        .toggle_like(reader, id, Timestamp::now())
        .await?;
    Ok(private_json(StatusCode::OK, &Liked { liked }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Report {
    /// Why it breaks the rules, in a line.
    #[schema(min_length = 1, max_length = 300)]
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Reported {
    /// Reports the comment has now.
    pub reports: u32,
}

/// Reports a comment to the moderators.
#[utoipa::path(
    post,
    path = "/api/v1/comments/{id}/report",
    tag = "comments",
    params(("id" = i64, Path, minimum = 1)),
    request_body = Report,
    responses(
        (status = 200, body = Reported),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
        Refusals,
        BodyRefusals,
    ),
    security(("bearer" = []))
)]
pub async fn report(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<Report>,
) -> Result<Response, ApiError> {
    let id = check_id("id", &id)?;
    let reader = caller.reader()?;
    let reports = state
        .newsroom
        .report_comment(reader, id, &input.reason, Timestamp::now())
        .await?;
    Ok(private_json(StatusCode::OK, &Reported { reports }))
}
