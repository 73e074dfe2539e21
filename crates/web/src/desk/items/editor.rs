//! The editor of stories and briefs. Plain HTML forms that work without JavaScript; the
//! buttons shown follow the role and the item's state, and the server decides again on every
//! save. A refused save shows the form again with everything the person typed.

use std::sync::Arc;

use axum::Form;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use jiff::Timestamp;
use minijinja::context;
use newsdesk_core::account::Session;
use newsdesk_core::{Action, Item, ItemInput, ItemKind, ItemStatus, Source, workflow};
use newsdesk_services::ServiceError;
use newsdesk_services::editing::DeskAction;
use newsdesk_services::error::Refusal;
use newsdesk_services::library::ImageWords;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::desk::{
    csrf_refused, desk_session, internal, no_store, render, require, see_other, val,
};
use crate::paths;
use crate::views::TimeView;

/// Library images offered in the editor's picker; the library page has the rest.
const LIBRARY_PICKER_SIZE: usize = 12;

/// What the editor's fields hold: from the stored item, from a refused submission, or from
/// the person's autosave (stored as this struct's JSON).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
struct Fields {
    kind: String,
    language: String,
    section: String,
    slug: String,
    headline: String,
    standfirst: String,
    body: String,
    tags: String,
    authors: Vec<String>,
    sources: String,
    breaking: bool,
    /// `YYYY-MM-DDTHH:MM` in the site's zone, for `<input type="datetime-local">`.
    publish_at: String,
    hero_path: String,
    hero_width: String,
    hero_height: String,
    hero_caption: String,
    hero_credit: String,
    hero_alt: String,
}

impl Fields {
    /// Puts a library image in the hero fields; its words fill the ones the writer left empty.
    fn use_library_image(&mut self, image: &newsdesk_core::library::LibraryImage) {
        self.hero_path = image.path.clone();
        self.hero_width = image.width.to_string();
        self.hero_height = image.height.to_string();
        for (field, default) in [
            (&mut self.hero_alt, &image.alt),
            (&mut self.hero_caption, &image.caption),
            (&mut self.hero_credit, &image.credit),
        ] {
            if field.trim().is_empty() {
                field.clone_from(default);
            }
        }
    }

    fn from_item(item: &Item, zone: &jiff::tz::TimeZone) -> Self {
        Fields {
            kind: item.kind.as_str().into(),
            language: item.language.clone(),
            section: item.section.clone(),
            slug: item.slug.clone(),
            headline: item.headline.clone().unwrap_or_default(),
            standfirst: item.standfirst.clone().unwrap_or_default(),
            body: item.body_markdown.clone(),
            tags: item
                .tags
                .iter()
                .map(|t| t.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            authors: item.authors.iter().map(|a| a.slug.clone()).collect(),
            sources: item
                .sources
                .iter()
                .map(|s| match &s.url {
                    Some(url) => format!("{} | {url}", s.name),
                    None => s.name.clone(),
                })
                .collect::<Vec<_>>()
                .join("\n"),
            breaking: item.breaking,
            hero_path: item
                .hero
                .as_ref()
                .map(|h| h.path.clone())
                .unwrap_or_default(),
            hero_width: item
                .hero
                .as_ref()
                .and_then(|h| h.width)
                .map(|w| w.to_string())
                .unwrap_or_default(),
            hero_height: item
                .hero
                .as_ref()
                .and_then(|h| h.height)
                .map(|w| w.to_string())
                .unwrap_or_default(),
            hero_caption: item
                .hero
                .as_ref()
                .map(|h| h.caption.clone())
                .unwrap_or_default(),
            hero_credit: item
                .hero
                .as_ref()
                .map(|h| h.credit.clone())
                .unwrap_or_default(),
            hero_alt: item
                .hero
                .as_ref()
                .map(|h| h.alt.clone())
                .unwrap_or_default(),
            publish_at: match (item.status, item.published_at) {
                (ItemStatus::Scheduled, Some(at)) => at
                    .to_zoned_datetime(zone.clone())
                    .strftime("%Y-%m-%dT%H:%M")
                    .to_string(),
                _ => String::new(),
            },
        }
    }

    fn from_form(
        pairs: &[(String, String)],
    ) -> (Self, Option<String>, Option<String>, Option<String>) {
        let mut f = Fields::default();
        let (mut csrf, mut version, mut action) = (None, None, None);
        for (k, v) in pairs {
            match k.as_str() {
                "kind" => f.kind = v.clone(),
                "language" => f.language = v.clone(),
                "section" => f.section = v.clone(),
                "slug" => f.slug = v.clone(),
                "headline" => f.headline = v.clone(),
                "standfirst" => f.standfirst = v.clone(),
                "body" => f.body = v.clone(),
                "tags" => f.tags = v.clone(),
                "authors" => f.authors.push(v.clone()),
                "sources" => f.sources = v.clone(),
                "breaking" => f.breaking = v == "yes",
                "publish_at" => f.publish_at = v.clone(),
                "hero_path" => f.hero_path = v.clone(),
                "hero_width" => f.hero_width = v.clone(),
                "hero_height" => f.hero_height = v.clone(),
                "hero_caption" => f.hero_caption = v.clone(),
                "hero_credit" => f.hero_credit = v.clone(),
                "hero_alt" => f.hero_alt = v.clone(),
                "csrf" => csrf = Some(v.clone()),
                "version" => version = Some(v.clone()),
                "action" => action = Some(v.clone()),
                _ => {}
            }
        }
        (f, csrf, version, action)
    }

    /// The item the fields describe; malformed fields are named.
    fn to_input(&self, zone: &jiff::tz::TimeZone) -> Result<ItemInput, newsdesk_core::Error> {
        let text = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        let mut sources = Vec::new();
        for line in self
            .sources
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
        {
            let (name, url) = match line.split_once('|') {
                Some((n, u)) => (n.trim(), text(u)),
                None => (line, None),
            };
            sources.push(Source {
                name: name.to_owned(),
                url,
            });
        }
        let published_at = match text(&self.publish_at) {
            None => None,
            Some(local) => {
                let civil: jiff::civil::DateTime = local.parse().map_err(|_| {
                    newsdesk_core::Error::invalid(
                        "published_at",
                        "use a date and time such as 2026-12-01T09:30",
                    )
                })?;
                Some(
                    civil
                        .to_zoned_datetime(zone.clone())
                        .map_err(|_| {
                            newsdesk_core::Error::invalid(
                                "published_at",
                                "is not a time in the site's zone",
                            )
                        })?
                        .timestamp(),
                )
            }
        };
        Ok(ItemInput {
            kind: Some(
                ItemKind::parse(&self.kind)
                    .ok_or(newsdesk_core::Error::Required { field: "kind" })?,
            ),
            language: text(&self.language),
            section: text(&self.section),
            slug: text(&self.slug),
            headline: text(&self.headline),
            standfirst: text(&self.standfirst),
            body: self.body.clone(),
            tags: self
                .tags
                .split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .collect(),
            authors: self.authors.clone(),
            sources,
            breaking: self.breaking,
            published_at,
            hero: text(&self.hero_path).map(|path| newsdesk_core::HeroImage {
                path,
                caption: self.hero_caption.trim().to_owned(),
                credit: self.hero_credit.trim().to_owned(),
                alt: self.hero_alt.trim().to_owned(),
                width: self.hero_width.parse().ok(),
                height: self.hero_height.parse().ok(),
            }),
            ..ItemInput::default()
        })
    }
}

#[derive(Serialize)]
struct Button {
    action: &'static str,
    label: &'static str,
}

/// The buttons this person may press on an item in this state.
fn buttons(session: &Session, own: bool, status: Option<ItemStatus>) -> Vec<Button> {
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
                && workflow::check(session.account.role, own, status, to).is_ok()
        })
        .map(|(_, action, label)| Button { action, label })
        .collect()
}

struct Editing<'a> {
    session: &'a Session,
    item: Option<&'a Item>,
    own: bool,
    fields: Fields,
    error: Option<String>,
    notice: Option<String>,
    /// The version the form is based on when it is not the item's current one (a restored
    /// autosave), so that saving it meets the usual conflict check.
    form_version: Option<i64>,
    /// An autosave of this person's that the form does not show, offered to restore.
    offer: Option<AutosaveOffer>,
    /// After a conflict: what others saved since the version this form was opened at.
    conflict: Option<ConflictView>,
}

#[derive(Serialize)]
struct ConflictView {
    base: i64,
    current: i64,
    changes: Vec<FieldChange>,
    /// Only the body lines that were removed or added.
    lines: Vec<DiffLine>,
}

/// What was saved to item `id` after version `base`, for a writer whose save was refused.
async fn what_changed_since(
    state: &AppState,
    id: i64,
    base: i64,
) -> Result<Option<ConflictView>, ServiceError> {
    let (Some(before), Some(now)) = (
        state.newsroom.revision(id, base).await?,
        state.newsroom.item_by_id(id, true).await?,
    ) else {
        return Ok(None);
    };
    let (changes, lines) = compare_items(&before, &now);
    Ok(Some(ConflictView {
        base,
        current: now.version,
        changes,
        lines: lines.into_iter().filter(|l| l.change != "same").collect(),
    }))
}

impl<'a> Editing<'a> {
    fn new(session: &'a Session, item: Option<&'a Item>, own: bool, fields: Fields) -> Self {
        Editing {
            session,
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

async fn page(state: &AppState, status: StatusCode, e: Editing<'_>) -> Response {
    let zone = state.config().time_zone();
    let revisions = match e.item {
        Some(item) => match state.newsroom.revisions(item.id).await {
            Ok(r) => r
                .into_iter()
                .rev()
                .map(|r| context! { version => r.version, actor => r.actor, at => val(TimeView::new(r.created_at, &zone)) })
                .collect(),
            Err(err) => return internal(err.into()),
        },
        None => Vec::new(),
    };
    let authors = match state.newsroom.authors().await {
        Ok(a) => a,
        Err(err) => return internal(err.into()),
    };
    let comment_rules = match e.item {
        Some(item) => match state.newsroom.story_commenting_rules(item.id).await {
            Ok((closed, premoderated)) => {
                Some(context! { closed => closed, premoderated => premoderated })
            }
            Err(err) => return internal(err.into()),
        },
        None => None,
    };
    // Editors see what readers get as related stories, and their own pins and exclusions.
    let related = match e.item {
        Some(item)
            if item.status == ItemStatus::Published
                && e.session.account.role.may(Action::Correct) =>
        {
            let choices = match state.newsroom.related_choices(item.id).await {
                Ok(c) => c,
                Err(err) => return internal(err),
            };
            let shown = match state.newsroom.related(item).await {
                Ok(r) => r,
                Err(err) => return internal(err),
            };
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
    let library = match state.newsroom.library(None, 1).await {
        Ok((images, _)) => images
            .iter()
            .take(LIBRARY_PICKER_SIZE)
            .map(crate::desk::media::ImageCard::new)
            .collect::<Vec<_>>(),
        Err(err) => return internal(err),
    };
    render(
        state,
        "desk/edit.html",
        status,
        context! {
            site_name => state.config().site.name.clone(),
            session => val(desk_session(e.session)),
            item => e.item.map(|i| context! {
                id => i.id,
                version => i.version,
                form_version => e.form_version.unwrap_or(i.version),
                status => i.status.as_str(),
                public_url => (i.status == ItemStatus::Published).then(|| paths::item_url(&state.config(), i)),
            }),
            fields => val(&e.fields),
            buttons => val(buttons(e.session, e.own, e.item.map(|i| i.status))),
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
            may_correct => e.session.account.role.may(Action::Correct),
            may_moderate => e.session.account.role.may(Action::Moderate),
            comment_rules => comment_rules,
            related => related,
            may_delete => e.item.is_some_and(|i| i.first_published_at.is_none()
                && workflow::check_delete(e.session.account.role, e.own, i.status).is_ok()),
            notes => val(e.item.map(|i| i.notes.iter().map(|n| context! { kind => n.kind.as_str(), text => n.text.clone(), at => val(TimeView::new(n.at, &zone)) }).collect::<Vec<_>>()).unwrap_or_default()),
        },
    )
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NewQuery {
    kind: String,
    /// A library image to put in the form (from the library's "Use this image").
    hero: String,
    /// `autosave`: fill the form from the person's autosave.
    restore: String,
}

pub async fn new_form(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(query): Query<NewQuery>,
) -> Response {
    let session = match require(&state, &headers, Action::WriteOwnDrafts, "/desk/new").await {
        Ok(s) => s,
        Err(r) => return no_store(r, "desk"),
    };
    let fields = Fields {
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
        ..Fields::default()
    };
    let mut editing = Editing::new(&session, None, true, fields);
    if let Err(e) = offer_autosave(&state, &mut editing, query.restore == "autosave").await {
        return no_store(internal(e), "desk");
    }
    if let Err(e) = pick_from_library(&state, &mut editing, &query.hero).await {
        return no_store(internal(e), "desk");
    }
    no_store(page(&state, StatusCode::OK, editing).await, "desk")
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
        .autosaved(&editing.session.account, item_id)
        .await?
    else {
        if restore {
            editing.notice = Some("There is no autosave to restore.".into());
        }
        return Ok(());
    };
    let fields: Fields = match serde_json::from_value(slot.fields) {
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
pub struct EditQuery {
    saved: String,
    /// A library image to put in the form (from the library's "Use this image").
    hero: String,
    /// `autosave`: fill the form from the person's autosave.
    restore: String,
}

pub async fn edit_form(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(query): Query<EditQuery>,
) -> Response {
    let here = format!("/desk/items/{id}");
    let session = match require(&state, &headers, Action::UseDesk, &here).await {
        Ok(s) => s,
        Err(r) => return no_store(r, "desk"),
    };
    let item = match state.newsroom.item_for_staff(&session.account, id).await {
        Ok(item) => item,
        Err(ServiceError::NotFound(_)) => return no_store(crate::desk::not_found(&state), "desk"),
        Err(e) => return no_store(internal(e), "desk"),
    };
    let own = match state.newsroom.is_own(&session.account, &item).await {
        Ok(own) => own,
        Err(e) => return no_store(internal(e), "desk"),
    };
    let fields = Fields::from_item(&item, &state.config().time_zone());
    let mut editing = Editing::new(&session, Some(&item), own, fields);
    editing.notice = (!query.saved.is_empty()).then(|| "Saved.".to_owned());
    if let Err(e) = offer_autosave(&state, &mut editing, query.restore == "autosave").await {
        return no_store(internal(e), "desk");
    }
    if let Err(e) = pick_from_library(&state, &mut editing, &query.hero).await {
        return no_store(internal(e), "desk");
    }
    no_store(page(&state, StatusCode::OK, editing).await, "desk")
}

pub async fn create(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    request: Request,
) -> Response {
    match read_form(&state, request).await {
        Ok((pairs, file)) => save(&state, &headers, None, &pairs, file).await,
        Err(response) => no_store(response, "desk"),
    }
}

pub async fn update(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    request: Request,
) -> Response {
    match read_form(&state, request).await {
        Ok((pairs, file)) => save(&state, &headers, Some(id), &pairs, file).await,
        Err(response) => no_store(response, "desk"),
    }
}

/// The editor posts `multipart/form-data` when it carries an image, and plain form encoding
/// otherwise; both end up as the same pairs, plus the image's bytes if one was chosen.
async fn read_form(
    state: &Arc<AppState>,
    request: Request,
) -> Result<(Vec<(String, String)>, Option<Vec<u8>>), Response> {
    use axum::extract::{FromRequest, Multipart};
    use axum::response::IntoResponse;
    let is_multipart = request
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if !is_multipart {
        let Form(pairs) = Form::<Vec<(String, String)>>::from_request(request, state)
            .await
            .map_err(IntoResponse::into_response)?;
        return Ok((pairs, None));
    }
    let too_large = || {
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "The form is too large: images may be at most {} MB.",
                newsdesk_services::uploads::UPLOAD_MAX_BYTES / (1024 * 1024)
            ),
        )
            .into_response()
    };
    let mut multipart = Multipart::from_request(request, state)
        .await
        .map_err(IntoResponse::into_response)?;
    let mut pairs = Vec::new();
    let mut file = None;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(_) => return Err(too_large()),
        };
        let name = field.name().unwrap_or_default().to_owned();
        if name == "hero_file" {
            let bytes = field.bytes().await.map_err(|_| too_large())?;
            if !bytes.is_empty() {
                file = Some(bytes.to_vec());
            }
        } else {
            let value = field.text().await.map_err(|_| too_large())?;
            pairs.push((name, value));
        }
    }
    Ok((pairs, file))
}

async fn save(
    state: &AppState,
    headers: &HeaderMap,
    id: Option<i64>,
    pairs: &[(String, String)],
    file: Option<Vec<u8>>,
) -> Response {
    let here = id.map_or("/desk/new".to_owned(), |id| format!("/desk/items/{id}"));
    let session = match require(state, headers, Action::UseDesk, &here).await {
        Ok(s) => s,
        Err(r) => return no_store(r, "desk"),
    };
    let (mut fields, csrf, version, action) = Fields::from_form(pairs);
    if !csrf.is_some_and(|c| crate::desk::same_secret(&c, &session.csrf_token)) {
        return no_store(csrf_refused(state), "desk");
    }
    let item = match id {
        Some(id) => match state.newsroom.item_for_staff(&session.account, id).await {
            Ok(item) => Some(item),
            Err(ServiceError::NotFound(_)) => {
                return no_store(crate::desk::not_found(state), "desk");
            }
            Err(e) => return no_store(internal(e), "desk"),
        },
        None => None,
    };
    let own = match &item {
        Some(item) => match state.newsroom.is_own(&session.account, item).await {
            Ok(own) => own,
            Err(e) => return no_store(internal(e), "desk"),
        },
        None => true,
    };
    // A refused form keeps the version it was opened at (a restored autosave may be older than
    // the item), so saving it again still meets the conflict check; after a conflict it takes
    // the current one, as the message tells the person to compare first.
    let posted_version: Option<i64> = version.as_deref().and_then(|v| v.parse().ok());
    let refuse = |status: StatusCode, message: String, fields: Fields| {
        let item = item.clone();
        let session = session.clone();
        async move {
            let mut editing = Editing::new(&session, item.as_ref(), own, fields);
            editing.error = Some(message);
            editing.form_version = posted_version.filter(|_| status != StatusCode::CONFLICT);
            no_store(page(state, status, editing).await, "desk")
        }
    };
    let Some(action) = action.as_deref().and_then(DeskAction::parse) else {
        return refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Choose what to do with the item.".into(),
            fields,
        )
        .await;
    };
    let version = match version.as_deref().map(str::parse::<i64>) {
        None | Some(Ok(_)) => version.and_then(|v| v.parse().ok()),
        Some(Err(_)) => {
            return refuse(
                StatusCode::UNPROCESSABLE_ENTITY,
                "The form's version is damaged; reload the page.".into(),
                fields,
            )
            .await;
        }
    };
    if let Some(bytes) = file {
        if !session.account.role.may(Action::WriteOwnDrafts) {
            return refuse(
                StatusCode::FORBIDDEN,
                "Your role may not upload images.".into(),
                fields,
            )
            .await;
        }
        let words = ImageWords {
            alt: fields.hero_alt.clone(),
            caption: fields.hero_caption.clone(),
            credit: fields.hero_credit.clone(),
        };
        let uploaded = state
            .newsroom
            .upload_to_library(
                bytes,
                &words,
                false,
                &session.account.email,
                Timestamp::now(),
            )
            .await;
        match uploaded {
            Ok(image) => fields.use_library_image(&image),
            Err(ServiceError::Invalid(e)) => {
                return refuse(StatusCode::UNPROCESSABLE_ENTITY, e.to_string(), fields).await;
            }
            Err(e) => return no_store(internal(e), "desk"),
        }
    } else if let Some((_, pick)) = pairs
        .iter()
        .find(|(k, v)| k == "hero_pick" && !v.is_empty())
    {
        match state.newsroom.library_image(pick).await {
            Ok(image) => fields.use_library_image(&image),
            Err(ServiceError::Invalid(e)) => {
                return refuse(StatusCode::UNPROCESSABLE_ENTITY, e.to_string(), fields).await;
            }
            Err(e) => return no_store(internal(e), "desk"),
        }
    }
    let input = match fields.to_input(&state.config().time_zone()) {
        Ok(input) => input,
        Err(e) => return refuse(StatusCode::UNPROCESSABLE_ENTITY, e.to_string(), fields).await,
    };
    let outcome = state
        .newsroom
        .save_from_desk(
            &session.account,
            id,
            &input,
            version,
            action,
            Timestamp::now(),
        )
        .await;
    match outcome {
        Ok(saved) => no_store(
            see_other(&format!("/desk/items/{}?saved=1", saved.item.id)),
            "desk",
        ),
        Err(ServiceError::Invalid(e @ newsdesk_core::Error::Forbidden { .. })) => {
            refuse(StatusCode::FORBIDDEN, format!("Refused: {e}."), fields).await
        }
        Err(ServiceError::Invalid(e)) => {
            refuse(StatusCode::UNPROCESSABLE_ENTITY, e.to_string(), fields).await
        }
        Err(ServiceError::Duplicate { field }) => {
            refuse(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!(
                    "The {field} is already used by another item in this language; choose another."
                ),
                fields,
            )
            .await
        }
        Err(ServiceError::Conflict { current }) => {
            let changed = match (id, posted_version) {
                (Some(id), Some(base)) => match what_changed_since(state, id, base).await {
                    Ok(changed) => changed,
                    Err(e) => return no_store(internal(e), "desk"),
                },
                _ => None,
            };
            let mut editing = Editing::new(&session, item.as_ref(), own, fields);
            editing.error = Some(format!(
                "Someone saved this item while you were editing (it is now at version {current}). \
                 Your text is below and was not saved. What they changed is shown under the form: \
                 bring their changes into your text if they should stay, then save again."
            ));
            editing.conflict = changed;
            no_store(page(state, StatusCode::CONFLICT, editing).await, "desk")
        }
        Err(e) => no_store(internal(e), "desk"),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CompareQuery {
    from: Option<i64>,
    to: Option<i64>,
}

#[derive(Serialize)]
struct FieldChange {
    field: &'static str,
    before: String,
    after: String,
}

#[derive(Serialize)]
struct DiffLine {
    /// "same", "removed" or "added".
    change: &'static str,
    text: String,
}

/// What changed between two versions: short fields side by side, the body line by line.
fn compare_items(a: &Item, b: &Item) -> (Vec<FieldChange>, Vec<DiffLine>) {
    let join = |v: Vec<String>| v.join(", ");
    let fields: [(&'static str, String, String); 9] = [
        (
            "Headline",
            a.headline.clone().unwrap_or_default(),
            b.headline.clone().unwrap_or_default(),
        ),
        (
            "Standfirst",
            a.standfirst.clone().unwrap_or_default(),
            b.standfirst.clone().unwrap_or_default(),
        ),
        ("Section", a.section.clone(), b.section.clone()),
        ("Slug", a.slug.clone(), b.slug.clone()),
        ("Status", a.status.as_str().into(), b.status.as_str().into()),
        (
            "Tags",
            join(a.tags.iter().map(|t| t.name.clone()).collect()),
            join(b.tags.iter().map(|t| t.name.clone()).collect()),
        ),
        (
            "Authors",
            join(a.authors.iter().map(|x| x.name.clone()).collect()),
            join(b.authors.iter().map(|x| x.name.clone()).collect()),
        ),
        (
            "Sources",
            join(a.sources.iter().map(|s| s.name.clone()).collect()),
            join(b.sources.iter().map(|s| s.name.clone()).collect()),
        ),
        ("Breaking", a.breaking.to_string(), b.breaking.to_string()),
    ];
    let changes = fields
        .into_iter()
        .filter(|(_, before, after)| before != after)
        .map(|(field, before, after)| FieldChange {
            field,
            before,
            after,
        })
        .collect();
    let diff = similar::TextDiff::from_lines(&a.body_markdown, &b.body_markdown);
    let lines = diff
        .iter_all_changes()
        .map(|c| DiffLine {
            change: match c.tag() {
                similar::ChangeTag::Equal => "same",
                similar::ChangeTag::Delete => "removed",
                similar::ChangeTag::Insert => "added",
            },
            text: c.value().trim_end_matches('\n').to_owned(),
        })
        .collect();
    (changes, lines)
}

pub async fn compare(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(query): Query<CompareQuery>,
) -> Response {
    let here = format!("/desk/items/{id}");
    let session = match require(&state, &headers, Action::UseDesk, &here).await {
        Ok(s) => s,
        Err(r) => return no_store(r, "desk"),
    };
    let current = match state.newsroom.item_for_staff(&session.account, id).await {
        Ok(item) => item,
        Err(ServiceError::NotFound(_)) => return no_store(crate::desk::not_found(&state), "desk"),
        Err(e) => return no_store(internal(e), "desk"),
    };
    let to_version = query.to.unwrap_or(current.version);
    let from_version = query.from.unwrap_or((to_version - 1).max(1));
    let (from, to) = match (
        state.newsroom.revision(id, from_version).await,
        state.newsroom.revision(id, to_version).await,
    ) {
        (Ok(Some(a)), Ok(Some(b))) => (a, b),
        (Err(e), _) | (_, Err(e)) => return no_store(internal(e), "desk"),
        _ => return no_store(crate::desk::not_found(&state), "desk"),
    };
    let (changes, lines) = compare_items(&from, &to);
    let response = render(
        &state,
        "desk/compare.html",
        StatusCode::OK,
        context! {
            site_name => state.config().site.name.clone(),
            session => val(desk_session(&session)),
            id => id,
            headline => current.display_headline(),
            from => from_version,
            to => to_version,
            current_version => current.version,
            changes => val(changes),
            lines => val(lines),
        },
    );
    no_store(response, "desk")
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RestoreForm {
    csrf: String,
    version: i64,
    restore: i64,
}

pub async fn restore(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<RestoreForm>,
) -> Response {
    let session = match signed_form(&state, &headers, id, &form.csrf).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let outcome = state
        .newsroom
        .restore_revision(
            &session.account,
            id,
            form.restore,
            form.version,
            Timestamp::now(),
        )
        .await;
    after_item_action(
        &state,
        &session,
        outcome.map(|saved| saved_location(&saved)),
        "Cannot restore",
    )
}

/// The session of a form posted about item `id`, with its CSRF token checked.
async fn signed_form(
    state: &AppState,
    headers: &HeaderMap,
    id: i64,
    csrf: &str,
) -> Result<Session, Response> {
    let here = format!("/desk/items/{id}");
    let session = require(state, headers, Action::UseDesk, &here)
        .await
        .map_err(|r| no_store(r, "desk"))?;
    if !crate::desk::same_secret(csrf, &session.csrf_token) {
        return Err(no_store(csrf_refused(state), "desk"));
    }
    Ok(session)
}

fn saved_location(saved: &newsdesk_services::Saved) -> String {
    format!("/desk/items/{}?saved=1", saved.item.id)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DeleteForm {
    csrf: String,
    version: i64,
}

/// Deletes a never-published item and goes back to the content list.
pub async fn delete(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<DeleteForm>,
) -> Response {
    let session = match signed_form(&state, &headers, id, &form.csrf).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let outcome = state
        .newsroom
        .delete_item(&session.account, id, form.version, Timestamp::now())
        .await
        .map(|()| "/desk?deleted=1".to_owned());
    after_item_action(&state, &session, outcome, "Cannot delete")
}

/// Back to the item after a restore or a note, or a page that says why not.
fn after_item_action(
    state: &AppState,
    session: &Session,
    outcome: Result<String, ServiceError>,
    refused_title: &str,
) -> Response {
    let message = |status: StatusCode, title: &str, text: String| {
        render(
            state,
            "desk/message.html",
            status,
            context! { site_name => state.config().site.name.clone(), session => val(desk_session(session)), title => title, message => text },
        )
    };
    let response = match outcome {
        Ok(location) => see_other(&location),
        Err(ServiceError::Refused(why)) => {
            message(StatusCode::CONFLICT, refused_title, why.to_string())
        }
        Err(ServiceError::Invalid(e @ newsdesk_core::Error::Forbidden { .. })) => {
            message(StatusCode::FORBIDDEN, "Refused", format!("{e}."))
        }
        Err(ServiceError::Invalid(e)) => message(
            StatusCode::UNPROCESSABLE_ENTITY,
            refused_title,
            e.to_string(),
        ),
        Err(ServiceError::Conflict { current }) => message(
            StatusCode::CONFLICT,
            "Someone saved in the meantime",
            format!("The item is now at version {current}. Open it again and try once more."),
        ),
        Err(ServiceError::NotFound(what)) => message(
            StatusCode::NOT_FOUND,
            "Not found",
            format!("There is no {what}."),
        ),
        Err(e) => internal(e),
    };
    no_store(response, "desk")
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NoteForm {
    csrf: String,
    version: i64,
    kind: String,
    text: String,
}

pub async fn add_note(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<NoteForm>,
) -> Response {
    let session = match signed_form(&state, &headers, id, &form.csrf).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let kind =
        newsdesk_core::NoteKind::parse(&form.kind).unwrap_or(newsdesk_core::NoteKind::Correction);
    let outcome = state
        .newsroom
        .add_note(
            &session.account,
            id,
            form.version,
            kind,
            &form.text,
            Timestamp::now(),
        )
        .await;
    after_item_action(
        &state,
        &session,
        outcome.map(|saved| saved_location(&saved)),
        "Cannot add the note",
    )
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RelatedForm {
    csrf: String,
    /// Item ids, in the order they lead the list, separated by spaces or commas.
    pinned: String,
    excluded: String,
}

/// The most items an editor may pin or exclude on one story: more than a page shows, fewer
/// than would make the form a second content list.
pub const MAX_RELATED_CHOICES: usize = 20;

fn item_ids(text: &str) -> Result<Vec<i64>, Refusal> {
    let mut out = Vec::new();
    for word in text
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty())
    {
        let id = word
            .trim_start_matches('#')
            .parse::<i64>()
            .map_err(|_| Refusal::NotAnItemNumber(word.to_owned()))?;
        if !out.contains(&id) {
            out.push(id);
        }
    }
    if out.len() > MAX_RELATED_CHOICES {
        return Err(Refusal::TooManyRelated {
            max: MAX_RELATED_CHOICES,
        });
    }
    Ok(out)
}

/// Pins and excludes related stories of a published item (editors).
pub async fn set_related(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<RelatedForm>,
) -> Response {
    let session = match signed_form(&state, &headers, id, &form.csrf).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let outcome = match (item_ids(&form.pinned), item_ids(&form.excluded)) {
        (Ok(pinned), Ok(excluded)) => {
            let choices = newsdesk_core::item::RelatedChoices { pinned, excluded };
            state
                .newsroom
                .set_related_choices(&session.account, id, &choices)
                .await
                .map(|()| format!("/desk/items/{id}?saved=1"))
        }
        (Err(why), _) | (_, Err(why)) => Err(ServiceError::Refused(why)),
    };
    after_item_action(
        &state,
        &session,
        outcome,
        "Cannot change the related stories",
    )
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PreviewForm {
    csrf: String,
    body: String,
}

/// The body rendered as the site will render it, for the editor's live preview.
pub async fn preview(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Form(form): Form<PreviewForm>,
) -> Response {
    use axum::response::IntoResponse;
    let session = match require(&state, &headers, Action::UseDesk, "/desk").await {
        Ok(s) => s,
        Err(r) => return no_store(r, "desk"),
    };
    if !crate::desk::same_secret(&form.csrf, &session.csrf_token) {
        return no_store(csrf_refused(&state), "desk");
    }
    if form.body.len() > newsdesk_core::item::BODY_MAX_BYTES {
        return no_store(
            (
                StatusCode::PAYLOAD_TOO_LARGE,
                "The body is over the size limit.",
            )
                .into_response(),
            "desk",
        );
    }
    let html = newsdesk_core::text::render_markdown(&form.body);
    no_store(
        (
            [(axum::http::header::CONTENT_TYPE, "text/html; charset=utf-8")],
            html,
        )
            .into_response(),
        "desk",
    )
}

// ---- Autosave: the editor's script posts the form here while the person types; see
// `newsdesk_services::autosave` for what a slot may and may not do.

/// The largest autosave request, as sent (form-encoded): room for a body at its limit in a
/// non-Latin script (every byte percent-encoded as three), with the other fields beside it.
pub const AUTOSAVE_MAX_BYTES: usize = 1024 * 1024;

/// The editor's own limits, checked on every autosave: a slot never holds more than a save
/// could. The rest of the rules (a headline for a story, a valid slug) wait for the real save:
/// half-written work is what autosave is for.
fn over_limit(fields: &Fields) -> Option<String> {
    use newsdesk_core::item::{
        ALT_MAX, BODY_MAX_BYTES, CAPTION_MAX, CREDIT_MAX, HEADLINE_MAX, SLUG_MAX, STANDFIRST_MAX,
    };
    if fields.body.len() > BODY_MAX_BYTES {
        return Some(format!(
            "The body is longer than a story may be ({BODY_MAX_BYTES} bytes), so it was not autosaved."
        ));
    }
    let chars = [
        ("headline", &fields.headline, HEADLINE_MAX),
        ("standfirst", &fields.standfirst, STANDFIRST_MAX),
        ("slug", &fields.slug, SLUG_MAX),
        ("alt text", &fields.hero_alt, ALT_MAX),
        ("caption", &fields.hero_caption, CAPTION_MAX),
        ("credit", &fields.hero_credit, CREDIT_MAX),
    ];
    chars
        .into_iter()
        .find(|(_, text, max)| text.chars().count() > *max)
        .map(|(name, _, max)| {
            format!("The {name} is longer than {max} characters, so it was not autosaved.")
        })
}

fn plain(status: StatusCode, message: impl Into<String>) -> Response {
    use axum::response::IntoResponse;
    no_store((status, message.into()).into_response(), "desk")
}

pub async fn autosave_new(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    request: Request,
) -> Response {
    autosave(&state, &headers, None, request).await
}

pub async fn autosave_item(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    request: Request,
) -> Response {
    autosave(&state, &headers, Some(id), request).await
}

/// Answers 200 with `{"saved_at": RFC 3339, "time": "HH:MM" in the site's zone}`, or an error
/// status with a sentence the editor shows as it is.
async fn autosave(
    state: &Arc<AppState>,
    headers: &HeaderMap,
    id: Option<i64>,
    request: Request,
) -> Response {
    use axum::extract::FromRequest;
    use axum::response::IntoResponse;
    let here = id.map_or("/desk/new".to_owned(), |id| format!("/desk/items/{id}"));
    let session = match require(state, headers, Action::UseDesk, &here).await {
        Ok(s) => s,
        Err(r) => return no_store(r, "desk"),
    };
    let pairs = match Form::<Vec<(String, String)>>::from_request(request, state).await {
        Ok(Form(pairs)) => pairs,
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return plain(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "The form is larger than an autosave may be ({AUTOSAVE_MAX_BYTES} bytes), so it was not autosaved."
                ),
            );
        }
        Err(e) => return no_store(e.into_response(), "desk"),
    };
    let (fields, csrf, version, _) = Fields::from_form(&pairs);
    if !csrf.is_some_and(|c| crate::desk::same_secret(&c, &session.csrf_token)) {
        return plain(
            StatusCode::FORBIDDEN,
            "The form's security token is missing or no longer matches: reload the page (copy your text first).",
        );
    }
    if let Some(message) = over_limit(&fields) {
        return plain(StatusCode::PAYLOAD_TOO_LARGE, message);
    }
    let base_version = match version.as_deref().map(str::parse::<i64>) {
        None => None,
        Some(Ok(v)) => Some(v),
        Some(Err(_)) => {
            return plain(
                StatusCode::UNPROCESSABLE_ENTITY,
                "The form's version is damaged; reload the page.",
            );
        }
    };
    let value = match serde_json::to_value(&fields) {
        Ok(v) => v,
        Err(e) => return no_store(internal(ServiceError::Io(std::io::Error::other(e))), "desk"),
    };
    let outcome = state
        .newsroom
        .autosave(&session.account, id, base_version, value, Timestamp::now())
        .await;
    match outcome {
        Ok(slot) => {
            let at = TimeView::new(slot.saved_at, &state.config().time_zone());
            no_store(
                axum::Json(serde_json::json!({ "saved_at": at.iso, "time": at.time }))
                    .into_response(),
                "desk",
            )
        }
        Err(ServiceError::Invalid(e @ newsdesk_core::Error::Forbidden { .. })) => {
            plain(StatusCode::FORBIDDEN, format!("Not autosaved: {e}."))
        }
        Err(ServiceError::Invalid(e)) => plain(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
        Err(ServiceError::NotFound(_)) => plain(
            StatusCode::NOT_FOUND,
            "This item does not exist, or no longer does.",
        ),
        Err(e) => internal(e),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DiscardForm {
    csrf: String,
}

pub async fn discard_new(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Form(form): Form<DiscardForm>,
) -> Response {
    discard(&state, &headers, None, &form.csrf).await
}

pub async fn discard_item(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<DiscardForm>,
) -> Response {
    discard(&state, &headers, Some(id), &form.csrf).await
}

/// Forgets the person's own autosave and shows the editor as the item stands.
async fn discard(state: &AppState, headers: &HeaderMap, id: Option<i64>, csrf: &str) -> Response {
    let here = id.map_or("/desk/new".to_owned(), |id| format!("/desk/items/{id}"));
    let session = match require(state, headers, Action::UseDesk, &here).await {
        Ok(s) => s,
        Err(r) => return no_store(r, "desk"),
    };
    if !crate::desk::same_secret(csrf, &session.csrf_token) {
        return no_store(csrf_refused(state), "desk");
    }
    match state.newsroom.discard_autosave(&session.account, id).await {
        Ok(()) => no_store(see_other(&here), "desk"),
        Err(e) => no_store(internal(e), "desk"),
    }
}
