//! The HTTP faces of newsdesk: the site, the desk and the API, the page cache,
//! theme, metrics and security headers. Handlers parse, call a newsroom service and render;
//! they hold no SQL and write no cache headers of their own.

// The three faces, each in its own folder.
mod api;
mod desk;
mod site;

// Plumbing the faces share.
mod background;
mod cache;
pub mod client;
mod error;
mod forms;
mod http;
pub mod live;
mod metrics;
pub mod paths;
mod redirect;
mod server;
mod theme;
mod views;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use newsdesk_core::{Config, Sections};
use newsdesk_services::Newsroom;

pub use background::start_background;
pub use cache::PageCache;
pub use client::ClientAddress;
pub use desk::items::AUTOSAVE_MAX_BYTES;
pub use error::WebError;
pub use server::serve;
pub use theme::{Theme, ThemeError};

use metrics::{Metrics, RouteName};

/// axum's limit for a route that names none (the site's and the account's forms).
const DEFAULT_BODY_LIMIT: usize = 2 * 1024 * 1024;

/// How long `/healthz` waits for the database.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(2);

/// Uploads are named by a hash of their bytes and of the encoding (see `uploads`), so a name
/// never comes to mean other bytes: caches may keep them for a year without asking.
const UPLOAD_CACHE_CONTROL: HeaderValue =
    HeaderValue::from_static("public, max-age=31536000, immutable");
/// Other media (the demo's bundled images) keep their names across versions: a day, then
/// revalidated by ETag.
const MEDIA_CACHE_CONTROL: HeaderValue = HeaderValue::from_static("public, max-age=86400");

pub struct AppState {
    pub newsroom: Arc<Newsroom>,
    pub theme: Theme,
    pub cache: PageCache,
    /// Scheme, host and port every absolute link starts with; no trailing slash.
    pub base_url: String,
    /// The live stream's hub and open streams.
    pub live: Arc<live::Live>,
    metrics: Metrics,
    cache_control: HeaderValue,
    started: Instant,
    api: api::ApiState,
}

impl AppState {
    pub fn new(newsroom: Arc<Newsroom>, theme: Theme, base_url: String) -> Self {
        let config = newsroom.config();
        AppState {
            cache: PageCache::new(
                config.cache.max_entries,
                usize::try_from(config.cache.max_bytes).unwrap_or(usize::MAX),
                Duration::from_secs(u64::from(config.cache.s_maxage.max(1))),
            ),
            cache_control: http::public_cache_control(&config.cache),
            newsroom,
            theme,
            base_url: base_url.trim_end_matches('/').to_owned(),
            live: Arc::new(live::Live::new(&config.live)),
            metrics: Metrics::default(),
            started: Instant::now(),
            api: api::ApiState::default(),
        }
    }

    /// The settings from the configuration file.
    pub fn config(&self) -> Arc<Config> {
        self.newsroom.config()
    }

    /// The sections as they are now (the desk can change them); take one snapshot per
    /// request.
    pub fn sections(&self) -> Arc<Sections> {
        self.newsroom.sections()
    }
}

/// The whole application.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .merge(api::router(&state))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics_text))
        .route(live::PATH, get(live::stream))
        .route("/assets/{name}", get(asset))
        .route("/media/{*path}", get(media))
        .route("/search", get(site::search::page))
        .route("/opensearch.xml", get(site::search::opensearch))
        .nest("/desk", desk::router(&state))
        .route(
            "/comments/{item}",
            get(site::comments::discussion).post(site::comments::post),
        )
        .route("/comments/c/{id}/{action}", post(site::comments::act))
        .route("/account", get(site::account::profile))
        .route("/account/name", post(site::account::change_name))
        .route("/account/export", get(site::account::export))
        .route("/account/delete", post(site::account::delete))
        .route(
            "/account/sign-in",
            get(site::account::sign_in_form).post(site::account::sign_in),
        )
        .route(
            "/account/sign-up",
            get(site::account::sign_up_form).post(site::account::sign_up),
        )
        .route("/account/sign-out", post(site::account::sign_out))
        .route("/account/verify/{token}", get(site::account::verify))
        .route(
            "/account/reset",
            get(site::account::reset_form).post(site::account::request_reset),
        )
        .route(
            "/account/reset/{token}",
            get(site::account::new_password_form).post(site::account::set_new_password),
        )
        .fallback(site::page::page)
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .with_state(state)
}

/// Access log, metrics and security headers for every response.
async fn observe(State(state): State<Arc<AppState>>, mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let config = state.config();
    // The access log is off in most deployments that care about speed (NEWSDESK_LOG=warn):
    // then a cached page is answered without copying its address for a line never written.
    let access = tracing::enabled!(target: "newsdesk::access", tracing::Level::INFO).then(|| {
        (
            request.method().clone(),
            loggable_path(request.uri().path()),
        )
    });
    let client = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| {
            ClientAddress::resolve(peer.ip(), request.headers(), &config.server.trusted_proxies)
        });
    if let Some(client) = client {
        request.extensions_mut().insert(client);
    }
    let https = state.base_url.starts_with("https://") || client.is_some_and(|c| c.https);
    let mut response = match refuse_declared_body(request.uri().path(), request.headers()) {
        Some(refused) => refused,
        None => next.run(request).await,
    };
    let elapsed = started.elapsed();
    let route = response
        .extensions()
        .get::<RouteName>()
        .map_or("other", |r| r.0);
    let status = response.status().as_u16();
    state.metrics.record(route, status, elapsed);
    http::add_security_headers(response.headers_mut());
    http::add_transport_security(
        response.headers_mut(),
        https,
        config.server.hsts_max_age_seconds,
    );
    if let Some((method, path)) = access {
        tracing::info!(
            target: "newsdesk::access",
            %method,
            path,
            client = client.map(|c| c.ip.to_string()).unwrap_or_default(),
            status,
            route,
            micros = elapsed.as_micros() as u64,
        );
    }
    response
}

/// The most a request to `path` may send: the largest limit any route under it sets (the
/// editor's upload under `/desk/`, the API's under `/api/`).
fn body_limit_for(path: &str) -> usize {
    if path.starts_with("/api/") {
        api::BODY_LIMIT
    } else if path.starts_with("/desk/") {
        desk::items::EDITOR_BODY_LIMIT
    } else {
        DEFAULT_BODY_LIMIT
    }
}

/// A `Content-Length` beyond the limit is refused before a byte of the body is read: the
/// body limit alone would wait for the bytes to arrive, and a client that declares 100 GB
/// and sends nothing would hold the request open.
fn refuse_declared_body(path: &str, headers: &HeaderMap) -> Option<Response> {
    let declared: u64 = headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    let limit = body_limit_for(path);
    if declared <= limit as u64 {
        return None;
    }
    let mut response = if path.starts_with("/api/") {
        api::ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("The request body is larger than the API accepts ({limit} bytes)."),
        )
        .into_response()
    } else {
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "The request is too large: this address takes at most {} MiB.\n",
                limit.div_ceil(1024 * 1024)
            ),
        )
            .into_response()
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, http::NO_STORE);
    // The body was never read: the connection cannot carry another request.
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response.extensions_mut().insert(RouteName("too_large"));
    Some(response)
}

/// Addresses whose last segment is a one-time secret (first-admin set-up, password reset,
/// address confirmation): a log line must not be a way in while the link still works.
const SECRET_PATHS: [&str; 3] = ["/desk/setup/", "/account/reset/", "/account/verify/"];

/// The request path as the access log may keep it: secrets replaced by `…`. Matched without
/// regard to case, since a mistyped capital still carries the real token.
fn loggable_path(path: &str) -> String {
    SECRET_PATHS
        .iter()
        .find(|prefix| {
            path.get(..prefix.len())
                .is_some_and(|start| start.eq_ignore_ascii_case(prefix))
                && path.len() > prefix.len()
        })
        .map_or_else(|| path.to_owned(), |prefix| format!("{prefix}…"))
}

async fn healthz(State(state): State<Arc<AppState>>) -> Response {
    // Healthy means the database answers, not merely that the process runs.
    // Answer within a load balancer's patience even while the database hangs.
    let probe = tokio::time::timeout(HEALTH_TIMEOUT, state.newsroom.last_event_id());
    let answer = match probe.await {
        Ok(Ok(_)) => (StatusCode::OK, "ok\n"),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "health check: database unavailable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n")
        }
        Err(_) => {
            tracing::error!("health check: database did not answer in time");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "database did not answer in time\n",
            )
        }
    };
    let mut response = (
        answer.0,
        [(header::CACHE_CONTROL, http::NO_STORE)],
        answer.1,
    )
        .into_response();
    response.extensions_mut().insert(RouteName("healthz"));
    response
}

/// Whether this request may read `/metrics`: with a token set, whoever sends it; without
/// one, only a client on this machine that came straight to us, since a proxy on the same
/// machine would otherwise hand the numbers to the whole internet.
fn metrics_allowed(config: &Config, client: ClientAddress, headers: &HeaderMap) -> bool {
    match &config.metrics.token {
        Some(token) => headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().split_once(' '))
            .is_some_and(|(scheme, sent)| {
                scheme.eq_ignore_ascii_case("bearer") && forms::same_secret(sent.trim(), token)
            }),
        None => {
            let forwarded = ["forwarded", "x-forwarded-for", "x-real-ip"]
                .iter()
                .any(|name| headers.contains_key(*name));
            client.ip.is_loopback() && !forwarded
        }
    }
}

async fn metrics_text(
    State(state): State<Arc<AppState>>,
    client: ClientAddress,
    headers: HeaderMap,
) -> Response {
    if !metrics_allowed(&state.config(), client, &headers) {
        let mut response = (
            StatusCode::FORBIDDEN,
            [
                (header::CACHE_CONTROL, http::NO_STORE),
                (header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")),
            ],
            "The metrics are served to this machine only, or with the token set as metrics.token (Authorization: Bearer <token>).\n",
        )
            .into_response();
        response.extensions_mut().insert(RouteName("metrics"));
        return response;
    }
    let hits = state.cache.hits.load(Ordering::Relaxed) as f64;
    let misses = state.cache.misses.load(Ordering::Relaxed) as f64;
    let body = state.metrics.render(&[
        (
            "newsdesk_page_cache_hits_total",
            "counter",
            "Page cache hits.",
            hits,
        ),
        (
            "newsdesk_page_cache_misses_total",
            "counter",
            "Page cache misses.",
            misses,
        ),
        (
            "newsdesk_page_cache_entries",
            "gauge",
            "Pages in the page cache.",
            state.cache.len() as f64,
        ),
        (
            "newsdesk_page_cache_bytes",
            "gauge",
            "Bytes the cached pages take, against cache.max_bytes.",
            state.cache.bytes() as f64,
        ),
        (
            "newsdesk_api_cache_hits_total",
            "counter",
            "API reads answered from the page cache (strangers and read keys only).",
            state.api.cache_hits.load(Ordering::Relaxed) as f64,
        ),
        (
            "newsdesk_api_cache_misses_total",
            "counter",
            "API reads that could have come from the page cache and were made instead.",
            state.api.cache_misses.load(Ordering::Relaxed) as f64,
        ),
        (
            "newsdesk_api_cache_entries",
            "gauge",
            "API answers in the page cache (counted among its entries and bytes too).",
            state.cache.len_under(api::CACHE_PREFIX) as f64,
        ),
        (
            "newsdesk_live_subscribers",
            "gauge",
            "Open live-stream connections.",
            state.live.subscribers() as f64,
        ),
        (
            "newsdesk_uptime_seconds",
            "gauge",
            "Seconds since the server started.",
            state.started.elapsed().as_secs_f64(),
        ),
    ]);
    let mut response = (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, http::NO_STORE),
        ],
        body,
    )
        .into_response();
    response.extensions_mut().insert(RouteName("metrics"));
    response
}

/// Media bytes from the media store (a directory or a bucket), with an ETag so browsers and
/// CDNs revalidate cheaply.
async fn media(
    State(state): State<Arc<AppState>>,
    Path(path): Path<String>,
    headers: HeaderMap,
    method: Method,
) -> Response {
    let mut response = match state.newsroom.media().get(&path).await {
        Ok(Some(object)) => {
            let tag = cache::content_tag(&object.bytes);
            let etag = HeaderValue::from_str(&format!("\"{tag}\""))
                .unwrap_or(HeaderValue::from_static("\"\""));
            let mut builder = Response::builder()
                .header(header::ETAG, etag.clone())
                .header(
                    header::CACHE_CONTROL,
                    if path.starts_with(newsdesk_services::uploads::UPLOADS_PREFIX) {
                        UPLOAD_CACHE_CONTROL
                    } else {
                        MEDIA_CACHE_CONTROL
                    },
                );
            if http::none_match(&headers, &etag) {
                builder
                    .status(StatusCode::NOT_MODIFIED)
                    .body(Body::empty())
                    .unwrap_or_default()
            } else {
                builder = builder
                    .header(header::CONTENT_TYPE, object.content_type)
                    .header(header::CONTENT_LENGTH, object.bytes.len());
                let body = if method == Method::HEAD {
                    Body::empty()
                } else {
                    Body::from(object.bytes)
                };
                builder.body(body).unwrap_or_default()
            }
        }
        Ok(None) | Err(newsdesk_services::media::MediaError::InvalidPath(_)) => (
            StatusCode::NOT_FOUND,
            [(header::CACHE_CONTROL, http::NO_STORE)],
            "no such file\n",
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, path, "media store failed");
            (
                StatusCode::BAD_GATEWAY,
                [(header::CACHE_CONTROL, http::NO_STORE)],
                "media storage is unavailable\n",
            )
                .into_response()
        }
    };
    response.extensions_mut().insert(RouteName("media"));
    response
}

/// Content-hashed assets: a name that is not current is a 404, never an old file under a
/// new promise of immutability.
async fn asset(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    method: Method,
    headers: HeaderMap,
) -> Response {
    let mut response = match state.theme.asset(&name) {
        Some(asset) => http::from_cached(
            &asset.page,
            http::negotiate(&headers),
            &headers,
            &method,
            &http::IMMUTABLE,
        ),
        None => (
            StatusCode::NOT_FOUND,
            [(header::CACHE_CONTROL, http::NO_STORE)],
            Body::from("no such asset\n"),
        )
            .into_response(),
    };
    response.headers_mut().remove(http::SURROGATE_KEY);
    response.extensions_mut().insert(RouteName("asset"));
    response
}

#[cfg(test)]
mod tests {
    use super::loggable_path;

    #[test]
    fn one_time_secrets_never_reach_the_access_log() {
        assert_eq!(loggable_path("/desk/setup/abc123"), "/desk/setup/…");
        assert_eq!(loggable_path("/account/reset/abc123"), "/account/reset/…");
        assert_eq!(
            loggable_path("/account/verify/abc/more"),
            "/account/verify/…"
        );
        assert_eq!(loggable_path("/ACCOUNT/Verify/abc"), "/account/verify/…");
        assert_eq!(loggable_path("/account/reset"), "/account/reset");
        assert_eq!(loggable_path("/world/a-story"), "/world/a-story");
        assert_eq!(loggable_path("/ру/мир"), "/ру/мир");
    }
}
