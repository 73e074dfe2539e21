//! The media library's records: an uploaded image and the words that go with it by default.

use jiff::Timestamp;
use serde::Serialize;

/// An image in the media library, with the words that go with it by default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LibraryImage {
    /// Path in the media store (`uploads/2026/11/1a2b….jpg`).
    pub path: String,
    pub width: u32,
    pub height: u32,
    pub alt: String,
    pub caption: String,
    pub credit: String,
    pub uploaded_by: String,
    pub created_at: Timestamp,
}
