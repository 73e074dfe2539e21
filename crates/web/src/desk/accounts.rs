//! The accounts room (admins): the staff accounts with their roles, the site's settings as
//! this instance runs with them, and the audit log of who did what.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use jiff::Timestamp;
use minijinja::{Value, context};
use newsdesk_core::{AccountInput, Action, Role};
use newsdesk_services::ServiceError;
use newsdesk_services::error::Refusal;
use serde::Deserialize;

use super::room::{Room, act, enter};
use super::{CheckedForm, DESK_PAGE_SIZE, DeskError, Fields, Staff, field};
use crate::AppState;
use crate::forms::{render, val};
use crate::views::{PagerView, TimeView};

pub(super) fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/accounts", get(accounts).post(add_account))
        .route("/accounts/{id}/role", post(change_role))
        .route("/accounts/{id}/disable", post(set_disabled))
        .route("/settings", get(settings))
        .route("/audit", get(audit))
}

/// The list of staff accounts, with the forms that add one, change a role and disable.
#[derive(Debug, Clone, Copy)]
struct AccountsRoom;

impl Room for AccountsRoom {
    fn path(self) -> &'static str {
        "/desk/accounts"
    }

    fn template(self) -> &'static str {
        "desk/accounts.html"
    }

    fn action(self) -> Action {
        Action::ManageAccounts
    }

    async fn lists(
        self,
        state: &AppState,
        staff: &Staff,
        _query: &Fields,
    ) -> Result<Value, DeskError> {
        let accounts = state.newsroom.accounts().await?;
        Ok(context! {
            accounts => val(&accounts),
            roles => Role::ALL.map(Role::as_str),
            me => staff.account().id,
        })
    }
}

async fn accounts(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Query(query): Query<Fields>,
) -> Result<Response, DeskError> {
    enter(&state, &staff, AccountsRoom, &query).await
}

fn role_field(form: &Fields) -> Result<Role, ServiceError> {
    Role::parse(field(form, "role")).ok_or_else(|| {
        newsdesk_core::Error::invalid("role", "is not one of the desk's roles").into()
    })
}

async fn add_account(
    State(state): State<Arc<AppState>>,
    CheckedForm { staff, form }: CheckedForm<Fields>,
) -> Result<Response, DeskError> {
    act(&state, &staff, AccountsRoom, async |actor| {
        let input = AccountInput {
            email: field(&form, "email").to_owned(),
            name: field(&form, "name").to_owned(),
            role: role_field(&form)?,
            password: field(&form, "password").to_owned(),
        };
        state
            .newsroom
            .add_account(&input, &actor.email, Timestamp::now())
            .await
            .map(|_| "added")
    })
    .await
}

async fn change_role(
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
    CheckedForm { staff, form }: CheckedForm<Fields>,
) -> Result<Response, DeskError> {
    act(&state, &staff, AccountsRoom, async |actor| {
        let role = role_field(&form)?;
        state
            .newsroom
            .change_role(id, role, &actor.email, Timestamp::now())
            .await
            .map(|_| "role")
    })
    .await
}

async fn set_disabled(
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
    CheckedForm { staff, form }: CheckedForm<Fields>,
) -> Result<Response, DeskError> {
    act(&state, &staff, AccountsRoom, async |actor| {
        let disabled = field(&form, "disabled") == "yes";
        if disabled && id == actor.id {
            return Err(ServiceError::Refused(Refusal::DisableOwnAccount));
        }
        let account = state.newsroom.account(id).await?;
        state
            .newsroom
            .set_account_disabled(&account.email, disabled, &actor.email, Timestamp::now())
            .await?;
        Ok(if disabled { "disabled" } else { "enabled" })
    })
    .await
}

/// A list setting as one line, or "none".
fn list_or_none<T: std::fmt::Display>(entries: impl Iterator<Item = T>) -> String {
    let shown: Vec<String> = entries.map(|e| e.to_string()).collect();
    if shown.is_empty() {
        "none".to_owned()
    } else {
        shown.join(", ")
    }
}

/// The site's settings as this instance runs with them. They live in `newsdesk.toml` (and
/// environment overrides) because every instance must agree on them and they change with a
/// deploy, not with a click; the page shows admins what is in force and where to change it.
async fn settings(State(state): State<Arc<AppState>>, staff: Staff) -> Result<Response, DeskError> {
    staff.may(Action::ManageSettings)?;
    let config = state.config();
    let database = if config.database.url.is_some() {
        "PostgreSQL"
    } else {
        "SQLite in the data directory"
    };
    let media = if config.media.s3.is_some() {
        "an S3-compatible bucket"
    } else {
        "the data directory"
    };
    let rows: Vec<(&str, String)> = vec![
        ("site.name", config.site.name.clone()),
        ("site.tagline", config.site.tagline.clone()),
        ("site.base_url", state.base_url.clone()),
        (
            "site.default_language",
            config.site.default_language.clone(),
        ),
        ("site.languages", config.site.languages.join(", ")),
        ("site.time_zone", config.site.time_zone.clone()),
        ("database", database.to_owned()),
        ("media", media.to_owned()),
        ("cache.max_entries", config.cache.max_entries.to_string()),
        ("cache.max_bytes", config.cache.max_bytes.to_string()),
        ("cache.max_age", format!("{} s", config.cache.max_age)),
        ("cache.s_maxage", format!("{} s", config.cache.s_maxage)),
        ("pages.page_size", config.pages.page_size.to_string()),
        (
            "server.trusted_proxies",
            list_or_none(config.server.trusted_proxies.iter()),
        ),
        (
            "server.header_read_timeout_seconds",
            format!("{} s", config.server.header_read_timeout_seconds),
        ),
        (
            "server.max_connections_per_address",
            config.server.max_connections_per_address.to_string(),
        ),
        ("outbound.allow", list_or_none(config.outbound.allow.iter())),
        (
            "accounts.sign_in_failures_per_account_and_address",
            config
                .accounts
                .sign_in_failures_per_account_and_address
                .to_string(),
        ),
        (
            "accounts.requests_per_address_per_hour",
            config.accounts.requests_per_address_per_hour.to_string(),
        ),
        (
            "housekeeping.interval_seconds",
            format!("{} s", config.housekeeping.interval_seconds),
        ),
        // Whether a token guards the metrics, never the token.
        (
            "metrics.token",
            if config.metrics.token.is_some() {
                "set".to_owned()
            } else {
                "not set: /metrics answers this machine only".to_owned()
            },
        ),
    ];
    Ok(render(
        &state,
        "desk/settings.html",
        StatusCode::OK,
        context! {
            site_name => config.site.name.clone(),
            session => val(staff.view()),
            rows => rows,
        },
    ))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PageQuery {
    page: Option<u32>,
}

/// The audit log, for admins: who did what, newest first.
async fn audit(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Query(query): Query<PageQuery>,
) -> Result<Response, DeskError> {
    staff.may(Action::ManageAccounts)?;
    let page = query.page.unwrap_or(1).max(1);
    let (entries, total) = state
        .newsroom
        .audit_log(DESK_PAGE_SIZE, (page - 1).saturating_mul(DESK_PAGE_SIZE))
        .await?;
    let zone = state.config().time_zone();
    let rows: Vec<_> = entries
        .iter()
        .map(|e| {
            let item_id = e
                .subject
                .strip_prefix("item:")
                .and_then(|id| id.parse::<i64>().ok());
            context! {
                at => val(TimeView::new(e.at, &zone)),
                actor => e.actor.clone(),
                action => e.action.clone(),
                subject => e.subject.clone(),
                detail => e.detail.clone(),
                item_url => item_id.map(|id| format!("/desk/items/{id}")),
            }
        })
        .collect();
    let pages = total.div_ceil(u64::from(DESK_PAGE_SIZE)).max(1) as u32;
    Ok(render(
        &state,
        "desk/audit.html",
        StatusCode::OK,
        context! {
            site_name => state.config().site.name.clone(),
            session => val(staff.view()),
            rows => rows,
            total => total,
            pager => val(PagerView::new("/desk/audit", page.min(pages), pages)),
        },
    ))
}
