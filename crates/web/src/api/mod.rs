//! The JSON API for the outlet's apps, partners and tools: `/api/v1/…`, its OpenAPI 3.1
//! document at `/api/openapi.json` and readable documentation at `/api/docs`. The document is
//! generated from these handlers' annotations and the routes are registered from the same
//! annotations (utoipa-axum), so a route cannot exist undocumented or be documented at a
//! path it does not answer. Handlers parse, call a newsroom service and answer JSON.

mod auth;
mod discussion;
mod docs;
mod error;
mod extract;
mod limits;
mod model;
mod read;
mod shared;
mod staff;

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use newsdesk_core::Config;
use serde::Serialize;
use utoipa::OpenApi;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use error::{ApiError, ErrorBody};
pub use limits::RateLimiter;

use crate::metrics::RouteName;
use crate::{AppState, http};

/// Largest JSON body the API reads: an item's body at its limit, escaped, with room to spare.
pub const BODY_LIMIT: usize = 512 * 1024;

/// What the API keeps between requests.
#[derive(Default)]
pub struct ApiState {
    pub limiter: RateLimiter,
    /// The OpenAPI document, rendered once at start.
    pub document: std::sync::OnceLock<Arc<docs::Document>>,
    /// Reads answered from the page cache, and reads that made the answer it then kept (or,
    /// for an empty filtered page, only served); fresh answers for token holders count in
    /// neither (`shared::serve`).
    pub cache_hits: AtomicU64,
    pub cache_misses: AtomicU64,
}

/// Where the API's answers live in the page cache (see `shared`).
pub use shared::ADDRESS_PREFIX as CACHE_PREFIX;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "newsdesk API",
        version = "1",
        description = "Read the edition (stories, briefs, sections, tags, authors, search, comments), comment as a signed-in reader, and write items with a staff token. Errors are always `{\"error\": {\"code\", \"message\", \"field\"}}`. Reads carry an ETag: send it back as `If-None-Match` for a 304. Rate limits answer 429 with `Retry-After`. The live stream is Server-Sent Events at `/api/v1/live`."
    ),
    // The live stream is routed beside the API, outside its gate (browsers' EventSource cannot
    // send a key), and documented here.
    paths(crate::live::stream),
    modifiers(&SecuritySchemes),
    tags(
        (name = "items", description = "Stories and briefs"),
        (name = "labels", description = "Sections, tags and authors"),
        (name = "comments", description = "Readers' comments"),
        (name = "readers", description = "Signing in, and who a token belongs to"),
        (name = "staff", description = "Writing items with a staff token"),
    )
)]
struct ApiDoc;

struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A reader's token from /api/v1/auth/sign-in, a staff token or a read key made in the desk.",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-API-Key",
                "A read key made by an admin in the desk.",
            ))),
        );
    }
}

/// The API's routes (registered from their documentation) and the document itself.
pub fn router(state: &Arc<AppState>) -> Router<Arc<AppState>> {
    let (routes, mut openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(read::stream, staff::create))
        .routes(routes!(read::item, staff::update))
        .routes(routes!(read::item_by_slug))
        .routes(routes!(read::related))
        .routes(routes!(read::breaking))
        .routes(routes!(read::search))
        .routes(routes!(read::sections))
        .routes(routes!(read::tags))
        .routes(routes!(read::authors))
        .routes(routes!(discussion::thread, discussion::post))
        .routes(routes!(
            discussion::comment,
            discussion::edit,
            discussion::delete
        ))
        .routes(routes!(discussion::like))
        .routes(routes!(discussion::report))
        .routes(routes!(discussion::sign_in))
        .routes(routes!(discussion::sign_out))
        .routes(routes!(discussion::me))
        .split_for_parts();
    docs::fit_to_site(&mut openapi, &state.config());
    let document = docs::Document::new(&openapi);
    let _ = state.api.document.set(Arc::new(document));
    let mut api = routes
        .route("/api/openapi.json", axum::routing::get(docs::document))
        .route("/api/docs", axum::routing::get(docs::page))
        .route("/api/{*rest}", any(no_such_endpoint))
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn_with_state(state.clone(), auth::gate))
        .layer(middleware::from_fn(errors_as_json));
    if let Some(cors) = cors_layer(&state.config()) {
        api = api.layer(cors);
    }
    api
}

fn cors_layer(config: &Config) -> Option<tower_http::cors::CorsLayer> {
    use tower_http::cors::{AllowOrigin, CorsLayer};
    let origins = &config.api.cors_origins;
    if origins.is_empty() {
        return None;
    }
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(
            origins
                .iter()
                .filter_map(|o| HeaderValue::from_str(o).ok())
                .collect::<Vec<_>>(),
        )
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([
                axum::http::Method::GET,
                axum::http::Method::HEAD,
                axum::http::Method::POST,
                axum::http::Method::PUT,
                axum::http::Method::PATCH,
                axum::http::Method::DELETE,
            ])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                header::IF_NONE_MATCH,
                header::HeaderName::from_static("x-api-key"),
                header::HeaderName::from_static("last-event-id"),
            ])
            .expose_headers([header::ETAG, header::RETRY_AFTER])
            .max_age(std::time::Duration::from_secs(600)),
    )
}

async fn no_such_endpoint() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "There is no such API endpoint. The endpoints are listed at /api/docs.",
    )
}

/// The framework's own refusals (a method a path does not answer, an address that does not
/// decode) become the error object too, and every API response is counted under one name.
async fn errors_as_json(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if status.is_client_error() && !is_json {
        let allow = response.headers().get(header::ALLOW).cloned();
        let (code, message) = match status {
            StatusCode::METHOD_NOT_ALLOWED => (
                "method_not_allowed",
                "This endpoint does not answer that method; /api/docs lists the ones it does.",
            ),
            StatusCode::NOT_FOUND => ("not_found", "There is no such API endpoint."),
            StatusCode::PAYLOAD_TOO_LARGE => (
                "too_large",
                "The request body is larger than the API accepts.",
            ),
            _ => (
                "invalid",
                "The request is not right: check the address and its parameters.",
            ),
        };
        response = ApiError::new(status, code, message).into_response();
        if let Some(allow) = allow {
            response.headers_mut().insert(header::ALLOW, allow);
        }
    }
    if response.extensions().get::<RouteName>().is_none() {
        response.extensions_mut().insert(RouteName("api"));
    }
    response
}

/// A JSON answer to a read that is never kept (a cursor's page, a search, a thread), made the
/// same way as a cached one: an ETag per encoding for conditional requests, gzip or brotli as
/// asked, `public` for strangers and `private` for token holders.
pub(crate) async fn respond<T: Serialize>(
    state: &AppState,
    caller: &auth::Caller,
    request: &HeaderMap,
    value: &T,
) -> Result<Response, ApiError> {
    let answer = shared::Answer::json(value, Vec::new())?;
    shared::serve(state, caller, request, None, || async { Ok(answer) }).await
}

/// A JSON answer to a write or a caller's own data: never stored by any cache.
pub(crate) fn private_json<T: Serialize>(status: StatusCode, value: &T) -> Response {
    let mut response = (status, axum::Json(value)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, http::NO_STORE);
    response
}

pub(crate) fn linker<'a>(state: &'a AppState, config: &'a Config) -> model::Linker<'a> {
    model::Linker {
        config,
        sections: state.sections(),
        base_url: &state.base_url,
    }
}

/// An id from the path or the body: a positive 64-bit integer.
pub(crate) fn check_id(field: &str, raw: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id >= 1)
        .ok_or_else(|| {
            ApiError::invalid(
                field,
                format!("`{field}` must be a whole number from 1 to {}.", i64::MAX),
            )
        })
}

/// One of the site's languages, as the site spells it (`EN`, `en-gb` for a site in `en-GB`).
pub(crate) fn check_language(config: &Config, lang: &str) -> Result<String, ApiError> {
    newsdesk_core::lang::normalize(lang)
        .and_then(|tag| config.site.languages.iter().find(|l| **l == tag))
        .cloned()
        .ok_or_else(|| {
            ApiError::invalid(
                "lang",
                format!(
                    "`lang` must be one of the site's languages: {}.",
                    config.site.languages.join(", ")
                ),
            )
        })
}

/// A slug as the site makes them: lowercase letters, digits and single hyphens, at most
/// `max` characters.
pub(crate) fn check_slug(field: &str, slug: &str, max: usize) -> Result<String, ApiError> {
    if slug.len() <= max && newsdesk_core::text::is_slug(slug) {
        Ok(slug.to_owned())
    } else {
        Err(ApiError::invalid(
            field,
            format!(
                "`{field}` must be a slug: lowercase letters, digits and single hyphens, at most {max} characters."
            ),
        ))
    }
}
