//! The API's gate: who is calling (a token in `Authorization: Bearer …`, or a read key in
//! `X-API-Key`), whether they are within their budget, and whether reading needs a key. It
//! runs once per request, before any handler; handlers ask the `Caller` it leaves behind.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use newsdesk_core::Account;
use newsdesk_core::reader::Reader;
use newsdesk_services::api_tokens::TokenHolder;

use super::error::ApiError;
use crate::AppState;
use crate::client::ClientAddress;

/// Longest token read from a header; anything longer is no token of ours.
const TOKEN_MAX: usize = 200;

/// The caller of one API request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub holder: Option<TokenHolder>,
    /// The client's address (see `ClientAddress`), for limits on strangers.
    pub address: String,
}

impl Caller {
    /// The signed-in reader, or why there is none.
    pub fn reader(&self) -> Result<&Reader, ApiError> {
        match &self.holder {
            Some(TokenHolder::Reader(reader)) => Ok(reader),
            Some(_) => Err(ApiError::forbidden(
                "Comments are written by readers: sign in with /api/v1/auth/sign-in and use that token.",
            )),
            None => Err(ApiError::unauthorized(
                "Sign in with /api/v1/auth/sign-in and send the token as `Authorization: Bearer <token>`.",
            )),
        }
    }

    pub fn reader_id(&self) -> Option<i64> {
        match &self.holder {
            Some(TokenHolder::Reader(reader)) => Some(reader.id),
            _ => None,
        }
    }

    /// The staff account behind a staff token (with the token's role), or why there is none.
    pub fn staff(&self) -> Result<&Account, ApiError> {
        match &self.holder {
            Some(TokenHolder::Staff { account, .. }) => Ok(account),
            Some(_) => Err(ApiError::forbidden(
                "This needs a staff token, made in the desk under API tokens.",
            )),
            None => Err(ApiError::unauthorized(
                "This needs a staff token, made in the desk under API tokens, sent as `Authorization: Bearer <token>`.",
            )),
        }
    }

    /// Whether answers may be cached by shared caches: only what any stranger would get.
    pub fn is_anonymous(&self) -> bool {
        self.holder.is_none()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or_else(|| ApiError::internal("API route outside the gate"))
    }
}

fn presented_token(headers: &HeaderMap) -> Result<Option<&str>, ApiError> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .map(|v| {
            v.to_str()
                .ok()
                .and_then(|v| {
                    let (scheme, token) = v.trim().split_once(' ')?;
                    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
                })
                .ok_or_else(|| {
                    ApiError::unauthorized("Send the token as `Authorization: Bearer <token>`.")
                })
        })
        .transpose()?;
    let key = headers
        .get("x-api-key")
        .map(|v| v.to_str().unwrap_or(""))
        .map(str::trim);
    let token = bearer.or(key);
    match token {
        Some(t) if t.is_empty() || t.len() > TOKEN_MAX => Err(ApiError::unauthorized(
            "This token is unknown, revoked or expired.",
        )),
        other => Ok(other),
    }
}

/// Paths that answer without a key even where reading needs one: the documentation, and
/// signing in (which is how a reader gets a token).
fn open_without_key(path: &str) -> bool {
    matches!(
        path,
        "/api/openapi.json" | "/api/docs" | "/api/v1/auth/sign-in"
    )
}

/// Identifies the caller and spends one request of their budget.
pub async fn gate(
    State(state): State<Arc<AppState>>,
    client: ClientAddress,
    mut request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    match admit(&state, client, request.headers(), &path).await {
        Ok(caller) => {
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        Err(e) => e.into_response(),
    }
}

async fn admit(
    state: &AppState,
    client: ClientAddress,
    headers: &HeaderMap,
    path: &str,
) -> Result<Caller, ApiError> {
    let config = state.config();
    let address = client.ip.to_string();
    let holder = match presented_token(headers)? {
        Some(token) => {
            // Each token presented costs a database lookup, so a flood of forged ones is
            // counted per address before the lookup; a token that turns out good is refunded.
            let unknown_tokens = format!("unknown tokens:{address}");
            let budget = config.api.per_address_per_minute;
            state
                .api
                .limiter
                .check(&unknown_tokens, budget, Instant::now())
                .map_err(ApiError::rate_limited)?;
            let holder = state
                .newsroom
                .token_holder(token, Timestamp::now())
                .await?
                .ok_or_else(|| {
                    ApiError::unauthorized("This token is unknown, revoked or expired.")
                })?;
            state.api.limiter.refund(&unknown_tokens, budget);
            Some(holder)
        }
        None => None,
    };
    let (key, budget) = match &holder {
        Some(holder) => (holder.limit_key(), config.api.per_token_per_minute),
        None => (
            format!("address:{address}"),
            config.api.per_address_per_minute,
        ),
    };
    state
        .api
        .limiter
        .check(&key, budget, Instant::now())
        .map_err(ApiError::rate_limited)?;
    if config.api.require_key && holder.is_none() && !open_without_key(path) {
        return Err(ApiError::unauthorized(
            "Reading this API needs a key: send it as `X-API-Key: <key>` or `Authorization: Bearer <key>`.",
        ));
    }
    Ok(Caller { holder, address })
}
