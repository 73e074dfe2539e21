//! The desk's webhooks room (admins only): the endpoint list with its add form, and each
//! endpoint's page with its settings, secret and delivery log with replay. Every form posts
//! with the session's CSRF token and the role is checked on the server (the newsroom checks
//! it again). Also the site's absolute links, which the webhook worker puts in bodies.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use minijinja::context;
use newsdesk_core::account::Session;
use newsdesk_core::webhook::{DESCRIPTION_MAX, URL_MAX, WebhookEvent, WebhookInput};
use newsdesk_core::webhook::{Delivery, Webhook};
use newsdesk_core::{Account, Action, Item};
use newsdesk_services::ServiceError;
use newsdesk_services::follow::EventFeed;
use newsdesk_services::webhooks::{LOG_PAGE_SIZE, SiteLinks};
use tokio::sync::Notify;

use crate::AppState;
use crate::desk::{
    csrf_refused, desk_session, internal, no_store, render, require, same_secret, see_other, val,
};
use crate::views::{PagerView, TimeView};

type Fields = HashMap<String, String>;

const LIST: &str = "/desk/webhooks";

/// Builds absolute addresses from the configured base URL and the site's paths.
struct Links {
    state: Arc<AppState>,
}

impl SiteLinks for Links {
    fn item_url(&self, item: &Item) -> String {
        format!(
            "{}{}",
            self.state.base_url,
            crate::paths::item_url(&self.state.config(), item)
        )
    }

    fn discussion_url(&self, item_id: i64) -> String {
        format!(
            "{}{}",
            self.state.base_url,
            crate::site::comments::discussion_url(item_id)
        )
    }
}

/// Starts this instance's webhook enqueuer and delivery worker.
pub fn start_webhooks(state: Arc<AppState>, feed: &EventFeed, stop: Arc<Notify>) {
    let links = Arc::new(Links {
        state: state.clone(),
    });
    if let Err(e) = newsdesk_services::webhooks::start(state.newsroom.clone(), links, feed, stop) {
        tracing::error!(error = %e, "webhooks: cannot start; nothing will be delivered");
    }
}

/// The line a page shows after a form worked. Only these fixed texts can appear.
fn done_text(code: &str) -> Option<&'static str> {
    Some(match code {
        "added" => "The webhook was registered. Give its secret to the receiver.",
        "saved" => "Saved.",
        "enabled" => "The webhook was enabled.",
        "disabled" => "The webhook was disabled: it gets no new deliveries.",
        "rotated" => "The secret was replaced; deliveries from now on are signed with the new one.",
        "deleted" => "The webhook and its delivery log were deleted.",
        "replayed" => "The delivery will be sent again in a moment.",
        _ => return None,
    })
}

fn field<'a>(form: &'a Fields, name: &str) -> &'a str {
    form.get(name).map(String::as_str).unwrap_or_default()
}

fn input(form: &Fields) -> WebhookInput {
    WebhookInput {
        url: field(form, "url").to_owned(),
        description: field(form, "description").to_owned(),
        events: WebhookEvent::ALL
            .into_iter()
            .filter(|e| form.contains_key(&format!("event_{}", e.as_str())))
            .collect(),
    }
}

fn status_for(e: &ServiceError) -> Option<StatusCode> {
    Some(match e {
        ServiceError::Invalid(newsdesk_core::Error::Forbidden { .. })
        | ServiceError::Forbidden(_) => StatusCode::FORBIDDEN,
        ServiceError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
        ServiceError::Refused(_) | ServiceError::Duplicate { .. } => StatusCode::CONFLICT,
        ServiceError::NotFound(_) => StatusCode::NOT_FOUND,
        _ => return None,
    })
}

fn sentence(e: &ServiceError) -> String {
    let text = match e {
        ServiceError::NotFound(what) => format!("There is no {what}"),
        e => e.to_string(),
    };
    let mut chars = text.chars();
    let text: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => text,
    };
    if text.ends_with('.') {
        text
    } else {
        format!("{text}.")
    }
}

fn events_view(chosen: &[WebhookEvent]) -> Vec<minijinja::Value> {
    WebhookEvent::ALL
        .into_iter()
        .map(|e| {
            context! {
                name => e.as_str(),
                label => e.label(),
                checked => chosen.contains(&e),
            }
        })
        .collect()
}

fn webhook_view(state: &AppState, w: &Webhook) -> minijinja::Value {
    let zone = state.config().time_zone();
    let last = w.last_delivery.as_ref().map(|l| {
        context! {
            state => l.state.as_str(),
            status_code => l.status_code,
            at => l.attempted_at.map(|t| val(TimeView::new(t, &zone))),
        }
    });
    context! {
        id => w.id,
        url => w.url.clone(),
        description => w.description.clone(),
        events => w.events.iter().map(|e| e.as_str()).collect::<Vec<_>>(),
        secret => w.secret.clone(),
        enabled => w.enabled,
        created_at => val(TimeView::new(w.created_at, &zone)),
        last => last,
    }
}

fn delivery_view(state: &AppState, d: &Delivery) -> minijinja::Value {
    let zone = state.config().time_zone();
    context! {
        id => d.id,
        event => d.event.as_str(),
        event_id => d.event_id,
        state => d.state.as_str(),
        replay_of => d.replay_of,
        created_at => val(TimeView::new(d.created_at, &zone)),
        next_attempt_at => val(TimeView::new(d.next_attempt_at, &zone)),
        payload => d.payload.clone(),
        attempts => d.attempts.iter().map(|a| context! {
            attempt => a.attempt,
            at => val(TimeView::new(a.started_at, &zone)),
            status_code => a.status_code,
            duration_ms => a.duration_ms,
            error => a.error.clone(),
            response => a.response_excerpt.clone(),
        }).collect::<Vec<_>>(),
    }
}

/// What a page shows besides its own data: who is signed in, and what just happened.
struct Notice {
    status: StatusCode,
    done: Option<&'static str>,
    error: Option<String>,
    /// The form as sent, to show again after a refusal.
    form: Option<WebhookInput>,
}

impl Notice {
    fn from_query(query: &Fields) -> Self {
        Notice {
            status: StatusCode::OK,
            done: query.get("done").and_then(|c| done_text(c)),
            error: None,
            form: None,
        }
    }
}

async fn list_page(state: &AppState, session: &Session, notice: Notice) -> Response {
    let webhooks = match state.newsroom.webhooks(&session.account).await {
        Ok(w) => w,
        Err(e) => return internal(e),
    };
    let form = notice.form.unwrap_or_default();
    render(
        state,
        "desk/webhooks.html",
        notice.status,
        context! {
            site_name => state.config().site.name.clone(),
            session => val(desk_session(session)),
            done => notice.done,
            error => notice.error,
            webhooks => webhooks.iter().map(|w| webhook_view(state, w)).collect::<Vec<_>>(),
            events => events_view(&form.events),
            form_url => form.url,
            form_description => form.description,
            url_max => URL_MAX,
            description_max => DESCRIPTION_MAX,
            at_limit => webhooks.len() as u64 >= newsdesk_core::webhook::WEBHOOKS_MAX,
            max => newsdesk_core::webhook::WEBHOOKS_MAX,
        },
    )
}

async fn detail_page(
    state: &AppState,
    session: &Session,
    id: i64,
    page: u32,
    notice: Notice,
) -> Response {
    let webhook = match state.newsroom.webhook(&session.account, id).await {
        Ok(w) => w,
        Err(ServiceError::NotFound(_)) => return crate::desk::not_found(state),
        Err(e) => return internal(e),
    };
    let (deliveries, total) = match state
        .newsroom
        .webhook_deliveries(&session.account, id, page)
        .await
    {
        Ok(found) => found,
        Err(e) => return internal(e),
    };
    let pages = u32::try_from(total.div_ceil(u64::from(LOG_PAGE_SIZE)))
        .unwrap_or(u32::MAX)
        .max(1);
    let form = notice.form.unwrap_or_else(|| WebhookInput {
        url: webhook.url.clone(),
        description: webhook.description.clone(),
        events: webhook.events.clone(),
    });
    let here = format!("{LIST}/{id}");
    render(
        state,
        "desk/webhook.html",
        notice.status,
        context! {
            site_name => state.config().site.name.clone(),
            session => val(desk_session(session)),
            done => notice.done,
            error => notice.error,
            webhook => webhook_view(state, &webhook),
            events => events_view(&form.events),
            form_url => form.url,
            form_description => form.description,
            url_max => URL_MAX,
            description_max => DESCRIPTION_MAX,
            deliveries => deliveries.iter().map(|d| delivery_view(state, d)).collect::<Vec<_>>(),
            total => total,
            pager => val(PagerView::new(&here, page.min(pages), pages)),
        },
    )
}

/// Which page a refused form lands on again.
#[derive(Clone, Copy)]
enum Back {
    List,
    Detail(i64),
}

/// Runs one form: role and CSRF token first, then the newsroom; back to the page with what
/// happened, or the page again with the refusal and its status.
async fn act<F>(
    state: &AppState,
    headers: &HeaderMap,
    back: Back,
    form: &Fields,
    run: F,
) -> Response
where
    F: AsyncFnOnce(&Account) -> Result<(String, &'static str), ServiceError>,
{
    let here = match back {
        Back::List => LIST.to_owned(),
        Back::Detail(id) => format!("{LIST}/{id}"),
    };
    let session = match require(state, headers, Action::ManageWebhooks, &here).await {
        Ok(s) => s,
        Err(r) => return no_store(r, "desk"),
    };
    if !same_secret(&session.csrf_token, field(form, "csrf")) {
        return no_store(csrf_refused(state), "desk");
    }
    let response = match run(&session.account).await {
        Ok((to, done)) => see_other(&format!("{to}?done={done}")),
        Err(e) => match status_for(&e) {
            Some(status) => {
                let notice = Notice {
                    status,
                    done: None,
                    error: Some(sentence(&e)),
                    form: matches!(e, ServiceError::Invalid(_)).then(|| input(form)),
                };
                match back {
                    Back::List => list_page(state, &session, notice).await,
                    Back::Detail(id) => detail_page(state, &session, id, 1, notice).await,
                }
            }
            None => internal(e),
        },
    };
    no_store(response, "desk")
}

pub async fn list(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(query): Query<Fields>,
) -> Response {
    let response = match require(&state, &headers, Action::ManageWebhooks, LIST).await {
        Ok(session) => list_page(&state, &session, Notice::from_query(&query)).await,
        Err(r) => r,
    };
    no_store(response, "desk")
}

pub async fn add(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Form(form): Form<Fields>,
) -> Response {
    act(&state, &headers, Back::List, &form, async |account| {
        let webhook = state.newsroom.add_webhook(account, &input(&form)).await?;
        Ok((format!("{LIST}/{}", webhook.id), "added"))
    })
    .await
}

pub async fn detail(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(query): Query<Fields>,
) -> Response {
    let here = format!("{LIST}/{id}");
    let response = match require(&state, &headers, Action::ManageWebhooks, &here).await {
        Ok(session) => {
            let page = field(&query, "page").parse::<u32>().unwrap_or(1).max(1);
            detail_page(&state, &session, id, page, Notice::from_query(&query)).await
        }
        Err(r) => r,
    };
    no_store(response, "desk")
}

pub async fn update(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<Fields>,
) -> Response {
    act(&state, &headers, Back::Detail(id), &form, async |account| {
        state
            .newsroom
            .update_webhook(account, id, &input(&form))
            .await?;
        Ok((format!("{LIST}/{id}"), "saved"))
    })
    .await
}

pub async fn set_enabled(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<Fields>,
) -> Response {
    act(&state, &headers, Back::Detail(id), &form, async |account| {
        let enabled = field(&form, "enabled") == "yes";
        state
            .newsroom
            .set_webhook_enabled(account, id, enabled)
            .await?;
        Ok((
            format!("{LIST}/{id}"),
            if enabled { "enabled" } else { "disabled" },
        ))
    })
    .await
}

pub async fn rotate_secret(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<Fields>,
) -> Response {
    act(&state, &headers, Back::Detail(id), &form, async |account| {
        state.newsroom.rotate_webhook_secret(account, id).await?;
        Ok((format!("{LIST}/{id}"), "rotated"))
    })
    .await
}

pub async fn delete(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<Fields>,
) -> Response {
    act(&state, &headers, Back::Detail(id), &form, async |account| {
        state.newsroom.delete_webhook(account, id).await?;
        Ok((LIST.to_owned(), "deleted"))
    })
    .await
}

pub async fn replay(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path((id, delivery)): Path<(i64, i64)>,
    Form(form): Form<Fields>,
) -> Response {
    act(&state, &headers, Back::Detail(id), &form, async |account| {
        state
            .newsroom
            .replay_webhook_delivery(account, id, delivery)
            .await?;
        Ok((format!("{LIST}/{id}"), "replayed"))
    })
    .await
}

pub(super) fn router() -> axum::Router<Arc<AppState>> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/webhooks", get(list).post(add))
        .route("/webhooks/{id}", get(detail).post(update))
        .route("/webhooks/{id}/enabled", post(set_enabled))
        .route("/webhooks/{id}/secret", post(rotate_secret))
        .route("/webhooks/{id}/delete", post(delete))
        .route("/webhooks/{id}/deliveries/{delivery}/replay", post(replay))
}
