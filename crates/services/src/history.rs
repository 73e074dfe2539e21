//! An item's history: every saved version, one version read back from its revision, two
//! versions compared (short fields side by side, the body line by line), what others saved
//! since a writer opened the form, and a past version brought back as a new one.

use jiff::Timestamp;
use newsdesk_core::item::Revision;
use newsdesk_core::{Account, Item, ItemInput, ItemStatus};
use serde::{Deserialize, Serialize};

use crate::Saved;
use crate::editing::DeskAction;
use crate::error::{Missing, Result, ServiceError};
use crate::newsroom::Newsroom;

/// A short field whose value differs between two versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldChange {
    /// The field's name as the desk labels it ("Headline", "Tags", …).
    pub field: &'static str,
    pub before: String,
    pub after: String,
}

/// What happened to a line of the body between two versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LineChange {
    Same,
    Removed,
    Added,
}

/// One line of the body's comparison, without its line break.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiffLine {
    pub change: LineChange,
    pub text: String,
}

/// What changed between two versions: the short fields that differ, and the body line by line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Comparison {
    pub changes: Vec<FieldChange>,
    pub lines: Vec<DiffLine>,
}

/// Two versions of one item compared, for the desk's comparison page.
#[derive(Debug, Clone, Serialize)]
pub struct VersionsCompared {
    /// The headline the item has now.
    pub headline: String,
    pub from: i64,
    pub to: i64,
    pub current_version: i64,
    #[serde(flatten)]
    pub comparison: Comparison,
}

/// What was saved to an item after the version a writer's form was opened at, for a writer
/// whose save was refused as a conflict. Only the body lines that were removed or added.
#[derive(Debug, Clone, Serialize)]
pub struct ChangesSince {
    pub base: i64,
    pub current: i64,
    #[serde(flatten)]
    pub comparison: Comparison,
}

/// Compares two versions of an item: the short fields side by side, the body line by line.
pub fn compare_items(before: &Item, after: &Item) -> Comparison {
    let join = |v: Vec<String>| v.join(", ");
    let fields: [(&'static str, String, String); 9] = [
        (
            "Headline",
            before.headline.clone().unwrap_or_default(),
            after.headline.clone().unwrap_or_default(),
        ),
        (
            "Standfirst",
            before.standfirst.clone().unwrap_or_default(),
            after.standfirst.clone().unwrap_or_default(),
        ),
        ("Section", before.section.clone(), after.section.clone()),
        ("Slug", before.slug.clone(), after.slug.clone()),
        (
            "Status",
            before.status.as_str().into(),
            after.status.as_str().into(),
        ),
        (
            "Tags",
            join(before.tags.iter().map(|t| t.name.clone()).collect()),
            join(after.tags.iter().map(|t| t.name.clone()).collect()),
        ),
        (
            "Authors",
            join(before.authors.iter().map(|x| x.name.clone()).collect()),
            join(after.authors.iter().map(|x| x.name.clone()).collect()),
        ),
        (
            "Sources",
            join(before.sources.iter().map(|s| s.name.clone()).collect()),
            join(after.sources.iter().map(|s| s.name.clone()).collect()),
        ),
        (
            "Breaking",
            before.breaking.to_string(),
            after.breaking.to_string(),
        ),
    ];
    let changes = fields
        .into_iter()
        .filter(|(_, before, after)| before != after)
        .map(|(field, before, after)| FieldChange {
            field,
            before,
            after,
        })
        .collect();
    Comparison {
        changes,
        lines: diff_lines(&before.body_markdown, &after.body_markdown),
    }
}

/// Every line of two texts, each marked as kept, removed or added.
fn diff_lines(before: &str, after: &str) -> Vec<DiffLine> {
    similar::TextDiff::from_lines(before, after)
        .iter_all_changes()
        .map(|c| DiffLine {
            change: match c.tag() {
                similar::ChangeTag::Equal => LineChange::Same,
                similar::ChangeTag::Delete => LineChange::Removed,
                similar::ChangeTag::Insert => LineChange::Added,
            },
            text: c.value().trim_end_matches('\n').to_owned(),
        })
        .collect()
}

/// The item as a revision kept it.
fn snapshot(revision: &Revision) -> Result<Item> {
    Item::deserialize(&revision.snapshot).map_err(|e| {
        ServiceError::Io(std::io::Error::other(format!(
            "revision {}: {e}",
            revision.version
        )))
    })
}

/// The item at `version` among `revisions`, or NotFound naming the version.
fn version_among(revisions: &[Revision], item_id: i64, version: i64) -> Result<Item> {
    let revision =
        revisions
            .iter()
            .find(|r| r.version == version)
            .ok_or(ServiceError::NotFound(Missing::Version {
                item_id,
                version,
            }))?;
    snapshot(revision)
}

impl Newsroom {
    /// Every saved version of an item, oldest first.
    pub async fn revisions(&self, item_id: i64) -> Result<Vec<Revision>> {
        Ok(self.store().revisions(item_id).await?)
    }

    /// The item as it was saved at `version`, read back from its revision.
    pub async fn revision(&self, item_id: i64, version: i64) -> Result<Option<Item>> {
        let revisions = self.store().revisions(item_id).await?;
        revisions
            .iter()
            .find(|r| r.version == version)
            .map(snapshot)
            .transpose()
    }

    /// Two versions of an item `account` may see: `to` defaults to the current version and
    /// `from` to the one before it. NotFound when either version does not exist.
    pub async fn compare_versions(
        &self,
        account: &Account,
        item_id: i64,
        from: Option<i64>,
        to: Option<i64>,
    ) -> Result<VersionsCompared> {
        let current = self.item_for_staff(account, item_id).await?;
        let to = to.unwrap_or(current.version);
        let from = from.unwrap_or((to - 1).max(1));
        let revisions = self.store().revisions(item_id).await?;
        let before = version_among(&revisions, item_id, from)?;
        let after = version_among(&revisions, item_id, to)?;
        Ok(VersionsCompared {
            headline: current.display_headline(),
            from,
            to,
            current_version: current.version,
            comparison: compare_items(&before, &after),
        })
    }

    /// What was saved to item `item_id` after version `base`, or None when either end is
    /// gone. For a save refused as a conflict, so it reads the item as it is now.
    pub async fn changes_since(&self, item_id: i64, base: i64) -> Result<Option<ChangesSince>> {
        let (Some(before), Some(now)) = (
            self.revision(item_id, base).await?,
            self.store().item_by_id(item_id).await?,
        ) else {
            return Ok(None);
        };
        let mut comparison = compare_items(&before, &now);
        comparison.lines.retain(|l| l.change != LineChange::Same);
        Ok(Some(ChangesSince {
            base,
            current: now.version,
            comparison,
        }))
    }

    /// Brings back the text of `version` as a new revision (history is never rewritten).
    /// The item keeps its status; the workflow decides whether this person may edit it.
    pub async fn restore_revision(
        &self,
        account: &Account,
        item_id: i64,
        version: i64,
        expected_version: i64,
        now: Timestamp,
    ) -> Result<Saved> {
        let opened = self.open_item(account, item_id).await?;
        let old = self
            .revision(item_id, version)
            .await?
            .ok_or(ServiceError::NotFound(Missing::Version {
                item_id,
                version,
            }))?;
        let current = opened.item();
        let input = ItemInput {
            kind: Some(old.kind),
            language: Some(old.language),
            section: Some(old.section),
            slug: Some(old.slug),
            headline: old.headline,
            standfirst: old.standfirst,
            body: old.body_markdown,
            tags: old.tags.into_iter().map(|t| t.name).collect(),
            authors: old.authors.into_iter().map(|a| a.slug).collect(),
            sources: old.sources,
            hero: old.hero,
            breaking: old.breaking,
            translation_group: old.translation_group,
            // A scheduled item keeps its slot; the others keep their own times.
            published_at: (current.status == ItemStatus::Scheduled)
                .then_some(current.published_at)
                .flatten(),
            ..ItemInput::default()
        };
        self.save_opened(
            account,
            Some(&opened),
            &input,
            Some(expected_version),
            DeskAction::Save,
            now,
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_is_compared_line_by_line_without_line_breaks() {
        let lines = diff_lines("one\ntwo\nthree\n", "one\n2\nthree\n");
        let marked: Vec<(LineChange, &str)> =
            lines.iter().map(|l| (l.change, l.text.as_str())).collect();
        assert_eq!(
            marked,
            [
                (LineChange::Same, "one"),
                (LineChange::Removed, "two"),
                (LineChange::Added, "2"),
                (LineChange::Same, "three"),
            ]
        );
        assert_eq!(
            serde_json::to_value(&lines[1]).expect("json"),
            serde_json::json!({"change": "removed", "text": "two"}),
            "the desk's templates read the change by name"
        );
    }
}
