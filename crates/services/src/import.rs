//! Imports: a TOML or JSON file of authors and items, saved through the newsroom so every
//! rule and every event applies as if a person had written them. An item with the same
//! language and slug as a stored one replaces it (a new version, an `item_updated` event).

use std::path::Path;

use jiff::Timestamp;
use newsdesk_core::{Author, ItemInput};
use serde::Deserialize;

use crate::error::{ImportProblem, Result, ServiceError};
use crate::newsroom::Newsroom;

/// Largest import file read; bigger archives should be split.
pub const IMPORT_MAX_BYTES: u64 = 64 * 1024 * 1024;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportFile {
    #[serde(default)]
    pub authors: Vec<Author>,
    #[serde(default)]
    pub items: Vec<ItemInput>,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImportReport {
    pub authors: usize,
    pub created: usize,
    pub updated: usize,
}

impl ImportFile {
    /// Reads a file by its extension (`.json`, otherwise TOML). Errors name the place in
    /// the file, such as `items[3].headline`.
    pub fn read(path: &Path) -> Result<Self> {
        let size = std::fs::metadata(path)?.len();
        if size > IMPORT_MAX_BYTES {
            return Err(ServiceError::BadImport(ImportProblem::TooLarge {
                path: path.to_path_buf(),
                size,
                max: IMPORT_MAX_BYTES,
            }));
        }
        let text = std::fs::read_to_string(path)?;
        let is_json = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"));
        Self::parse(&text, is_json)
    }

    pub fn parse(text: &str, is_json: bool) -> Result<Self> {
        if is_json {
            let mut de = serde_json::Deserializer::from_str(text);
            serde_path_to_error::deserialize(&mut de).map_err(|e| {
                ServiceError::BadImport(ImportProblem::Json {
                    at: e.path().clone(),
                    error: e.into_inner(),
                })
            })
        } else {
            let de = toml::Deserializer::parse(text)
                .map_err(|e| ServiceError::BadImport(ImportProblem::Syntax(e)))?;
            serde_path_to_error::deserialize(de).map_err(|e| {
                ServiceError::BadImport(ImportProblem::Toml {
                    at: e.path().clone(),
                    error: e.into_inner(),
                })
            })
        }
    }
}

impl Newsroom {
    /// Saves every author, then every item in file order. Each item is its own transaction:
    /// a bad item stops the import with its position named, and the items before it stay.
    pub async fn import(&self, file: &ImportFile, actor: &str) -> Result<ImportReport> {
        let mut report = ImportReport::default();
        for author in &file.authors {
            self.upsert_author(author).await?;
            report.authors += 1;
        }
        for (index, input) in file.items.iter().enumerate() {
            let saved = self
                .save_by_slug(input, None, actor, Timestamp::now())
                .await
                .map_err(|e| match e {
                    ServiceError::Invalid(error) => ServiceError::BadImport(ImportProblem::Item {
                        index,
                        field: error.field().unwrap_or("item"),
                        error,
                    }),
                    other => other,
                })?;
            if saved.item.version == 1 {
                report.created += 1;
            } else {
                report.updated += 1;
            }
        }
        Ok(report)
    }
}
