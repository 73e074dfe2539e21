//! Domain services every face calls: reading the edition, writing items, importing content,
//! loading the demo edition, and following the event log. No HTTP here, and no SQL: the
//! store does the SQL, the faces do the HTTP.

pub mod accounts;
pub mod api_tokens;
pub mod autosave;
pub mod comments;
pub mod demo;
pub mod editing;
pub mod error;
pub mod follow;
pub mod history;
pub mod housekeeping;
pub mod import;
pub mod labels;
pub mod library;
pub mod mail;
pub mod newsroom;
pub mod outbound;
pub mod pages;
pub mod readers;
pub mod related;
pub mod schedule;
pub mod search;
pub mod syndication;
pub mod uploads;
pub mod webhooks;

pub use error::{Result, ServiceError};
pub use newsdesk_store::{Autosave, Saved, Store, media};
pub use newsroom::{ItemLookup, Listing, ListingPage, ListingSubject, Newsroom};
pub use pages::{Discussion, FrontPage, ItemPage, Rail};
