//! The newsroom's domain: items (stories and briefs), their people and labels, the rules a
//! valid item obeys, the moderation of readers' comments, the text transformations readers
//! see, and the site's configuration.
//! Nothing here performs I/O or knows about HTTP or SQL.

pub mod account;
pub mod blocks;
pub mod comment;
pub mod config;
pub mod error;
pub mod event;
pub mod item;
pub mod labels;
pub mod lang;
pub mod library;
pub mod moderation;
pub mod network;
pub mod outbound;
pub mod reader;
pub mod sections;
pub mod text;
pub mod webhook;
pub mod workflow;

pub use account::{Account, AccountInput, Action, Role, TokenKind};
pub use config::{CommentRules, Config};
pub use error::Error;
pub use event::{Event, EventKind};
pub use item::{
    Author, HeroImage, Item, ItemInput, ItemKind, ItemStatus, Note, NoteKind, PublicationTimes,
    Source, Tag, ValidItem,
};
pub use moderation::{HoldReason, Refusal, Verdict};
pub use sections::Sections;
