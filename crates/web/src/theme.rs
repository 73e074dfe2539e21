//! The theme: minijinja templates, static assets and interface strings. The default theme is
//! embedded in the binary; a theme directory from the config overrides any file of it by
//! name (`templates/item.html`, `assets/site.css`, `strings.toml`) without a rebuild.
//! Everything is loaded and checked at start, so a broken theme stops the server with a
//! message naming the file, never a reader's page.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::http::HeaderValue;
use minijinja::Environment;

use crate::cache::CachedPage;

/// A template value from anything serializable (view models, strings, settings).
pub(crate) fn val<T: serde::Serialize>(value: T) -> minijinja::Value {
    minijinja::Value::from(minijinja::value::Serde(value))
}

/// Caps a template's work, so a theme's runaway loop cannot hang a request.
const TEMPLATE_FUEL: u64 = 5_000_000;
/// Largest theme file read.
const THEME_FILE_MAX_BYTES: u64 = 2 * 1024 * 1024;

macro_rules! embedded {
    ($dir:literal: $($name:literal),* $(,)?) => {
        &[$(($name, include_bytes!(concat!("../theme/", $dir, "/", $name)) as &[u8])),*]
    };
}

const TEMPLATES: &[(&str, &[u8])] = embedded!("templates":
    "base.html", "home.html", "item.html", "listing.html", "error.html", "account.html",
    "comments.html", "comment_list.html", "comment_one.html",
    "search.html", "api_docs.html",
    "macros.html", "desk/layout.html", "desk/sign_in.html", "desk/items.html",
    "desk/setup.html", "desk/password.html", "desk/message.html", "desk/edit.html",
    "desk/audit.html", "desk/compare.html", "desk/sections.html", "desk/tags.html",
    "desk/authors.html", "desk/accounts.html", "desk/settings.html", "desk/media.html",
    "desk/comments.html", "desk/reader.html", "desk/macros.html", "desk/tokens.html",
    "desk/webhooks.html", "desk/webhook.html",
);
const ASSETS: &[(&str, &[u8])] = embedded!("assets": "site.css", "desk.css", "desk.js", "comments.js", "live.js", "favicon.svg", "logo.svg");
const STRINGS: &str = include_str!("../theme/strings.toml");

#[derive(Debug, thiserror::Error)]
pub enum ThemeError {
    #[error("theme file {path}: {message}")]
    File { path: PathBuf, message: String },
    #[error("template {name}: {message}")]
    Template { name: String, message: String },
    #[error(
        "config key `site.logo`: no theme asset named `{0}` (put it in the theme's assets/ directory)"
    )]
    Logo(String),
    #[error("theme strings: {0}")]
    Strings(String),
}

/// A static asset, served at its content-hashed address.
pub struct Asset {
    pub page: CachedPage,
}

pub struct Theme {
    env: Environment<'static>,
    /// Hashed file name (`site.1a2b3c4d.css`) → asset.
    assets: HashMap<String, Asset>,
    /// Interface strings by language, each already merged over the default language's.
    strings: HashMap<String, Arc<BTreeMap<String, String>>>,
    /// Asset name (`logo.svg`) → its content-hashed address, for links made outside
    /// templates (the publisher's logo in structured data).
    urls: Arc<BTreeMap<String, String>>,
}

fn read_override(dir: Option<&Path>, sub: &str, name: &str) -> Result<Option<Vec<u8>>, ThemeError> {
    let Some(dir) = dir else { return Ok(None) };
    let path = dir.join(sub).join(name);
    let meta = match std::fs::metadata(&path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(ThemeError::File {
                path,
                message: e.to_string(),
            });
        }
    };
    if meta.len() > THEME_FILE_MAX_BYTES {
        return Err(ThemeError::File {
            path,
            message: format!("larger than {THEME_FILE_MAX_BYTES} bytes"),
        });
    }
    std::fs::read(&path)
        .map(Some)
        .map_err(|e| ThemeError::File {
            path,
            message: e.to_string(),
        })
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next().unwrap_or_default() {
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "json" | "webmanifest" => "application/manifest+json",
        _ => "application/octet-stream",
    }
}

/// `site.css` with hash `1a2b3c4d` → `site.1a2b3c4d.css`.
fn hashed_name(name: &str, hash: &str) -> String {
    match name.rsplit_once('.') {
        Some((stem, ext)) => format!("{stem}.{hash}.{ext}"),
        None => format!("{name}.{hash}"),
    }
}

impl Theme {
    /// Loads the theme; `logo` names the asset shown as the logo, which must exist.
    pub fn load(
        dir: Option<&Path>,
        default_language: &str,
        logo: Option<&str>,
    ) -> Result<Self, ThemeError> {
        let mut templates: BTreeMap<String, String> = BTreeMap::new();
        for (name, bytes) in TEMPLATES {
            let bytes = read_override(dir, "templates", name)?.unwrap_or_else(|| bytes.to_vec());
            let text = String::from_utf8(bytes).map_err(|_| ThemeError::Template {
                name: (*name).to_owned(),
                message: "not UTF-8".into(),
            })?;
            templates.insert((*name).to_owned(), text);
        }

        let mut assets = HashMap::new();
        let mut urls: BTreeMap<String, String> = BTreeMap::new();
        let mut names: Vec<String> = ASSETS.iter().map(|(n, _)| (*n).to_owned()).collect();
        if let Some(dir) = dir {
            // A theme may add assets of its own, not only replace ours.
            if let Ok(entries) = std::fs::read_dir(dir.join("assets")) {
                for entry in entries.flatten() {
                    let name = entry.file_name().to_string_lossy().into_owned();
                    if entry.path().is_file() && !names.contains(&name) && !name.starts_with('.') {
                        names.push(name);
                    }
                }
            }
        }
        for name in names {
            let embedded = ASSETS
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, b)| b.to_vec());
            let Some(bytes) = read_override(dir, "assets", &name)?.or(embedded) else {
                continue;
            };
            let page = CachedPage::precompressed(
                bytes,
                HeaderValue::from_static(content_type(&name)),
                vec![newsdesk_core::event::keys::ASSETS.to_owned()],
            );
            let hash = page
                .etag_identity
                .to_str()
                .unwrap_or_default()
                .trim_matches('"');
            let hashed = hashed_name(&name, hash.get(..10).unwrap_or(hash));
            urls.insert(name, format!("/assets/{hashed}"));
            assets.insert(hashed, Asset { page });
        }

        if let Some(logo) = logo
            && !urls.contains_key(logo)
        {
            return Err(ThemeError::Logo(logo.to_owned()));
        }
        let strings = load_strings(dir, default_language)?;

        let mut env = Environment::new();
        env.set_fuel(Some(TEMPLATE_FUEL));
        env.set_syntax(
            minijinja::syntax::SyntaxConfig::builder()
                .trim_blocks(true)
                .lstrip_blocks(true)
                .build()
                .map_err(|e| ThemeError::Template {
                    name: "syntax".into(),
                    message: e.to_string(),
                })?,
        );
        for (name, text) in templates {
            env.add_template_owned(name.clone(), text)
                .map_err(|e| ThemeError::Template {
                    name,
                    message: e.to_string(),
                })?;
        }
        env.set_formatter(escape_html);
        let urls = Arc::new(urls);
        let template_urls = urls.clone();
        env.add_function(
            "asset",
            move |name: &str| -> Result<String, minijinja::Error> {
                template_urls.get(name).cloned().ok_or_else(|| {
                    minijinja::Error::new(
                        minijinja::ErrorKind::InvalidOperation,
                        format!("no asset named {name}"),
                    )
                })
            },
        );
        Ok(Theme {
            env,
            assets,
            strings,
            urls,
        })
    }

    pub fn render(
        &self,
        template: &str,
        context: minijinja::Value,
    ) -> Result<String, minijinja::Error> {
        self.env.get_template(template)?.render(context)
    }

    /// The content-hashed address of an asset by its plain name.
    pub fn asset_url(&self, name: &str) -> Option<&str> {
        self.urls.get(name).map(String::as_str)
    }

    pub fn asset(&self, hashed_name: &str) -> Option<&Asset> {
        self.assets.get(hashed_name)
    }

    /// Interface strings for `language`, falling back to the default language's.
    pub fn strings(&self, language: &str) -> Arc<BTreeMap<String, String>> {
        self.strings
            .get(language)
            .or_else(|| self.strings.get(""))
            .cloned()
            .unwrap_or_default()
    }
}

/// HTML escaping of `&`, `<`, `>`, `"` and `'`: what the HTML standard needs to keep text
/// inert in content and quoted attributes. minijinja's default also escapes `/`, which
/// only makes every URL longer.
fn escape_html(
    out: &mut minijinja::Output,
    state: &mut minijinja::State,
    value: &minijinja::Value,
) -> Result<(), minijinja::Error> {
    let text = match value.as_str() {
        Some(text)
            if !value.is_safe() && matches!(state.auto_escape(), minijinja::AutoEscape::Html) =>
        {
            text
        }
        _ => return minijinja::escape_formatter(out, state, value),
    };
    let mut start = 0;
    for (i, byte) in text.bytes().enumerate() {
        let entity = match byte {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#39;",
            _ => continue,
        };
        out.write_str(&text[start..i])
            .map_err(minijinja::Error::from)?;
        out.write_str(entity).map_err(minijinja::Error::from)?;
        start = i + 1;
    }
    out.write_str(&text[start..])
        .map_err(minijinja::Error::from)
}

fn load_strings(
    dir: Option<&Path>,
    default_language: &str,
) -> Result<HashMap<String, Arc<BTreeMap<String, String>>>, ThemeError> {
    let mut tables: BTreeMap<String, BTreeMap<String, String>> =
        toml::from_str(STRINGS).map_err(|e| ThemeError::Strings(e.to_string()))?;
    if let Some(bytes) = read_override(dir, "", "strings.toml")? {
        let text = String::from_utf8(bytes).map_err(|_| ThemeError::Strings("not UTF-8".into()))?;
        let theirs: BTreeMap<String, BTreeMap<String, String>> =
            toml::from_str(&text).map_err(|e| ThemeError::Strings(e.to_string()))?;
        for (lang, table) in theirs {
            tables.entry(lang).or_default().extend(table);
        }
    }
    let base = tables
        .get(default_language)
        .or_else(|| tables.get("en"))
        .cloned()
        .unwrap_or_default();
    let mut out = HashMap::new();
    for (lang, table) in &tables {
        let mut merged = base.clone();
        merged.extend(table.clone());
        out.insert(lang.clone(), Arc::new(merged));
    }
    out.insert(String::new(), Arc::new(base));
    Ok(out)
}
