//! The site's search page (`/search?q=`) and the OpenSearch description that lets browsers
//! add it. Search pages bypass the page cache and say `no-store`: their addresses are
//! unbounded (every query a new entry that would evict real pages from a bounded cache) and
//! results must follow a publish within a second, which only an uncached answer guarantees;
//! a query costs the index milliseconds.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use jiff::civil::Date;
use minijinja::context;
use newsdesk_core::ItemKind;
use newsdesk_services::search::{Filters, MAX_QUERY_CHARS, SearchQuery, Sort};
use serde::Serialize;

use crate::AppState;
use crate::error::WebError;
use crate::http;
use crate::metrics::RouteName;
use crate::site::error_page::error_page;
use crate::theme::val;
use crate::views::{ItemView, PagerView, SiteView};

#[derive(Serialize)]
struct ResultView {
    item: ItemView,
    headline_html: String,
    snippet_html: String,
}

/// The form's values as the reader sent them, to fill the form again.
#[derive(Serialize, Default)]
struct FormView {
    q: String,
    section: String,
    tag: String,
    author: String,
    lang: String,
    kind: String,
    from: String,
    to: String,
    sort: String,
}

fn nonempty(params: &HashMap<String, String>, key: &str) -> Option<String> {
    params
        .get(key)
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// A day in the site's zone: `from` is its first instant, `to` the first instant after it.
fn day(
    value: Option<&String>,
    zone: &jiff::tz::TimeZone,
    next: bool,
) -> Result<Option<Timestamp>, WebError> {
    let Some(value) = value.map(|v| v.trim()).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let bad =
        || WebError::BadRequest("Dates are written as YYYY-MM-DD, such as 2026-11-29.".into());
    let date: Date = value.parse().map_err(|_| bad())?;
    let date = if next {
        date.tomorrow().map_err(|_| bad())?
    } else {
        date
    };
    let at = zone
        .to_timestamp(date.to_datetime(jiff::civil::Time::midnight()))
        .map_err(|_| bad())?;
    Ok(Some(at))
}

fn parse(
    params: &HashMap<String, String>,
    zone: &jiff::tz::TimeZone,
) -> Result<(SearchQuery, FormView), WebError> {
    let page = match params.get("page").map(|p| p.trim()) {
        None | Some("") => 1,
        Some(p) => p.parse::<u32>().ok().filter(|n| *n >= 1).ok_or_else(|| {
            WebError::BadRequest("The page number must be a whole number from 1.".into())
        })?,
    };
    let kind = match nonempty(params, "kind").as_deref() {
        None => None,
        Some(k) => Some(
            ItemKind::parse(k)
                .ok_or_else(|| WebError::BadRequest("The kind is story or brief.".into()))?
                .as_str()
                .to_owned(),
        ),
    };
    let sort = match nonempty(params, "sort").as_deref() {
        None | Some("relevance") => Sort::Relevance,
        Some("newest") => Sort::Newest,
        Some(_) => return Err(WebError::BadRequest("Sort by relevance or newest.".into())),
    };
    let filters = Filters {
        section: nonempty(params, "section"),
        tag: nonempty(params, "tag"),
        author: nonempty(params, "author"),
        language: nonempty(params, "lang"),
        kind,
        from: day(params.get("from"), zone, false)?,
        until: day(params.get("to"), zone, true)?,
    };
    let text = params.get("q").cloned().unwrap_or_default();
    let form = FormView {
        q: text.clone(),
        section: filters.section.clone().unwrap_or_default(),
        tag: filters.tag.clone().unwrap_or_default(),
        author: filters.author.clone().unwrap_or_default(),
        lang: filters.language.clone().unwrap_or_default(),
        kind: filters.kind.clone().unwrap_or_default(),
        from: nonempty(params, "from").unwrap_or_default(),
        to: nonempty(params, "to").unwrap_or_default(),
        sort: if sort == Sort::Newest {
            "newest"
        } else {
            "relevance"
        }
        .to_owned(),
    };
    Ok((
        SearchQuery {
            text,
            filters,
            sort,
            page,
        },
        form,
    ))
}

/// This search's address without its page, for the pager.
fn address(form: &FormView) -> String {
    let mut url = url_encoded("/search?q=", &form.q);
    for (key, value) in [
        ("section", &form.section),
        ("tag", &form.tag),
        ("author", &form.author),
        ("lang", &form.lang),
        ("kind", &form.kind),
        ("from", &form.from),
        ("to", &form.to),
    ] {
        if !value.is_empty() {
            url = url_encoded(&format!("{url}&{key}="), value);
        }
    }
    if form.sort == "newest" {
        url.push_str("&sort=newest");
    }
    url
}

fn url_encoded(prefix: &str, value: &str) -> String {
    let mut out = prefix.to_owned();
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

pub async fn page(
    State(state): State<Arc<AppState>>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let config = state.config();
    let zone = config.time_zone();
    // The page speaks the language searched in, when the site has it.
    let lang = params
        .get("lang")
        .map(|l| l.to_ascii_lowercase())
        .filter(|l| config.site.languages.contains(l))
        .unwrap_or_else(|| config.site.default_language.clone());
    let response = match render(&state, &params, &zone, &lang).await {
        Ok(html) => {
            let mut response = (
                StatusCode::OK,
                [(header::CONTENT_TYPE, http::HTML)],
                Body::from(html),
            )
                .into_response();
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, http::NO_STORE);
            response
        }
        Err(e) => error_page(&state, &lang, e),
    };
    let mut response = response;
    response.extensions_mut().insert(RouteName("search"));
    response
}

async fn render(
    state: &AppState,
    params: &HashMap<String, String>,
    zone: &jiff::tz::TimeZone,
    lang: &str,
) -> Result<String, WebError> {
    let config = state.config();
    let sections = state.sections();
    let (query, form) = parse(params, zone)?;
    let now = Timestamp::now();
    let searched = !query.text.trim().is_empty();
    let found = if searched {
        match state.newsroom.search(&query, now).await? {
            Some(found) => Some(found),
            None => return Err(WebError::NotFound),
        }
    } else {
        None
    };
    let t = state.theme.strings(lang);
    let results: Vec<ResultView> = found
        .as_ref()
        .map(|f| {
            f.results
                .iter()
                .map(|r| ResultView {
                    item: ItemView::new(&config, &sections, zone, &r.item),
                    headline_html: r.headline_html.clone(),
                    snippet_html: r.snippet_html.clone(),
                })
                .collect()
        })
        .unwrap_or_default();
    let pager = found
        .as_ref()
        .map(|f| PagerView::new(&address(&form), f.page, f.pages));
    let title_word = t.get("search").cloned().unwrap_or_else(|| "Search".into());
    let title = if searched {
        format!(
            "{}: {} | {}",
            title_word,
            query.text.trim(),
            config.site.name
        )
    } else {
        format!("{title_word} | {}", config.site.name)
    };
    let section_choices: Vec<_> = sections
        .iter()
        .map(|s| context! { slug => s.slug.clone(), name => s.name_in(lang).to_owned() })
        .collect();
    Ok(state.theme.render(
        "search.html",
        context! {
            site => val(SiteView::new(&config, &sections, &state.base_url, lang, None, now)),
            t => val(&*t),
            meta => context! {
                title => title,
                description => config.site.tagline.clone(),
                canonical => "",
                kind => "website",
            },
            form => val(&form),
            searched => searched,
            results => val(results),
            total => found.as_ref().map_or(0, |f| f.total),
            relaxed => found.as_ref().is_some_and(|f| f.relaxed),
            pager => val(pager),
            sections => section_choices,
            languages => config.site.languages.clone(),
            max_query_chars => MAX_QUERY_CHARS,
        },
    )?)
}

/// OpenSearch 1.1 description: browsers offer "add this site's search" from it.
pub async fn opensearch(State(state): State<Arc<AppState>>) -> Response {
    let config = state.config();
    let mut name = String::new();
    escape_xml(&config.site.name, &mut name);
    // ShortName: at most 16 characters (OpenSearch 1.1, "ShortName element"); cut before
    // escaping so an entity is never split.
    let mut short = String::new();
    escape_xml(
        &config.site.name.chars().take(16).collect::<String>(),
        &mut short,
    );
    let base = &state.base_url;
    let body = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<OpenSearchDescription xmlns="http://a9.com/-/spec/opensearch/1.1/">
  <ShortName>{short}</ShortName>
  <Description>{name}</Description>
  <InputEncoding>UTF-8</InputEncoding>
  <Url type="text/html" method="get" template="{base}/search?q={{searchTerms}}"/>
  <Url type="application/opensearchdescription+xml" rel="self" template="{base}/opensearch.xml"/>
</OpenSearchDescription>
"#,
    );
    let mut response = (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/opensearchdescription+xml; charset=utf-8"),
        )],
        Body::from(body),
    )
        .into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    response.extensions_mut().insert(RouteName("opensearch"));
    response
}

fn escape_xml(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
}
