//! The API's documentation: the OpenAPI document as JSON, fitted to this site (its languages
//! become the `lang` parameter's choices), and the same document as a readable page, rendered
//! on the server from the document itself so the two can never disagree.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use minijinja::context;
use newsdesk_core::Config;
use serde::Serialize;
use serde_json::Value;

use super::error::ApiError;
use crate::{AppState, cache, http};

/// The document, serialized once, and its readable form.
pub struct Document {
    json: Vec<u8>,
    etag: HeaderValue,
    groups: Vec<Group>,
    schemas: Vec<SchemaView>,
    title: String,
    description: String,
}

#[derive(Debug, Serialize)]
struct Group {
    name: String,
    description: String,
    operations: Vec<Operation>,
}

#[derive(Debug, Serialize)]
struct Operation {
    anchor: String,
    method: String,
    path: String,
    summary: String,
    description: String,
    auth: String,
    parameters: Vec<Field>,
    request: String,
    responses: Vec<Field>,
}

/// A parameter, a property or a response: a name, a type and what it means.
#[derive(Debug, Serialize)]
struct Field {
    name: String,
    kind: String,
    required: bool,
    description: String,
}

#[derive(Debug, Serialize)]
struct SchemaView {
    name: String,
    description: String,
    properties: Vec<Field>,
}

/// Puts what only this site knows into the generated document: its languages, as the
/// choices of every `lang` parameter and of a written item's `language`.
pub fn fit_to_site(openapi: &mut utoipa::openapi::OpenApi, config: &Config) {
    let Ok(mut doc) = serde_json::to_value(&*openapi) else {
        return;
    };
    let languages: Vec<Value> = config
        .site
        .languages
        .iter()
        .map(|l| Value::String(l.clone()))
        .collect();
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for item in paths.values_mut() {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            for operation in item.values_mut() {
                let Some(parameters) = operation
                    .get_mut("parameters")
                    .and_then(Value::as_array_mut)
                else {
                    continue;
                };
                for parameter in parameters {
                    if parameter.get("name").and_then(Value::as_str) == Some("lang") {
                        parameter["schema"] = serde_json::json!({
                            "type": "string",
                            "enum": languages,
                        });
                    }
                }
            }
        }
    }
    if let Some(language) = doc.pointer_mut("/components/schemas/ItemWrite/properties/language") {
        *language = serde_json::json!({
            "type": "string",
            "enum": languages,
            "description": "The edition (one of the site's languages).",
        });
    }
    if let Ok(fitted) = serde_json::from_value(doc) {
        *openapi = fitted;
    }
}

fn type_of(schema: &Value) -> String {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        return r.rsplit('/').next().unwrap_or(r).to_owned();
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        let names: Vec<&str> = values.iter().filter_map(Value::as_str).collect();
        return format!("one of {}", names.join(", "));
    }
    if let Some(choices) = schema.get("oneOf").and_then(Value::as_array) {
        let names: Vec<String> = choices.iter().map(type_of).collect();
        return names.join(" or ");
    }
    let base = match schema.get("type") {
        Some(Value::String(t)) => t.clone(),
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .filter(|t| *t != "null")
            .collect::<Vec<_>>()
            .join(" or "),
        _ => String::new(),
    };
    let base = if base == "array" {
        format!(
            "array of {}",
            schema.get("items").map(type_of).unwrap_or_default()
        )
    } else if let Some(format) = schema.get("format").and_then(Value::as_str) {
        format!("{base} ({format})")
    } else {
        base
    };
    let nullable =
        matches!(schema.get("type"), Some(Value::Array(ts)) if ts.iter().any(|t| t == "null"));
    if nullable {
        format!("{base}, or null")
    } else {
        base
    }
}

fn text(v: Option<&Value>) -> String {
    v.and_then(Value::as_str).unwrap_or_default().to_owned()
}

impl Document {
    pub fn new(openapi: &utoipa::openapi::OpenApi) -> Self {
        let mut doc = serde_json::to_value(openapi).unwrap_or(Value::Null);
        crate::live::describe_in(&mut doc);
        let json = serde_json::to_vec_pretty(&doc).unwrap_or_default();
        let etag = HeaderValue::from_str(&format!("\"{}\"", cache::content_tag(&json)))
            .unwrap_or(HeaderValue::from_static("\"\""));
        let mut groups: Vec<Group> = doc
            .get("tags")
            .and_then(Value::as_array)
            .map(|tags| {
                tags.iter()
                    .map(|t| Group {
                        name: text(t.get("name")),
                        description: text(t.get("description")),
                        operations: Vec::new(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        if let Some(paths) = doc.get("paths").and_then(Value::as_object) {
            for (path, item) in paths {
                let Some(item) = item.as_object() else {
                    continue;
                };
                for (method, op) in item {
                    let tag = op
                        .get("tags")
                        .and_then(|t| t.get(0))
                        .and_then(Value::as_str)
                        .unwrap_or("other");
                    let operation = Operation {
                        anchor: format!("{method}-{path}")
                            .replace(['/', '{', '}'], "-")
                            .trim_matches('-')
                            .to_owned(),
                        method: method.to_uppercase(),
                        path: path.clone(),
                        summary: text(op.get("summary")),
                        description: text(op.get("description")),
                        auth: auth_of(op),
                        parameters: op
                            .get("parameters")
                            .and_then(Value::as_array)
                            .map(|ps| {
                                ps.iter()
                                    .map(|p| Field {
                                        name: format!(
                                            "{} ({})",
                                            text(p.get("name")),
                                            text(p.get("in"))
                                        ),
                                        kind: p.get("schema").map(type_of).unwrap_or_default(),
                                        required: p
                                            .get("required")
                                            .and_then(Value::as_bool)
                                            .unwrap_or(false),
                                        description: text(p.get("description")),
                                    })
                                    .collect()
                            })
                            .unwrap_or_default(),
                        request: op
                            .pointer("/requestBody/content/application~1json/schema")
                            .map(type_of)
                            .unwrap_or_default(),
                        responses: op
                            .get("responses")
                            .and_then(Value::as_object)
                            .map(|rs| {
                                rs.iter()
                                    .map(|(code, r)| Field {
                                        name: code.clone(),
                                        kind: r
                                            .pointer("/content/application~1json/schema")
                                            .map(type_of)
                                            .unwrap_or_default(),
                                        required: false,
                                        description: text(r.get("description")),
                                    })
                                    .collect()
                            })
                            .unwrap_or_default(),
                    };
                    match groups.iter_mut().find(|g| g.name == tag) {
                        Some(group) => group.operations.push(operation),
                        None => groups.push(Group {
                            name: tag.to_owned(),
                            description: String::new(),
                            operations: vec![operation],
                        }),
                    }
                }
            }
        }
        let schemas = doc
            .pointer("/components/schemas")
            .and_then(Value::as_object)
            .map(|schemas| {
                schemas
                    .iter()
                    .map(|(name, s)| {
                        let required: Vec<&str> = s
                            .get("required")
                            .and_then(Value::as_array)
                            .map(|r| r.iter().filter_map(Value::as_str).collect())
                            .unwrap_or_default();
                        SchemaView {
                            name: name.clone(),
                            description: text(s.get("description")),
                            properties: s
                                .get("properties")
                                .and_then(Value::as_object)
                                .map(|ps| {
                                    ps.iter()
                                        .map(|(p, v)| Field {
                                            name: p.clone(),
                                            kind: type_of(v),
                                            required: required.contains(&p.as_str()),
                                            description: text(v.get("description")),
                                        })
                                        .collect()
                                })
                                .unwrap_or_default(),
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();
        Document {
            json,
            etag,
            groups,
            schemas,
            title: text(doc.pointer("/info/title")),
            description: text(doc.pointer("/info/description")),
        }
    }
}

fn auth_of(op: &Value) -> String {
    let Some(options) = op.get("security").and_then(Value::as_array) else {
        return "none".into();
    };
    let mut names: Vec<String> = Vec::new();
    let mut optional = false;
    for option in options {
        match option.as_object() {
            Some(o) if o.is_empty() => optional = true,
            Some(o) => names.extend(o.keys().cloned()),
            None => {}
        }
    }
    match (names.is_empty(), optional) {
        (true, _) => "none".into(),
        (false, true) => format!("optional: {}", names.join(" or ")),
        (false, false) => format!("required: {}", names.join(" or ")),
    }
}

fn document_of(state: &AppState) -> Result<Arc<Document>, ApiError> {
    state
        .api
        .document
        .get()
        .cloned()
        .ok_or_else(|| ApiError::internal("the API document was not built"))
}

/// `/api/openapi.json`.
pub async fn document(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let doc = document_of(&state)?;
    let builder = axum::http::Response::builder()
        .header(header::ETAG, doc.etag.clone())
        .header(header::CACHE_CONTROL, state.cache_control.clone());
    let response = if http::none_match(&headers, &doc.etag) {
        builder
            .status(StatusCode::NOT_MODIFIED)
            .body(axum::body::Body::empty())
    } else {
        builder
            .header(header::CONTENT_TYPE, "application/json")
            .body(axum::body::Body::from(doc.json.clone()))
    };
    response.map_err(ApiError::internal)
}

/// `/api/docs`: the document as a page people read.
pub async fn page(State(state): State<Arc<AppState>>) -> Response {
    let doc = match document_of(&state) {
        Ok(doc) => doc,
        Err(e) => return e.into_response(),
    };
    let html = state.theme.render(
        "api_docs.html",
        context! {
            title => doc.title.clone(),
            description => doc.description.clone(),
            groups => crate::forms::val(&doc.groups),
            schemas => crate::forms::val(&doc.schemas),
            site => context! { name => state.config().site.name.clone() },
        },
    );
    match html {
        Ok(html) => (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/html; charset=utf-8"),
                ),
                (header::CACHE_CONTROL, state.cache_control.clone()),
            ],
            html,
        )
            .into_response(),
        Err(e) => ApiError::internal(format!("template: {e:#}")).into_response(),
    }
}
