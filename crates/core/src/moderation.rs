//! Readers' comments as the domain sees them: the moderation pipeline that decides whether a
//! submitted comment is published, held for a moderator (with every reason) or refused (with
//! a message the reader understands), and the rendering of a comment's plain text to HTML.
//! Pure functions only: the caller counts, stores and sends; nothing here touches I/O.

use std::fmt;
use std::ops::Range;

use jiff::{SignedDuration, Timestamp};
use unicode_normalization::UnicodeNormalization;

use crate::ItemKind;
pub use crate::config::{CommentRules, OnAccountDeletion};

/// The window the per-minute rate limits count over, and so the longest a reader waits.
pub const RATE_WINDOW_SECS: u32 = 60;

/// What happens to a submitted comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Shown at once.
    Publish,
    /// Stored but not shown until a moderator approves it; never empty.
    Hold(Vec<HoldReason>),
    /// Not stored; the reader sees the refusal and keeps their text.
    Refuse(Refusal),
}

/// Why a comment waits for a moderator. Stored with the comment (see [`HoldReason::encode_all`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HoldReason {
    /// A suspect-list entry, as written in the configuration.
    SuspectWord(String),
    /// The number of links in the body.
    Links(usize),
    NewReader,
    /// Most of the reader's recently decided comments were rejected.
    History,
    /// Site-wide premoderation.
    Premoderation,
    StoryPremoderation,
    /// A published comment reported this many times.
    Reports(u32),
}

impl HoldReason {
    /// A stable name for storage and the desk's filters; never change one once shipped.
    pub fn code(&self) -> &'static str {
        match self {
            HoldReason::SuspectWord(_) => "suspect_word",
            HoldReason::Links(_) => "links",
            HoldReason::NewReader => "new_reader",
            HoldReason::History => "history",
            HoldReason::Premoderation => "premoderation",
            HoldReason::StoryPremoderation => "story_premoderation",
            HoldReason::Reports(_) => "reports",
        }
    }

    fn detail(&self) -> Option<String> {
        match self {
            HoldReason::SuspectWord(w) => Some(w.clone()),
            HoldReason::Links(n) => Some(n.to_string()),
            HoldReason::Reports(n) => Some(n.to_string()),
            _ => None,
        }
    }

    /// One reason from its stored form (`links:3`, `new_reader`); `None` for anything else.
    pub fn parse(stored: &str) -> Option<HoldReason> {
        let (code, detail) = match stored.split_once(':') {
            Some((code, detail)) => (code, Some(unescape(detail))),
            None => (stored, None),
        };
        Some(match (code, detail) {
            ("suspect_word", Some(w)) if !w.is_empty() => HoldReason::SuspectWord(w),
            ("links", Some(n)) => HoldReason::Links(n.parse().ok()?),
            ("reports", Some(n)) => HoldReason::Reports(n.parse().ok()?),
            ("new_reader", None) => HoldReason::NewReader,
            ("history", None) => HoldReason::History,
            ("premoderation", None) => HoldReason::Premoderation,
            ("story_premoderation", None) => HoldReason::StoryPremoderation,
            _ => return None,
        })
    }

    /// Reasons as one compact column value: `code` or `code:detail`, joined by `;`, with `%`
    /// and `;` in details percent-escaped so any suspect word survives the round trip.
    pub fn encode_all(reasons: &[HoldReason]) -> String {
        let mut out = String::new();
        for (i, reason) in reasons.iter().enumerate() {
            if i > 0 {
                out.push(';');
            }
            out.push_str(reason.code());
            if let Some(detail) = reason.detail() {
                out.push(':');
                out.push_str(&detail.replace('%', "%25").replace(';', "%3B"));
            }
        }
        out
    }

    /// The reverse of [`HoldReason::encode_all`]. An entry this version does not know is
    /// skipped rather than failing the whole comment (a newer instance may have written it).
    pub fn decode_all(stored: &str) -> Vec<HoldReason> {
        stored
            .split(';')
            .filter(|s| !s.is_empty())
            .filter_map(HoldReason::parse)
            .collect()
    }
}

/// Decodes `%25` and `%3B` left to right, so `%253B` stays the literal text `%3B`.
fn unescape(detail: &str) -> String {
    let mut out = String::with_capacity(detail.len());
    let mut rest = detail;
    while let Some(i) = rest.find('%') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if let Some(after) = tail.strip_prefix("%25") {
            out.push('%');
            rest = after;
        } else if let Some(after) = tail
            .strip_prefix("%3B")
            .or_else(|| tail.strip_prefix("%3b"))
        {
            out.push(';');
            rest = after;
        } else {
            out.push('%');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    out
}

/// What a moderator reads in the queue.
impl fmt::Display for HoldReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HoldReason::SuspectWord(w) => write!(f, "suspect word “{w}”"),
            HoldReason::Links(1) => write!(f, "1 link"),
            HoldReason::Links(n) => write!(f, "{n} links"),
            HoldReason::NewReader => write!(f, "new reader"),
            HoldReason::History => write!(f, "mostly rejected lately"),
            HoldReason::Premoderation => write!(f, "premoderation"),
            HoldReason::StoryPremoderation => write!(f, "story premoderation"),
            HoldReason::Reports(1) => write!(f, "1 report"),
            HoldReason::Reports(n) => write!(f, "{n} reports"),
        }
    }
}

/// Why a comment is not taken. The `Display` text is shown to the reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Empty,
    TooLong {
        max: u32,
    },
    Closed,
    Suspended,
    Banned,
    /// A banned-list entry, as written in the configuration.
    BannedWord(String),
    Repeat,
    RateLimited {
        retry_after_secs: u32,
    },
}

impl Refusal {
    /// A stable name for logs, metrics and the API's error body.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::Empty => "empty",
            Refusal::TooLong { .. } => "too_long",
            Refusal::Closed => "closed",
            Refusal::Suspended => "suspended",
            Refusal::Banned => "banned",
            Refusal::BannedWord(_) => "banned_word",
            Refusal::Repeat => "repeat",
            Refusal::RateLimited { .. } => "rate_limited",
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Empty => write!(f, "Your comment is empty."),
            Refusal::TooLong { max } => {
                write!(f, "Your comment is too long: at most {max} characters.")
            }
            Refusal::Closed => write!(f, "Comments on this story are closed."),
            Refusal::Suspended => write!(f, "Your account may not comment for now."),
            Refusal::Banned => write!(f, "Your account may no longer comment."),
            Refusal::BannedWord(w) => {
                write!(f, "Your comment contains a word we do not publish: “{w}”.")
            }
            Refusal::Repeat => write!(f, "You have already posted this comment."),
            Refusal::RateLimited { retry_after_secs } => write!(
                f,
                "You are commenting too quickly. Please try again in {retry_after_secs} seconds."
            ),
        }
    }
}

pub use crate::reader::ReaderStatus;

/// What the store knows about the reader who submits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReaderStanding {
    pub status: ReaderStatus,
    /// Comments of theirs a moderator approved (or that were published and never rejected).
    pub approved: u32,
    /// Of their last `history_window` comments a moderator decided on: how many…
    pub recent_decided: u32,
    /// …and how many of those were rejected.
    pub recent_rejected: u32,
}

/// The story's own commenting state. `closed` is the caller's: closed by hand, or
/// [`closed_by_age`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StoryCommenting {
    pub closed: bool,
    pub premoderated: bool,
}

/// Everything the pipeline needs about one submitted comment, counted by the caller.
#[derive(Debug, Clone, Copy)]
pub struct Submission<'a> {
    /// As submitted. Length is judged on the trimmed text, so store `body.trim()`.
    pub body: &'a str,
    /// Editors and moderators: their comments skip holds (not refusals) and get a badge.
    pub staff: bool,
    pub reader: ReaderStanding,
    pub story: StoryCommenting,
    /// The reader's recent bodies (the last few, any story), for the repeat check.
    pub recent_bodies: &'a [String],
    /// Comments stored from this reader in the last minute, this one not included.
    pub in_last_minute_by_reader: u32,
    /// Comments stored from this client address in the last minute, this one not included.
    pub in_last_minute_by_address: u32,
}

/// Runs the pipeline in Coral's order (the order is policy): the first refusal ends it;
/// holds are collected so the moderator sees every reason, and count only when nothing
/// refuses.
pub fn moderate(rules: &CommentRules, s: &Submission<'_>) -> Verdict {
    if let Some(refusal) = check_length(rules, s.body)
        .or_else(|| check_closed(s.story))
        .or_else(|| check_standing(s.reader.status))
        .or_else(|| check_banned_words(rules, s.body))
    {
        return Verdict::Refuse(refusal);
    }
    // Staff skip the rest: they answer readers on the record and are not rate-limited.
    if s.staff {
        return Verdict::Publish;
    }
    let mut holds = Vec::new();
    holds.extend(check_links(rules, s.body));
    if let Some(refusal) = check_repeat(s.body, s.recent_bodies).or_else(|| {
        check_rate(
            rules,
            s.in_last_minute_by_reader,
            s.in_last_minute_by_address,
        )
    }) {
        return Verdict::Refuse(refusal);
    }
    holds.extend(check_suspect_words(rules, s.body));
    holds.extend(check_new_reader(rules, s.reader));
    holds.extend(check_history(rules, s.reader));
    holds.extend(check_premoderation(rules, s.story));
    if holds.is_empty() {
        Verdict::Publish
    } else {
        Verdict::Hold(holds)
    }
}

/// Empty after trimming, or more than `body_max` characters (not bytes) once trimmed.
pub fn check_length(rules: &CommentRules, body: &str) -> Option<Refusal> {
    let body = body.trim();
    if body.is_empty() {
        return Some(Refusal::Empty);
    }
    // Count no further than needed: a megabyte of text stops at body_max + 1.
    let over = body.chars().nth(rules.body_max as usize).is_some();
    over.then_some(Refusal::TooLong {
        max: rules.body_max,
    })
}

pub fn check_closed(story: StoryCommenting) -> Option<Refusal> {
    story.closed.then_some(Refusal::Closed)
}

pub fn check_standing(status: ReaderStatus) -> Option<Refusal> {
    match status {
        ReaderStatus::Active => None,
        ReaderStatus::Suspended => Some(Refusal::Suspended),
        ReaderStatus::Banned => Some(Refusal::Banned),
    }
}

/// The first banned entry (in list order) found in the body.
pub fn check_banned_words(rules: &CommentRules, body: &str) -> Option<Refusal> {
    matched_entries(&rules.banned_words, body)
        .into_iter()
        .next()
        .map(|w| Refusal::BannedWord(w.to_owned()))
}

pub fn check_links(rules: &CommentRules, body: &str) -> Option<HoldReason> {
    let links = count_links(body);
    (links > rules.max_links as usize).then_some(HoldReason::Links(links))
}

/// The same text again, however its spacing or capitals changed, is a repeat.
pub fn check_repeat(body: &str, recent_bodies: &[String]) -> Option<Refusal> {
    let this = fold_for_repeat(body);
    recent_bodies
        .iter()
        .any(|b| fold_for_repeat(b) == this)
        .then_some(Refusal::Repeat)
}

fn fold_for_repeat(body: &str) -> String {
    body.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// "At most N in the last minute": with N already counted, this one is refused. The caller
/// keeps only counts, so the wait given is the whole window, the longest it can be.
pub fn check_rate(rules: &CommentRules, by_reader: u32, by_address: u32) -> Option<Refusal> {
    (by_reader >= rules.per_reader_per_minute || by_address >= rules.per_address_per_minute)
        .then_some(Refusal::RateLimited {
            retry_after_secs: RATE_WINDOW_SECS,
        })
}

/// One reason per suspect entry found, so the moderator sees each.
pub fn check_suspect_words(rules: &CommentRules, body: &str) -> Vec<HoldReason> {
    matched_entries(&rules.suspect_words, body)
        .into_iter()
        .map(|w| HoldReason::SuspectWord(w.to_owned()))
        .collect()
}

pub fn check_new_reader(rules: &CommentRules, reader: ReaderStanding) -> Option<HoldReason> {
    (reader.approved < rules.new_reader_held).then_some(HoldReason::NewReader)
}

/// More than half of the recently decided comments rejected; exactly half is not enough.
pub fn check_history(rules: &CommentRules, reader: ReaderStanding) -> Option<HoldReason> {
    let rejected_mostly = u64::from(reader.recent_rejected) * 2 > u64::from(reader.recent_decided);
    (rules.history_window > 0 && reader.recent_decided > 0 && rejected_mostly)
        .then_some(HoldReason::History)
}

pub fn check_premoderation(rules: &CommentRules, story: StoryCommenting) -> Vec<HoldReason> {
    let mut holds = Vec::new();
    if story.premoderated {
        holds.push(HoldReason::StoryPremoderation);
    }
    if rules.premoderation {
        holds.push(HoldReason::Premoderation);
    }
    holds
}

/// A published comment with `reports_to_hold` or more reports goes back to the queue.
pub fn held_again_by_reports(rules: &CommentRules, report_count: u32) -> bool {
    report_count >= rules.reports_to_hold
}

/// Comments close `close_after_days` × 24 hours after the story was first published, to the
/// second; 0 keeps them open.
pub fn closed_by_age(rules: &CommentRules, first_published_at: Timestamp, now: Timestamp) -> bool {
    if rules.close_after_days == 0 {
        return false;
    }
    let open_for = SignedDuration::from_hours(i64::from(rules.close_after_days) * 24);
    now.duration_since(first_published_at) >= open_for
}

/// A reader may edit their comment for `edit_window_minutes` after posting it, the last
/// instant excluded; 0 means never.
pub fn within_edit_window(rules: &CommentRules, posted_at: Timestamp, now: Timestamp) -> bool {
    let window = SignedDuration::from_mins(i64::from(rules.edit_window_minutes));
    now.duration_since(posted_at) < window
}

/// Stories always take comments; briefs when the site says so.
pub fn comments_allowed_on(rules: &CommentRules, kind: ItemKind) -> bool {
    match kind {
        ItemKind::Story => true,
        ItemKind::Brief => rules.enabled_on_briefs,
    }
}

// ---- Word matching ------------------------------------------------------------------------

/// The list entries found in `body` as whole words (a phrase as consecutive words), both
/// sides folded the same way, so “Türkiye” matches “turkiye” and the reverse, and `ass`
/// never matches `class` (Coral issue 4280: word lists must not cry wolf).
fn matched_entries<'r>(entries: &'r [String], body: &str) -> Vec<&'r str> {
    let words = fold_words(body);
    entries
        .iter()
        .filter(|entry| {
            let phrase = fold_words(entry);
            !phrase.is_empty() && words.windows(phrase.len()).any(|w| w == phrase.as_slice())
        })
        .map(String::as_str)
        .collect()
}

/// Whether `text` has at least one word to match on; a list entry without one never matches.
pub(crate) fn has_words(text: &str) -> bool {
    !fold_words(text).is_empty()
}

/// The words of `text`, lowercased, without diacritics, compatibility forms unfolded
/// (fullwidth `ｃａｓｉｎｏ` is `casino`), and with invisible characters removed so that a
/// zero-width space cannot split a word to slip it past the list.
fn fold_words(text: &str) -> Vec<String> {
    let mut folded = String::with_capacity(text.len());
    for c in text.chars() {
        if is_invisible(c) {
            continue;
        }
        // Letters that carry no decomposition: Turkish/Azerbaijani dotless i and schwa (as
        // text::slugify maps them), and the Nordic and Slavic ones.
        let mapped: &str = match c {
            'ı' | 'İ' => "i",
            'ə' | 'Ə' => "e",
            'ß' | 'ẞ' => "ss",
            'ø' | 'Ø' => "o",
            'æ' | 'Æ' => "ae",
            'œ' | 'Œ' => "oe",
            'đ' | 'Đ' | 'ð' | 'Ð' => "d",
            'ł' | 'Ł' => "l",
            'ħ' | 'Ħ' => "h",
            'þ' | 'Þ' => "th",
            'ς' => "σ",
            _ => {
                push_folded(&mut folded, c);
                continue;
            }
        };
        folded.push_str(mapped);
    }
    folded
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

fn push_folded(out: &mut String, c: char) {
    for d in std::iter::once(c).nfkd() {
        if unicode_normalization::char::is_combining_mark(d) {
            continue;
        }
        out.extend(d.to_lowercase());
    }
}

/// Format characters that render as nothing: soft hyphen, zero-width space and joiners,
/// word joiner, byte-order mark, and the bidirectional controls.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

// ---- Links ----------------------------------------------------------------------------------

/// Links a moderator would call links: `http://` and `https://` addresses, and `www.`
/// addresses written without a scheme.
pub fn count_links(body: &str) -> usize {
    let urls = http_urls(body);
    let inside = |i: usize| urls.iter().any(|(r, _)| r.contains(&i));
    let bare_www = body
        .char_indices()
        .filter(|&(i, _)| {
            starts_with_ignore_case(body, i, "www.")
                && !inside(i)
                && body[..i]
                    .chars()
                    .next_back()
                    .is_none_or(|p| !(p.is_alphanumeric() || "./@-_".contains(p)))
                && body[i + 4..].starts_with(char::is_alphanumeric)
        })
        .count();
    urls.len() + bare_www
}

fn starts_with_ignore_case(text: &str, at: usize, prefix: &str) -> bool {
    text.as_bytes()
        .get(at..at + prefix.len())
        .is_some_and(|b| b.eq_ignore_ascii_case(prefix.as_bytes()))
}

/// The `http(s)://` addresses in `text`: each span as written, and the address as the URL
/// standard serializes it (percent-encoding quotes and angle brackets), for an `href`.
fn http_urls(text: &str) -> Vec<(Range<usize>, url::Url)> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some((start, _)) = text[from..]
        .char_indices()
        .map(|(i, c)| (from + i, c))
        .find(|&(i, _)| {
            (starts_with_ignore_case(text, i, "http://")
                || starts_with_ignore_case(text, i, "https://"))
                // `xhttp://` is not an address someone meant to link.
                && text[..i].chars().next_back().is_none_or(|p| !p.is_alphanumeric())
        })
    {
        let len = text[start..]
            .find(|c: char| {
                c.is_whitespace()
                    || c.is_control()
                    || is_invisible(c)
                    || matches!(c, '<' | '>' | '"' | '`')
            })
            .unwrap_or(text.len() - start);
        let end = start + trim_url_end(&text[start..start + len]);
        match url::Url::parse(&text[start..end]) {
            Ok(url) if url.host_str().is_some_and(|h| !h.is_empty()) => {
                found.push((start..end, url));
                from = end;
            }
            // Not an address after all; look again after the scheme's first letter.
            _ => from = start + 1,
        }
    }
    found
}

/// The length of `candidate` without the punctuation that ends the sentence around it: a
/// final `.` or `,` is prose, and a `)` closes the reader's parenthesis unless the address
/// opened one itself (`…/wiki/Foo_(bar)`).
fn trim_url_end(candidate: &str) -> usize {
    let mut s = candidate;
    loop {
        let Some(last) = s.chars().next_back() else {
            return 0;
        };
        let unbalanced = |open: char, close: char| {
            last == close && s.matches(close).count() > s.matches(open).count()
        };
        if ".,:;!?'*".contains(last)
            || unbalanced('(', ')')
            || unbalanced('[', ']')
            || unbalanced('{', '}')
        {
            s = &s[..s.len() - last.len_utf8()];
        } else {
            return s.len();
        }
    }
}

// ---- Rendering ------------------------------------------------------------------------------

/// A reader's plain text as safe HTML: every character escaped, blank lines start a
/// paragraph, single newlines become `<br>`, and `http(s)` addresses become links marked
/// `rel="nofollow ugc noopener"` (user content, no ranking passed, no window handle). No other
/// markup is ever produced, so nothing a reader writes can run.
pub fn render_comment(body: &str) -> String {
    let body = body.replace("\r\n", "\n").replace('\r', "\n");
    let mut html = String::with_capacity(body.len() + 16);
    let mut paragraph: Vec<&str> = Vec::new();
    for line in body.split('\n') {
        if line.trim().is_empty() {
            push_paragraph(&mut html, &mut paragraph);
        } else {
            paragraph.push(line);
        }
    }
    push_paragraph(&mut html, &mut paragraph);
    html
}

fn push_paragraph(html: &mut String, lines: &mut Vec<&str>) {
    if lines.is_empty() {
        return;
    }
    if !html.is_empty() {
        html.push('\n');
    }
    html.push_str("<p>");
    for (i, line) in lines.iter().enumerate() {
        if i > 0 {
            html.push_str("<br>\n");
        }
        push_line(html, line.trim());
    }
    html.push_str("</p>");
    lines.clear();
}

fn push_line(html: &mut String, line: &str) {
    let mut at = 0;
    for (span, url) in http_urls(line) {
        push_escaped(html, &line[at..span.start]);
        html.push_str("<a href=\"");
        push_escaped(html, url.as_str());
        html.push_str("\" rel=\"nofollow ugc noopener\">");
        push_escaped(html, &line[span.clone()]);
        html.push_str("</a>");
        at = span.end;
    }
    push_escaped(html, &line[at..]);
}

/// Escapes for text and for double- or single-quoted attributes alike. Control characters
/// other than the tab are dropped: HTML forbids them and they only ever hide things.
fn push_escaped(html: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => html.push_str("&amp;"),
            '<' => html.push_str("&lt;"),
            '>' => html.push_str("&gt;"),
            '"' => html.push_str("&quot;"),
            '\'' => html.push_str("&#39;"),
            '\t' => html.push('\t'),
            c if c.is_control() => {}
            c => html.push(c),
        }
    }
}

/// A comment shortened for the desk queue and for mails: plain text on one line, cut at a
/// word boundary with “…”. Not escaped: the template or mail body escapes it where it lands.
pub fn comment_excerpt(body: &str, max_chars: usize) -> String {
    let one_line = body
        .split_whitespace()
        .map(|w| w.chars().filter(|c| !c.is_control()).collect::<String>())
        .collect::<Vec<_>>()
        .join(" ");
    crate::text::truncate_at_word(&one_line, max_chars)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> CommentRules {
        CommentRules {
            banned_words: vec!["buy followers".into(), "Türkiye".into()],
            suspect_words: vec!["casino".into(), "ass".into(), "Ağrı".into()],
            ..CommentRules::default()
        }
    }

    /// A trusted reader's ordinary comment: every step passes.
    fn trusted(body: &str) -> Submission<'_> {
        Submission {
            body,
            staff: false,
            reader: ReaderStanding {
                status: ReaderStatus::Active,
                approved: 5,
                recent_decided: 4,
                recent_rejected: 0,
            },
            story: StoryCommenting::default(),
            recent_bodies: &[],
            in_last_minute_by_reader: 0,
            in_last_minute_by_address: 0,
        }
    }

    fn refused(r: Refusal) -> Verdict {
        Verdict::Refuse(r)
    }

    fn held(reasons: &[HoldReason]) -> Verdict {
        Verdict::Hold(reasons.to_vec())
    }

    #[test]
    fn each_pipeline_step_decides_on_its_own() {
        let recent = vec!["Well  said,\nMinister.".to_owned()];
        let long = "a".repeat(5001);
        type Change = fn(&mut Submission<'_>);
        let rows: Vec<(&str, &str, Change, Verdict)> = vec![
            ("passes", "A fair point.", |_| {}, Verdict::Publish),
            ("empty", " \n\t ", |_| {}, refused(Refusal::Empty)),
            (
                "too long",
                &long,
                |_| {},
                refused(Refusal::TooLong { max: 5000 }),
            ),
            (
                "closed",
                "Hi",
                |s| s.story.closed = true,
                refused(Refusal::Closed),
            ),
            (
                "suspended",
                "Hi",
                |s| s.reader.status = ReaderStatus::Suspended,
                refused(Refusal::Suspended),
            ),
            (
                "banned",
                "Hi",
                |s| s.reader.status = ReaderStatus::Banned,
                refused(Refusal::Banned),
            ),
            (
                "banned word",
                "Just BUY followers now",
                |_| {},
                refused(Refusal::BannedWord("buy followers".into())),
            ),
            (
                "links",
                "http://a.example https://b.example www.c.example",
                |_| {},
                held(&[HoldReason::Links(3)]),
            ),
            (
                "repeat",
                "well said, minister.",
                |_| {},
                refused(Refusal::Repeat),
            ),
            (
                "reader rate",
                "Hi",
                |s| s.in_last_minute_by_reader = 3,
                refused(Refusal::RateLimited {
                    retry_after_secs: 60,
                }),
            ),
            (
                "address rate",
                "Hi",
                |s| s.in_last_minute_by_address = 10,
                refused(Refusal::RateLimited {
                    retry_after_secs: 60,
                }),
            ),
            (
                "suspect word",
                "The casino opened",
                |_| {},
                held(&[HoldReason::SuspectWord("casino".into())]),
            ),
            (
                "new reader",
                "Hi",
                |s| s.reader.approved = 0,
                held(&[HoldReason::NewReader]),
            ),
            (
                "history",
                "Hi",
                |s| s.reader.recent_rejected = 3,
                held(&[HoldReason::History]),
            ),
            (
                "story premoderation",
                "Hi",
                |s| s.story.premoderated = true,
                held(&[HoldReason::StoryPremoderation]),
            ),
        ];
        for (name, body, change, expected) in rows {
            let mut s = trusted(body);
            s.recent_bodies = &recent;
            change(&mut s);
            assert_eq!(moderate(&rules(), &s), expected, "row `{name}`");
        }
        let site_wide = CommentRules {
            premoderation: true,
            ..rules()
        };
        assert_eq!(
            moderate(&site_wide, &trusted("Hi")),
            held(&[HoldReason::Premoderation])
        );
    }

    #[test]
    fn every_hold_reason_is_collected_in_pipeline_order() {
        let rules = CommentRules {
            premoderation: true,
            ..rules()
        };
        let mut s = trusted("casino https://a.example https://b.example https://c.example ass");
        s.reader = ReaderStanding {
            approved: 0,
            recent_decided: 2,
            recent_rejected: 2,
            ..s.reader
        };
        s.story.premoderated = true;
        assert_eq!(
            moderate(&rules, &s),
            held(&[
                HoldReason::Links(3),
                HoldReason::SuspectWord("casino".into()),
                HoldReason::SuspectWord("ass".into()),
                HoldReason::NewReader,
                HoldReason::History,
                HoldReason::StoryPremoderation,
                HoldReason::Premoderation,
            ])
        );
    }

    #[test]
    fn a_banned_word_wins_over_links() {
        let s = trusted("buy followers at https://a.example https://b.example https://c.example");
        assert_eq!(
            moderate(&rules(), &s),
            refused(Refusal::BannedWord("buy followers".into()))
        );
    }

    #[test]
    fn a_refusal_after_a_hold_still_refuses() {
        let recent = vec!["https://a.example https://b.example https://c.example".to_owned()];
        let mut s = trusted("https://a.example https://b.example https://c.example");
        s.recent_bodies = &recent;
        assert_eq!(moderate(&rules(), &s), refused(Refusal::Repeat));
    }

    #[test]
    fn the_first_refusal_wins() {
        let mut s = trusted("  ");
        s.story.closed = true;
        s.reader.status = ReaderStatus::Banned;
        assert_eq!(moderate(&rules(), &s), refused(Refusal::Empty));
        s.body = "Türkiye";
        assert_eq!(moderate(&rules(), &s), refused(Refusal::Closed));
        s.story.closed = false;
        assert_eq!(moderate(&rules(), &s), refused(Refusal::Banned));
    }

    #[test]
    fn staff_skip_holds_and_limits_but_not_refusals() {
        let rules = CommentRules {
            premoderation: true,
            ..rules()
        };
        let recent = vec!["casino https://a.example https://b.example https://c.example".into()];
        let mut s = trusted("casino https://a.example https://b.example https://c.example");
        s.staff = true;
        s.recent_bodies = &recent;
        s.reader.approved = 0;
        s.story.premoderated = true;
        s.in_last_minute_by_reader = 100;
        s.in_last_minute_by_address = 100;
        assert_eq!(moderate(&rules, &s), Verdict::Publish);

        s.body = "";
        assert_eq!(moderate(&rules, &s), refused(Refusal::Empty));
        s.body = "Our reply";
        s.story.closed = true;
        assert_eq!(moderate(&rules, &s), refused(Refusal::Closed));
        s.story.closed = false;
        s.body = "buy followers";
        assert!(matches!(
            moderate(&rules, &s),
            Verdict::Refuse(Refusal::BannedWord(_))
        ));
    }

    #[test]
    fn body_max_counts_characters_at_its_edge() {
        let rules = CommentRules {
            body_max: 10,
            ..rules()
        };
        // Ten two-byte letters are ten characters, not twenty.
        assert_eq!(check_length(&rules, "əəəəəəəəəə"), None);
        assert_eq!(
            check_length(&rules, "əəəəəəəəəəə"),
            Some(Refusal::TooLong { max: 10 })
        );
        // Surrounding whitespace is not the reader's text.
        assert_eq!(check_length(&rules, "\n  abcdefghij  \n"), None);
        assert_eq!(
            check_length(&rules, "\u{3000}\u{00A0}"),
            Some(Refusal::Empty)
        );
    }

    #[test]
    fn max_links_is_allowed_and_one_more_is_held() {
        let rules = rules(); // max_links = 2
        assert_eq!(
            check_links(&rules, "see https://a.example and www.b.example"),
            None
        );
        assert_eq!(
            check_links(&rules, "https://a.example www.b.example HTTP://C.EXAMPLE/x"),
            Some(HoldReason::Links(3))
        );
        let none = CommentRules {
            max_links: 0,
            ..rules
        };
        assert_eq!(
            check_links(&none, "https://a.example"),
            Some(HoldReason::Links(1))
        );
    }

    #[test]
    fn links_are_counted_in_both_forms_once_each() {
        assert_eq!(count_links("no links here, not even example.com"), 0);
        assert_eq!(count_links("https://www.a.example/path"), 1);
        assert_eq!(count_links("www.a.example, (www.b.example)"), 2);
        assert_eq!(count_links("http://a.example\nhttps://b.example"), 2);
        // Not addresses: a word glued to the scheme, a scheme without a host, mid-word www.
        assert_eq!(count_links("xhttp://a.example https:// awww.b.example"), 0);
        assert_eq!(count_links("javascript:alert(1) ftp://a.example"), 0);
    }

    #[test]
    fn repeats_ignore_spacing_and_capitals_only() {
        let recent = vec!["First!".to_owned(), "I  agree with\nthe editor".to_owned()];
        assert_eq!(
            check_repeat(" i agree WITH the editor ", &recent),
            Some(Refusal::Repeat)
        );
        assert_eq!(check_repeat("I agree with the editors", &recent), None);
        assert_eq!(check_repeat("First!", &[]), None);
    }

    #[test]
    fn rate_limits_allow_exactly_the_limit_per_minute() {
        let rules = rules(); // 3 per reader, 10 per address
        assert_eq!(check_rate(&rules, 2, 9), None);
        let limited = Some(Refusal::RateLimited {
            retry_after_secs: RATE_WINDOW_SECS,
        });
        assert_eq!(check_rate(&rules, 3, 0), limited);
        assert_eq!(check_rate(&rules, 0, 10), limited);
        // Isso's guard: with two per address, the third comment within a minute is refused.
        let two = CommentRules {
            per_address_per_minute: 2,
            ..rules
        };
        assert_eq!(check_rate(&two, 0, 1), None);
        assert_eq!(check_rate(&two, 0, 2), limited);
    }

    #[test]
    fn new_readers_are_held_until_enough_approved() {
        let rules = CommentRules {
            new_reader_held: 3,
            ..rules()
        };
        let reader = |approved| ReaderStanding {
            approved,
            ..ReaderStanding::default()
        };
        assert_eq!(
            check_new_reader(&rules, reader(2)),
            Some(HoldReason::NewReader)
        );
        assert_eq!(check_new_reader(&rules, reader(3)), None);
        let off = CommentRules {
            new_reader_held: 0,
            ..rules
        };
        assert_eq!(check_new_reader(&off, reader(0)), None);
    }

    #[test]
    fn history_holds_when_more_than_half_were_rejected() {
        let rules = rules();
        let reader = |decided, rejected| ReaderStanding {
            approved: 10,
            recent_decided: decided,
            recent_rejected: rejected,
            ..ReaderStanding::default()
        };
        assert_eq!(check_history(&rules, reader(10, 5)), None);
        assert_eq!(
            check_history(&rules, reader(10, 6)),
            Some(HoldReason::History)
        );
        assert_eq!(
            check_history(&rules, reader(1, 1)),
            Some(HoldReason::History)
        );
        assert_eq!(check_history(&rules, reader(0, 0)), None);
        let off = CommentRules {
            history_window: 0,
            ..rules
        };
        assert_eq!(check_history(&off, reader(10, 10)), None);
    }

    #[test]
    fn reports_hold_again_from_the_kth() {
        let rules = rules(); // 3
        assert!(!held_again_by_reports(&rules, 2));
        assert!(held_again_by_reports(&rules, 3));
        assert!(held_again_by_reports(&rules, 4));
    }

    #[test]
    fn comments_close_exactly_n_days_after_publishing() {
        let published: Timestamp = "2026-11-01T09:00:00Z".parse().expect("time");
        let rules = CommentRules {
            close_after_days: 2,
            ..rules()
        };
        let just_before: Timestamp = "2026-11-03T08:59:59Z".parse().expect("time");
        let at: Timestamp = "2026-11-03T09:00:00Z".parse().expect("time");
        assert!(!closed_by_age(&rules, published, just_before));
        assert!(closed_by_age(&rules, published, at));
        let never = CommentRules {
            close_after_days: 0,
            ..rules
        };
        assert!(!closed_by_age(
            &never,
            published,
            "2036-01-01T00:00:00Z".parse().expect("time")
        ));
    }

    #[test]
    fn the_edit_window_closes_at_its_last_second() {
        let posted: Timestamp = "2026-11-01T09:00:00Z".parse().expect("time");
        let rules = rules(); // 15 minutes
        let inside: Timestamp = "2026-11-01T09:14:59Z".parse().expect("time");
        let end: Timestamp = "2026-11-01T09:15:00Z".parse().expect("time");
        assert!(within_edit_window(&rules, posted, inside));
        assert!(!within_edit_window(&rules, posted, end));
        let never = CommentRules {
            edit_window_minutes: 0,
            ..rules
        };
        assert!(!within_edit_window(&never, posted, posted));
    }

    #[test]
    fn briefs_take_comments_only_when_enabled() {
        let mut rules = rules();
        assert!(comments_allowed_on(&rules, ItemKind::Story));
        assert!(!comments_allowed_on(&rules, ItemKind::Brief));
        rules.enabled_on_briefs = true;
        assert!(comments_allowed_on(&rules, ItemKind::Brief));
    }

    #[test]
    fn words_match_whole_words_folded_both_ways() {
        let list = |words: &[&str]| words.iter().map(|w| w.to_string()).collect::<Vec<_>>();
        let hits = |entries: &[&str], body: &str| {
            matched_entries(&list(entries), body)
                .into_iter()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        // Whole words only (Coral 4280).
        assert!(hits(&["ass"], "a class act, assessed by the bass").is_empty());
        assert_eq!(hits(&["ass"], "what an ASS!"), ["ass"]);
        // Case and diacritics, in either direction, and Turkish/Azerbaijani letters.
        assert_eq!(hits(&["Türkiye"], "visit turkiye"), ["Türkiye"]);
        assert_eq!(hits(&["turkiye"], "TÜRKİYE'de"), ["turkiye"]);
        assert_eq!(hits(&["Ağrı"], "agri dağı"), ["Ağrı"]);
        assert_eq!(hits(&["agri"], "AĞRI"), ["agri"]);
        assert_eq!(hits(&["Azərbaycan"], "AZƏRBAYCAN"), ["Azərbaycan"]);
        assert_eq!(hits(&["azerbaycan"], "Azərbaycan"), ["azerbaycan"]);
        assert_eq!(hits(&["café"], "CAFE"), ["café"]);
        assert_eq!(hits(&["strasse"], "Straße"), ["strasse"]);
        assert_eq!(hits(&["ёлка"], "ЕЛКА"), ["ёлка"]);
        // Phrases match consecutive words, whatever separates them.
        assert_eq!(
            hits(&["buy followers"], "Buy-followers, cheap"),
            ["buy followers"]
        );
        assert!(hits(&["buy followers"], "buy more followers").is_empty());
        // Evasions by fullwidth letters, zero-width characters and soft hyphens.
        assert_eq!(hits(&["casino"], "ｃａｓｉｎｏ"), ["casino"]);
        assert_eq!(hits(&["casino"], "ca\u{200B}si\u{00AD}no"), ["casino"]);
        // Every entry found is reported, in list order.
        assert_eq!(hits(&["b", "a"], "a b"), ["b", "a"]);
    }

    #[test]
    fn hold_reasons_have_stable_codes_and_readable_names() {
        let rows = [
            (
                HoldReason::SuspectWord("casino".into()),
                "suspect_word",
                "suspect word “casino”",
            ),
            (HoldReason::Links(1), "links", "1 link"),
            (HoldReason::Links(3), "links", "3 links"),
            (HoldReason::NewReader, "new_reader", "new reader"),
            (HoldReason::History, "history", "mostly rejected lately"),
            (HoldReason::Premoderation, "premoderation", "premoderation"),
            (
                HoldReason::StoryPremoderation,
                "story_premoderation",
                "story premoderation",
            ),
            (HoldReason::Reports(4), "reports", "4 reports"),
        ];
        for (reason, code, shown) in rows {
            assert_eq!(reason.code(), code);
            assert_eq!(reason.to_string(), shown);
        }
    }

    #[test]
    fn hold_reasons_survive_storage() {
        let reasons = vec![
            HoldReason::Links(3),
            HoldReason::SuspectWord("odd; 100%3B: word".into()),
            HoldReason::NewReader,
            HoldReason::History,
            HoldReason::Premoderation,
            HoldReason::StoryPremoderation,
            HoldReason::Reports(7),
        ];
        let stored = HoldReason::encode_all(&reasons);
        assert_eq!(
            stored,
            "links:3;suspect_word:odd%3B 100%253B: word;new_reader;history;premoderation;\
             story_premoderation;reports:7"
        );
        assert_eq!(HoldReason::decode_all(&stored), reasons);
        assert_eq!(HoldReason::encode_all(&[]), "");
        assert_eq!(HoldReason::decode_all(""), []);
        // Unknown or malformed entries are skipped, the rest kept.
        assert_eq!(
            HoldReason::decode_all("toxicity:0.9;links:x;new_reader;;history:1"),
            [HoldReason::NewReader]
        );
    }

    #[test]
    fn refusals_speak_to_the_reader() {
        let rows = [
            (Refusal::Empty, "empty", "Your comment is empty."),
            (
                Refusal::TooLong { max: 5000 },
                "too_long",
                "Your comment is too long: at most 5000 characters.",
            ),
            (
                Refusal::Closed,
                "closed",
                "Comments on this story are closed.",
            ),
            (
                Refusal::Suspended,
                "suspended",
                "Your account may not comment for now.",
            ),
            (
                Refusal::Banned,
                "banned",
                "Your account may no longer comment.",
            ),
            (
                Refusal::BannedWord("x".into()),
                "banned_word",
                "Your comment contains a word we do not publish: “x”.",
            ),
            (
                Refusal::Repeat,
                "repeat",
                "You have already posted this comment.",
            ),
            (
                Refusal::RateLimited {
                    retry_after_secs: 60,
                },
                "rate_limited",
                "You are commenting too quickly. Please try again in 60 seconds.",
            ),
        ];
        for (refusal, code, shown) in rows {
            assert_eq!(refusal.code(), code);
            assert_eq!(refusal.to_string(), shown);
        }
    }

    #[test]
    fn comments_render_as_paragraphs_and_line_breaks() {
        assert_eq!(render_comment(""), "");
        assert_eq!(render_comment("  \n\n "), "");
        assert_eq!(
            render_comment("First line\nsecond line\n\n\n  Next paragraph  \r\n"),
            "<p>First line<br>\nsecond line</p>\n<p>Next paragraph</p>"
        );
        assert_eq!(render_comment("a\r\rb\rc"), "<p>a</p>\n<p>b<br>\nc</p>");
        assert_eq!(
            render_comment("Tom & Jerry's <b>"),
            "<p>Tom &amp; Jerry&#39;s &lt;b&gt;</p>"
        );
    }

    #[test]
    fn urls_become_links_without_the_sentence_around_them() {
        let link = |href: &str, text: &str| {
            format!("<a href=\"{href}\" rel=\"nofollow ugc noopener\">{text}</a>")
        };
        assert_eq!(
            render_comment("See https://a.example/x?q=1&r=2."),
            format!(
                "<p>See {}.</p>",
                link(
                    "https://a.example/x?q=1&amp;r=2",
                    "https://a.example/x?q=1&amp;r=2"
                )
            )
        );
        assert_eq!(
            render_comment("(see http://a.example/wiki/Foo_(bar)), ok"),
            format!(
                "<p>(see {}), ok</p>",
                link(
                    "http://a.example/wiki/Foo_(bar)",
                    "http://a.example/wiki/Foo_(bar)"
                )
            )
        );
        assert_eq!(
            render_comment("HTTPS://A.EXAMPLE!"),
            format!(
                "<p>{}!</p>",
                link("https://a.example/", "HTTPS://A.EXAMPLE")
            )
        );
        // Only http and https: everything else stays text.
        for text in [
            "javascript:alert(1)",
            "data:text/html,x",
            "ftp://a.example",
            "www.a.example",
        ] {
            assert!(!render_comment(text).contains("<a"), "{text}");
        }
    }

    /// Payloads from the usual XSS cheat sheets, as bodies. Whatever comes out, a parser may
    /// find only our own elements and attributes, and every link must be http(s).
    const XSS: &[&str] = &[
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "<svg/onload=alert(1)>",
        "\"><script>alert(1)</script>",
        "'><img src=x onerror=alert(1)>",
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "<a href=\"javascript:alert(1)\">x</a>",
        "https://a.example/\"><img src=x onerror=alert(1)>",
        "https://a.example/'onmouseover='alert(1)",
        "https://a.example/\" onmouseover=\"alert(1)",
        "https://a.example/`onmouseover=alert(1)`",
        "https://a.example/<script>alert(1)</script>",
        "https://javascript:alert(1)",
        "http://\"><script>alert(1)</script>",
        "https://a.example/?q=<svg onload=alert(1)>",
        "&lt;script&gt;alert(1)&lt;/script&gt;",
        "&#60;script&#62;alert(1)&#60;/script&#62;",
        "<!--<script>alert(1)//-->",
        "<iframe srcdoc=\"<script>alert(1)</script>\">",
        "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
        "\u{FF1C}script\u{FF1E}alert(1)\u{FF1C}/script\u{FF1E}",
        "https://a.example/\u{202E}gpj.exe",
        "<scr\u{0000}ipt>alert(1)</scr\u{0000}ipt>",
        "https://a.example/\u{0000}\"onmouseover=alert(1)",
        "<style>*{background:url(javascript:alert(1))}</style>",
        "https://a.example/x\n\"><b>bold</b>",
        "<p onclick=alert(1)>",
    ];

    #[test]
    fn nothing_a_reader_writes_becomes_markup() {
        let allowed_tag = |s: &str| {
            s.starts_with("<p>")
                || s.starts_with("</p>")
                || s.starts_with("<br>")
                || s.starts_with("</a>")
                || s.starts_with("<a href=\"")
        };
        for payload in XSS {
            for body in [
                payload.to_string(),
                format!("Look: {payload} — ok\n\nagain {payload}"),
            ] {
                let html = render_comment(&body);
                // Structurally: every `<` opens one of our tags, and an `href` value holds
                // no quote to break out of the attribute.
                for (i, _) in html.match_indices('<') {
                    assert!(allowed_tag(&html[i..]), "{payload:?} gave {html}");
                    if let Some(rest) = html[i..].strip_prefix("<a href=\"") {
                        let value = rest.split('"').next().unwrap_or_default();
                        assert!(!value.contains(['<', '>', '\'', '`']), "{html}");
                        let after = &rest[value.len()..];
                        assert!(
                            after.starts_with("\" rel=\"nofollow ugc noopener\">"),
                            "{payload:?} gave {html}"
                        );
                    }
                }
                // As a browser parses it.
                let doc = scraper::Html::parse_fragment(&html);
                for el in doc
                    .root_element()
                    .descendants()
                    .filter_map(scraper::ElementRef::wrap)
                {
                    let el = el.value();
                    match el.name() {
                        "html" | "p" | "br" => assert_eq!(el.attrs().count(), 0, "{html}"),
                        "a" => {
                            let names: Vec<_> = el.attrs().map(|(n, _)| n).collect();
                            assert_eq!(names, ["href", "rel"], "{html}");
                            let href = el.attr("href").unwrap_or_default();
                            assert!(
                                href.starts_with("http://") || href.starts_with("https://"),
                                "{href}"
                            );
                            assert_eq!(el.attr("rel"), Some("nofollow ugc noopener"));
                        }
                        other => panic!("{payload:?} produced <{other}>: {html}"),
                    }
                }
                // And the words survive as text: nothing is silently dropped but controls.
                let text: String = doc.root_element().text().collect();
                assert!(
                    text.contains("alert") || !payload.contains("alert"),
                    "{html}"
                );
            }
        }
    }

    #[test]
    fn excerpts_are_one_line_cut_at_a_word() {
        assert_eq!(comment_excerpt("Short one", 40), "Short one");
        assert_eq!(
            comment_excerpt("A first line\n\nand a <b>second</b> paragraph", 22),
            "A first line and a…"
        );
        assert_eq!(comment_excerpt("  \n ", 10), "");
        assert_eq!(comment_excerpt("bell\u{7} ring", 40), "bell ring");
    }
}
