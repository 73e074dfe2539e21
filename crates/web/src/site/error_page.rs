//! The page every failed site address answers with: the site's chrome, the status and a
//! message a reader can act on. Never cached, so an error cannot outlive its cause.

use axum::body::Body;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use minijinja::context;

use crate::AppState;
use crate::error::WebError;
use crate::http;
use crate::metrics::RouteName;
use crate::site::meta::PageMeta;
use crate::theme::val;
use crate::views::SiteView;

/// The site's 404 page in the default language.
pub(crate) fn not_found_page(state: &AppState) -> Response {
    let language = state.config().site.default_language.clone();
    error_page(state, &language, WebError::NotFound)
}

/// `error`'s page in `language`.
pub(crate) fn error_page(state: &AppState, language: &str, error: WebError) -> Response {
    let status = error.status();
    if let WebError::Internal(cause) = &error {
        tracing::error!(%cause, "request failed");
    }
    let site = SiteView::new(
        &state.config(),
        &state.sections(),
        &state.base_url,
        language,
        None,
        Timestamp::now(),
    );
    let html = state.theme.render(
        "error.html",
        context! {
            site => val(site),
            t => val(&*state.theme.strings(language)),
            status => status.as_u16(),
            message => error.to_string(),
            meta => val(PageMeta::new(
                format!("{} | {}", error, state.config().site.name),
                error.to_string(),
                String::new(),
                "website",
            )),
        },
    );
    let body = match html {
        Ok(html) => html,
        Err(e) => {
            tracing::error!(error = %e, "error template failed");
            format!(
                "<!doctype html><title>{}</title><p>{}",
                status.as_u16(),
                status.canonical_reason().unwrap_or("Error")
            )
        }
    };
    let mut response = (
        status,
        [(header::CONTENT_TYPE, http::HTML)],
        Body::from(body),
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, http::NO_STORE);
    response.extensions_mut().insert(RouteName("error"));
    response
}
