//! The site's settings: one TOML document with environment overrides, checked once at
//! start so that a wrong value stops the server with the key's name instead of surfacing
//! later as a broken page. Reading the file is the caller's job; this module only parses.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

use crate::lang;
use crate::sections::Sections;

const DEFAULT_TOML: &str = include_str!("../config/default.toml");
const DEMO_TOML: &str = include_str!("../config/demo.toml");

/// Prefix of environment variables that override configuration keys: `NEWSDESK_SITE__NAME`
/// sets `site.name` (double underscore between levels).
pub const ENV_PREFIX: &str = "NEWSDESK_";

/// Path segments the site itself uses; a section may not take one of them.
pub const RESERVED_PATHS: &[&str] = &[
    "latest",
    "tag",
    "tags",
    "author",
    "authors",
    "search",
    "static",
    "media",
    "api",
    "desk",
    "feeds",
    "feed",
    "healthz",
    "metrics",
    "sitemap",
    "robots.txt",
    "favicon.ico",
    "live",
    "comments",
    "account",
    "sitemap.xml",
    "sitemaps",
    "news-sitemap.xml",
    "opensearch.xml",
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("config key `{key}`: {message}")]
pub struct ConfigError {
    pub key: String,
    pub message: String,
}

impl ConfigError {
    fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError {
            key: key.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub site: Site,
    #[serde(default)]
    pub apps: Apps,
    /// Seeds a new site's sections; after that the database's list is the one pages use.
    pub sections: Vec<Section>,
    #[serde(default)]
    pub theme: Theme,
    #[serde(default)]
    pub cache: CacheSettings,
    #[serde(default)]
    pub pages: Pages,
    #[serde(default)]
    pub database: Database,
    #[serde(default)]
    pub media: Media,
    #[serde(default)]
    pub mail: Mail,
    #[serde(default)]
    pub comments: CommentRules,
    #[serde(default)]
    pub syndication: Syndication,
    #[serde(default)]
    pub live: Live,
    #[serde(default)]
    pub housekeeping: Housekeeping,
    #[serde(default)]
    pub webhooks: Webhooks,
    #[serde(default)]
    pub api: Api,
    #[serde(default)]
    pub accounts: Accounts,
    #[serde(default)]
    pub server: Server,
    #[serde(default)]
    pub metrics: MetricsAccess,
    #[serde(default)]
    pub outbound: Outbound,
}

/// Requests the server makes on its own (webhooks, WebSub pings): by default they reach only
/// public addresses, so an admin's URL cannot read the database port or a cloud's metadata.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Outbound {
    /// Hosts, addresses or networks inside the network that may be reached anyway, each
    /// optionally with one port: `["127.0.0.1:8125", "hooks.internal.example", "10.1.0.0/16"]`.
    pub allow: Vec<String>,
}

impl Outbound {
    /// The allow list, read; `validate` has made sure every entry reads.
    pub fn entries(&self) -> Vec<crate::outbound::AllowEntry> {
        self.allow
            .iter()
            .filter_map(|raw| crate::outbound::AllowEntry::parse(raw).ok())
            .collect()
    }

    fn validate(&self) -> Result<(), ConfigError> {
        for (i, raw) in self.allow.iter().enumerate() {
            crate::outbound::AllowEntry::parse(raw)
                .map_err(|why| ConfigError::new(format!("outbound.allow[{i}]"), why))?;
        }
        Ok(())
    }
}

/// Limits on signing in, signing up and password resets: what a stranger can make the site
/// do (argon2, mail) before being told to wait.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Accounts {
    /// Failed sign-ins for one account from one address within 15 minutes.
    pub sign_in_failures_per_account_and_address: u32,
    /// Failed sign-ins from one address within 15 minutes, whatever the account. Attempts
    /// still being checked count too, so this also bounds sign-ins at once from one address.
    pub sign_in_failures_per_address: u32,
    /// Failed sign-ins for one account from all addresses together within 15 minutes.
    pub sign_in_failures_per_account: u32,
    /// Sign-ups and password-reset requests one address may make within an hour.
    pub requests_per_address_per_hour: u32,
    /// Sign-up and reset mails one mailbox may be sent within an hour, whoever asks.
    pub mail_per_mailbox_per_hour: u32,
    /// Passwords hashed or checked at once in this process (argon2id, 19 MiB each); more
    /// wait up to `hashing_wait_seconds`, then get 503.
    pub hashing_at_once: u32,
    pub hashing_wait_seconds: u32,
}

impl Default for Accounts {
    fn default() -> Self {
        Accounts {
            sign_in_failures_per_account_and_address: 5,
            sign_in_failures_per_address: 20,
            sign_in_failures_per_account: 50,
            requests_per_address_per_hour: 10,
            mail_per_mailbox_per_hour: 3,
            hashing_at_once: 4,
            hashing_wait_seconds: 10,
        }
    }
}

impl Accounts {
    fn validate(&self) -> Result<(), ConfigError> {
        for (key, value, max) in [
            (
                "accounts.sign_in_failures_per_account_and_address",
                self.sign_in_failures_per_account_and_address,
                10_000,
            ),
            (
                "accounts.sign_in_failures_per_address",
                self.sign_in_failures_per_address,
                100_000,
            ),
            (
                "accounts.sign_in_failures_per_account",
                self.sign_in_failures_per_account,
                100_000,
            ),
            (
                "accounts.requests_per_address_per_hour",
                self.requests_per_address_per_hour,
                100_000,
            ),
            (
                "accounts.mail_per_mailbox_per_hour",
                self.mail_per_mailbox_per_hour,
                1000,
            ),
            ("accounts.hashing_at_once", self.hashing_at_once, 256),
            (
                "accounts.hashing_wait_seconds",
                self.hashing_wait_seconds,
                60,
            ),
        ] {
            if !(1..=max).contains(&value) {
                return Err(ConfigError::new(
                    key,
                    format!("must be between 1 and {max}"),
                ));
            }
        }
        Ok(())
    }
}

/// The periodic pruning of what has expired or served its time (sessions, one-time tokens,
/// revoked API tokens, old autosaves, delivered webhooks): how often, and how long to keep.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Housekeeping {
    /// Seconds between runs; one instance runs each (claimed in the database).
    pub interval_seconds: u64,
    /// Autosave slots not written for this many days are deleted.
    pub autosave_retention_days: u32,
    /// Delivered webhook deliveries (with their attempts) are deleted after this many days;
    /// failed ones stay for an admin to replay.
    pub webhook_delivery_retention_days: u32,
    /// Revoked API tokens stay listed this many days after revocation (the audit log keeps
    /// their story after that).
    pub revoked_token_retention_days: u32,
}

impl Default for Housekeeping {
    fn default() -> Self {
        Housekeeping {
            interval_seconds: 3600,
            autosave_retention_days: 30,
            webhook_delivery_retention_days: 30,
            revoked_token_retention_days: 90,
        }
    }
}

/// Longest housekeeping interval: a week, so expired rows never pile up for long.
pub const HOUSEKEEPING_INTERVAL_MAX: u64 = 7 * 24 * 3600;
/// Longest retention: ten years.
pub const RETENTION_DAYS_MAX: u32 = 3650;

impl Housekeeping {
    fn validate(&self) -> Result<(), ConfigError> {
        if !(1..=HOUSEKEEPING_INTERVAL_MAX).contains(&self.interval_seconds) {
            return Err(ConfigError::new(
                "housekeeping.interval_seconds",
                format!("must be between 1 and {HOUSEKEEPING_INTERVAL_MAX}"),
            ));
        }
        for (key, days) in [
            (
                "housekeeping.autosave_retention_days",
                self.autosave_retention_days,
            ),
            (
                "housekeeping.webhook_delivery_retention_days",
                self.webhook_delivery_retention_days,
            ),
            (
                "housekeeping.revoked_token_retention_days",
                self.revoked_token_retention_days,
            ),
        ] {
            if !(1..=RETENTION_DAYS_MAX).contains(&days) {
                return Err(ConfigError::new(
                    key,
                    format!("must be between 1 and {RETENTION_DAYS_MAX} days"),
                ));
            }
        }
        Ok(())
    }
}

/// The HTTP server itself: which proxies in front of it are believed, and transport security.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Server {
    /// Proxies (addresses or CIDR blocks) whose `X-Forwarded-For`, `Forwarded` and
    /// `X-Forwarded-Proto` are believed. Empty: no one's are, and the peer is the client.
    pub trusted_proxies: Vec<crate::network::IpRange>,
    /// `Strict-Transport-Security: max-age` sent by an https site, in seconds; 0 sends none.
    pub hsts_max_age_seconds: u32,
    /// How long a client may take to send a request's headers; also how long an idle
    /// keep-alive connection waits for its next request (the clock starts when the server
    /// starts waiting for a request).
    pub header_read_timeout_seconds: u32,
    /// How long a request body may go without sending anything.
    pub body_read_timeout_seconds: u32,
    /// Connections one address may hold open at once (trusted proxies are not counted);
    /// 0: no cap.
    pub max_connections_per_address: u32,
    /// At shutdown, how long requests in flight may take before the process exits anyway.
    pub shutdown_grace_seconds: u32,
}

/// Longest of the server's timeouts: beyond an hour a timeout protects nothing.
pub const SERVER_TIMEOUT_MAX: u32 = 3600;

impl Server {
    fn validate(&self) -> Result<(), ConfigError> {
        for (key, value) in [
            (
                "server.header_read_timeout_seconds",
                self.header_read_timeout_seconds,
            ),
            (
                "server.body_read_timeout_seconds",
                self.body_read_timeout_seconds,
            ),
            ("server.shutdown_grace_seconds", self.shutdown_grace_seconds),
        ] {
            if !(1..=SERVER_TIMEOUT_MAX).contains(&value) {
                return Err(ConfigError::new(
                    key,
                    format!("must be between 1 and {SERVER_TIMEOUT_MAX} seconds"),
                ));
            }
        }
        Ok(())
    }
}

impl Default for Server {
    fn default() -> Self {
        Server {
            trusted_proxies: Vec::new(),
            hsts_max_age_seconds: 31_536_000,
            header_read_timeout_seconds: 10,
            body_read_timeout_seconds: 30,
            max_connections_per_address: 256,
            shutdown_grace_seconds: 10,
        }
    }
}

/// Who may read `/metrics`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsAccess {
    /// When set, `/metrics` answers anyone who sends `Authorization: Bearer <token>`, and no
    /// one else. Unset: only a client on this machine that did not come through a proxy.
    pub token: Option<String>,
}

/// Shortest `metrics.token`: a guessable one would be no lock at all.
pub const METRICS_TOKEN_MIN: usize = 16;

/// The live stream of published items (`/api/v1/live`, Server-Sent Events).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Live {
    /// Streams one instance keeps open at once; beyond it a new one is refused with 503 and
    /// `Retry-After`, so a crowd of clients cannot exhaust the process.
    pub max_subscribers: usize,
    /// How far back (in events of the log) a reconnecting client may resume; one further
    /// behind is told to reload (`event: reset`) instead of replaying a long history.
    pub max_resume_events: u32,
    /// Streams one client address may hold open at once; beyond it a new one is refused
    /// with 429 and `Retry-After`, so one address cannot take every slot.
    pub max_per_address: usize,
    /// Reconnecting streams that may replay the log at once; the others wait their turn, so
    /// a crowd reconnecting after a deploy reads the database a few at a time.
    pub max_concurrent_replays: usize,
}

impl Default for Live {
    fn default() -> Self {
        Live {
            max_subscribers: 10_000,
            max_resume_events: 1_000,
            max_per_address: 50,
            max_concurrent_replays: 8,
        }
    }
}

/// Highest `live.max_subscribers`: each stream holds a socket, and the kernel's file limit
/// comes first.
pub const LIVE_SUBSCRIBERS_MAX: usize = 1_000_000;
/// Highest `live.max_resume_events`: a replay reads the log, and a million rows is a page reload.
pub const LIVE_RESUME_MAX: u32 = 1_000_000;

impl Live {
    fn validate(&self) -> Result<(), ConfigError> {
        if !(1..=LIVE_SUBSCRIBERS_MAX).contains(&self.max_subscribers) {
            return Err(ConfigError::new(
                "live.max_subscribers",
                format!("must be between 1 and {LIVE_SUBSCRIBERS_MAX}"),
            ));
        }
        if !(1..=LIVE_RESUME_MAX).contains(&self.max_resume_events) {
            return Err(ConfigError::new(
                "live.max_resume_events",
                format!("must be between 1 and {LIVE_RESUME_MAX}"),
            ));
        }
        for (key, value) in [
            ("live.max_per_address", self.max_per_address),
            ("live.max_concurrent_replays", self.max_concurrent_replays),
        ] {
            if !(1..=LIVE_SUBSCRIBERS_MAX).contains(&value) {
                return Err(ConfigError::new(
                    key,
                    format!("must be between 1 and {LIVE_SUBSCRIBERS_MAX}"),
                ));
            }
        }
        Ok(())
    }
}

/// Delivering webhooks: how failed deliveries are retried and how many run at once.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Webhooks {
    /// The wait after a delivery's first failure, doubled after each further one (up to an
    /// hour between tries).
    pub retry_first_seconds: u32,
    /// A delivery still failing this long after its first try is marked failed.
    pub give_up_after_hours: u32,
    /// Deliveries one instance sends at once.
    pub concurrency: u32,
    /// How long one try may take, answer included.
    pub timeout_seconds: u32,
}

impl Default for Webhooks {
    fn default() -> Self {
        Webhooks {
            retry_first_seconds: 30,
            give_up_after_hours: 24,
            concurrency: 4,
            timeout_seconds: 10,
        }
    }
}

impl Webhooks {
    fn validate(&self) -> Result<(), ConfigError> {
        for (key, value, max) in [
            (
                "webhooks.retry_first_seconds",
                self.retry_first_seconds,
                3600,
            ),
            (
                "webhooks.give_up_after_hours",
                self.give_up_after_hours,
                168,
            ),
            ("webhooks.concurrency", self.concurrency, 64),
            ("webhooks.timeout_seconds", self.timeout_seconds, 60),
        ] {
            if !(1..=max).contains(&value) {
                return Err(ConfigError::new(
                    key,
                    format!("must be between 1 and {max}"),
                ));
            }
        }
        Ok(())
    }

    /// The retry rule these settings give.
    pub fn retry_policy(&self) -> crate::webhook::RetryPolicy {
        crate::webhook::RetryPolicy {
            first: jiff::SignedDuration::from_secs(i64::from(self.retry_first_seconds)),
            give_up_after: jiff::SignedDuration::from_hours(i64::from(self.give_up_after_hours)),
        }
    }
}

/// The JSON API under `/api/v1` for the outlet's apps and partners.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Api {
    /// Web origins allowed to call the API from a browser (`https://widgets.example.org`), or
    /// `["*"]` for any. Empty: none (the apps are not browsers and need no CORS).
    pub cors_origins: Vec<String>,
    /// Reading needs a read key or any other token: for outlets that license their API.
    pub require_key: bool,
    /// Requests a minute one address may make without a token.
    pub per_address_per_minute: u32,
    /// Requests a minute one token (or one signed-in reader) may make.
    pub per_token_per_minute: u32,
}

impl Default for Api {
    fn default() -> Self {
        Api {
            cors_origins: Vec::new(),
            require_key: false,
            per_address_per_minute: 300,
            per_token_per_minute: 1200,
        }
    }
}

/// Most requests a minute a rate may allow; beyond it a limit is no limit.
pub const API_RATE_MAX: u32 = 100_000;

impl Api {
    fn validate(&self) -> Result<(), ConfigError> {
        for (key, rate) in [
            ("api.per_address_per_minute", self.per_address_per_minute),
            ("api.per_token_per_minute", self.per_token_per_minute),
        ] {
            if !(1..=API_RATE_MAX).contains(&rate) {
                return Err(ConfigError::new(
                    key,
                    format!("must be between 1 and {API_RATE_MAX}"),
                ));
            }
        }
        for (i, origin) in self.cors_origins.iter().enumerate() {
            let valid = origin == "*"
                || url::Url::parse(origin).is_ok_and(|u| {
                    matches!(u.scheme(), "http" | "https")
                        && u.host_str().is_some()
                        && u.path() == "/"
                        && !origin.ends_with('/')
                        && u.query().is_none()
                });
            if !valid {
                return Err(ConfigError::new(
                    format!("api.cors_origins[{i}]"),
                    format!(
                        "`{origin}` is not an origin: write scheme and host (and port), like https://apps.example.org, or *"
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// Mail to readers (address verification, password reset).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Mail {
    /// The sender readers see: `Newsroom <news@example.org>`.
    pub from: String,
    /// `smtps://user:password@host:465`, `smtp://host:587?tls=required` (STARTTLS) or
    /// `smtp://localhost:25` (a local relay). Unset: mail is written to the `outbox/`
    /// directory of the data directory, for the operator to read (the demo, development).
    pub smtp_url: Option<String>,
}

impl Default for Mail {
    fn default() -> Self {
        Mail {
            from: "Newsdesk <newsdesk@localhost>".into(),
            smtp_url: None,
        }
    }
}

/// Readers' comments: where they are open and the limits moderation applies
/// (`crate::moderation` reads these; docs/configuration.md explains each key).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CommentRules {
    /// Briefs are short and often unsigned wire copy; stories always take comments.
    pub enabled_on_briefs: bool,
    /// Hold every comment for review, site-wide.
    pub premoderation: bool,
    /// A reader's comments are held until this many of theirs were approved.
    pub new_reader_held: u32,
    /// A comment with more links than this is held.
    pub max_links: u32,
    /// Words and phrases that refuse a comment, naming the word to the reader.
    pub banned_words: Vec<String>,
    /// Words and phrases that hold a comment for a moderator.
    pub suspect_words: Vec<String>,
    /// Longest body, in characters.
    pub body_max: u32,
    /// Minutes during which a reader may edit their comment; 0: never.
    pub edit_window_minutes: u32,
    /// Reports that hold a published comment again; after a moderator approves it, as many
    /// again from readers who had not reported it.
    pub reports_to_hold: u32,
    /// Likes and takings-back one reader may make per minute.
    pub likes_per_minute: u32,
    /// Reports one reader may make per hour.
    pub reports_per_hour: u32,
    /// Decided comments of a reader looked at for the recent-history hold; 0: off.
    pub history_window: u32,
    pub per_reader_per_minute: u32,
    pub per_address_per_minute: u32,
    /// Days after first publication when comments close by themselves; 0: never.
    pub close_after_days: u32,
    /// Reply nesting shown on the story page; deeper replies continue on their own view.
    pub max_depth: u32,
    pub on_account_deletion: OnAccountDeletion,
}

impl Default for CommentRules {
    fn default() -> Self {
        CommentRules {
            enabled_on_briefs: false,
            premoderation: false,
            new_reader_held: 1,
            max_links: 2,
            banned_words: Vec::new(),
            suspect_words: Vec::new(),
            body_max: 5000,
            edit_window_minutes: 15,
            reports_to_hold: 3,
            likes_per_minute: 30,
            reports_per_hour: 10,
            history_window: 10,
            per_reader_per_minute: 3,
            per_address_per_minute: 10,
            close_after_days: 0,
            max_depth: 3,
            on_account_deletion: OnAccountDeletion::Anonymize,
        }
    }
}

/// What happens to a reader's comments when they delete their account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnAccountDeletion {
    /// Keep the comments (threads stay readable) without the reader's name.
    #[default]
    Anonymize,
    /// Delete the comments; replies to them stay, under a marker.
    Remove,
}

/// Limits of `[comments]`, named so tests can probe their edges.
pub const COMMENT_BODY_MAX_LIMIT: u32 = 20_000;
pub const COMMENT_MAX_DEPTH_LIMIT: u32 = 10;
pub const COMMENT_EDIT_WINDOW_LIMIT: u32 = 24 * 60;
pub const COMMENT_HISTORY_WINDOW_LIMIT: u32 = 100;
pub const COMMENT_WORD_MAX_CHARS: usize = 100;

impl CommentRules {
    fn validate(&self) -> Result<(), ConfigError> {
        if !(1..=COMMENT_BODY_MAX_LIMIT).contains(&self.body_max) {
            return Err(ConfigError::new(
                "comments.body_max",
                format!("must be between 1 and {COMMENT_BODY_MAX_LIMIT}"),
            ));
        }
        if !(1..=COMMENT_MAX_DEPTH_LIMIT).contains(&self.max_depth) {
            return Err(ConfigError::new(
                "comments.max_depth",
                format!("must be between 1 and {COMMENT_MAX_DEPTH_LIMIT}"),
            ));
        }
        if self.edit_window_minutes > COMMENT_EDIT_WINDOW_LIMIT {
            return Err(ConfigError::new(
                "comments.edit_window_minutes",
                format!("must be at most {COMMENT_EDIT_WINDOW_LIMIT} (a day)"),
            ));
        }
        if self.history_window > COMMENT_HISTORY_WINDOW_LIMIT {
            return Err(ConfigError::new(
                "comments.history_window",
                format!("must be at most {COMMENT_HISTORY_WINDOW_LIMIT}"),
            ));
        }
        // Zero would refuse every comment or hold every published one at once; a site that
        // wants no limit sets a large number instead.
        for (key, value) in [
            ("comments.reports_to_hold", self.reports_to_hold),
            ("comments.likes_per_minute", self.likes_per_minute),
            ("comments.reports_per_hour", self.reports_per_hour),
            ("comments.per_reader_per_minute", self.per_reader_per_minute),
            (
                "comments.per_address_per_minute",
                self.per_address_per_minute,
            ),
        ] {
            if value == 0 {
                return Err(ConfigError::new(key, "must be at least 1"));
            }
        }
        for (name, words) in [
            ("banned_words", &self.banned_words),
            ("suspect_words", &self.suspect_words),
        ] {
            for (i, word) in words.iter().enumerate() {
                if let Some(problem) = word_problem(word) {
                    return Err(ConfigError::new(
                        format!("comments.{name}[{i}]"),
                        format!("`{word}` {problem}"),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Why a word-list entry cannot work, if it cannot.
fn word_problem(word: &str) -> Option<&'static str> {
    if word.contains(['\n', '\r']) {
        return Some("must be a single line");
    }
    if word.chars().count() > COMMENT_WORD_MAX_CHARS {
        return Some("is longer than 100 characters");
    }
    // Matching compares whole words, so an entry without one (`""`, `"!!"`) never matches:
    // better to say so at start than to let a moderator believe it filters.
    if !crate::moderation::has_words(word) {
        return Some("must contain a letter or digit");
    }
    None
}

/// What feeds carry of each item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FeedContent {
    /// The whole body, sanitized HTML, as on the page.
    Full,
    /// The standfirst (or a brief's opening words) only; readers follow the link.
    Excerpt,
}

/// Feeds, sitemaps, social cards and WebSub.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Syndication {
    pub feed_content: FeedContent,
    /// Items in each feed, newest first.
    pub feed_items: u32,
    /// A WebSub hub (`https://pubsubhubbub.appspot.com/`): feeds name it, and publishing or
    /// updating an item pings it. None: no hub link, no pings.
    pub websub_hub: Option<String>,
    /// The outlet's X/Twitter account (`@example`) for `twitter:site`.
    pub twitter_site: Option<String>,
    /// URLs per item sitemap file; a month with more is split into several files. At most
    /// the protocol's 50,000; lower keeps each render small.
    pub sitemap_urls: u32,
    /// Whether pages invite search engines to show their images large
    /// (`<meta name="robots" content="max-image-preview:large">`); without it Google Discover
    /// shows only thumbnails. Off for an outlet whose pictures are licensed for small use only.
    pub large_image_previews: bool,
}

impl Default for Syndication {
    fn default() -> Self {
        Syndication {
            feed_content: FeedContent::Full,
            feed_items: 50,
            websub_hub: None,
            twitter_site: None,
            sitemap_urls: 10_000,
            large_image_previews: true,
        }
    }
}

/// Where media bytes live. Without `[media.s3]`: the data directory's `media/`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Media {
    #[serde(default)]
    pub s3: Option<S3>,
}

/// An S3-compatible bucket shared by every instance.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct S3 {
    pub endpoint: String,
    pub bucket: String,
    #[serde(default = "default_region")]
    pub region: String,
    pub access_key_id: String,
    /// Better given as `NEWSDESK_MEDIA__S3__SECRET_ACCESS_KEY` than written in the file.
    pub secret_access_key: String,
    #[serde(default = "default_true")]
    pub path_style: bool,
}

fn default_region() -> String {
    "us-east-1".into()
}

fn default_true() -> bool {
    true
}

/// Where content lives. Empty: SQLite in the data directory.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Database {
    /// `postgres://user@host:port/database` to share one PostgreSQL among instances.
    #[serde(default)]
    pub url: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Site {
    pub name: String,
    #[serde(default)]
    pub tagline: String,
    /// Absolute address readers use (`https://news.example.org`). Empty: the address the
    /// server listens on.
    #[serde(default)]
    pub base_url: Option<String>,
    /// IANA zone in which times are shown to readers (`Asia/Baku`); stored times are UTC.
    pub time_zone: String,
    pub default_language: String,
    /// Languages the site publishes in; the default language is served at `/`, the others
    /// at `/{lang}/`.
    #[serde(default)]
    pub languages: Vec<String>,
    /// Name of the theme asset shown as the logo beside the site name (such as `logo.png` in
    /// the theme's `assets/`); the default theme's mark when unset.
    #[serde(default)]
    pub logo: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Apps {
    #[serde(default)]
    pub enabled: bool,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub app_store_url: Option<String>,
    #[serde(default)]
    pub google_play_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Section {
    pub slug: String,
    pub name: String,
    /// The section's name in the site's other languages.
    #[serde(default)]
    pub names: BTreeMap<String, String>,
}

impl Section {
    pub fn name_in(&self, language: &str) -> &str {
        self.names
            .get(language)
            .map(String::as_str)
            .unwrap_or(&self.name)
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Theme {
    /// A directory whose templates and assets override the built-in theme file by file.
    #[serde(default)]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CacheSettings {
    /// Rendered pages kept in memory.
    pub max_entries: usize,
    /// Bytes those pages may take (all three encodings of each): a few large pages, such as
    /// sitemaps, must not take the memory of thousands of small ones.
    pub max_bytes: u64,
    /// `max-age` for browsers, in seconds.
    pub max_age: u32,
    /// `s-maxage` for CDNs and shared caches, in seconds.
    pub s_maxage: u32,
    pub stale_while_revalidate: u32,
    pub stale_if_error: u32,
}

/// The smallest `cache.max_bytes`: a long story page in three encodings fits many times over.
pub const MIN_CACHE_BYTES: u64 = 1024 * 1024;

impl Default for CacheSettings {
    fn default() -> Self {
        CacheSettings {
            max_entries: 10_000,
            max_bytes: 256 * 1024 * 1024,
            max_age: 30,
            s_maxage: 60,
            stale_while_revalidate: 30,
            stale_if_error: 86_400,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Pages {
    /// Items per page on section, tag, author and latest pages.
    pub page_size: u32,
    /// Items in the latest-news stream shown beside every page.
    pub stream_size: u32,
    /// Characters a teaser's standfirst is cut to.
    pub teaser_chars: usize,
    /// Related stories under a story.
    pub related: u32,
}

impl Default for Pages {
    fn default() -> Self {
        Pages {
            page_size: 20,
            stream_size: 12,
            teaser_chars: 160,
            related: 4,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config::parse(DEFAULT_TOML, "built-in defaults", std::iter::empty())
            .unwrap_or_else(|e| unreachable!("built-in configuration is valid: {e}"))
    }
}

impl Config {
    /// The demo edition's settings, with the same environment overrides as any other.
    pub fn demo_toml() -> &'static str {
        DEMO_TOML
    }
    pub fn default_toml() -> &'static str {
        DEFAULT_TOML
    }

    /// Parses `text`, applies `NEWSDESK_A__B=value` overrides from `env`, and validates.
    pub fn parse(
        text: &str,
        origin: &str,
        env: impl Iterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let mut table: toml::Table = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|span| text[..span.start.min(text.len())].matches('\n').count() + 1);
            let message = match line {
                Some(line) => format!("{origin}, line {line}: {}", e.message()),
                None => format!("{origin}: {}", e.message()),
            };
            ConfigError::new(
                key_at(text, e.span()).unwrap_or_else(|| "(file)".into()),
                message,
            )
        })?;
        for (name, value) in env {
            let Some(path) = name.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            if !path.contains("__") {
                continue;
            }
            let keys: Vec<String> = path.split("__").map(|k| k.to_ascii_lowercase()).collect();
            set_path(&mut table, &keys, parse_env_value(&value))
                .map_err(|m| ConfigError::new(keys.join("."), format!("from {name}: {m}")))?;
        }
        let mut config: Config = serde_path_to_error::deserialize(toml::Value::Table(table))
            .map_err(|e| {
                let path = e.path().to_string();
                let inner = e.into_inner().to_string();
                // serde names a missing field in its message; add it to the path.
                let key = match missing_field(&inner) {
                    Some(field) if path == "." || path.is_empty() => field.to_owned(),
                    Some(field) => format!("{path}.{field}"),
                    None => path,
                };
                ConfigError::new(key, format!("{inner} (in {origin})"))
            })?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&mut self) -> Result<(), ConfigError> {
        if let Some(s3) = &self.media.s3
            && url::Url::parse(&s3.endpoint)
                .map(|u| u.scheme() != "http" && u.scheme() != "https")
                .unwrap_or(true)
        {
            return Err(ConfigError::new(
                "media.s3.endpoint",
                "must be an http or https address",
            ));
        }
        if let Some(url) = &self.database.url {
            if url.trim().is_empty() {
                self.database.url = None;
            } else if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                return Err(ConfigError::new(
                    "database.url",
                    "must start with postgres:// (leave it unset for SQLite in the data directory)",
                ));
            }
        }
        let site = &mut self.site;
        if site.name.trim().is_empty() {
            return Err(ConfigError::new("site.name", "must not be empty"));
        }
        if jiff::tz::TimeZone::get(&site.time_zone).is_err() {
            return Err(ConfigError::new(
                "site.time_zone",
                format!(
                    "unknown time zone `{}` (use an IANA name such as `Europe/London`)",
                    site.time_zone
                ),
            ));
        }
        site.base_url = match site.base_url.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(raw) => {
                let parsed = url::Url::parse(raw).map_err(|e| {
                    ConfigError::new("site.base_url", format!("`{raw}` is not a URL: {e}"))
                })?;
                if !matches!(parsed.scheme(), "http" | "https")
                    || parsed.query().is_some()
                    || parsed.fragment().is_some()
                {
                    return Err(ConfigError::new(
                        "site.base_url",
                        "must be an http or https address without query or fragment",
                    ));
                }
                Some(parsed.as_str().trim_end_matches('/').to_owned())
            }
        };
        site.default_language = lang::normalize(&site.default_language).ok_or_else(|| {
            ConfigError::new(
                "site.default_language",
                "not a BCP 47 language tag such as `en`",
            )
        })?;
        let mut languages = vec![site.default_language.clone()];
        for raw in &site.languages {
            let tag = lang::normalize(raw).ok_or_else(|| {
                ConfigError::new(
                    "site.languages",
                    format!("`{raw}` is not a BCP 47 language tag"),
                )
            })?;
            if !languages.contains(&tag) {
                languages.push(tag);
            }
        }
        site.languages = languages;

        if self.sections.is_empty() {
            return Err(ConfigError::new(
                "sections",
                "at least one section is needed",
            ));
        }
        let mut seen: Vec<&str> = Vec::new();
        for (i, section) in self.sections.iter().enumerate() {
            let key = format!("sections[{i}].slug");
            if let Some(reason) =
                crate::labels::section_slug_problem(&section.slug, &site.languages)
            {
                return Err(ConfigError::new(key, reason));
            }
            if seen.contains(&section.slug.as_str()) {
                return Err(ConfigError::new(
                    key,
                    format!("`{}` appears twice", section.slug),
                ));
            }
            seen.push(&section.slug);
            if section.name.trim().is_empty() {
                return Err(ConfigError::new(
                    format!("sections[{i}].name"),
                    "must not be empty",
                ));
            }
        }
        if !self.mail.from.contains('@') || self.mail.from.contains(['\n', '\r']) {
            return Err(ConfigError::new(
                "mail.from",
                "must be an address such as `Newsroom <news@example.org>`",
            ));
        }
        if let Some(url) = &self.mail.smtp_url
            && !(url.starts_with("smtp://") || url.starts_with("smtps://"))
        {
            return Err(ConfigError::new(
                "mail.smtp_url",
                "must start with smtp:// or smtps://",
            ));
        }
        if self.apps.enabled {
            for (key, value) in [
                ("apps.app_store_url", &self.apps.app_store_url),
                ("apps.google_play_url", &self.apps.google_play_url),
            ] {
                if let Some(v) = value {
                    match url::Url::parse(v) {
                        Ok(u) if u.scheme() == "https" => {}
                        _ => {
                            return Err(ConfigError::new(
                                key,
                                format!("`{v}` is not an https address"),
                            ));
                        }
                    }
                }
            }
            if self.apps.app_store_url.is_none() && self.apps.google_play_url.is_none() {
                return Err(ConfigError::new(
                    "apps",
                    "the apps block is enabled but names neither app_store_url nor google_play_url",
                ));
            }
        }
        if self.cache.max_entries == 0 {
            return Err(ConfigError::new("cache.max_entries", "must be at least 1"));
        }
        if self.cache.max_bytes < MIN_CACHE_BYTES {
            return Err(ConfigError::new(
                "cache.max_bytes",
                "must be at least 1048576 (1 MiB), room for the largest pages",
            ));
        }
        if !(1..=100).contains(&self.pages.page_size) {
            return Err(ConfigError::new(
                "pages.page_size",
                "must be between 1 and 100",
            ));
        }
        if !(1..=50).contains(&self.pages.stream_size) {
            return Err(ConfigError::new(
                "pages.stream_size",
                "must be between 1 and 50",
            ));
        }
        if !(40..=1000).contains(&self.pages.teaser_chars) {
            return Err(ConfigError::new(
                "pages.teaser_chars",
                "must be between 40 and 1000",
            ));
        }
        if !(1..=500).contains(&self.syndication.feed_items) {
            return Err(ConfigError::new(
                "syndication.feed_items",
                "must be between 1 and 500",
            ));
        }
        if !(1..=50_000).contains(&self.syndication.sitemap_urls) {
            return Err(ConfigError::new(
                "syndication.sitemap_urls",
                "must be between 1 and 50000 (the sitemaps protocol's limit)",
            ));
        }
        if let Some(hub) = self.syndication.websub_hub.as_deref().map(str::trim) {
            if hub.is_empty() {
                self.syndication.websub_hub = None;
            } else if url::Url::parse(hub)
                .map(|u| u.scheme() != "http" && u.scheme() != "https")
                .unwrap_or(true)
            {
                return Err(ConfigError::new(
                    "syndication.websub_hub",
                    format!("`{hub}` is not an http or https address"),
                ));
            }
        }
        if self.pages.related > 20 {
            return Err(ConfigError::new("pages.related", "must be at most 20"));
        }
        self.comments.validate()?;
        self.api.validate()?;
        self.webhooks.validate()?;
        self.live.validate()?;
        self.accounts.validate()?;
        self.housekeeping.validate()?;
        self.server.validate()?;
        if let Some(token) = &self.metrics.token {
            if token.trim().is_empty() {
                self.metrics.token = None;
            } else if token.chars().count() < METRICS_TOKEN_MIN
                || !token.bytes().all(|b| b.is_ascii_graphic())
            {
                return Err(ConfigError::new(
                    "metrics.token",
                    format!(
                        "must be at least {METRICS_TOKEN_MIN} visible ASCII characters, without spaces"
                    ),
                ));
            }
        }
        self.outbound.validate()?;
        Ok(())
    }

    /// The sections this file seeds a new site's database with. Pages use the database's
    /// list (`Newsroom::sections`), which the desk changes; tools and tests that run without
    /// one start from this.
    pub fn seed_sections(&self) -> Sections {
        Sections::new(self.sections.clone())
    }

    /// The time zone readers see times in; validated at start.
    pub fn time_zone(&self) -> jiff::tz::TimeZone {
        jiff::tz::TimeZone::get(&self.site.time_zone).unwrap_or(jiff::tz::TimeZone::UTC)
    }

    /// The site language a URL segment names (`ru`, `pt-br`), if any other than the default.
    pub fn language_for_segment(&self, segment: &str) -> Option<&str> {
        self.site
            .languages
            .iter()
            .skip(1)
            .find(|l| lang::url_segment(l) == segment)
            .map(String::as_str)
    }

    /// The path prefix of a language edition: empty for the default language, `/ru` else.
    pub fn language_prefix(&self, language: &str) -> String {
        if language == self.site.default_language {
            String::new()
        } else {
            format!("/{}", lang::url_segment(language))
        }
    }
}

fn missing_field(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("missing field `")?;
    rest.split('`').next()
}

/// The dotted key whose value starts at `span` in `text`, to name it in a parse error.
fn key_at(text: &str, span: Option<std::ops::Range<usize>>) -> Option<String> {
    let start = span?.start.min(text.len());
    let line_start = text[..start].rfind('\n').map(|i| i + 1).unwrap_or(0);
    let line = text[line_start..].lines().next()?;
    let key = line.split('=').next()?.trim();
    let table = text[..line_start].lines().rev().find_map(|l| {
        let l = l.trim();
        l.strip_prefix('[')
            .map(|t| t.trim_matches(['[', ']']).trim().to_owned())
    });
    if key.is_empty() || key.starts_with('[') {
        return table;
    }
    Some(match table {
        Some(t) => format!("{t}.{key}"),
        None => key.to_owned(),
    })
}

fn parse_env_value(raw: &str) -> toml::Value {
    // A value that reads as TOML (true, 42, ["en", "ru"]) is taken as such; anything else is
    // a plain string, so NEWSDESK_SITE__NAME=Daily News needs no quotes.
    let wrapped = format!("v = {raw}");
    match toml::from_str::<toml::Table>(&wrapped) {
        Ok(mut t) => t
            .remove("v")
            .unwrap_or_else(|| toml::Value::String(raw.to_owned())),
        Err(_) => toml::Value::String(raw.to_owned()),
    }
}

fn set_path(table: &mut toml::Table, keys: &[String], value: toml::Value) -> Result<(), String> {
    let Some((last, parents)) = keys.split_last() else {
        return Err("empty key".into());
    };
    let mut current = table;
    for key in parents {
        let entry = current
            .entry(key.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        current = entry
            .as_table_mut()
            .ok_or_else(|| format!("`{key}` is not a table"))?;
    }
    current.insert(last.clone(), value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Iterator<Item = (String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<Vec<_>>()
            .into_iter()
    }

    #[test]
    fn built_in_and_demo_configs_are_valid() {
        let c = Config::default();
        assert_eq!(c.site.languages, vec!["en"]);
        let d = Config::parse(DEMO_TOML, "demo", std::iter::empty()).expect("demo config");
        assert_eq!(d.site.languages, vec!["en", "ru", "tr"]);
        assert_eq!(
            d.seed_sections().get("world").map(|s| s.name_in("ru")),
            Some("Мир")
        );
    }

    #[test]
    fn environment_overrides_file_values() {
        let c = Config::parse(
            DEFAULT_TOML,
            "test",
            env(&[
                ("NEWSDESK_SITE__NAME", "Daily Harbour"),
                ("NEWSDESK_SITE__LANGUAGES", r#"["en", "az"]"#),
                ("NEWSDESK_PAGES__PAGE_SIZE", "7"),
                ("NEWSDESK_LOG", "debug"),
            ]),
        )
        .expect("valid");
        assert_eq!(c.site.name, "Daily Harbour");
        assert_eq!(c.site.languages, vec!["en", "az"]);
        assert_eq!(c.pages.page_size, 7);
    }

    #[test]
    fn webhook_settings_are_checked_at_their_edges() {
        let c = Config::parse(
            DEFAULT_TOML,
            "t",
            env(&[
                ("NEWSDESK_WEBHOOKS__RETRY_FIRST_SECONDS", "1"),
                ("NEWSDESK_WEBHOOKS__CONCURRENCY", "64"),
            ]),
        )
        .expect("valid");
        assert_eq!(c.webhooks.retry_first_seconds, 1);
        assert_eq!(c.webhooks.give_up_after_hours, 24);
        for (var, value, key) in [
            (
                "NEWSDESK_WEBHOOKS__RETRY_FIRST_SECONDS",
                "0",
                "webhooks.retry_first_seconds",
            ),
            (
                "NEWSDESK_WEBHOOKS__GIVE_UP_AFTER_HOURS",
                "169",
                "webhooks.give_up_after_hours",
            ),
            (
                "NEWSDESK_WEBHOOKS__CONCURRENCY",
                "65",
                "webhooks.concurrency",
            ),
            (
                "NEWSDESK_WEBHOOKS__TIMEOUT_SECONDS",
                "0",
                "webhooks.timeout_seconds",
            ),
        ] {
            let e = Config::parse(DEFAULT_TOML, "t", env(&[(var, value)])).expect_err(var);
            assert_eq!(e.key, key);
        }
    }

    #[test]
    fn the_cache_byte_bound_is_checked_at_its_edge() {
        assert_eq!(Config::default().cache.max_bytes, 256 * 1024 * 1024);
        let at_edge = Config::parse(
            DEFAULT_TOML,
            "t",
            env(&[("NEWSDESK_CACHE__MAX_BYTES", "1048576")]),
        )
        .expect("1 MiB is allowed");
        assert_eq!(at_edge.cache.max_bytes, MIN_CACHE_BYTES);
        let e = Config::parse(
            DEFAULT_TOML,
            "t",
            env(&[("NEWSDESK_CACHE__MAX_BYTES", "1048575")]),
        )
        .expect_err("under 1 MiB");
        assert_eq!(e.key, "cache.max_bytes");
    }

    #[test]
    fn a_missing_key_is_named() {
        let e = Config::parse(
            "[site]\nname = \"x\"\ndefault_language = \"en\"\n[[sections]]\nslug=\"world\"\nname=\"World\"\n",
            "t.toml",
            std::iter::empty(),
        )
        .expect_err("time_zone is missing");
        assert_eq!(e.key, "site.time_zone");
    }

    #[test]
    fn an_invalid_value_is_named() {
        let bad = DEFAULT_TOML.replace("time_zone = \"UTC\"", "time_zone = \"Mars/Olympus\"");
        let e = Config::parse(&bad, "t.toml", std::iter::empty()).expect_err("bad zone");
        assert_eq!(e.key, "site.time_zone");
        assert!(e.to_string().contains("Mars/Olympus"));

        let bad = DEFAULT_TOML.replace("[apps]", "[apps]\nenabeld = true");
        let e = Config::parse(&bad, "t.toml", std::iter::empty()).expect_err("typo");
        assert_eq!(e.key, "apps.enabeld", "{e}");

        let e = Config::parse(
            DEFAULT_TOML,
            "t",
            env(&[("NEWSDESK_PAGES__PAGE_SIZE", "0")]),
        )
        .expect_err("zero page size");
        assert_eq!(e.key, "pages.page_size");
    }

    #[test]
    fn a_syntax_error_names_the_key_and_line() {
        let bad = DEFAULT_TOML.replace("name = \"Newsdesk\"", "name = \"Newsdesk");
        let e = Config::parse(&bad, "t.toml", std::iter::empty()).expect_err("syntax");
        assert_eq!(e.key, "site.name", "{e}");
    }

    #[test]
    fn comment_rules_default_in_code_and_file_alike() {
        let from_file = Config::default().comments;
        assert_eq!(from_file, CommentRules::default());
        let without_table = DEFAULT_TOML
            .split("\n[comments]")
            .next()
            .unwrap_or_default();
        let c = Config::parse(without_table, "t", std::iter::empty()).expect("valid");
        assert_eq!(c.comments, CommentRules::default());
        let d = Config::parse(DEMO_TOML, "demo", std::iter::empty()).expect("demo config");
        assert!(
            d.comments
                .banned_words
                .contains(&"buy followers".to_owned())
        );
        assert!(d.comments.suspect_words.contains(&"casino".to_owned()));
    }

    #[test]
    fn comment_limits_are_checked_at_their_edges() {
        let with = |key: &str, value: &str| {
            Config::parse(
                DEFAULT_TOML,
                "t",
                env(&[(&format!("NEWSDESK_COMMENTS__{}", key.to_uppercase()), value)]),
            )
        };
        for (key, good, bad) in [
            (
                "body_max",
                ["1", "20000"].as_slice(),
                ["0", "20001"].as_slice(),
            ),
            ("max_depth", &["1", "10"], &["0", "11"]),
            ("edit_window_minutes", &["0", "1440"], &["1441"]),
            ("history_window", &["0", "100"], &["101"]),
            ("reports_to_hold", &["1"], &["0"]),
            ("likes_per_minute", &["1"], &["0"]),
            ("reports_per_hour", &["1"], &["0"]),
            ("per_reader_per_minute", &["1"], &["0"]),
            ("per_address_per_minute", &["1"], &["0"]),
        ] {
            for v in good {
                assert!(with(key, v).is_ok(), "comments.{key} = {v}");
            }
            for v in bad {
                let e = with(key, v).expect_err(v);
                assert_eq!(e.key, format!("comments.{key}"), "{e}");
            }
        }
        let e = with("on_account_deletion", "keep").expect_err("unknown choice");
        assert_eq!(e.key, "comments.on_account_deletion", "{e}");
        let c = with("on_account_deletion", "remove").expect("valid");
        assert_eq!(c.comments.on_account_deletion, OnAccountDeletion::Remove);
        let e = with("premoderaton", "true").expect_err("typo");
        assert_eq!(e.key, "comments.premoderaton", "{e}");
    }

    #[test]
    fn housekeeping_settings_are_checked_at_their_edges() {
        let with = |key: &str, value: &str| {
            Config::parse(
                DEFAULT_TOML,
                "t",
                env(&[(
                    &format!("NEWSDESK_HOUSEKEEPING__{}", key.to_uppercase()),
                    value,
                )]),
            )
        };
        for (key, good, bad) in [
            (
                "interval_seconds",
                ["1", "604800"].as_slice(),
                ["0", "604801"].as_slice(),
            ),
            ("autosave_retention_days", &["1", "3650"], &["0", "3651"]),
            (
                "webhook_delivery_retention_days",
                &["1", "3650"],
                &["0", "3651"],
            ),
            (
                "revoked_token_retention_days",
                &["1", "3650"],
                &["0", "3651"],
            ),
        ] {
            for v in good {
                assert!(with(key, v).is_ok(), "housekeeping.{key} = {v}");
            }
            for v in bad {
                let e = with(key, v).expect_err(v);
                assert_eq!(e.key, format!("housekeeping.{key}"), "{e}");
            }
        }
        let defaults = Config::parse(DEFAULT_TOML, "t", env(&[])).expect("defaults");
        assert_eq!(defaults.housekeeping, Housekeeping::default());
        assert_eq!(defaults.housekeeping.interval_seconds, 3600);
    }

    #[test]
    fn comment_word_lists_must_hold_words() {
        let with = |list: &str| {
            Config::parse(
                DEFAULT_TOML,
                "t",
                env(&[("NEWSDESK_COMMENTS__SUSPECT_WORDS", list)]),
            )
        };
        assert!(with(r#"["casino", "miracle cure", "Ağrı"]"#).is_ok());
        for bad in [
            r#"["ok", ""]"#,
            r#"["ok", "  "]"#,
            r#"["ok", "!!"]"#,
            r#"["ok", "two\nlines"]"#,
        ] {
            let e = with(bad).expect_err(bad);
            assert_eq!(e.key, "comments.suspect_words[1]", "{e}");
        }
        let long = format!(r#"["{}"]"#, "a".repeat(COMMENT_WORD_MAX_CHARS + 1));
        assert_eq!(
            with(&long).expect_err("long").key,
            "comments.suspect_words[0]"
        );
        let fits = format!(r#"["{}"]"#, "a".repeat(COMMENT_WORD_MAX_CHARS));
        assert!(with(&fits).is_ok());
        let e = Config::parse(
            DEFAULT_TOML,
            "t",
            env(&[("NEWSDESK_COMMENTS__BANNED_WORDS", r#"["\u200b"]"#)]),
        )
        .expect_err("invisible");
        assert_eq!(e.key, "comments.banned_words[0]");
    }

    #[test]
    fn api_settings_are_checked_at_their_edges() {
        let c = Config::default();
        assert!(c.api.cors_origins.is_empty() && !c.api.require_key);
        let parse = |key: &str, value: &str| Config::parse(DEFAULT_TOML, "t", env(&[(key, value)]));
        for (value, ok) in [
            ("1", true),
            ("100000", true),
            ("0", false),
            ("100001", false),
        ] {
            let parsed = parse("NEWSDESK_API__PER_TOKEN_PER_MINUTE", value);
            assert_eq!(parsed.is_ok(), ok, "{value}");
            if let Err(e) = parsed {
                assert_eq!(e.key, "api.per_token_per_minute");
            }
        }
        for (value, ok) in [
            (r#"["https://apps.example.org"]"#, true),
            (r#"["http://localhost:3000", "*"]"#, true),
            (r#"["https://apps.example.org/"]"#, false),
            (r#"["https://apps.example.org/path"]"#, false),
            (r#"["apps.example.org"]"#, false),
            (r#"["ftp://apps.example.org"]"#, false),
        ] {
            let parsed = parse("NEWSDESK_API__CORS_ORIGINS", value);
            assert_eq!(parsed.is_ok(), ok, "{value}");
            if let Err(e) = parsed {
                assert_eq!(e.key, "api.cors_origins[0]");
            }
        }
    }

    #[test]
    fn syndication_settings_are_checked() {
        let c = Config::default();
        assert_eq!(c.syndication.feed_content, FeedContent::Full);
        assert_eq!(c.syndication.feed_items, 50);
        let e = Config::parse(
            DEFAULT_TOML,
            "t",
            env(&[("NEWSDESK_SYNDICATION__WEBSUB_HUB", "ftp://hub")]),
        )
        .expect_err("bad hub");
        assert_eq!(e.key, "syndication.websub_hub");
        let e = Config::parse(
            DEFAULT_TOML,
            "t",
            env(&[("NEWSDESK_SYNDICATION__FEED_ITEMS", "501")]),
        )
        .expect_err("too many");
        assert_eq!(e.key, "syndication.feed_items");
        for (value, ok) in [("50000", true), ("50001", false), ("0", false)] {
            let parsed = Config::parse(
                DEFAULT_TOML,
                "t",
                env(&[("NEWSDESK_SYNDICATION__SITEMAP_URLS", value)]),
            );
            assert_eq!(parsed.is_ok(), ok, "{value}");
        }
        let c = Config::parse(
            DEFAULT_TOML,
            "t",
            env(&[("NEWSDESK_SYNDICATION__FEED_CONTENT", "excerpt")]),
        )
        .expect("excerpt");
        assert_eq!(c.syndication.feed_content, FeedContent::Excerpt);
    }

    #[test]
    fn sections_may_not_take_reserved_paths() {
        let bad = DEFAULT_TOML.replace("slug = \"sport\"", "slug = \"latest\"");
        let e = Config::parse(&bad, "t.toml", std::iter::empty()).expect_err("reserved");
        assert_eq!(e.key, "sections[4].slug");
    }

    #[test]
    fn live_limits_are_checked_at_their_edges() {
        let c = Config::default();
        assert_eq!(c.live.max_subscribers, 10_000);
        assert_eq!(c.live.max_resume_events, 1_000);
        for (key, value, ok) in [
            ("NEWSDESK_LIVE__MAX_PER_ADDRESS", "1", true),
            ("NEWSDESK_LIVE__MAX_PER_ADDRESS", "0", false),
            ("NEWSDESK_LIVE__MAX_CONCURRENT_REPLAYS", "1", true),
            ("NEWSDESK_LIVE__MAX_CONCURRENT_REPLAYS", "0", false),
            ("NEWSDESK_LIVE__MAX_SUBSCRIBERS", "1", true),
            ("NEWSDESK_LIVE__MAX_SUBSCRIBERS", "0", false),
            ("NEWSDESK_LIVE__MAX_SUBSCRIBERS", "1000000", true),
            ("NEWSDESK_LIVE__MAX_SUBSCRIBERS", "1000001", false),
            ("NEWSDESK_LIVE__MAX_RESUME_EVENTS", "1", true),
            ("NEWSDESK_LIVE__MAX_RESUME_EVENTS", "0", false),
            ("NEWSDESK_LIVE__MAX_RESUME_EVENTS", "1000000", true),
            ("NEWSDESK_LIVE__MAX_RESUME_EVENTS", "1000001", false),
        ] {
            let parsed = Config::parse(DEFAULT_TOML, "t", env(&[(key, value)]));
            assert_eq!(parsed.is_ok(), ok, "{key}={value}");
            if let Err(e) = parsed {
                assert!(
                    key.to_ascii_lowercase()
                        .ends_with(&e.key.replace('.', "__")),
                    "{e}"
                );
            }
        }
    }

    #[test]
    fn trusted_proxies_are_parsed_at_start_and_bad_ones_named() {
        let c = Config::parse(
            DEFAULT_TOML,
            "t",
            env(&[(
                "NEWSDESK_SERVER__TRUSTED_PROXIES",
                r#"["127.0.0.1", "10.0.0.0/8", "fd00::/8"]"#,
            )]),
        )
        .expect("valid");
        assert_eq!(c.server.trusted_proxies.len(), 3);
        assert!(c.server.trusted_proxies[1].contains("10.9.8.7".parse().expect("address")));
        assert_eq!(c.server.hsts_max_age_seconds, 31_536_000);
        for (key, value, ok) in [
            ("NEWSDESK_SERVER__HEADER_READ_TIMEOUT_SECONDS", "1", true),
            ("NEWSDESK_SERVER__HEADER_READ_TIMEOUT_SECONDS", "0", false),
            ("NEWSDESK_SERVER__BODY_READ_TIMEOUT_SECONDS", "3600", true),
            ("NEWSDESK_SERVER__BODY_READ_TIMEOUT_SECONDS", "3601", false),
            ("NEWSDESK_SERVER__SHUTDOWN_GRACE_SECONDS", "0", false),
            ("NEWSDESK_SERVER__MAX_CONNECTIONS_PER_ADDRESS", "0", true),
        ] {
            let parsed = Config::parse(DEFAULT_TOML, "t", env(&[(key, value)]));
            assert_eq!(parsed.is_ok(), ok, "{key}={value}");
        }
        let e = Config::parse(
            DEFAULT_TOML,
            "t",
            env(&[(
                "NEWSDESK_SERVER__TRUSTED_PROXIES",
                r#"["10.0.0.0/8", "10.0.0.0/40"]"#,
            )]),
        )
        .expect_err("a prefix longer than the address");
        assert!(e.key.starts_with("server.trusted_proxies"), "{e}");
        assert!(e.message.contains("10.0.0.0/40"), "{e}");
    }

    #[test]
    fn a_metrics_token_must_be_long_enough_to_be_a_lock() {
        let short = Config::parse(
            DEFAULT_TOML,
            "t",
            env(&[("NEWSDESK_METRICS__TOKEN", "fifteen-chars-x")]),
        );
        assert_eq!(short.expect_err("15").key, "metrics.token");
        let ok = Config::parse(
            DEFAULT_TOML,
            "t",
            env(&[("NEWSDESK_METRICS__TOKEN", "sixteen-chars-xx")]),
        )
        .expect("16");
        assert_eq!(ok.metrics.token.as_deref(), Some("sixteen-chars-xx"));
        assert!(Config::default().metrics.token.is_none());
    }
}
