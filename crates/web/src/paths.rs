//! The site's address scheme, in one place: parsing a request path into a page, and building
//! every link the templates print. Default-language pages sit at the root (`/world/slug`);
//! other editions under their language (`/ru/world/slug`), so new languages never move URLs.

use newsdesk_core::{Config, Item, Sections, config::RESERVED_PATHS};

/// A public page the site can render.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SitePage {
    Home,
    Latest,
    Section(String),
    Tag(String),
    Author(String),
    Item {
        section: String,
        slug: String,
    },
    /// A feed of one language edition.
    Feed {
        subject: FeedSubject,
        format: FeedFormat,
    },
    /// Sitemaps and robots.txt belong to the whole site, never to one edition: they sit at
    /// the root only (the sitemaps protocol wants a sitemap's URLs under its own directory,
    /// and `/sitemap.xml` covers every edition).
    Sitemap(SitemapPart),
    Robots,
}

/// What a feed carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedSubject {
    /// Every item of the edition.
    All,
    /// Briefs only: the "latest news" wire.
    Briefs,
    Section(String),
    Tag(String),
    Author(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedFormat {
    Rss,
    Atom,
    Json,
}

impl FeedFormat {
    pub const ALL: [FeedFormat; 3] = [FeedFormat::Rss, FeedFormat::Atom, FeedFormat::Json];

    pub fn extension(self) -> &'static str {
        match self {
            FeedFormat::Rss => "rss",
            FeedFormat::Atom => "atom",
            FeedFormat::Json => "json",
        }
    }

    fn parse(extension: &str) -> Option<Self> {
        FeedFormat::ALL
            .into_iter()
            .find(|f| f.extension() == extension)
    }

    /// The media type alone, for `type` attributes.
    pub fn media_type(self) -> &'static str {
        match self {
            FeedFormat::Rss => "application/rss+xml",
            FeedFormat::Atom => "application/atom+xml",
            FeedFormat::Json => "application/feed+json",
        }
    }

    /// The media type with its charset, for `Content-Type`.
    pub fn content_type(self) -> &'static str {
        match self {
            FeedFormat::Rss => "application/rss+xml; charset=utf-8",
            FeedFormat::Atom => "application/atom+xml; charset=utf-8",
            FeedFormat::Json => "application/feed+json; charset=utf-8",
        }
    }
}

/// One file of the sitemaps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SitemapPart {
    /// `/sitemap.xml`, the index of every other file.
    Index,
    /// Items published in one month (UTC); `part` from 1 when a month needs several files.
    Items {
        year: i16,
        month: i8,
        part: u32,
    },
    Sections,
    /// Tag pages, split in files of `syndication.sitemap_urls` like the items; `part` from 1.
    Tags {
        part: u32,
    },
    Authors {
        part: u32,
    },
    /// `/news-sitemap.xml`, for Google News.
    News,
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
pub fn parse(config: &Config, sections: &Sections, path: &str) -> Parsed {
    let Some(rest) = path.strip_prefix('/') else {
        return Parsed::NotFound;
    };
    if rest.contains("//") {
        return Parsed::NotFound;
    }
    if let Some(page) = site_file(path) {
        return Parsed::Page(SiteRoute {
            language: config.site.default_language.clone(),
            page,
        });
    }
    if let Some(moved) = moved_sitemap(path) {
        return Parsed::Redirect(moved);
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
        (["feeds", file], _) => {
            let Some((subject, format)) = feed_file(file) else {
                return Parsed::NotFound;
            };
            let subject = match subject {
                "all" => FeedSubject::All,
                "briefs" => FeedSubject::Briefs,
                _ => return Parsed::NotFound,
            };
            SitePage::Feed { subject, format }
        }
        (["feeds", kind, file], _) => {
            let Some((slug, format)) = feed_file(file) else {
                return Parsed::NotFound;
            };
            let slug = slug.to_owned();
            let subject = match *kind {
                "section" if is_section(sections, &slug) => FeedSubject::Section(slug),
                "tag" => FeedSubject::Tag(slug),
                "author" => FeedSubject::Author(slug),
                _ => return Parsed::NotFound,
            };
            SitePage::Feed { subject, format }
        }
        ([section], _) if is_section(sections, section) => SitePage::Section((*section).to_owned()),
        ([section, _], [_, slug]) if is_section(sections, section) => SitePage::Item {
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

/// `all.rss` → ("all", Rss).
fn feed_file(file: &str) -> Option<(&str, FeedFormat)> {
    let (name, extension) = file.rsplit_once('.')?;
    Some((name, FeedFormat::parse(extension)?)).filter(|(name, _)| !name.is_empty())
}

/// The site-wide files, matched exactly (no case or slash variants: crawlers ask for them
/// by the names robots.txt and the index give). Every sitemap file sits at the root, because
/// a sitemap may list only URLs under its own folder (sitemaps.org, "Sitemap file location").
fn site_file(path: &str) -> Option<SitePage> {
    Some(match path {
        "/robots.txt" => SitePage::Robots,
        "/sitemap.xml" => SitePage::Sitemap(SitemapPart::Index),
        "/news-sitemap.xml" => SitePage::Sitemap(SitemapPart::News),
        _ => SitePage::Sitemap(sitemap_file(path.strip_prefix("/sitemap-")?)?),
    })
}

/// The addresses the sitemaps had before they moved to the root (`/sitemaps/items-2026-11.xml`),
/// which crawlers and search consoles still know: each answers 301 to its file's address now.
fn moved_sitemap(path: &str) -> Option<String> {
    let part = sitemap_file(path.strip_prefix("/sitemaps/")?)?;
    Some(sitemap_url(&part))
}

/// A sitemap file's name after `sitemap-`: `sections.xml`, `tags.xml`, `tags-2.xml`,
/// `authors.xml`, `items-2026-11.xml`, `items-2026-11-2.xml`. Part 1 has the plain name.
fn sitemap_file(name: &str) -> Option<SitemapPart> {
    let name = name.strip_suffix(".xml")?;
    let (kind, rest) = name.split_once('-').unwrap_or((name, ""));
    let part = |p: Option<&str>| -> Option<u32> {
        match p {
            None => Some(1),
            Some(p) if !p.starts_with('0') => p.parse().ok().filter(|p| *p >= 2),
            Some(_) => None,
        }
    };
    let rest = (!rest.is_empty()).then_some(rest);
    Some(match kind {
        "sections" if rest.is_none() => SitemapPart::Sections,
        "tags" => SitemapPart::Tags { part: part(rest)? },
        "authors" => SitemapPart::Authors { part: part(rest)? },
        "items" => {
            let mut pieces = rest?.split('-');
            let year: i16 = pieces.next().filter(|y| y.len() == 4)?.parse().ok()?;
            let month: i8 = pieces.next().filter(|m| m.len() == 2)?.parse().ok()?;
            let part = part(pieces.next())?;
            if pieces.next().is_some() || !(1..=12).contains(&month) || year < 1970 {
                return None;
            }
            SitemapPart::Items { year, month, part }
        }
        _ => return None,
    })
}

pub fn feed_url(
    config: &Config,
    language: &str,
    subject: &FeedSubject,
    format: FeedFormat,
) -> String {
    let prefix = config.language_prefix(language);
    let ext = format.extension();
    match subject {
        FeedSubject::All => format!("{prefix}/feeds/all.{ext}"),
        FeedSubject::Briefs => format!("{prefix}/feeds/briefs.{ext}"),
        FeedSubject::Section(s) => format!("{prefix}/feeds/section/{s}.{ext}"),
        FeedSubject::Tag(s) => format!("{prefix}/feeds/tag/{s}.{ext}"),
        FeedSubject::Author(s) => format!("{prefix}/feeds/author/{s}.{ext}"),
    }
}

pub fn sitemap_url(part: &SitemapPart) -> String {
    match part {
        SitemapPart::Index => "/sitemap.xml".into(),
        SitemapPart::News => "/news-sitemap.xml".into(),
        SitemapPart::Sections => "/sitemap-sections.xml".into(),
        SitemapPart::Tags { part } if *part <= 1 => "/sitemap-tags.xml".into(),
        SitemapPart::Tags { part } => format!("/sitemap-tags-{part}.xml"),
        SitemapPart::Authors { part } if *part <= 1 => "/sitemap-authors.xml".into(),
        SitemapPart::Authors { part } => format!("/sitemap-authors-{part}.xml"),
        SitemapPart::Items { year, month, part } if *part <= 1 => {
            format!("/sitemap-items-{year:04}-{month:02}.xml")
        }
        SitemapPart::Items { year, month, part } => {
            format!("/sitemap-items-{year:04}-{month:02}-{part}.xml")
        }
    }
}

fn is_section(sections: &Sections, slug: &str) -> bool {
    !RESERVED_PATHS.contains(&slug) && sections.contains(slug)
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
        SitePage::Feed { subject, format } => feed_url(config, lang, subject, *format),
        SitePage::Sitemap(part) => sitemap_url(part),
        SitePage::Robots => "/robots.txt".into(),
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

    /// Parses against the file's sections, as a new site has them.
    fn parse(config: &Config, path: &str) -> Parsed {
        super::parse(config, &config.seed_sections(), path)
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
    fn feeds_and_sitemaps_parse_and_print_alike() {
        let c = demo();
        for path in [
            "/feeds/all.rss",
            "/ru/feeds/briefs.atom",
            "/feeds/section/world.json",
            "/tr/feeds/tag/storms.rss",
            "/feeds/author/amina-rahimova.atom",
            "/sitemap.xml",
            "/news-sitemap.xml",
            "/sitemap-items-2026-11.xml",
            "/sitemap-items-2026-11-2.xml",
            "/sitemap-sections.xml",
            "/sitemap-tags.xml",
            "/sitemap-tags-3.xml",
            "/sitemap-authors.xml",
            "/sitemap-authors-2.xml",
            "/robots.txt",
        ] {
            match parse(&c, path) {
                Parsed::Page(route) => assert_eq!(route_url(&c, &route), path),
                other => panic!("{path}: {other:?}"),
            }
        }
        for path in [
            "/feeds/all.xml",
            "/feeds/section/weather.rss",
            "/feeds/.rss",
            "/sitemap-items-2026-13.xml",
            "/sitemap-items-2026-11-1.xml",
            "/sitemap-items-2026-11-02.xml",
            "/sitemap-items-1969-12.xml",
            "/sitemap-items-2026-11.xml.gz",
            "/sitemap-sections-2.xml",
            "/sitemap-tags-1.xml",
            "/sitemap-.xml",
            "/sitemap-news.xml",
            "/ru/sitemap.xml",
            "/ru/sitemap-sections.xml",
            "/sitemaps/nothing.xml",
            "/sitemaps/items-2026-13.xml",
        ] {
            assert_eq!(parse(&c, path), Parsed::NotFound, "{path}");
        }
    }

    #[test]
    fn the_old_sitemap_addresses_move_to_the_root() {
        let c = demo();
        for (old, new) in [
            ("/sitemaps/sections.xml", "/sitemap-sections.xml"),
            ("/sitemaps/tags.xml", "/sitemap-tags.xml"),
            ("/sitemaps/tags-2.xml", "/sitemap-tags-2.xml"),
            ("/sitemaps/authors.xml", "/sitemap-authors.xml"),
            ("/sitemaps/authors-4.xml", "/sitemap-authors-4.xml"),
            ("/sitemaps/items-2026-11.xml", "/sitemap-items-2026-11.xml"),
            (
                "/sitemaps/items-2026-11-2.xml",
                "/sitemap-items-2026-11-2.xml",
            ),
        ] {
            assert_eq!(parse(&c, old), Parsed::Redirect(new.into()), "{old}");
        }
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
