//! The media library's room in the desk (`/desk/media`): every image once, searchable by its
//! words, with an upload form that needs alt text, and "Use this image" links back to the
//! editor the writer came from. The editor's own picker shows the newest few.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{FromRequest, Multipart, Query, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use minijinja::context;
use newsdesk_core::Action;
use newsdesk_core::account::Session;
use newsdesk_core::library::LibraryImage;
use newsdesk_services::ServiceError;
use newsdesk_services::library::{ImageWords, LIBRARY_PAGE_SIZE};
use newsdesk_services::uploads::{UPLOAD_MAX_BYTES, UPLOADS_PREFIX, VARIANT_WIDTHS, variant_path};
use serde::Serialize;

use crate::AppState;
use crate::desk::{
    csrf_refused, desk_session, internal, no_store, render, require, same_secret, see_other,
    urlencode, val,
};
use crate::views::{PagerView, TimeView};

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
    session: &Session,
    status: StatusCode,
    query: &HashMap<String, String>,
    error: Option<String>,
) -> Response {
    let get = |k: &str| query.get(k).map(|v| v.trim()).unwrap_or_default();
    let words = get("q");
    let page = get("page").parse::<u32>().unwrap_or(1).max(1);
    let back = editor_to_return_to(get("for"));
    let (images, total) = match state.newsroom.library(Some(words), page).await {
        Ok(found) => found,
        Err(e) => return internal(e),
    };
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
    render(
        state,
        "desk/media.html",
        status,
        context! {
            site_name => state.config().site.name.clone(),
            session => val(desk_session(session)),
            images => cards,
            total => total,
            q => words,
            back => back,
            pager => val(PagerView::new(&base, page.min(pages), pages)),
            error => error,
            done => (get("done") == "added").then_some("The image is in the library."),
            max_mb => UPLOAD_MAX_BYTES / (1024 * 1024),
        },
    )
}

pub async fn media(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let response = match require(&state, &headers, Action::WriteOwnDrafts, "/desk/media").await {
        Ok(session) => show(&state, &session, StatusCode::OK, &query, None).await,
        Err(r) => r,
    };
    no_store(response, "desk")
}

/// Uploads one image into the library; alt text is required here, since the image is not yet
/// beside a story that could explain it.
pub async fn upload(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    request: Request,
) -> Response {
    let session = match require(&state, &headers, Action::WriteOwnDrafts, "/desk/media").await {
        Ok(s) => s,
        Err(r) => return no_store(r, "desk"),
    };
    let too_large = || {
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "The form is too large: images may be at most {} MB.",
                UPLOAD_MAX_BYTES / (1024 * 1024)
            ),
        )
            .into_response()
    };
    let mut multipart = match Multipart::from_request(request, &state).await {
        Ok(m) => m,
        Err(e) => return no_store(e.into_response(), "desk"),
    };
    let mut fields: HashMap<String, String> = HashMap::new();
    let mut file = None;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(_) => return no_store(too_large(), "desk"),
        };
        let name = field.name().unwrap_or_default().to_owned();
        if name == "file" {
            match field.bytes().await {
                Ok(bytes) if !bytes.is_empty() => file = Some(bytes.to_vec()),
                Ok(_) => {}
                Err(_) => return no_store(too_large(), "desk"),
            }
        } else {
            match field.text().await {
                Ok(text) => {
                    fields.insert(name, text);
                }
                Err(_) => return no_store(too_large(), "desk"),
            }
        }
    }
    let field = |k: &str| fields.get(k).cloned().unwrap_or_default();
    if !same_secret(&session.csrf_token, &field("csrf")) {
        return no_store(csrf_refused(&state), "desk");
    }
    let back: HashMap<String, String> = editor_to_return_to(&field("for"))
        .map(|editor| [("for".to_owned(), editor.to_owned())].into())
        .unwrap_or_default();
    let Some(bytes) = file else {
        let response = show(
            &state,
            &session,
            StatusCode::UNPROCESSABLE_ENTITY,
            &back,
            Some("Choose an image file to upload.".into()),
        )
        .await;
        return no_store(response, "desk");
    };
    let words = ImageWords {
        alt: field("alt"),
        caption: field("caption"),
        credit: field("credit"),
    };
    let outcome = state
        .newsroom
        .upload_to_library(
            bytes,
            &words,
            true,
            &session.account.email,
            Timestamp::now(),
        )
        .await;
    let response = match outcome {
        Ok(_) => {
            let mut to = "/desk/media?done=added".to_owned();
            if let Some(editor) = back.get("for") {
                to.push_str(&format!("&for={}", urlencode(editor)));
            }
            see_other(&to)
        }
        Err(ServiceError::Invalid(e)) => {
            show(
                &state,
                &session,
                StatusCode::UNPROCESSABLE_ENTITY,
                &back,
                Some(format!("{e}.")),
            )
            .await
        }
        Err(e) => internal(e),
    };
    no_store(response, "desk")
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

pub(super) fn router() -> axum::Router<Arc<AppState>> {
    use axum::routing::get;
    axum::Router::new().route(
        "/media",
        get(media)
            .post(upload)
            .layer(axum::extract::DefaultBodyLimit::max(
                super::items::EDITOR_BODY_LIMIT,
            )),
    )
}
