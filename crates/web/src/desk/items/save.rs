//! What the editor changes: a new item or a save of one (with an uploaded or picked image),
//! deletion, correction notes and the related stories, and where each sends the person after:
//! back to the item, or a page that says why not. A refused save shows the form again with
//! everything the person typed.

use std::sync::Arc;

use axum::Form;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use newsdesk_core::Action;
use newsdesk_core::item::RelatedChoices;
use newsdesk_services::editing::{DeskAction, OpenedItem};
use newsdesk_services::error::Refusal;
use newsdesk_services::library::ImageWords;
use newsdesk_services::{Saved, ServiceError};
use serde::Deserialize;

use super::fields::{ItemFields, PostedEditor};
use super::form::{Editing, page};
use crate::AppState;
use crate::desk::{CheckedForm, DeskError, MessagePage, Staff, refusal, refusal_status, sentence};
use crate::forms::see_other;

pub(super) async fn create(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    request: Request,
) -> Result<Response, DeskError> {
    let (posted, file) = read_form(&state, request).await?;
    staff.check_csrf(&posted.csrf)?;
    save(&state, &staff, None, posted, file).await
}

pub(super) async fn update(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(id): Path<i64>,
    request: Request,
) -> Result<Response, DeskError> {
    let (posted, file) = read_form(&state, request).await?;
    staff.check_csrf(&posted.csrf)?;
    // The one read of the item and its writer for this save: the service saves what was
    // opened here, and a refused form is shown again from it.
    let opened = state.newsroom.open_item(staff.account(), id).await?;
    save(&state, &staff, Some(&opened), posted, file).await
}

/// The editor posts `multipart/form-data` when it carries an image, and plain form encoding
/// otherwise; both end up as the same form, plus the image's bytes if one was chosen.
async fn read_form(
    state: &Arc<AppState>,
    request: Request,
) -> Result<(PostedEditor, Option<Vec<u8>>), DeskError> {
    let is_multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    // The rejections answer as axum words them, as plain text.
    let unreadable =
        |status: StatusCode, message: String| DeskError::BadRequest { status, message };
    if !is_multipart {
        let Form(pairs) = Form::<Vec<(String, String)>>::from_request(request, state)
            .await
            .map_err(|e| unreadable(e.status(), e.body_text()))?;
        return Ok((ItemFields::from_form(&pairs), None));
    }
    let too_large = || {
        unreadable(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "The form is too large: images may be at most {} MB.",
                newsdesk_services::uploads::UPLOAD_MAX_BYTES / (1024 * 1024)
            ),
        )
    };
    let mut multipart = Multipart::from_request(request, state)
        .await
        .map_err(|e| unreadable(e.status(), e.body_text()))?;
    let mut pairs = Vec::new();
    let mut file = None;
    while let Some(field) = multipart.next_field().await.map_err(|_| too_large())? {
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
    Ok((ItemFields::from_form(&pairs), file))
}

/// The words the editor shows above the form for a refused save, with the status the desk
/// gives the refusal; `Err` for a missing item (the desk's "no such item") and for failures
/// that are ours.
fn save_refusal(e: ServiceError) -> Result<(StatusCode, String), DeskError> {
    let words = match &e {
        ServiceError::NotFound(_) => return Err(e.into()),
        ServiceError::Invalid(forbidden @ newsdesk_core::Error::Forbidden { .. }) => {
            Some(format!("Refused: {forbidden}."))
        }
        ServiceError::Invalid(invalid) => Some(invalid.to_string()),
        ServiceError::Duplicate { field } => Some(format!(
            "The {field} is already used by another item in this language; choose another."
        )),
        ServiceError::Conflict { current } => Some(format!(
            "Someone saved this item while you were editing (it is now at version {current}). \
             Your text is below and was not saved. What they changed is shown under the form: \
             bring their changes into your text if they should stay, then save again."
        )),
        _ => None,
    };
    let (status, sentence) = refusal(e)?;
    Ok((status, words.unwrap_or(sentence)))
}

/// Saves the posted form to `opened` (None: a new item) and goes to the item, or shows the
/// form again with what the person typed and why it was refused.
async fn save(
    state: &AppState,
    staff: &Staff,
    opened: Option<&OpenedItem>,
    posted: PostedEditor,
    file: Option<Vec<u8>>,
) -> Result<Response, DeskError> {
    let PostedEditor {
        mut fields,
        version,
        action,
        hero_pick,
        ..
    } = posted;
    let item = opened.map(OpenedItem::item);
    let own = opened.is_none_or(OpenedItem::own);
    // A refused form keeps the version it was opened at (a restored autosave may be older than
    // the item), so saving it again still meets the conflict check; after a conflict it takes
    // the current one, as the message tells the person to compare first.
    let posted_version: Option<i64> = version.as_deref().and_then(|v| v.parse().ok());
    let refuse = async |status: StatusCode, message: String, fields: ItemFields| {
        let mut editing = Editing::new(staff, item, own, fields);
        editing.error = Some(message);
        editing.form_version = posted_version.filter(|_| status != StatusCode::CONFLICT);
        page(state, status, editing).await
    };
    let Some(action) = action.as_deref().and_then(DeskAction::parse) else {
        return refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Choose what to do with the item.".into(),
            fields,
        )
        .await;
    };
    if version.is_some() && posted_version.is_none() {
        return refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            "The form's version is damaged; reload the page.".into(),
            fields,
        )
        .await;
    }
    let image = if let Some(bytes) = file {
        if !staff.role().may(Action::WriteOwnDrafts) {
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
                &staff.account().email,
                Timestamp::now(),
            )
            .await;
        Some(uploaded)
    } else if let Some(pick) = &hero_pick {
        Some(state.newsroom.library_image(pick).await)
    } else {
        None
    };
    match image {
        Some(Ok(image)) => fields.use_library_image(&image),
        Some(Err(ServiceError::Invalid(e))) => {
            return refuse(StatusCode::UNPROCESSABLE_ENTITY, e.to_string(), fields).await;
        }
        Some(Err(e)) => return Err(e.into()),
        None => {}
    }
    let input = match fields.to_input(&state.config().time_zone()) {
        Ok(input) => input,
        Err(e) => return refuse(StatusCode::UNPROCESSABLE_ENTITY, e.to_string(), fields).await,
    };
    let outcome = state
        .newsroom
        .save_opened(
            staff.account(),
            opened,
            &input,
            posted_version,
            action,
            Timestamp::now(),
        )
        .await;
    let e = match outcome {
        Ok(saved) => return Ok(see_other(&saved_location(&saved))),
        Err(e) => e,
    };
    let conflict = matches!(e, ServiceError::Conflict { .. });
    let (status, words) = save_refusal(e)?;
    if !conflict {
        return refuse(status, words, fields).await;
    }
    let changed = match (item, posted_version) {
        (Some(item), Some(base)) => state.newsroom.changes_since(item.id, base).await?,
        _ => None,
    };
    let mut editing = Editing::new(staff, item, own, fields);
    editing.error = Some(words);
    editing.conflict = changed;
    page(state, status, editing).await
}

pub(super) fn saved_location(saved: &Saved) -> String {
    format!("/desk/items/{}?saved=1", saved.item.id)
}

/// Back to the item (or wherever `outcome` says) after an action on it, or a page that says
/// why not, titled `refused_title` unless the refusal has a title of its own.
pub(super) fn after_item_action(
    staff: &Staff,
    outcome: Result<String, ServiceError>,
    refused_title: &'static str,
) -> Result<Response, DeskError> {
    let e = match outcome {
        Ok(location) => return Ok(see_other(&location)),
        Err(e) => e,
    };
    let Some(status) = refusal_status(&e) else {
        return Err(e.into());
    };
    let (title, message) = match &e {
        ServiceError::Conflict { current } => (
            "Someone saved in the meantime",
            format!("The item is now at version {current}. Open it again and try once more."),
        ),
        ServiceError::NotFound(_) => ("Not found", sentence(&e)),
        ServiceError::Invalid(newsdesk_core::Error::Forbidden { .. }) => ("Refused", sentence(&e)),
        // Their words as the room has always shown them, without a closing full stop.
        ServiceError::Invalid(_) | ServiceError::Refused(_) => (refused_title, e.to_string()),
        _ => (refused_title, sentence(&e)),
    };
    Ok(MessagePage {
        status,
        title,
        message,
        session: Some(Box::new(staff.view())),
    }
    .into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct DeleteForm {
    version: i64,
}

/// Deletes a never-published item and goes back to the content list.
pub(super) async fn delete(
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
    CheckedForm { staff, form }: CheckedForm<DeleteForm>,
) -> Result<Response, DeskError> {
    let outcome = state
        .newsroom
        .delete_item(staff.account(), id, form.version, Timestamp::now())
        .await
        .map(|()| "/desk?deleted=1".to_owned());
    after_item_action(&staff, outcome, "Cannot delete")
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct NoteForm {
    version: i64,
    kind: String,
    text: String,
}

pub(super) async fn add_note(
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
    CheckedForm { staff, form }: CheckedForm<NoteForm>,
) -> Result<Response, DeskError> {
    let kind =
        newsdesk_core::NoteKind::parse(&form.kind).unwrap_or(newsdesk_core::NoteKind::Correction);
    let outcome = state
        .newsroom
        .add_note(
            staff.account(),
            id,
            form.version,
            kind,
            &form.text,
            Timestamp::now(),
        )
        .await;
    after_item_action(
        &staff,
        outcome.map(|saved| saved_location(&saved)),
        "Cannot add the note",
    )
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct RelatedForm {
    /// Item ids, in the order they lead the list, separated by spaces or commas.
    pinned: String,
    excluded: String,
}

/// The most items an editor may pin or exclude on one story: more than a page shows, fewer
/// than would make the form a second content list.
const MAX_RELATED_CHOICES: usize = 20;

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
pub(super) async fn set_related(
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
    CheckedForm { staff, form }: CheckedForm<RelatedForm>,
) -> Result<Response, DeskError> {
    let outcome = match (item_ids(&form.pinned), item_ids(&form.excluded)) {
        (Ok(pinned), Ok(excluded)) => {
            let choices = RelatedChoices { pinned, excluded };
            state
                .newsroom
                .set_related_choices(staff.account(), id, &choices)
                .await
                .map(|()| format!("/desk/items/{id}?saved=1"))
        }
        (Err(why), _) | (_, Err(why)) => Err(ServiceError::Refused(why)),
    };
    after_item_action(&staff, outcome, "Cannot change the related stories")
}
