//! Sections, tags and authors as editors manage them in the desk: the rules a section's
//! address obeys (shared with the configuration file that seeds a new site's sections) and
//! the limits on names and biographies.

use std::collections::BTreeMap;

use crate::config::{RESERVED_PATHS, Section};
use crate::error::Error;
use crate::item::{Author, LABEL_MAX, check_len, check_single_line};
use crate::{lang, text};

/// Longest section slug: it is the first segment of every address in the section.
pub const SECTION_SLUG_MAX: usize = 40;
/// Longest author biography shown on the author's page.
pub const BIO_MAX: usize = 2000;

/// Why `slug` cannot be a section's address on a site with these languages, if it cannot.
pub fn section_slug_problem(slug: &str, languages: &[String]) -> Option<String> {
    if !text::is_slug(slug) {
        return Some(format!(
            "`{slug}` is not a slug (lowercase letters, digits, hyphens)"
        ));
    }
    if slug.len() > SECTION_SLUG_MAX {
        return Some(format!("is longer than {SECTION_SLUG_MAX} characters"));
    }
    if RESERVED_PATHS.contains(&slug) {
        return Some(format!("`{slug}` is a path the site uses itself"));
    }
    if languages.iter().any(|l| lang::url_segment(l) == slug) {
        return Some(format!("`{slug}` is also a language's path"));
    }
    None
}

/// A section as an editor writes it in the desk.
#[derive(Debug, Clone, Default)]
pub struct SectionInput {
    pub slug: String,
    pub name: String,
    /// The name in the site's other languages; blank ones are dropped.
    pub names: BTreeMap<String, String>,
}

impl SectionInput {
    pub fn validate(&self, languages: &[String]) -> Result<Section, Error> {
        let slug = self.slug.trim().to_owned();
        if slug.is_empty() {
            return Err(Error::Required { field: "slug" });
        }
        if let Some(reason) = section_slug_problem(&slug, languages) {
            return Err(Error::invalid("slug", reason));
        }
        let name = self.name.trim().to_owned();
        if name.is_empty() {
            return Err(Error::Required { field: "name" });
        }
        check_single_line("name", &name, LABEL_MAX)?;
        let mut names = BTreeMap::new();
        for (language, translated) in &self.names {
            let translated = translated.trim();
            if translated.is_empty() {
                continue;
            }
            if !languages.contains(language) {
                return Err(Error::UnknownLanguage(language.clone()));
            }
            check_single_line("names", translated, LABEL_MAX)?;
            names.insert(language.clone(), translated.to_owned());
        }
        Ok(Section { slug, name, names })
    }
}

/// A tag's new display name; its slug (and so its address) stays.
pub fn validate_tag_name(name: &str) -> Result<String, Error> {
    let name = name.trim();
    if name.is_empty() {
        return Err(Error::Required { field: "name" });
    }
    check_single_line("name", name, LABEL_MAX)?;
    Ok(name.to_owned())
}

/// An author as an editor writes them in the desk. A blank slug is made from the name.
#[derive(Debug, Clone, Default)]
pub struct AuthorInput {
    pub slug: String,
    pub name: String,
    pub bio: String,
}

impl AuthorInput {
    pub fn validate(&self) -> Result<Author, Error> {
        let name = self.name.trim().to_owned();
        if name.is_empty() {
            return Err(Error::Required { field: "name" });
        }
        check_single_line("name", &name, LABEL_MAX)?;
        let slug = match self.slug.trim() {
            "" => text::slugify(&name),
            given => given.to_owned(),
        };
        if !text::is_slug(&slug) {
            return Err(Error::invalid(
                "slug",
                format!("`{slug}` is not a slug (lowercase letters, digits, hyphens)"),
            ));
        }
        check_len("slug", &slug, crate::item::SLUG_MAX)?;
        let bio = self.bio.trim().to_owned();
        check_len("bio", &bio, BIO_MAX)?;
        Ok(Author { slug, name, bio })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn languages() -> Vec<String> {
        vec!["en".into(), "ru".into()]
    }

    #[test]
    fn a_section_may_not_take_a_reserved_or_language_path() {
        for slug in ["desk", "ru", "Not A Slug", "a--b"] {
            let input = SectionInput {
                slug: slug.into(),
                name: "X".into(),
                ..Default::default()
            };
            let err = input.validate(&languages()).expect_err(slug);
            assert_eq!(err.field(), Some("slug"), "{slug}: {err}");
        }
    }

    #[test]
    fn section_slug_and_name_limits_hold_at_their_edge() {
        let at = |n: usize| SectionInput {
            slug: "a".repeat(n),
            name: "N".repeat(n.min(LABEL_MAX)),
            ..Default::default()
        };
        assert!(at(SECTION_SLUG_MAX).validate(&languages()).is_ok());
        assert!(at(SECTION_SLUG_MAX + 1).validate(&languages()).is_err());
        let long_name = SectionInput {
            slug: "ok".into(),
            name: "N".repeat(LABEL_MAX + 1),
            ..Default::default()
        };
        assert_eq!(
            long_name.validate(&languages()).expect_err("long").field(),
            Some("name")
        );
    }

    #[test]
    fn translated_names_must_be_in_a_site_language_and_blank_ones_are_dropped() {
        let mut names = BTreeMap::new();
        names.insert("ru".to_owned(), "Мир".to_owned());
        names.insert("en".to_owned(), "  ".to_owned());
        let section = SectionInput {
            slug: "world".into(),
            name: "World".into(),
            names: names.clone(),
        }
        .validate(&languages())
        .expect("valid");
        assert_eq!(section.names.len(), 1);
        names.insert("de".to_owned(), "Welt".to_owned());
        let err = SectionInput {
            slug: "world".into(),
            name: "World".into(),
            names,
        }
        .validate(&languages())
        .expect_err("unknown language");
        assert_eq!(err, Error::UnknownLanguage("de".into()));
    }

    #[test]
    fn an_author_gets_a_slug_from_the_name_and_a_bounded_bio() {
        let author = AuthorInput {
            name: "Ayşe Kaya".into(),
            ..Default::default()
        }
        .validate()
        .expect("valid");
        assert_eq!(author.slug, "ayse-kaya");
        let err = AuthorInput {
            name: "A".into(),
            bio: "b".repeat(BIO_MAX + 1),
            ..Default::default()
        }
        .validate()
        .expect_err("long bio");
        assert_eq!(err.field(), Some("bio"));
    }
}

/// A tag or an author with the number of items (any status) that carry it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Usage<T> {
    pub label: T,
    pub items: u64,
}
