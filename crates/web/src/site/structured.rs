//! Structured data for search engines (schema.org JSON-LD): `NewsArticle` on items,
//! `BreadcrumbList` on items and sections, `WebSite` with a `SearchAction` on home pages.
//! Built as serde_json values and escaped for a `<script>` element here, so no text a
//! writer typed can close the element.

use newsdesk_core::{Config, Item, NoteKind, Sections};
use serde_json::{Value, json};

use crate::paths;
use crate::site::feeds::{last_changed, mime_of};
use crate::views;
use newsdesk_services::uploads;

/// JSON for inside `<script type="application/ld+json">`: `<`, `>` and `&` as JSON escapes,
/// so `</script>` or `<!--` in a headline stays text (the HTML parser ends a script at the
/// first `</script`, whatever the JSON means).
pub fn script_json(value: &Value) -> String {
    value
        .to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

fn w3c(at: jiff::Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The outlet, as publisher of every article.
pub fn publisher(config: &Config, base_url: &str, logo_url: Option<&str>) -> Value {
    let mut org = json!({
        "@type": "NewsMediaOrganization",
        "name": config.site.name,
        "url": format!("{base_url}/"),
    });
    if let Some(logo) = logo_url {
        org["logo"] = json!({"@type": "ImageObject", "url": format!("{base_url}{logo}")});
    }
    org
}

/// Widths of the hero offered to search engines besides the crops of an upload (16:9, 4:3,
/// 1:1): the widest stored file (search engines want 1200 px or more for large previews),
/// then the 1024 and 640 variants where they exist, each an `ImageObject` with its real size
/// so a consumer can pick.
const ARTICLE_IMAGE_WIDTHS: [u32; 2] = [1024, 640];

fn article_images(base_url: &str, item: &Item) -> Vec<Value> {
    let Some(hero) = &item.hero else {
        return Vec::new();
    };
    let choices = views::image_choices(hero);
    let mut picked = Vec::new();
    // Uploads are stored with centre crops at the ratios search engines ask for; they come
    // first, then the photographer's own frame.
    if hero.path.starts_with(uploads::UPLOADS_PREFIX)
        && let (Some(width), Some(height)) = (hero.width, hero.height)
    {
        for ratio in uploads::CROP_RATIOS {
            let (_, (w, h)) = uploads::crop_geometry(width, height, ratio);
            picked.push(views::ImageChoice {
                path: uploads::crop_path(&hero.path, ratio),
                width: Some(w),
                height: Some(h),
            });
        }
    }
    if let Some(first) = choices.first() {
        picked.push(first.clone());
    }
    for width in ARTICLE_IMAGE_WIDTHS {
        if let Some(c) = choices.iter().find(|c| c.width == Some(width))
            && !picked.contains(c)
        {
            picked.push(c.clone());
        }
    }
    picked
        .into_iter()
        .map(|c| {
            let mut image = json!({
                "@type": "ImageObject",
                "url": format!("{base_url}/media/{}", c.path),
                "encodingFormat": mime_of(&c.path),
            });
            if let (Some(w), Some(h)) = (c.width, c.height) {
                image["width"] = json!(w);
                image["height"] = json!(h);
            }
            if !hero.caption.is_empty() {
                image["caption"] = json!(hero.caption);
            }
            if !hero.credit.is_empty() {
                image["creditText"] = json!(hero.credit);
            }
            image
        })
        .collect()
}

pub fn news_article(
    config: &Config,
    sections: &Sections,
    base_url: &str,
    item: &Item,
    description: &str,
    logo_url: Option<&str>,
) -> Value {
    let lang = item.language.as_str();
    let url = format!("{base_url}{}", paths::item_url(config, item));
    let section = sections.name(&item.section, lang);
    let published = item.published_at.unwrap_or(item.changed_at);
    let mut article = json!({
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": item.display_headline(),
        "description": description,
        "url": url,
        "mainEntityOfPage": {"@type": "WebPage", "@id": url},
        "datePublished": w3c(published),
        "dateModified": w3c(last_changed(item)),
        "inLanguage": lang,
        "articleSection": section,
        "publisher": publisher(config, base_url, logo_url),
        "isAccessibleForFree": true,
    });
    if !item.authors.is_empty() {
        article["author"] = json!(
            item.authors
                .iter()
                .map(|a| json!({
                    "@type": "Person",
                    "name": a.name,
                    "url": format!("{base_url}{}", paths::author_url(config, lang, &a.slug)),
                }))
                .collect::<Vec<_>>()
        );
    }
    let images = article_images(base_url, item);
    if !images.is_empty() {
        article["image"] = json!(images);
    }
    if !item.tags.is_empty() {
        article["keywords"] = json!(item.tags.iter().map(|t| &t.name).collect::<Vec<_>>());
    }
    let corrections: Vec<Value> = item
        .notes
        .iter()
        .filter(|n| n.kind == NoteKind::Correction)
        .map(|n| {
            json!({
                "@type": "CorrectionComment",
                "text": n.text,
                "datePublished": w3c(n.at),
            })
        })
        .collect();
    if !corrections.is_empty() {
        article["correction"] = json!(corrections);
    }
    article
}

/// `crumbs` are (name, absolute URL), from the home page down.
pub fn breadcrumbs(crumbs: &[(String, String)]) -> Value {
    json!({
        "@context": "https://schema.org",
        "@type": "BreadcrumbList",
        "itemListElement": crumbs.iter().enumerate().map(|(i, (name, url))| json!({
            "@type": "ListItem",
            "position": i + 1,
            "name": name,
            "item": url,
        })).collect::<Vec<_>>(),
    })
}

/// The site, with its search: `/search?q=` is the search page's address.
pub fn website(config: &Config, base_url: &str, language: &str, logo_url: Option<&str>) -> Value {
    json!({
        "@context": "https://schema.org",
        "@type": "WebSite",
        "name": config.site.name,
        "url": format!("{base_url}{}", paths::home_url(config, language)),
        "inLanguage": language,
        "publisher": publisher(config, base_url, logo_url),
        "potentialAction": {
            "@type": "SearchAction",
            "target": {
                "@type": "EntryPoint",
                "urlTemplate": format!("{base_url}/search?q={{search_term_string}}"),
            },
            "query-input": "required name=search_term_string",
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_json_cannot_close_its_element_and_still_parses() {
        let value = json!({"headline": "</script><script>alert(1)</script> & <!-- \"x\""});
        let out = script_json(&value);
        assert!(!out.contains('<') && !out.contains('>') && !out.contains('&'));
        let back: Value = serde_json::from_str(&out).expect("valid JSON");
        assert_eq!(back, value);
    }
}
