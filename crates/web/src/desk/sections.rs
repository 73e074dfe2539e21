//! The desk's rooms for the site's structure and its people: sections, tags and authors (for
//! editors), accounts and settings (for admins). Each room is one page of lists and small
//! forms; every form posts back with the session's CSRF token, is checked against the role
//! on the server, and lands on the room again with a line saying what happened — or, when
//! refused, the room with the reason and the right status.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use jiff::Timestamp;
use minijinja::context;
use newsdesk_core::account::Session;
use newsdesk_core::labels::{AuthorInput, SectionInput};
use newsdesk_core::{Account, AccountInput, Action, Role};
use newsdesk_services::ServiceError;
use newsdesk_services::error::Refusal;

use crate::AppState;
use crate::desk::{
    csrf_refused, desk_session, internal, no_store, render, require, same_secret, see_other,
    urlencode, val,
};

type Fields = HashMap<String, String>;

/// Tags listed per page of the tags room.
const TAGS_PAGE_SIZE: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Room {
    Sections,
    Tags,
    Authors,
    Accounts,
}

impl Room {
    fn path(self) -> &'static str {
        match self {
            Room::Sections => "/desk/sections",
            Room::Tags => "/desk/tags",
            Room::Authors => "/desk/authors",
            Room::Accounts => "/desk/accounts",
        }
    }

    fn template(self) -> &'static str {
        match self {
            Room::Sections => "desk/sections.html",
            Room::Tags => "desk/tags.html",
            Room::Authors => "desk/authors.html",
            Room::Accounts => "desk/accounts.html",
        }
    }

    fn action(self) -> Action {
        match self {
            Room::Accounts => Action::ManageAccounts,
            _ => Action::ManageLabels,
        }
    }
}

/// What a form did, as the line the room shows after the redirect. Only these fixed texts
/// can appear: the address cannot make the page say anything else.
fn done_text(code: &str) -> Option<&'static str> {
    Some(match code {
        "added" => "Added.",
        "saved" => "Saved.",
        "moved" => "Moved.",
        "deleted" => "Deleted.",
        "role" => "The role was changed.",
        "disabled" => "The account was disabled and its sessions ended.",
        "enabled" => "The account was enabled.",
        _ => return None,
    })
}

fn field<'a>(form: &'a Fields, name: &str) -> &'a str {
    form.get(name).map(String::as_str).unwrap_or_default()
}

fn status_for(e: &ServiceError) -> Option<StatusCode> {
    Some(match e {
        ServiceError::Invalid(newsdesk_core::Error::Forbidden { .. })
        | ServiceError::Forbidden(_) => StatusCode::FORBIDDEN,
        ServiceError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
        ServiceError::Duplicate { .. } | ServiceError::Refused(_) => StatusCode::CONFLICT,
        ServiceError::NotFound(_) => StatusCode::NOT_FOUND,
        _ => return None,
    })
}

fn sentence(e: &ServiceError) -> String {
    let text = match e {
        ServiceError::Duplicate { field } => format!("That {field} is already in use"),
        ServiceError::NotFound(what) => format!("There is no {what}"),
        e => e.to_string(),
    };
    if text.ends_with('.') {
        text
    } else {
        format!("{text}.")
    }
}

/// Renders a room: its list, its forms, and the line about the last action or refusal.
async fn show(
    state: &AppState,
    session: &Session,
    room: Room,
    status: StatusCode,
    query: &Fields,
    error: Option<String>,
) -> Response {
    let config = state.config();
    let base = context! {
        site_name => config.site.name.clone(),
        session => val(desk_session(session)),
        error => error,
        done => query.get("done").and_then(|c| done_text(c)),
    };
    let data = match room {
        Room::Sections => {
            let other_languages: Vec<String> = config
                .site
                .languages
                .iter()
                .filter(|l| **l != config.site.default_language)
                .cloned()
                .collect();
            context! {
                sections => val(state.sections().as_slice()),
                languages => other_languages,
                default_language => config.site.default_language.clone(),
            }
        }
        Room::Tags => {
            let tags = match state.newsroom.tags_in_use().await {
                Ok(t) => t,
                Err(e) => return internal(e),
            };
            let q = field(query, "q").trim().to_lowercase();
            let matching: Vec<_> = tags
                .into_iter()
                .filter(|t| {
                    q.is_empty()
                        || t.label.name.to_lowercase().contains(&q)
                        || t.label.slug.contains(&q)
                })
                .collect();
            let pages = matching.len().div_ceil(TAGS_PAGE_SIZE).max(1);
            let page = field(query, "page")
                .parse::<usize>()
                .unwrap_or(1)
                .clamp(1, pages);
            let rows: Vec<_> = matching
                .iter()
                .skip((page - 1) * TAGS_PAGE_SIZE)
                .take(TAGS_PAGE_SIZE)
                .map(|t| context! { slug => t.label.slug.clone(), name => t.label.name.clone(), items => t.items })
                .collect();
            let base_url = if q.is_empty() {
                "/desk/tags".to_owned()
            } else {
                format!("/desk/tags?q={}", urlencode(&q))
            };
            context! {
                tags => rows,
                total => matching.len(),
                q => q,
                pager => val(crate::views::PagerView::new(&base_url, page as u32, pages as u32)),
            }
        }
        Room::Authors => match state.newsroom.authors_in_use().await {
            Ok(authors) => context! {
                authors => authors.iter().map(|a| context! { slug => a.label.slug.clone(), name => a.label.name.clone(), bio => a.label.bio.clone(), items => a.items }).collect::<Vec<_>>(),
            },
            Err(e) => return internal(e),
        },
        Room::Accounts => match state.newsroom.accounts().await {
            Ok(accounts) => context! {
                accounts => val(&accounts),
                roles => Role::ALL.map(Role::as_str),
                me => session.account.id,
            },
            Err(e) => return internal(e.into()),
        },
    };
    render(state, room.template(), status, context! { ..base, ..data })
}

/// A room's page.
async fn enter(state: &AppState, headers: &HeaderMap, room: Room, query: &Fields) -> Response {
    let response = match require(state, headers, room.action(), room.path()).await {
        Ok(session) => show(state, &session, room, StatusCode::OK, query, None).await,
        Err(r) => r,
    };
    no_store(response, "desk")
}

/// Runs one form of a room: role and CSRF token first, then the service; back to the room.
async fn act<F>(
    state: &AppState,
    headers: &HeaderMap,
    room: Room,
    form: &Fields,
    run: F,
) -> Response
where
    F: AsyncFnOnce(&Account) -> Result<&'static str, ServiceError>,
{
    let session = match require(state, headers, room.action(), room.path()).await {
        Ok(s) => s,
        Err(r) => return no_store(r, "desk"),
    };
    if !same_secret(&session.csrf_token, field(form, "csrf")) {
        return no_store(csrf_refused(state), "desk");
    }
    let response = match run(&session.account).await {
        Ok(done) => see_other(&format!("{}?done={done}", room.path())),
        Err(e) => match status_for(&e) {
            Some(status) => {
                show(
                    state,
                    &session,
                    room,
                    status,
                    &Fields::new(),
                    Some(sentence(&e)),
                )
                .await
            }
            None => internal(e),
        },
    };
    no_store(response, "desk")
}

fn section_input(slug: &str, form: &Fields) -> SectionInput {
    SectionInput {
        slug: slug.to_owned(),
        name: field(form, "name").to_owned(),
        names: form
            .iter()
            .filter_map(|(k, v)| Some((k.strip_prefix("name_")?.to_owned(), v.clone())))
            .collect(),
    }
}

fn author_input(slug: &str, form: &Fields) -> AuthorInput {
    AuthorInput {
        slug: slug.to_owned(),
        name: field(form, "name").to_owned(),
        bio: field(form, "bio").to_owned(),
    }
}

pub async fn sections(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(query): Query<Fields>,
) -> Response {
    enter(&state, &headers, Room::Sections, &query).await
}

pub async fn add_section(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Form(form): Form<Fields>,
) -> Response {
    act(&state, &headers, Room::Sections, &form, async |actor| {
        let input = section_input(field(&form, "slug"), &form);
        state
            .newsroom
            .add_section(actor, &input, Timestamp::now())
            .await
            .map(|_| "added")
    })
    .await
}

pub async fn update_section(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Form(form): Form<Fields>,
) -> Response {
    act(&state, &headers, Room::Sections, &form, async |actor| {
        let input = section_input(&slug, &form);
        state
            .newsroom
            .update_section(actor, &input, Timestamp::now())
            .await
            .map(|_| "saved")
    })
    .await
}

pub async fn move_section(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Form(form): Form<Fields>,
) -> Response {
    act(&state, &headers, Room::Sections, &form, async |actor| {
        let earlier = field(&form, "direction") == "up";
        state
            .newsroom
            .move_section(actor, &slug, earlier, Timestamp::now())
            .await
            .map(|_| "moved")
    })
    .await
}

pub async fn delete_section(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Form(form): Form<Fields>,
) -> Response {
    act(&state, &headers, Room::Sections, &form, async |actor| {
        state
            .newsroom
            .delete_section(actor, &slug, Timestamp::now())
            .await
            .map(|_| "deleted")
    })
    .await
}

pub async fn tags(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(query): Query<Fields>,
) -> Response {
    enter(&state, &headers, Room::Tags, &query).await
}

pub async fn rename_tag(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Form(form): Form<Fields>,
) -> Response {
    act(&state, &headers, Room::Tags, &form, async |actor| {
        state
            .newsroom
            .rename_tag(actor, &slug, field(&form, "name"), Timestamp::now())
            .await
            .map(|_| "saved")
    })
    .await
}

pub async fn delete_tag(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Form(form): Form<Fields>,
) -> Response {
    act(&state, &headers, Room::Tags, &form, async |actor| {
        state
            .newsroom
            .delete_tag(actor, &slug, Timestamp::now())
            .await
            .map(|_| "deleted")
    })
    .await
}

pub async fn authors(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(query): Query<Fields>,
) -> Response {
    enter(&state, &headers, Room::Authors, &query).await
}

pub async fn add_author(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Form(form): Form<Fields>,
) -> Response {
    act(&state, &headers, Room::Authors, &form, async |actor| {
        let input = author_input(field(&form, "slug"), &form);
        state
            .newsroom
            .add_author(actor, &input, Timestamp::now())
            .await
            .map(|_| "added")
    })
    .await
}

pub async fn update_author(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Form(form): Form<Fields>,
) -> Response {
    act(&state, &headers, Room::Authors, &form, async |actor| {
        let input = author_input(&slug, &form);
        state
            .newsroom
            .update_author(actor, &input, Timestamp::now())
            .await
            .map(|_| "saved")
    })
    .await
}

pub async fn delete_author(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Form(form): Form<Fields>,
) -> Response {
    act(&state, &headers, Room::Authors, &form, async |actor| {
        state
            .newsroom
            .delete_author(actor, &slug, Timestamp::now())
            .await
            .map(|_| "deleted")
    })
    .await
}

pub async fn accounts(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(query): Query<Fields>,
) -> Response {
    enter(&state, &headers, Room::Accounts, &query).await
}

fn role_field(form: &Fields) -> Result<Role, ServiceError> {
    Role::parse(field(form, "role")).ok_or_else(|| {
        newsdesk_core::Error::invalid("role", "is not one of the desk's roles").into()
    })
}

pub async fn add_account(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Form(form): Form<Fields>,
) -> Response {
    act(&state, &headers, Room::Accounts, &form, async |actor| {
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

pub async fn change_role(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<Fields>,
) -> Response {
    act(&state, &headers, Room::Accounts, &form, async |actor| {
        let role = role_field(&form)?;
        state
            .newsroom
            .change_role(id, role, &actor.email, Timestamp::now())
            .await
            .map(|_| "role")
    })
    .await
}

pub async fn set_disabled(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<Fields>,
) -> Response {
    act(&state, &headers, Room::Accounts, &form, async |actor| {
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

/// The site's settings as this instance runs with them. They live in `newsdesk.toml` (and
/// environment overrides) because every instance must agree on them and they change with a
/// deploy, not with a click; the page shows admins what is in force and where to change it.
/// A list setting as one line, or "none".
fn list_or_none<T: std::fmt::Display>(entries: impl Iterator<Item = T>) -> String {
    let shown: Vec<String> = entries.map(|e| e.to_string()).collect();
    if shown.is_empty() {
        "none".to_owned()
    } else {
        shown.join(", ")
    }
}

pub async fn settings(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let session = match require(&state, &headers, Action::ManageSettings, "/desk/settings").await {
        Ok(s) => s,
        Err(r) => return no_store(r, "desk"),
    };
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
    let response = render(
        &state,
        "desk/settings.html",
        StatusCode::OK,
        context! {
            site_name => config.site.name.clone(),
            session => val(desk_session(&session)),
            rows => rows,
        },
    );
    no_store(response, "desk")
}

pub(super) fn router() -> axum::Router<Arc<AppState>> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/sections", get(sections).post(add_section))
        .route("/sections/{slug}", post(update_section))
        .route("/sections/{slug}/move", post(move_section))
        .route("/sections/{slug}/delete", post(delete_section))
        .route("/tags", get(tags))
        .route("/tags/{slug}", post(rename_tag))
        .route("/tags/{slug}/delete", post(delete_tag))
        .route("/authors", get(authors).post(add_author))
        .route("/authors/{slug}", post(update_author))
        .route("/authors/{slug}/delete", post(delete_author))
}
