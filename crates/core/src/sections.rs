//! The site's sections as pages use them: the list the desk keeps in the database, in the
//! site's order. The configuration file's `[[sections]]` only seed that list on a new site;
//! a reader of pages takes one `Sections` snapshot per request, as it does the settings.

use serde::Serialize;

use crate::config::Section;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Sections(Vec<Section>);

impl Sections {
    pub fn new(list: Vec<Section>) -> Self {
        Sections(list)
    }

    pub fn get(&self, slug: &str) -> Option<&Section> {
        self.0.iter().find(|s| s.slug == slug)
    }

    pub fn contains(&self, slug: &str) -> bool {
        self.get(slug).is_some()
    }

    /// A section's name in one language; its slug when the section is gone.
    pub fn name(&self, slug: &str, language: &str) -> String {
        self.get(slug)
            .map(|s| s.name_in(language).to_owned())
            .unwrap_or_else(|| slug.to_owned())
    }

    /// Where a new item is filed until the writer picks a section.
    pub fn first(&self) -> Option<&Section> {
        self.0.first()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Section> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn as_slice(&self) -> &[Section] {
        &self.0
    }
}

impl<'a> IntoIterator for &'a Sections {
    type Item = &'a Section;
    type IntoIter = std::slice::Iter<'a, Section>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(slug: &str, name: &str, ru: Option<&str>) -> Section {
        Section {
            slug: slug.into(),
            name: name.into(),
            names: ru
                .map(|n| [("ru".to_owned(), n.to_owned())].into())
                .unwrap_or_default(),
        }
    }

    #[test]
    fn a_section_is_found_by_slug_and_named_per_language() {
        let sections = Sections::new(vec![
            section("world", "World", Some("Мир")),
            section("sport", "Sport", None),
        ]);
        assert_eq!(
            sections.get("sport").map(|s| s.name.as_str()),
            Some("Sport")
        );
        assert!(!sections.contains("weather"));
        assert_eq!(sections.name("world", "ru"), "Мир");
        assert_eq!(sections.name("sport", "ru"), "Sport");
        // A section deleted since an item was filed: the slug still names it.
        assert_eq!(sections.name("weather", "en"), "weather");
        let slugs: Vec<&str> = sections.iter().map(|s| s.slug.as_str()).collect();
        assert_eq!(slugs, ["world", "sport"]);
    }
}
