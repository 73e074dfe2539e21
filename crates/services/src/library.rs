//! The media library: every uploaded image once, with the alt text, caption and credit it
//! was uploaded with, so writers find and reuse an image instead of uploading it again. An
//! upload from the editor enters the library too; picking an image from it fills the
//! editor's hero fields.

use jiff::Timestamp;
use newsdesk_core::Error;
use newsdesk_core::item::{ALT_MAX, CAPTION_MAX, CREDIT_MAX};
use newsdesk_store::LibraryImage;

use crate::error::{Result, ServiceError};
use crate::newsroom::Newsroom;

/// Images per page of the library.
pub const LIBRARY_PAGE_SIZE: u32 = 24;

/// The words that go with an image.
#[derive(Debug, Clone, Default)]
pub struct ImageWords {
    pub alt: String,
    pub caption: String,
    pub credit: String,
}

impl ImageWords {
    /// Trimmed and bounded; the library's own form needs alt text, the editor checks it
    /// when the item is saved.
    pub fn validate(&self, alt_required: bool) -> Result<ImageWords, Error> {
        let words = ImageWords {
            alt: self.alt.trim().to_owned(),
            caption: self.caption.trim().to_owned(),
            credit: self.credit.trim().to_owned(),
        };
        if alt_required && words.alt.is_empty() {
            return Err(Error::Required { field: "alt" });
        }
        for (field, value, max) in [
            ("alt", &words.alt, ALT_MAX),
            ("caption", &words.caption, CAPTION_MAX),
            ("credit", &words.credit, CREDIT_MAX),
        ] {
            if value.chars().count() > max {
                return Err(Error::TooLong { field, max });
            }
            let multiline = field == "caption";
            if value
                .chars()
                .any(|c| c.is_control() && !(multiline && matches!(c, '\n' | '\r' | '\t')))
            {
                return Err(Error::invalid(field, "must be a single line of text"));
            }
        }
        Ok(words)
    }
}

impl Newsroom {
    /// Checks, converts and stores an image and enters it in the library. The same image
    /// uploaded again is stored once and keeps its first words.
    pub async fn upload_to_library(
        &self,
        bytes: Vec<u8>,
        words: &ImageWords,
        alt_required: bool,
        actor: &str,
        now: Timestamp,
    ) -> Result<LibraryImage> {
        let words = words.validate(alt_required)?;
        let stored = self.upload_image(bytes, now).await?;
        self.store()
            .add_to_library(&LibraryImage {
                path: stored.path.clone(),
                width: stored.width,
                height: stored.height,
                alt: words.alt,
                caption: words.caption,
                credit: words.credit,
                uploaded_by: actor.to_owned(),
                created_at: now,
            })
            .await?;
        self.library_image(&stored.path).await
    }

    /// One page (from 1) of the library, newest first, with the total matching `words`.
    pub async fn library(
        &self,
        words: Option<&str>,
        page: u32,
    ) -> Result<(Vec<LibraryImage>, u64)> {
        let offset = page
            .max(1)
            .saturating_sub(1)
            .saturating_mul(LIBRARY_PAGE_SIZE);
        Ok(self
            .store()
            .library(
                words.filter(|w| !w.trim().is_empty()),
                LIBRARY_PAGE_SIZE,
                offset,
            )
            .await?)
    }

    /// An image picked from the library, or why it cannot be.
    pub async fn library_image(&self, path: &str) -> Result<LibraryImage> {
        self.store().library_image(path).await?.ok_or_else(|| {
            ServiceError::Invalid(Error::invalid(
                "hero",
                "the chosen image is not in the media library",
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_bounded_at_their_limits_and_alt_text_is_required_when_asked() {
        let at = |n: usize| ImageWords {
            alt: "a".repeat(n),
            ..Default::default()
        };
        assert!(at(ALT_MAX).validate(true).is_ok());
        assert_eq!(
            at(ALT_MAX + 1).validate(true).err(),
            Some(Error::TooLong {
                field: "alt",
                max: ALT_MAX
            })
        );
        assert_eq!(
            at(0).validate(true).err(),
            Some(Error::Required { field: "alt" })
        );
        assert!(at(0).validate(false).is_ok());
        let newline = ImageWords {
            alt: "x".into(),
            credit: "one\ntwo".into(),
            ..Default::default()
        };
        assert_eq!(
            newline.validate(true).err().and_then(|e| e.field()),
            Some("credit")
        );
    }
}
