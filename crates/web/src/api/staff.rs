//! Writing items with a staff token: create, update, submit, schedule, publish, unpublish.
//! Every write goes through the desk's own service (`save_from_desk`), so the workflow's role
//! checks, the version check, revisions and the audit log are the desk's, not a copy.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use jiff::Timestamp;
use newsdesk_core::{HeroImage, ItemInput, Source as CoreSource};
use newsdesk_services::editing::DeskAction;
use serde::Deserialize;
use utoipa::ToSchema;

use super::auth::Caller;
use super::error::{ApiError, BodyRefusals, ErrorBody, Refusals};
use super::extract::ApiJson;
use super::model::{ItemDetail, Kind};
use super::{check_id, check_slug, linker, private_json};
use crate::AppState;

/// What the write does to the item's status: the desk's buttons.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum WriteAction {
    /// Keep the status (a new item is a draft); on a published item, an edit of the live item.
    #[default]
    Save,
    /// Send for review.
    Submit,
    Publish,
    /// Publish at `published_at`, which must be in the future.
    Schedule,
    Unpublish,
    /// Back to draft.
    Draft,
}

impl From<WriteAction> for DeskAction {
    fn from(a: WriteAction) -> Self {
        match a {
            WriteAction::Save => DeskAction::Save,
            WriteAction::Submit => DeskAction::Submit,
            WriteAction::Publish => DeskAction::Publish,
            WriteAction::Schedule => DeskAction::Schedule,
            WriteAction::Unpublish => DeskAction::Unpublish,
            WriteAction::Draft => DeskAction::ToDraft,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SourceIn {
    pub name: String,
    pub url: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HeroIn {
    /// A path in the media store, such as one from the desk's media library.
    pub path: String,
    pub alt: String,
    #[serde(default)]
    pub caption: String,
    #[serde(default)]
    pub credit: String,
    #[serde(default, deserialize_with = "super::extract::whole::u32_opt")]
    pub width: Option<u32>,
    #[serde(default, deserialize_with = "super::extract::whole::u32_opt")]
    pub height: Option<u32>,
}

/// A whole item as written: an update replaces every field, as the desk's form does.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemWrite {
    pub kind: Kind,
    /// The edition (one of the site's languages).
    pub language: String,
    /// A section's slug.
    #[schema(pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 100)]
    pub section: String,
    /// Made from the headline when left out; never changes once published.
    #[schema(pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 120)]
    pub slug: Option<String>,
    /// Required for stories; briefs may do without.
    pub headline: Option<String>,
    pub standfirst: Option<String>,
    /// Markdown.
    #[serde(default)]
    pub body: String,
    /// Tag names or slugs; new tags are made.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Author slugs.
    #[serde(default)]
    pub authors: Vec<String>,
    #[serde(default)]
    pub sources: Vec<SourceIn>,
    pub hero: Option<HeroIn>,
    #[serde(default)]
    pub breaking: bool,
    /// Items that are translations of each other share a group.
    pub translation_group: Option<String>,
    /// For `schedule`: when to publish.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub published_at: Option<Timestamp>,
    /// Updates: the `version` the change was made to; a stale one is refused (409).
    #[serde(default, deserialize_with = "super::extract::whole::i64_opt")]
    pub version: Option<i64>,
    #[serde(default)]
    pub action: WriteAction,
}

impl ItemWrite {
    fn input(&self) -> ItemInput {
        ItemInput {
            kind: Some(self.kind.into()),
            language: Some(self.language.clone()),
            section: Some(self.section.clone()),
            slug: self.slug.clone(),
            headline: self.headline.clone(),
            standfirst: self.standfirst.clone(),
            body: self.body.clone(),
            tags: self.tags.clone(),
            authors: self.authors.clone(),
            sources: self
                .sources
                .iter()
                .map(|s| CoreSource {
                    name: s.name.clone(),
                    url: s.url.clone(),
                })
                .collect(),
            hero: self.hero.as_ref().map(|h| HeroImage {
                path: h.path.clone(),
                caption: h.caption.clone(),
                credit: h.credit.clone(),
                alt: h.alt.clone(),
                width: h.width,
                height: h.height,
            }),
            breaking: self.breaking,
            status: None,
            translation_group: self.translation_group.clone(),
            published_at: self.published_at,
            updated_at: None,
        }
    }
}

async fn save(
    state: &AppState,
    caller: &Caller,
    id: Option<i64>,
    write: &ItemWrite,
) -> Result<ItemDetail, ApiError> {
    let account = caller.staff()?;
    // What the document constrains is refused here with 400, before any rule of the newsroom.
    check_slug("section", &write.section, newsdesk_core::item::LABEL_MAX)?;
    if let Some(slug) = &write.slug {
        check_slug("slug", slug, newsdesk_core::item::SLUG_MAX)?;
    }
    let saved = state
        .newsroom
        .save_from_desk(
            account,
            id,
            &write.input(),
            write.version,
            write.action.into(),
            Timestamp::now(),
        )
        .await?;
    let config = state.config();
    let counts = state.newsroom.comment_counts(&[saved.item.id]).await?;
    Ok(linker(state, &config).detail(
        &saved.item,
        counts.get(&saved.item.id).copied().unwrap_or(0),
    ))
}

/// Creates an item with a staff token, as the token's account, within the token's role.
#[utoipa::path(
    post,
    path = "/api/v1/items",
    tag = "staff",
    request_body = ItemWrite,
    responses(
        (status = 201, body = ItemDetail),
        (status = 403, description = "The token's role may not do this", body = ErrorBody),
        (status = 409, body = ErrorBody),
        (status = 422, description = "A field breaks a rule; `field` names it", body = ErrorBody),
        Refusals,
        BodyRefusals,
    ),
    security(("bearer" = []))
)]
pub async fn create(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiJson(write): ApiJson<ItemWrite>,
) -> Result<Response, ApiError> {
    let detail = save(&state, &caller, None, &write).await?;
    Ok(private_json(StatusCode::CREATED, &detail))
}

/// Replaces an item's fields and applies `action`, refused when `version` is stale.
#[utoipa::path(
    put,
    path = "/api/v1/items/{id}",
    tag = "staff",
    params(("id" = i64, Path, minimum = 1)),
    request_body = ItemWrite,
    responses(
        (status = 200, body = ItemDetail),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "Changed by someone else since `version`, or a transition the workflow refuses", body = ErrorBody),
        (status = 422, body = ErrorBody),
        Refusals,
        BodyRefusals,
    ),
    security(("bearer" = []))
)]
pub async fn update(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(write): ApiJson<ItemWrite>,
) -> Result<Response, ApiError> {
    let id = check_id("id", &id)?;
    let detail = save(&state, &caller, Some(id), &write).await?;
    Ok(private_json(StatusCode::OK, &detail))
}
