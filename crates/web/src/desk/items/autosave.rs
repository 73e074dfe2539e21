//! The editor's autosave: its script posts the form here while the person types, and the
//! editor's "Discard" forgets it; see `newsdesk_services::autosave` for what a slot may and
//! may not do. The script shows these answers as they are: JSON when kept, else a sentence.

use std::sync::Arc;

use axum::extract::{FromRequest, Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use jiff::Timestamp;
use newsdesk_services::ServiceError;

use super::fields::ItemFields;
use crate::AppState;
use crate::desk::{CheckedForm, DeskError, Fields, Staff, refusal};
use crate::forms::see_other;
use crate::views::TimeView;

/// The largest autosave request, as sent (form-encoded): room for a body at its limit in a
/// non-Latin script (every byte percent-encoded as three), with the other fields beside it.
pub const AUTOSAVE_MAX_BYTES: usize = 1024 * 1024;

/// The editor's own limits, checked on every autosave: a slot never holds more than a save
/// could. The rest of the rules (a headline for a story, a valid slug) wait for the real save:
/// half-written work is what autosave is for.
fn over_limit(fields: &ItemFields) -> Option<String> {
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

/// An answer the editor's script shows as it is.
fn plain(status: StatusCode, message: impl Into<String>) -> Response {
    (status, message.into()).into_response()
}

pub(super) async fn autosave_new(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    request: Request,
) -> Result<Response, DeskError> {
    autosave(&state, &staff, None, request).await
}

pub(super) async fn autosave_item(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(id): Path<i64>,
    request: Request,
) -> Result<Response, DeskError> {
    autosave(&state, &staff, Some(id), request).await
}

/// Answers 200 with `{"saved_at": RFC 3339, "time": "HH:MM" in the site's zone}`, or an error
/// status with a sentence the editor shows as it is.
async fn autosave(
    state: &Arc<AppState>,
    staff: &Staff,
    id: Option<i64>,
    request: Request,
) -> Result<Response, DeskError> {
    let pairs = match Form::<Vec<(String, String)>>::from_request(request, state).await {
        Ok(Form(pairs)) => pairs,
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return Ok(plain(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "The form is larger than an autosave may be ({AUTOSAVE_MAX_BYTES} bytes), so it was not autosaved."
                ),
            ));
        }
        Err(e) => return Ok(e.into_response()),
    };
    let posted = ItemFields::from_form(&pairs);
    if staff.check_csrf(&posted.csrf).is_err() {
        return Ok(plain(
            StatusCode::FORBIDDEN,
            "The form's security token is missing or no longer matches: reload the page (copy your text first).",
        ));
    }
    if let Some(message) = over_limit(&posted.fields) {
        return Ok(plain(StatusCode::PAYLOAD_TOO_LARGE, message));
    }
    let base_version = match posted.version.as_deref().map(str::parse::<i64>) {
        None => None,
        Some(Ok(v)) => Some(v),
        Some(Err(_)) => {
            return Ok(plain(
                StatusCode::UNPROCESSABLE_ENTITY,
                "The form's version is damaged; reload the page.",
            ));
        }
    };
    let value = serde_json::to_value(&posted.fields)
        .map_err(|e| ServiceError::Io(std::io::Error::other(e)))?;
    let outcome = state
        .newsroom
        .autosave(staff.account(), id, base_version, value, Timestamp::now())
        .await;
    match outcome {
        Ok(slot) => {
            let at = TimeView::new(slot.saved_at, &state.config().time_zone());
            Ok(Json(serde_json::json!({ "saved_at": at.iso, "time": at.time })).into_response())
        }
        Err(e) => {
            let words = match &e {
                ServiceError::Invalid(forbidden @ newsdesk_core::Error::Forbidden { .. }) => {
                    Some(format!("Not autosaved: {forbidden}."))
                }
                ServiceError::Invalid(invalid) => Some(invalid.to_string()),
                ServiceError::NotFound(_) => {
                    Some("This item does not exist, or no longer does.".to_owned())
                }
                _ => None,
            };
            let (status, sentence) = refusal(e)?;
            Ok(plain(status, words.unwrap_or(sentence)))
        }
    }
}

pub(super) async fn discard_new(
    State(state): State<Arc<AppState>>,
    CheckedForm { staff, .. }: CheckedForm<Fields>,
) -> Result<Response, DeskError> {
    discard(&state, &staff, None).await
}

pub(super) async fn discard_item(
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
    CheckedForm { staff, .. }: CheckedForm<Fields>,
) -> Result<Response, DeskError> {
    discard(&state, &staff, Some(id)).await
}

/// Forgets the person's own autosave and shows the editor as the item stands.
async fn discard(state: &AppState, staff: &Staff, id: Option<i64>) -> Result<Response, DeskError> {
    state.newsroom.discard_autosave(staff.account(), id).await?;
    let editor = id.map_or("/desk/new".to_owned(), |id| format!("/desk/items/{id}"));
    Ok(see_other(&editor))
}
