//! The media library in the store: uploaded images with the words that go with them.

use async_trait::async_trait;
use newsdesk_core::library::LibraryImage;

use crate::Result;

/// The media library.
#[async_trait]
pub trait LibraryStore: Send + Sync {
    /// Adds an image; one already in the library (the same bytes uploaded again) keeps its
    /// first entry and words.
    async fn add_to_library(&self, image: &LibraryImage) -> Result<()>;
    async fn library_image(&self, path: &str) -> Result<Option<LibraryImage>>;
    /// Newest first, with the total matching; `words` are found in the alt text, caption or
    /// credit without regard to case.
    async fn library(
        &self,
        words: Option<&str>,
        limit: u32,
        offset: u32,
    ) -> Result<(Vec<LibraryImage>, u64)>;
}
