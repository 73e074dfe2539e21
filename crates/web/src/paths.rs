//! The site's address scheme, in one place: parsing a request path into a page, and building
//! every link the templates print. Default-language pages sit at the root (`/world/slug`);
//! other editions under their language (`/ru/world/slug`), so new languages never move URLs.

use newsdesk_core::{Config, Item, config::RESERVED_PATHS};

/// A public page the site can render.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SitePage {
    Home,
    Latest,
    Section(String),
    Tag(String),
    Author(String),
    Item { section: String, slug: String },
}

/// A page of one language edition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteRoute {
    pub language: String,
    pub page: SitePage,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    Page(SiteRoute),
    /// Permanent redirect to the canonical form of the same address.
    Redirect(String),
    NotFound,
}

/// Parses `path` (without query). Case, trailing-slash and default-language-prefix variants
/// redirect to one canonical address, so caches and search engines see each page once.
/// An item slug keeps its case here: the lookup knows the item's real address.
pub fn parse(config: &Config, path: &str) -> Parsed {
    let Some(rest) = path.strip_prefix('/') else {
        return Parsed::NotFound;
    };
    if rest.contains("//") {
        return Parsed::NotFound;
    }
    let mut segments: Vec<&str> = rest.split('/').collect();
    if segments.last() == Some(&"") {
        segments.pop();
    }
    let default = config.site.default_language.as_str();
    let mut language = default;
    if let Some(first) = segments.first() {
        let lowered = first.to_ascii_lowercase();
        if let Some(lang) = config.language_for_segment(&lowered) {
            language = lang;
            segments.remove(0);
        } else if lowered == segment(default) {
            segments.remove(0);
        }
    }
    let lowered: Vec<String> = segments.iter().map(|s| s.to_ascii_lowercase()).collect();
    let shape: Vec<&str> = lowered.iter().map(String::as_str).collect();
    let page = match (shape.as_slice(), segments.as_slice()) {
        ([], _) => SitePage::Home,
        (["latest"], _) => SitePage::Latest,
        (["tag", slug], _) => SitePage::Tag((*slug).to_owned()),
        (["author", slug], _) => SitePage::Author((*slug).to_owned()),
        ([section], _) if is_section(config, section) => SitePage::Section((*section).to_owned()),
        ([section, _], [_, slug]) if is_section(config, section) => SitePage::Item {
            section: (*section).to_owned(),
            slug: (*slug).to_owned(),
        },
        _ => return Parsed::NotFound,
    };
    let route = SiteRoute {
        language: language.to_owned(),
        page,
    };
    let canonical = route_url(config, &route);
    if canonical == path {
        Parsed::Page(route)
    } else {
        Parsed::Redirect(canonical)
    }
}

fn is_section(config: &Config, slug: &str) -> bool {
    !RESERVED_PATHS.contains(&slug) && config.section(slug).is_some()
}

fn segment(language: &str) -> String {
    newsdesk_core::lang::url_segment(language)
}

/// The home of a language edition: `/` or `/ru/`.
pub fn home_url(config: &Config, language: &str) -> String {
    format!("{}/", config.language_prefix(language))
}

pub fn latest_url(config: &Config, language: &str) -> String {
    format!("{}/latest", config.language_prefix(language))
}

pub fn section_url(config: &Config, language: &str, section: &str) -> String {
    format!("{}/{section}", config.language_prefix(language))
}

pub fn tag_url(config: &Config, language: &str, tag: &str) -> String {
    format!("{}/tag/{tag}", config.language_prefix(language))
}

pub fn author_url(config: &Config, language: &str, author: &str) -> String {
    format!("{}/author/{author}", config.language_prefix(language))
}

pub fn item_url(config: &Config, item: &Item) -> String {
    format!(
        "{}/{}/{}",
        config.language_prefix(&item.language),
        item.section,
        item.slug
    )
}

pub fn route_url(config: &Config, route: &SiteRoute) -> String {
    let lang = route.language.as_str();
    match &route.page {
        SitePage::Home => home_url(config, lang),
        SitePage::Latest => latest_url(config, lang),
        SitePage::Section(s) => section_url(config, lang, s),
        SitePage::Tag(t) => tag_url(config, lang, t),
        SitePage::Author(a) => author_url(config, lang, a),
        SitePage::Item { section, slug } => {
            format!("{}/{section}/{slug}", config.language_prefix(lang))
        }
    }
}

/// A listing page's address with its page number; page 1 has none.
pub fn with_page(url: &str, page: u32) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    if page <= 1 {
        url.to_owned()
    } else {
        format!("{url}{separator}page={page}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> Config {
        Config::parse(Config::demo_toml(), "demo", std::iter::empty()).expect("demo config")
    }

    fn page(language: &str, page: SitePage) -> Parsed {
        Parsed::Page(SiteRoute {
            language: language.into(),
            page,
        })
    }

    #[test]
    fn every_page_shape_parses() {
        let c = demo();
        assert_eq!(parse(&c, "/"), page("en", SitePage::Home));
        assert_eq!(parse(&c, "/ru/"), page("ru", SitePage::Home));
        assert_eq!(parse(&c, "/latest"), page("en", SitePage::Latest));
        assert_eq!(parse(&c, "/tr/latest"), page("tr", SitePage::Latest));
        assert_eq!(
            parse(&c, "/world"),
            page("en", SitePage::Section("world".into()))
        );
        assert_eq!(
            parse(&c, "/tag/storms"),
            page("en", SitePage::Tag("storms".into()))
        );
        assert_eq!(
            parse(&c, "/author/amina-rahimova"),
            page("en", SitePage::Author("amina-rahimova".into()))
        );
        assert_eq!(
            parse(&c, "/ru/science/x-y"),
            page(
                "ru",
                SitePage::Item {
                    section: "science".into(),
                    slug: "x-y".into()
                }
            )
        );
    }

    #[test]
    fn variants_redirect_to_one_canonical_address() {
        let c = demo();
        assert_eq!(parse(&c, "/ru"), Parsed::Redirect("/ru/".into()));
        assert_eq!(parse(&c, "/World"), Parsed::Redirect("/world".into()));
        assert_eq!(parse(&c, "/world/"), Parsed::Redirect("/world".into()));
        assert_eq!(parse(&c, "/Latest"), Parsed::Redirect("/latest".into()));
        assert_eq!(
            parse(&c, "/World/a-b"),
            Parsed::Redirect("/world/a-b".into())
        );
        assert_eq!(
            parse(&c, "/world/a-b/"),
            Parsed::Redirect("/world/a-b".into())
        );
        assert_eq!(
            parse(&c, "/en/world/a-b"),
            Parsed::Redirect("/world/a-b".into())
        );
    }

    #[test]
    fn unknown_shapes_are_not_found() {
        let c = demo();
        for path in [
            "/weather",
            "/weather/x",
            "/a/b/c",
            "/api",
            "/desk/x",
            "//world",
        ] {
            assert_eq!(parse(&c, path), Parsed::NotFound, "{path}");
        }
    }
}
