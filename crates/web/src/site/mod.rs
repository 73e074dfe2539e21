//! The site: what readers see. Item, section, tag, author and home pages (`page`, with their
//! `<head>` in `meta` and the error page in `error_page`), the discussion under a story
//! (`comments`), readers' accounts, search, feeds, sitemaps, the structured data search
//! engines read, and the WebSub pings that tell feed readers to fetch.

pub(crate) mod account;
pub(crate) mod comments;
pub(crate) mod error_page;
pub(crate) mod feeds;
pub(crate) mod meta;
pub(crate) mod page;
pub(crate) mod search;
pub(crate) mod sitemaps;
pub(crate) mod structured;
pub(crate) mod websub;
