//! Comments as stored and shown: their states, the order a thread is read in, and the limits
//! on reports. What a comment may say, and whether it is held, is `moderation`'s.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::error::Error;

/// Longest reason a reader may give when reporting a comment.
pub const REPORT_REASON_MAX: usize = 300;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommentStatus {
    /// Shown to readers.
    Published,
    /// Waiting for a moderator; shown only to its writer.
    Held,
    /// Refused by a moderator, with a reason the writer sees.
    Rejected,
    /// Removed by its writer; kept as a marker while it has replies.
    Deleted,
}

impl CommentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CommentStatus::Published => "published",
            CommentStatus::Held => "held",
            CommentStatus::Rejected => "rejected",
            CommentStatus::Deleted => "deleted",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            CommentStatus::Published,
            CommentStatus::Held,
            CommentStatus::Rejected,
            CommentStatus::Deleted,
        ]
        .into_iter()
        .find(|c| c.as_str() == s)
    }
}

/// The order of a story's top-level comments; replies always read oldest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CommentSort {
    #[default]
    Newest,
    Oldest,
    MostLiked,
}

impl CommentSort {
    pub fn as_str(self) -> &'static str {
        match self {
            CommentSort::Newest => "newest",
            CommentSort::Oldest => "oldest",
            CommentSort::MostLiked => "liked",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            CommentSort::Newest,
            CommentSort::Oldest,
            CommentSort::MostLiked,
        ]
        .into_iter()
        .find(|c| c.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Comment {
    pub id: i64,
    pub item_id: i64,
    pub parent_id: Option<i64>,
    pub root_id: i64,
    /// None once the writer's account was deleted and the comment anonymised.
    pub reader_id: Option<i64>,
    /// The writer's display name as it is now.
    pub author: Option<String>,
    /// The writer's verified address is also a staff account's.
    pub staff: bool,
    pub body: String,
    pub status: CommentStatus,
    pub hold_reasons: String,
    pub reject_reason: String,
    pub featured: bool,
    pub likes: u32,
    pub reports: u32,
    pub created_at: Timestamp,
    pub edited_at: Option<Timestamp>,
}

/// A report's reason: one line, bounded, not empty.
pub fn validate_report_reason(reason: &str) -> Result<String, Error> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(Error::Required { field: "reason" });
    }
    if reason.chars().count() > REPORT_REASON_MAX {
        return Err(Error::TooLong {
            field: "reason",
            max: REPORT_REASON_MAX,
        });
    }
    if reason.chars().any(char::is_control) {
        return Err(Error::invalid("reason", "must be a single line"));
    }
    Ok(reason.to_owned())
}

/// A comment in the moderation queue, with what a moderator needs beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedComment {
    pub comment: Comment,
    pub item_headline: String,
    pub reader_email: Option<String>,
}

/// Which comments the moderation queue lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queue {
    /// Held by the system or by reports.
    Held,
    /// Published but reported.
    Reported,
    Rejected,
}

/// A moderator's decision on one comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Approve,
    /// With the reason the writer sees.
    Reject(String),
    Feature(bool),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_and_sorts_round_trip_through_their_names() {
        for s in ["published", "held", "rejected", "deleted"] {
            assert_eq!(CommentStatus::parse(s).map(CommentStatus::as_str), Some(s));
        }
        for s in ["newest", "oldest", "liked"] {
            assert_eq!(CommentSort::parse(s).map(CommentSort::as_str), Some(s));
        }
        assert_eq!(CommentSort::parse("random"), None);
    }

    #[test]
    fn report_reasons_are_bounded_at_their_edge() {
        assert!(validate_report_reason(&"r".repeat(REPORT_REASON_MAX)).is_ok());
        assert!(validate_report_reason(&"r".repeat(REPORT_REASON_MAX + 1)).is_err());
        assert!(validate_report_reason("  ").is_err());
    }
}
