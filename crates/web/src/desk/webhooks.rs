//! The desk's webhooks room (admins only): the endpoint list with its add form, and each
//! endpoint's page with its settings, secret and delivery log with replay. Every form posts
//! with the session's CSRF token and the role is checked on the server (the newsroom checks
//! it again).

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use minijinja::context;
use newsdesk_core::webhook::{
    DESCRIPTION_MAX, Delivery, URL_MAX, WEBHOOKS_MAX, Webhook, WebhookEvent, WebhookInput,
};
use newsdesk_core::{Account, Action};
use newsdesk_services::ServiceError;
use newsdesk_services::webhooks::LOG_PAGE_SIZE;

use super::{CheckedForm, DeskError, Fields, Staff, field, refusal};
use crate::AppState;
use crate::forms::{render, see_other, val};
use crate::views::{PagerView, TimeView};

pub(super) fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/webhooks", get(list).post(add))
        .route("/webhooks/{id}", get(detail).post(update))
        .route("/webhooks/{id}/enabled", post(set_enabled))
        .route("/webhooks/{id}/secret", post(rotate_secret))
        .route("/webhooks/{id}/delete", post(delete))
        .route("/webhooks/{id}/deliveries/{delivery}/replay", post(replay))
}

const LIST: &str = "/desk/webhooks";

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

/// What a page shows besides its own data: what a form just did, or why it was refused.
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

async fn list_page(state: &AppState, staff: &Staff, notice: Notice) -> Result<Response, DeskError> {
    let webhooks = state.newsroom.webhooks(staff.account()).await?;
    let form = notice.form.unwrap_or_default();
    Ok(render(
        state,
        "desk/webhooks.html",
        notice.status,
        context! {
            site_name => state.config().site.name.clone(),
            session => val(staff.view()),
            done => notice.done,
            error => notice.error,
            webhooks => webhooks.iter().map(|w| webhook_view(state, w)).collect::<Vec<_>>(),
            events => events_view(&form.events),
            form_url => form.url,
            form_description => form.description,
            url_max => URL_MAX,
            description_max => DESCRIPTION_MAX,
            at_limit => webhooks.len() as u64 >= WEBHOOKS_MAX,
            max => WEBHOOKS_MAX,
        },
    ))
}

async fn detail_page(
    state: &AppState,
    staff: &Staff,
    id: i64,
    page: u32,
    notice: Notice,
) -> Result<Response, DeskError> {
    let webhook = state.newsroom.webhook(staff.account(), id).await?;
    let (deliveries, total) = state
        .newsroom
        .webhook_deliveries(staff.account(), id, page)
        .await?;
    let pages = u32::try_from(total.div_ceil(u64::from(LOG_PAGE_SIZE)))
        .unwrap_or(u32::MAX)
        .max(1);
    let form = notice.form.unwrap_or_else(|| WebhookInput {
        url: webhook.url.clone(),
        description: webhook.description.clone(),
        events: webhook.events.clone(),
    });
    let here = format!("{LIST}/{id}");
    Ok(render(
        state,
        "desk/webhook.html",
        notice.status,
        context! {
            site_name => state.config().site.name.clone(),
            session => val(staff.view()),
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
    ))
}

/// Which page a refused form lands on again.
#[derive(Clone, Copy)]
enum Back {
    List,
    Detail(i64),
}

/// Runs one form (its CSRF token already checked): the role, then the newsroom; `run`
/// answers with the page to go to and the code of its line. A refusal shows the page the
/// form was on again, with the reason and its status.
async fn act(
    state: &AppState,
    staff: &Staff,
    back: Back,
    form: &Fields,
    run: impl AsyncFnOnce(&Account) -> Result<(String, &'static str), ServiceError>,
) -> Result<Response, DeskError> {
    staff.may(Action::ManageWebhooks)?;
    let e = match run(staff.account()).await {
        Ok((to, done)) => return Ok(see_other(&format!("{to}?done={done}"))),
        Err(e) => e,
    };
    // Only a form whose input was refused is shown again as sent.
    let sent = matches!(e, ServiceError::Invalid(_)).then(|| input(form));
    let (status, words) = refusal(e)?;
    let notice = Notice {
        status,
        done: None,
        error: Some(words),
        form: sent,
    };
    match back {
        Back::List => list_page(state, staff, notice).await,
        Back::Detail(id) => detail_page(state, staff, id, 1, notice).await,
    }
}

async fn list(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Query(query): Query<Fields>,
) -> Result<Response, DeskError> {
    staff.may(Action::ManageWebhooks)?;
    list_page(&state, &staff, Notice::from_query(&query)).await
}

async fn add(
    State(state): State<Arc<AppState>>,
    CheckedForm { staff, form }: CheckedForm<Fields>,
) -> Result<Response, DeskError> {
    act(&state, &staff, Back::List, &form, async |account| {
        let webhook = state.newsroom.add_webhook(account, &input(&form)).await?;
        Ok((format!("{LIST}/{}", webhook.id), "added"))
    })
    .await
}

async fn detail(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(id): Path<i64>,
    Query(query): Query<Fields>,
) -> Result<Response, DeskError> {
    staff.may(Action::ManageWebhooks)?;
    let page = field(&query, "page").parse::<u32>().unwrap_or(1).max(1);
    detail_page(&state, &staff, id, page, Notice::from_query(&query)).await
}

async fn update(
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
    CheckedForm { staff, form }: CheckedForm<Fields>,
) -> Result<Response, DeskError> {
    act(&state, &staff, Back::Detail(id), &form, async |account| {
        state
            .newsroom
            .update_webhook(account, id, &input(&form))
            .await?;
        Ok((format!("{LIST}/{id}"), "saved"))
    })
    .await
}

async fn set_enabled(
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
    CheckedForm { staff, form }: CheckedForm<Fields>,
) -> Result<Response, DeskError> {
    act(&state, &staff, Back::Detail(id), &form, async |account| {
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

async fn rotate_secret(
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
    CheckedForm { staff, form }: CheckedForm<Fields>,
) -> Result<Response, DeskError> {
    act(&state, &staff, Back::Detail(id), &form, async |account| {
        state.newsroom.rotate_webhook_secret(account, id).await?;
        Ok((format!("{LIST}/{id}"), "rotated"))
    })
    .await
}

async fn delete(
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
    CheckedForm { staff, form }: CheckedForm<Fields>,
) -> Result<Response, DeskError> {
    act(&state, &staff, Back::Detail(id), &form, async |account| {
        state.newsroom.delete_webhook(account, id).await?;
        Ok((LIST.to_owned(), "deleted"))
    })
    .await
}

async fn replay(
    State(state): State<Arc<AppState>>,
    Path((id, delivery)): Path<(i64, i64)>,
    CheckedForm { staff, form }: CheckedForm<Fields>,
) -> Result<Response, DeskError> {
    act(&state, &staff, Back::Detail(id), &form, async |account| {
        state
            .newsroom
            .replay_webhook_delivery(account, id, delivery)
            .await?;
        Ok((format!("{LIST}/{id}"), "replayed"))
    })
    .await
}
