//! The editor's page: the new and edit forms of stories and briefs, with the buttons this
//! person may press, the offer of their autosave, the library picker, and the live preview.
//! Plain HTML forms that work without JavaScript; the buttons shown follow the role and the
//! item's state, and the server decides again on every save.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use minijinja::context;
use newsdesk_core::{Action, Item, ItemStatus, Role, workflow};
use newsdesk_services::ServiceError;
use newsdesk_services::editing::DeskAction;
use newsdesk_services::history::ChangesSince;
use serde::{Deserialize, Serialize};

use super::fields::ItemFields;
use crate::desk::media::ImageCard;
use crate::desk::{CheckedForm, DeskError, Staff};
use crate::forms::{render, val};
use crate::views::TimeView;
use crate::{AppState, paths};

/// Library images offered in the editor's picker; the library page has the rest.
const LIBRARY_PICKER_SIZE: usize = 12;

#[derive(Serialize)]
struct Button {
    action: &'static str,
    label: &'static str,
}

/// The buttons this person may press on an item in this state.
fn buttons(role: Role, own: bool, status: Option<ItemStatus>) -> Vec<Button> {
    let all = [
        (DeskAction::Save, "save", "Save"),
        (DeskAction::Submit, "submit", "Submit for review"),
        (DeskAction::Schedule, "schedule", "Schedule"),
        (DeskAction::Publish, "publish", "Publish now"),
        (DeskAction::Unpublish, "unpublish", "Unpublish"),
        (DeskAction::ToDraft, "draft", "Send back to draft"),
    ];
    all.into_iter()
        .filter(|(action, _, _)| {
            let to = action.target(status);
            // On a new item, saving already makes a draft.
            let redundant =
                Some(to) == status || (status.is_none() && *action == DeskAction::ToDraft);
            (*action == DeskAction::Save || !redundant)
                && workflow::check(role, own, status, to).is_ok()
        })
        .map(|(_, action, label)| Button { action, label })
        .collect()
}

/// Everything the editor's page shows besides what it reads for itself.
pub(super) struct Editing<'a> {
    pub staff: &'a Staff,
    pub item: Option<&'a Item>,
    /// Whether this person wrote the item (a new one is theirs).
    pub own: bool,
    pub fields: ItemFields,
    pub error: Option<String>,
    pub notice: Option<String>,
    /// The version the form is based on when it is not the item's current one (a restored
    /// autosave), so that saving it meets the usual conflict check.
    pub form_version: Option<i64>,
    /// An autosave of this person's that the form does not show, offered to restore.
    offer: Option<AutosaveOffer>,
    /// After a conflict: what others saved since the version this form was opened at.
    pub conflict: Option<ChangesSince>,
}

impl<'a> Editing<'a> {
    pub fn new(staff: &'a Staff, item: Option<&'a Item>, own: bool, fields: ItemFields) -> Self {
        Editing {
            staff,
            item,
            own,
            fields,
            error: None,
            notice: None,
            form_version: None,
            offer: None,
            conflict: None,
        }
    }
}

#[derive(Serialize)]
struct AutosaveOffer {
    at: TimeView,
    /// Set when the item was saved (by anyone) after the form the autosave came from.
    saved_since: Option<i64>,
}

/// The editor's page for `e`, answered with `status` (a refused save shows it again).
pub(super) async fn page(
    state: &AppState,
    status: StatusCode,
    e: Editing<'_>,
) -> Result<Response, DeskError> {
    let zone = state.config().time_zone();
    let role = e.staff.role();
    let revisions = match e.item {
        Some(item) => state
            .newsroom
            .revisions(item.id)
            .await?
            .into_iter()
            .rev()
            .map(|r| context! { version => r.version, actor => r.actor, at => val(TimeView::new(r.created_at, &zone)) })
            .collect(),
        None => Vec::new(),
    };
    let authors = state.newsroom.authors().await?;
    let comment_rules = match e.item {
        Some(item) => {
            let (closed, premoderated) = state.newsroom.story_commenting_rules(item.id).await?;
            Some(context! { closed => closed, premoderated => premoderated })
        }
        None => None,
    };
    // Editors see what readers get as related stories, and their own pins and exclusions.
    let related = match e.item {
        Some(item) if item.status == ItemStatus::Published && role.may(Action::Correct) => {
            let choices = state.newsroom.related_choices(item.id).await?;
            let shown = state.newsroom.related(item).await?;
            let ids = |v: &[i64]| v.iter().map(i64::to_string).collect::<Vec<_>>().join(" ");
            Some(context! {
                pinned => ids(&choices.pinned),
                excluded => ids(&choices.excluded),
                shown => shown.iter().map(|r| context! {
                    id => r.id,
                    headline => r.display_headline(),
                    pinned => choices.pinned.contains(&r.id),
                }).collect::<Vec<_>>(),
            })
        }
        _ => None,
    };
    let (images, _) = state.newsroom.library(None, 1).await?;
    let library: Vec<_> = images
        .iter()
        .take(LIBRARY_PICKER_SIZE)
        .map(ImageCard::new)
        .collect();
    Ok(render(
        state,
        "desk/edit.html",
        status,
        context! {
            site_name => state.config().site.name.clone(),
            session => val(e.staff.view()),
            item => e.item.map(|i| context! {
                id => i.id,
                version => i.version,
                form_version => e.form_version.unwrap_or(i.version),
                status => i.status.as_str(),
                public_url => (i.status == ItemStatus::Published).then(|| paths::item_url(&state.config(), i)),
            }),
            fields => val(&e.fields),
            buttons => val(buttons(role, e.own, e.item.map(|i| i.status))),
            error => e.error,
            notice => e.notice,
            autosave => e.offer.map(val),
            conflict => e.conflict.map(val),
            editor_path => e.item.map_or("/desk/new".to_owned(), |i| format!("/desk/items/{}", i.id)),
            revisions => revisions,
            library => val(library),
            authors => val(authors.iter().map(|a| (a.slug.clone(), a.name.clone())).collect::<Vec<_>>()),
            sections => val(state.sections().iter().map(|s| (s.slug.clone(), s.name.clone())).collect::<Vec<_>>()),
            languages => state.config().site.languages.clone(),
            time_zone => state.config().site.time_zone.clone(),
            may_correct => role.may(Action::Correct),
            may_moderate => role.may(Action::Moderate),
            comment_rules => comment_rules,
            related => related,
            may_delete => e.item.is_some_and(|i| i.first_published_at.is_none()
                && workflow::check_delete(role, e.own, i.status).is_ok()),
            notes => val(e.item.map(|i| i.notes.iter().map(|n| context! { kind => n.kind.as_str(), text => n.text.clone(), at => val(TimeView::new(n.at, &zone)) }).collect::<Vec<_>>()).unwrap_or_default()),
        },
    ))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct NewQuery {
    kind: String,
    /// A library image to put in the form (from the library's "Use this image").
    hero: String,
    /// `autosave`: fill the form from the person's autosave.
    restore: String,
}

pub(super) async fn new_form(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Query(query): Query<NewQuery>,
) -> Result<Response, DeskError> {
    staff.may(Action::WriteOwnDrafts)?;
    let fields = ItemFields {
        kind: if query.kind == "brief" {
            "brief"
        } else {
            "story"
        }
        .into(),
        language: state.config().site.default_language.clone(),
        section: state
            .sections()
            .first()
            .map(|s| s.slug.clone())
            .unwrap_or_default(),
        ..ItemFields::default()
    };
    let mut editing = Editing::new(&staff, None, true, fields);
    offer_autosave(&state, &mut editing, query.restore == "autosave").await?;
    pick_from_library(&state, &mut editing, &query.hero).await?;
    page(&state, StatusCode::OK, editing).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct EditQuery {
    saved: String,
    /// A library image to put in the form (from the library's "Use this image").
    hero: String,
    /// `autosave`: fill the form from the person's autosave.
    restore: String,
}

pub(super) async fn edit_form(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(id): Path<i64>,
    Query(query): Query<EditQuery>,
) -> Result<Response, DeskError> {
    let opened = state.newsroom.open_item(staff.account(), id).await?;
    let item = opened.item();
    let fields = ItemFields::from_item(item, &state.config().time_zone());
    let mut editing = Editing::new(&staff, Some(item), opened.own(), fields);
    editing.notice = (!query.saved.is_empty()).then(|| "Saved.".to_owned());
    offer_autosave(&state, &mut editing, query.restore == "autosave").await?;
    pick_from_library(&state, &mut editing, &query.hero).await?;
    page(&state, StatusCode::OK, editing).await
}

/// Fills the form from this person's autosave when asked to, or else offers it when it holds
/// something the form does not show. What is offered is decided by content, not by time: an
/// autosave overtaken by a colleague's save is still this person's unsaved work, and one
/// identical to the item (a late autosave of what was just saved) is nothing to restore.
async fn offer_autosave(
    state: &AppState,
    editing: &mut Editing<'_>,
    restore: bool,
) -> Result<(), ServiceError> {
    let item_id = editing.item.map(|i| i.id);
    let Some(slot) = state
        .newsroom
        .autosaved(editing.staff.account(), item_id)
        .await?
    else {
        if restore {
            editing.notice = Some("There is no autosave to restore.".into());
        }
        return Ok(());
    };
    let fields: ItemFields = match serde_json::from_value(slot.fields) {
        Ok(fields) => fields,
        Err(e) => {
            tracing::warn!(error = %e, "an autosave slot does not read as editor fields; ignored");
            return Ok(());
        }
    };
    let at = TimeView::new(slot.saved_at, &state.config().time_zone());
    if restore {
        editing.notice = Some(format!(
            "Restored your autosave from {}. Nothing is saved until you save.",
            at.time
        ));
        editing.fields = fields;
        editing.form_version = slot.base_version;
    } else if fields != editing.fields {
        let saved_since = editing
            .item
            .map(|i| i.version)
            .filter(|current| slot.base_version.is_some_and(|base| base < *current));
        editing.offer = Some(AutosaveOffer { at, saved_since });
    }
    Ok(())
}

/// Puts the library image at `path` into the form, to be saved with it; says so, or why not.
async fn pick_from_library(
    state: &AppState,
    editing: &mut Editing<'_>,
    path: &str,
) -> Result<(), ServiceError> {
    if path.is_empty() {
        return Ok(());
    }
    match state.newsroom.library_image(path).await {
        Ok(image) => {
            editing.fields.use_library_image(&image);
            editing.notice =
                Some("The image from the library is in the form; save to keep it.".into());
            Ok(())
        }
        Err(ServiceError::Invalid(e)) => {
            editing.error = Some(e.to_string());
            Ok(())
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct PreviewForm {
    body: String,
}

/// The body rendered as the site will render it, for the editor's live preview.
pub(super) async fn preview(
    CheckedForm { form, .. }: CheckedForm<PreviewForm>,
) -> Result<Response, DeskError> {
    if form.body.len() > newsdesk_core::item::BODY_MAX_BYTES {
        return Ok((
            StatusCode::PAYLOAD_TOO_LARGE,
            "The body is over the size limit.",
        )
            .into_response());
    }
    let html = newsdesk_core::text::render_markdown(&form.body);
    Ok(([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response())
}
