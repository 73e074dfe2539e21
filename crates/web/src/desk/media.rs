//! The media library's room in the desk (`/desk/media`): every image once, searchable by its
//! words, with an upload form that needs alt text, and "Use this image" links back to the
//! editor the writer came from. The editor's own picker shows the newest few.

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Query, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use jiff::Timestamp;
use minijinja::context;
use newsdesk_core::Action;
use newsdesk_core::library::LibraryImage;
use newsdesk_services::library::{ImageWords, LIBRARY_PAGE_SIZE};
use newsdesk_services::uploads::{UPLOAD_MAX_BYTES, UPLOADS_PREFIX, VARIANT_WIDTHS, variant_path};
use serde::Serialize;

use super::items::EDITOR_BODY_LIMIT;
use super::{DeskError, Fields, Staff, field, refusal};
use crate::AppState;
use crate::forms::{render, see_other, urlencode, val};
use crate::views::{PagerView, TimeView};

pub(super) fn router() -> Router<Arc<AppState>> {
    Router::new().route(
        "/media",
        get(media)
            .post(upload)
            .layer(DefaultBodyLimit::max(EDITOR_BODY_LIMIT)),
    )
}

/// An image as the desk shows it: a small version to look at, and its words.
#[derive(Debug, Serialize)]
pub(crate) struct ImageCard {
    path: String,
    thumb: String,
    width: u32,
    height: u32,
    alt: String,
    caption: String,
    credit: String,
    uploaded_by: String,
}

impl ImageCard {
    pub(crate) fn new(image: &LibraryImage) -> Self {
        // Uploads have a 320 px variant when wider than that; other media are shown as they are.
        let narrowest = VARIANT_WIDTHS[0];
        let thumb = if image.path.starts_with(UPLOADS_PREFIX) && image.width > narrowest {
            variant_path(&image.path, narrowest)
        } else {
            image.path.clone()
        };
        ImageCard {
            path: image.path.clone(),
            thumb: format!("/media/{thumb}"),
            width: image.width,
            height: image.height,
            alt: image.alt.clone(),
            caption: image.caption.clone(),
            credit: image.credit.clone(),
            uploaded_by: image.uploaded_by.clone(),
        }
    }
}

/// The editor a writer came from, if the address is one: "Use this image" goes back there.
fn editor_to_return_to(path: &str) -> Option<&str> {
    let item = path
        .strip_prefix("/desk/items/")
        .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()));
    (item || path == "/desk/new" || path == "/desk/new?kind=brief").then_some(path)
}

async fn show(
    state: &AppState,
    staff: &Staff,
    status: StatusCode,
    query: &Fields,
    error: Option<String>,
) -> Result<Response, DeskError> {
    let get = |k: &str| field(query, k).trim();
    let words = get("q");
    let page = get("page").parse::<u32>().unwrap_or(1).max(1);
    let back = editor_to_return_to(get("for"));
    let (images, total) = state.newsroom.library(Some(words), page).await?;
    let zone = state.config().time_zone();
    let use_url = |path: &str| {
        back.map(|editor| {
            let separator = if editor.contains('?') { '&' } else { '?' };
            format!("{editor}{separator}hero={}", urlencode(path))
        })
    };
    let cards: Vec<_> = images
        .iter()
        .map(|image| {
            context! {
                card => val(ImageCard::new(image)),
                at => val(TimeView::new(image.created_at, &zone)),
                use_url => use_url(&image.path),
            }
        })
        .collect();
    let mut kept = Vec::new();
    if !words.is_empty() {
        kept.push(format!("q={}", urlencode(words)));
    }
    if let Some(editor) = back {
        kept.push(format!("for={}", urlencode(editor)));
    }
    let base = if kept.is_empty() {
        "/desk/media".to_owned()
    } else {
        format!("/desk/media?{}", kept.join("&"))
    };
    let pages = total.div_ceil(u64::from(LIBRARY_PAGE_SIZE)).max(1) as u32;
    Ok(render(
        state,
        "desk/media.html",
        status,
        context! {
            site_name => state.config().site.name.clone(),
            session => val(staff.view()),
            images => cards,
            total => total,
            q => words,
            back => back,
            pager => val(PagerView::new(&base, page.min(pages), pages)),
            error => error,
            done => (get("done") == "added").then_some("The image is in the library."),
            max_mb => UPLOAD_MAX_BYTES / (1024 * 1024),
        },
    ))
}

async fn media(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Query(query): Query<Fields>,
) -> Result<Response, DeskError> {
    staff.may(Action::WriteOwnDrafts)?;
    show(&state, &staff, StatusCode::OK, &query, None).await
}

/// Uploads one image into the library; alt text is required here, since the image is not yet
/// beside a story that could explain it.
async fn upload(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    request: Request,
) -> Result<Response, DeskError> {
    staff.may(Action::WriteOwnDrafts)?;
    let too_large = || DeskError::BadRequest {
        status: StatusCode::PAYLOAD_TOO_LARGE,
        message: format!(
            "The form is too large: images may be at most {} MB.",
            UPLOAD_MAX_BYTES / (1024 * 1024)
        ),
    };
    // Read here rather than as an extractor, so that the role is checked before the body.
    let mut multipart = match Multipart::from_request(request, &state).await {
        Ok(m) => m,
        Err(rejection) => return Ok(rejection.into_response()),
    };
    let mut form = Fields::new();
    let mut file = None;
    while let Some(part) = multipart.next_field().await.map_err(|_| too_large())? {
        let name = part.name().unwrap_or_default().to_owned();
        if name == "file" {
            let bytes = part.bytes().await.map_err(|_| too_large())?;
            if !bytes.is_empty() {
                file = Some(bytes.to_vec());
            }
        } else {
            let text = part.text().await.map_err(|_| too_large())?;
            form.insert(name, text);
        }
    }
    staff.check_csrf(field(&form, "csrf"))?;
    let back: Fields = editor_to_return_to(field(&form, "for"))
        .map(|editor| [("for".to_owned(), editor.to_owned())].into())
        .unwrap_or_default();
    let Some(bytes) = file else {
        return show(
            &state,
            &staff,
            StatusCode::UNPROCESSABLE_ENTITY,
            &back,
            Some("Choose an image file to upload.".into()),
        )
        .await;
    };
    let words = ImageWords {
        alt: field(&form, "alt").to_owned(),
        caption: field(&form, "caption").to_owned(),
        credit: field(&form, "credit").to_owned(),
    };
    let outcome = state
        .newsroom
        .upload_to_library(
            bytes,
            &words,
            true,
            &staff.account().email,
            Timestamp::now(),
        )
        .await;
    match outcome {
        Ok(_) => {
            let mut to = "/desk/media?done=added".to_owned();
            if let Some(editor) = back.get("for") {
                to.push_str(&format!("&for={}", urlencode(editor)));
            }
            Ok(see_other(&to))
        }
        Err(e) => {
            let (status, words) = refusal(e)?;
            show(&state, &staff, status, &back, Some(words)).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_editor_address_is_returned_to() {
        for ok in ["/desk/new", "/desk/new?kind=brief", "/desk/items/42"] {
            assert_eq!(editor_to_return_to(ok), Some(ok));
        }
        for refused in [
            "",
            "https://elsewhere.example/desk/new",
            "//elsewhere.example",
            "/desk/items/",
            "/desk/items/4x",
            "/desk/items/1/../../x",
            "/desk",
        ] {
            assert_eq!(editor_to_return_to(refused), None, "{refused}");
        }
    }
}
