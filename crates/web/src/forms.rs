//! What the site's and the desk's HTML forms share: cookies, the constant-time secret compare
//! behind every CSRF check, the redirect after a post, template rendering, the one response
//! for a failure that is ours, and `no-store` for pages that belong to one person.

use std::collections::HashMap;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use newsdesk_services::ServiceError;
use serde::Serialize;

use crate::AppState;
use crate::metrics::RouteName;

/// A posted form read as name → value, for forms whose fields vary (checkboxes per event,
/// a name per language).
pub(crate) type Fields = HashMap<String, String>;

/// A form field's value, or "" when the form did not send it.
pub(crate) fn field<'a>(form: &'a Fields, name: &str) -> &'a str {
    form.get(name).map(String::as_str).unwrap_or_default()
}

/// A cookie's value from the request's `Cookie` headers.
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Compares secrets in time that does not depend on where they first differ.
pub(crate) fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

impl AppState {
    /// A cookie for `path` and below: HttpOnly, SameSite=Lax. `observe` adds `Secure` to
    /// every cookie of a request that came over https.
    pub(crate) fn set_cookie_at(
        &self,
        name: &str,
        value: &str,
        max_age: i64,
        path: &str,
    ) -> HeaderValue {
        HeaderValue::from_str(&format!(
            "{name}={value}; Path={path}; HttpOnly; SameSite=Lax; Max-Age={max_age}"
        ))
        .unwrap_or(HeaderValue::from_static(""))
    }
}

/// Marks a page as one person's: never stored by any cache; `route` names it in the metrics.
pub(crate) fn no_store(mut response: Response, route: &'static str) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response.extensions_mut().insert(RouteName(route));
    response
}

/// The answer to a form that worked: go to `to` (a same-site path).
pub(crate) fn see_other(to: &str) -> Response {
    (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, crate::redirect::location(to))],
    )
        .into_response()
}

/// An HTML page from a theme template.
pub(crate) fn render(
    state: &AppState,
    template: &str,
    status: StatusCode,
    ctx: minijinja::Value,
) -> Response {
    match state.theme.render(template, ctx) {
        Ok(html) => (
            status,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            Body::from(html),
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, template, "template failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong on our side.",
            )
                .into_response()
        }
    }
}

/// A service error that is not the asker's to fix: logged, and an apology shown. Waiting is
/// not failing: a busy password hasher or a limit is the asker's to wait out, whichever page
/// asked (a reader's reset, an account added in the desk).
pub(crate) fn internal(e: ServiceError) -> Response {
    if let Some(secs) = e.retry_after() {
        let status = if matches!(e, ServiceError::Busy { .. }) {
            StatusCode::SERVICE_UNAVAILABLE
        } else {
            StatusCode::TOO_MANY_REQUESTS
        };
        return (
            status,
            [(header::RETRY_AFTER, secs.to_string())],
            e.to_string(),
        )
            .into_response();
    }
    tracing::error!(error = %e, "request failed");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong on our side. Please try again in a moment.",
    )
        .into_response()
}

/// Percent-encodes a query value (a path's slashes kept).
pub(crate) fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Any serializable value as a template value.
pub(crate) fn val<T: Serialize>(value: T) -> minijinja::Value {
    minijinja::Value::from(minijinja::value::Serde(value))
}
