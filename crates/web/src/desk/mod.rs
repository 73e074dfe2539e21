//! The desk: where the newsroom writes, reviews, schedules and publishes. Each room sits in
//! its own file; every route checks the session and the role on the server, every form
//! carries a CSRF token, and nothing here is ever cached.

pub(crate) mod comments;
pub(crate) mod editor;
mod front;
pub(crate) mod manage;
pub(crate) mod media;
pub(crate) mod tokens;
pub(crate) mod webhooks;

pub(crate) use front::*;
