//! The labels rooms (for editors): sections, tags and authors, each one page of lists and
//! small forms. Every form is checked against the role on the server and lands on its room
//! again with a line saying what happened, or, when refused, the room with the reason.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use jiff::Timestamp;
use minijinja::{Value, context};
use newsdesk_core::Action;
use newsdesk_core::labels::{AuthorInput, SectionInput};

use super::room::{Room, act, enter};
use super::{CheckedForm, DeskError, Fields, Staff, field};
use crate::AppState;
use crate::forms::{urlencode, val};
use crate::views::PagerView;

pub(super) fn router() -> Router<Arc<AppState>> {
    Router::new()
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

/// Tags listed per page of the tags room.
const TAGS_PAGE_SIZE: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Labels {
    Sections,
    Tags,
    Authors,
}

impl Room for Labels {
    fn path(self) -> &'static str {
        match self {
            Labels::Sections => "/desk/sections",
            Labels::Tags => "/desk/tags",
            Labels::Authors => "/desk/authors",
        }
    }

    fn template(self) -> &'static str {
        match self {
            Labels::Sections => "desk/sections.html",
            Labels::Tags => "desk/tags.html",
            Labels::Authors => "desk/authors.html",
        }
    }

    fn action(self) -> Action {
        Action::ManageLabels
    }

    async fn lists(
        self,
        state: &AppState,
        _staff: &Staff,
        query: &Fields,
    ) -> Result<Value, DeskError> {
        Ok(match self {
            Labels::Sections => {
                let config = state.config();
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
            Labels::Tags => tags_list(state, query).await?,
            Labels::Authors => {
                let authors = state.newsroom.authors_in_use().await?;
                context! {
                    authors => authors.iter().map(|a| context! { slug => a.label.slug.clone(), name => a.label.name.clone(), bio => a.label.bio.clone(), items => a.items }).collect::<Vec<_>>(),
                }
            }
        })
    }
}

/// The tags in use, those matching the search (`q`) and a page of them (`page`).
async fn tags_list(state: &AppState, query: &Fields) -> Result<Value, DeskError> {
    let tags = state.newsroom.tags_in_use().await?;
    let q = field(query, "q").trim().to_lowercase();
    let matching: Vec<_> = tags
        .into_iter()
        .filter(|t| {
            q.is_empty() || t.label.name.to_lowercase().contains(&q) || t.label.slug.contains(&q)
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
    Ok(context! {
        tags => rows,
        total => matching.len(),
        q => q,
        pager => val(PagerView::new(&base_url, page as u32, pages as u32)),
    })
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

async fn sections(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Query(query): Query<Fields>,
) -> Result<Response, DeskError> {
    enter(&state, &staff, Labels::Sections, &query).await
}

async fn add_section(
    State(state): State<Arc<AppState>>,
    CheckedForm { staff, form }: CheckedForm<Fields>,
) -> Result<Response, DeskError> {
    act(&state, &staff, Labels::Sections, async |actor| {
        let input = section_input(field(&form, "slug"), &form);
        state
            .newsroom
            .add_section(actor, &input, Timestamp::now())
            .await
            .map(|_| "added")
    })
    .await
}

async fn update_section(
    State(state): State<Arc<AppState>>,
    Path(slug): Path<String>,
    CheckedForm { staff, form }: CheckedForm<Fields>,
) -> Result<Response, DeskError> {
    act(&state, &staff, Labels::Sections, async |actor| {
        let input = section_input(&slug, &form);
        state
            .newsroom
            .update_section(actor, &input, Timestamp::now())
            .await
            .map(|_| "saved")
    })
    .await
}

async fn move_section(
    State(state): State<Arc<AppState>>,
    Path(slug): Path<String>,
    CheckedForm { staff, form }: CheckedForm<Fields>,
) -> Result<Response, DeskError> {
    act(&state, &staff, Labels::Sections, async |actor| {
        let earlier = field(&form, "direction") == "up";
        state
            .newsroom
            .move_section(actor, &slug, earlier, Timestamp::now())
            .await
            .map(|_| "moved")
    })
    .await
}

async fn delete_section(
    State(state): State<Arc<AppState>>,
    Path(slug): Path<String>,
    CheckedForm { staff, .. }: CheckedForm<Fields>,
) -> Result<Response, DeskError> {
    act(&state, &staff, Labels::Sections, async |actor| {
        state
            .newsroom
            .delete_section(actor, &slug, Timestamp::now())
            .await
            .map(|_| "deleted")
    })
    .await
}

async fn tags(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Query(query): Query<Fields>,
) -> Result<Response, DeskError> {
    enter(&state, &staff, Labels::Tags, &query).await
}

async fn rename_tag(
    State(state): State<Arc<AppState>>,
    Path(slug): Path<String>,
    CheckedForm { staff, form }: CheckedForm<Fields>,
) -> Result<Response, DeskError> {
    act(&state, &staff, Labels::Tags, async |actor| {
        state
            .newsroom
            .rename_tag(actor, &slug, field(&form, "name"), Timestamp::now())
            .await
            .map(|_| "saved")
    })
    .await
}

async fn delete_tag(
    State(state): State<Arc<AppState>>,
    Path(slug): Path<String>,
    CheckedForm { staff, .. }: CheckedForm<Fields>,
) -> Result<Response, DeskError> {
    act(&state, &staff, Labels::Tags, async |actor| {
        state
            .newsroom
            .delete_tag(actor, &slug, Timestamp::now())
            .await
            .map(|_| "deleted")
    })
    .await
}

async fn authors(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Query(query): Query<Fields>,
) -> Result<Response, DeskError> {
    enter(&state, &staff, Labels::Authors, &query).await
}

async fn add_author(
    State(state): State<Arc<AppState>>,
    CheckedForm { staff, form }: CheckedForm<Fields>,
) -> Result<Response, DeskError> {
    act(&state, &staff, Labels::Authors, async |actor| {
        let input = author_input(field(&form, "slug"), &form);
        state
            .newsroom
            .add_author(actor, &input, Timestamp::now())
            .await
            .map(|_| "added")
    })
    .await
}

async fn update_author(
    State(state): State<Arc<AppState>>,
    Path(slug): Path<String>,
    CheckedForm { staff, form }: CheckedForm<Fields>,
) -> Result<Response, DeskError> {
    act(&state, &staff, Labels::Authors, async |actor| {
        let input = author_input(&slug, &form);
        state
            .newsroom
            .update_author(actor, &input, Timestamp::now())
            .await
            .map(|_| "saved")
    })
    .await
}

async fn delete_author(
    State(state): State<Arc<AppState>>,
    Path(slug): Path<String>,
    CheckedForm { staff, .. }: CheckedForm<Fields>,
) -> Result<Response, DeskError> {
    act(&state, &staff, Labels::Authors, async |actor| {
        state
            .newsroom
            .delete_author(actor, &slug, Timestamp::now())
            .await
            .map(|_| "deleted")
    })
    .await
}
