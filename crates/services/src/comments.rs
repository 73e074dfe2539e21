//! Readers' comments: posting and replying through the moderation pipeline, the threads a
//! story shows (featured first, then by the reader's chosen order, replies nested up to the
//! configured depth), likes, reports, edits within the window and deleting one's own. Every
//! visible change appends a `comments_changed` event, so the cached story page follows.

use jiff::Timestamp;
use newsdesk_core::comment::{Comment, CommentSort, CommentStatus, validate_report_reason};
use newsdesk_core::moderation::{
    self, HoldReason, ReaderStanding, StoryCommenting, Submission, Verdict,
};
use newsdesk_core::reader::Reader;
use newsdesk_core::{Item, ItemStatus};
use newsdesk_store::{ActionLimit, NewComment};
use sha2::{Digest, Sha256};

use crate::error::{Denial, Missing, Refusal, Result, ServiceError};
use crate::newsroom::Newsroom;

/// Top-level comments per page of a thread.
pub const COMMENTS_PAGE_SIZE: u32 = 20;
/// Deepest page of a thread served; a story with more top-level comments than this many
/// pages hold is read from the newest or the most liked end.
pub const COMMENTS_MAX_PAGE: u32 = 500;
/// Longest client key a form may send (a random token from the page).
pub const CLIENT_KEY_MAX: usize = 64;

/// A comment with its replies, as a thread shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CommentNode {
    pub comment: Comment,
    pub depth: u32,
    pub replies: Vec<CommentNode>,
    /// Replies deeper than the display depth exist: their thread continues on its own view.
    pub continues: bool,
}

/// One page of a story's comments.
#[derive(Debug, Clone)]
pub struct Thread {
    pub nodes: Vec<CommentNode>,
    /// Visible comments at every depth.
    pub total: u64,
    pub page: u32,
    pub pages: u32,
}

/// What became of a posted comment.
#[derive(Debug, Clone)]
pub struct Posted {
    pub comment: Comment,
    /// Why it waits for a moderator, in words; empty when published.
    pub held_because: Vec<String>,
}

/// Rate limits and repeats count by address without keeping the address itself.
fn address_hash(address: &str) -> String {
    Sha256::digest(address.as_bytes())
        .iter()
        .take(12)
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn refused(why: Refusal) -> ServiceError {
    ServiceError::Refused(why)
}

impl Newsroom {
    /// Whether a story takes comments now, and whether they are held first.
    pub async fn commenting(&self, item: &Item, now: Timestamp) -> Result<StoryCommenting> {
        let (closed_by_hand, premoderated) = self.store().story_commenting(item.id).await?;
        Ok(self.commenting_with(item, closed_by_hand, premoderated, now))
    }

    /// `commenting`, with the story's switches already read.
    pub(crate) fn commenting_with(
        &self,
        item: &Item,
        closed_by_hand: bool,
        premoderated: bool,
        now: Timestamp,
    ) -> StoryCommenting {
        let rules = &self.config().comments;
        let closed = closed_by_hand
            || item.status != ItemStatus::Published
            || !moderation::comments_allowed_on(rules, item.kind)
            || item
                .first_published_at
                .is_some_and(|at| moderation::closed_by_age(rules, at, now));
        StoryCommenting {
            closed,
            premoderated,
        }
    }

    /// A staff member's comments skip holds and carry a badge: a verified reader whose
    /// address is an enabled staff account's.
    async fn is_staff(&self, reader: &Reader) -> Result<bool> {
        Ok(reader.verified
            && self
                .store()
                .account_for_sign_in(&reader.email)
                .await?
                .is_some_and(|(account, _)| !account.disabled))
    }

    async fn verdict(
        &self,
        reader: &Reader,
        story: StoryCommenting,
        body: &str,
        address: &str,
        now: Timestamp,
    ) -> Result<Verdict> {
        let rules = self.config().comments.clone();
        let activity = self
            .store()
            .reader_activity(reader.id, &address_hash(address), now, rules.history_window)
            .await?;
        let submission = Submission {
            body,
            staff: self.is_staff(reader).await?,
            reader: ReaderStanding {
                status: reader.status,
                approved: activity.approved,
                recent_decided: activity.recent_decided,
                recent_rejected: activity.recent_rejected,
            },
            story,
            recent_bodies: &activity.recent_bodies,
            in_last_minute_by_reader: activity.in_last_minute_by_reader,
            in_last_minute_by_address: activity.in_last_minute_by_address,
        };
        Ok(moderation::moderate(&rules, &submission))
    }

    /// Posts a comment or a reply. Refused with the pipeline's reason in words a reader
    /// understands; held ones say why.
    #[allow(clippy::too_many_arguments)]
    pub async fn post_comment(
        &self,
        reader: &Reader,
        item_id: i64,
        parent_id: Option<i64>,
        body: &str,
        address: &str,
        client_key: Option<&str>,
        now: Timestamp,
    ) -> Result<Posted> {
        let Some(item) = self.store().item_by_id(item_id).await? else {
            return Err(ServiceError::NotFound(Missing::Story(item_id)));
        };
        if !reader.verified {
            return Err(refused(Refusal::CommentUnconfirmed));
        }
        if client_key.is_some_and(|k| k.len() > CLIENT_KEY_MAX) {
            return Err(newsdesk_core::Error::TooLong {
                field: "key",
                max: CLIENT_KEY_MAX,
            }
            .into());
        }
        // A retried post (a double click, a reconnecting phone) is answered with the first,
        // before the pipeline could take it for a repeat.
        if let Some(key) = client_key
            && let Some(first) = self.store().comment_by_client_key(reader.id, key).await?
        {
            return Ok(Posted {
                held_because: HoldReason::decode_all(&first.hold_reasons)
                    .iter()
                    .map(ToString::to_string)
                    .collect(),
                comment: first,
            });
        }
        let story = self.commenting(&item, now).await?;
        let body = body.trim();
        let (status, reasons) = match self.verdict(reader, story, body, address, now).await? {
            Verdict::Refuse(moderation::Refusal::RateLimited { retry_after_secs }) => {
                return Err(ServiceError::Throttled {
                    retry_after_secs: u64::from(retry_after_secs),
                });
            }
            Verdict::Refuse(why) => return Err(refused(Refusal::Comment(why))),
            Verdict::Publish => (CommentStatus::Published, Vec::new()),
            Verdict::Hold(reasons) => (CommentStatus::Held, reasons),
        };
        let encoded = HoldReason::encode_all(&reasons);
        let stored = self
            .store()
            .insert_comment(&NewComment {
                item_id,
                parent_id,
                reader_id: reader.id,
                body,
                status,
                hold_reasons: &encoded,
                address_hash: &address_hash(address),
                client_key,
                now,
            })
            .await;
        let (comment, _event) = match stored {
            Ok(done) => done,
            Err(newsdesk_store::StoreError::NotFound) => {
                return Err(refused(Refusal::ParentGone));
            }
            Err(e) => return Err(e.into()),
        };
        let held_because = HoldReason::decode_all(&comment.hold_reasons)
            .iter()
            .map(ToString::to_string)
            .collect();
        Ok(Posted {
            comment,
            held_because,
        })
    }

    /// One page of a story's threads as `viewer` sees them (their own held comments too).
    pub async fn thread(
        &self,
        item_id: i64,
        sort: CommentSort,
        page: u32,
        viewer: Option<i64>,
    ) -> Result<Thread> {
        let page = page.clamp(1, COMMENTS_MAX_PAGE);
        let (top, total, top_level) = self
            .store()
            .comment_page(
                item_id,
                sort,
                viewer,
                COMMENTS_PAGE_SIZE,
                (page - 1) * COMMENTS_PAGE_SIZE,
            )
            .await?;
        let roots: Vec<i64> = top.iter().map(|c| c.id).collect();
        let replies = self.store().replies(&roots, viewer).await?;
        let max_depth = self.config().comments.max_depth;
        let nodes = top
            .into_iter()
            .map(|c| nest(c, &replies, 0, max_depth))
            .collect();
        Ok(Thread {
            nodes,
            total,
            page,
            pages: (top_level.div_ceil(u64::from(COMMENTS_PAGE_SIZE)).max(1) as u32)
                .min(COMMENTS_MAX_PAGE),
        })
    }

    /// A comment is public only while its story is: an unpublished story takes its
    /// discussion with it.
    async fn story_is_public(&self, item_id: i64) -> Result<bool> {
        Ok(self
            .store()
            .item_by_id(item_id)
            .await?
            .is_some_and(|item| item.status == ItemStatus::Published))
    }

    /// A comment and everything under it, for a thread that continues past the display depth.
    pub async fn subthread(&self, comment_id: i64, viewer: Option<i64>) -> Result<CommentNode> {
        let Some(comment) = self.store().comment(comment_id).await? else {
            return Err(ServiceError::NotFound(Missing::Comment(comment_id)));
        };
        let visible = comment.status == CommentStatus::Published
            || comment.status == CommentStatus::Deleted
            || (viewer.is_some() && viewer == comment.reader_id);
        if !visible || !self.story_is_public(comment.item_id).await? {
            return Err(ServiceError::NotFound(Missing::Comment(comment_id)));
        }
        let replies = self.store().replies(&[comment.root_id], viewer).await?;
        let max_depth = self.config().comments.max_depth;
        Ok(nest(comment, &replies, 0, max_depth))
    }

    /// Likes a comment or takes the like back. No event: the count on cached story pages
    /// may trail by `cache.s_maxage` (like teaser counts), the discussion page shows it at once.
    pub async fn toggle_like(
        &self,
        reader: &Reader,
        comment_id: i64,
        now: Timestamp,
    ) -> Result<bool> {
        may_react(reader)?;
        let limit = ActionLimit {
            action: "like",
            max: self.config().comments.likes_per_minute,
            window_secs: 60,
        };
        self.store()
            .toggle_like(comment_id, reader.id, limit, now)
            .await
            .map_err(|e| reaction_error(e, comment_id))
    }

    /// Reports a comment with a reason; enough reports hold it again for a moderator.
    pub async fn report_comment(
        &self,
        reader: &Reader,
        comment_id: i64,
        reason: &str,
        now: Timestamp,
    ) -> Result<u32> {
        may_react(reader)?;
        let reason = validate_report_reason(reason)?;
        let rules = &self.config().comments;
        let hold_at = rules.reports_to_hold;
        let limit = ActionLimit {
            action: "report",
            max: rules.reports_per_hour,
            window_secs: 3600,
        };
        let (count, _event) = self
            .store()
            .report_comment(comment_id, reader.id, &reason, hold_at, limit, now)
            .await
            .map_err(|e| reaction_error(e, comment_id))?;
        Ok(count)
    }

    /// Edits the reader's own comment within the edit window; the new text is moderated
    /// again, and the comment is marked edited.
    pub async fn edit_comment(
        &self,
        reader: &Reader,
        comment_id: i64,
        body: &str,
        address: &str,
        now: Timestamp,
    ) -> Result<Posted> {
        let comment = self.own_comment(reader, comment_id).await?;
        let rules = self.config().comments.clone();
        if !moderation::within_edit_window(&rules, comment.created_at, now) {
            return Err(refused(Refusal::EditWindowClosed {
                minutes: rules.edit_window_minutes,
            }));
        }
        let Some(item) = self.store().item_by_id(comment.item_id).await? else {
            return Err(ServiceError::NotFound(Missing::Story(comment.item_id)));
        };
        let story = self.commenting(&item, now).await?;
        let body = body.trim();
        // An edit is not a new post: it must not count against the rate limit or repeat itself.
        let verdict = self.verdict(reader, story, body, address, now).await?;
        let (status, reasons) = match verdict {
            Verdict::Refuse(
                moderation::Refusal::RateLimited { .. } | moderation::Refusal::Repeat,
            )
            | Verdict::Publish => (comment.status, Vec::new()),
            Verdict::Refuse(why) => return Err(refused(Refusal::Comment(why))),
            Verdict::Hold(reasons) => (CommentStatus::Held, reasons),
        };
        let encoded = HoldReason::encode_all(&reasons);
        self.store()
            .edit_comment(comment_id, reader.id, body, status, &encoded, now)
            .await?;
        let comment = self.own_comment(reader, comment_id).await?;
        Ok(Posted {
            held_because: reasons.iter().map(ToString::to_string).collect(),
            comment,
        })
    }

    pub async fn delete_own_comment(&self, reader: &Reader, comment_id: i64) -> Result<()> {
        self.own_comment(reader, comment_id).await?;
        self.store()
            .delete_own_comment(comment_id, reader.id)
            .await?;
        Ok(())
    }

    /// The reader's own comment, or NotFound: another reader's id reveals nothing.
    async fn own_comment(&self, reader: &Reader, comment_id: i64) -> Result<Comment> {
        match self.store().comment(comment_id).await? {
            Some(c) if c.reader_id == Some(reader.id) && c.status != CommentStatus::Deleted => {
                Ok(c)
            }
            _ => Err(ServiceError::NotFound(Missing::Comment(comment_id))),
        }
    }

    /// The story a comment is under, whatever the comment's state; `None` for no such
    /// comment.
    pub async fn story_of_comment(&self, comment_id: i64) -> Result<Option<i64>> {
        Ok(self.store().comment(comment_id).await?.map(|c| c.item_id))
    }

    /// Visible comments per story, for teasers.
    pub async fn comment_counts(
        &self,
        item_ids: &[i64],
    ) -> Result<std::collections::HashMap<i64, u64>> {
        Ok(self.store().comment_counts(item_ids).await?)
    }
}

/// Refuses likes and reports from readers without a confirmed address or in bad standing.
fn may_react(reader: &Reader) -> Result<()> {
    match reader.reaction_refusal() {
        Some(why) => Err(ServiceError::Forbidden(Denial::React(why))),
        None => Ok(()),
    }
}

fn reaction_error(e: newsdesk_store::StoreError, comment_id: i64) -> ServiceError {
    match e {
        newsdesk_store::StoreError::NotFound => {
            ServiceError::NotFound(Missing::Comment(comment_id))
        }
        newsdesk_store::StoreError::RateLimited { retry_after_secs } => {
            ServiceError::too_often(retry_after_secs)
        }
        e => e.into(),
    }
}

/// Builds a comment's node from the replies of its thread, down to `max_depth`.
fn nest(comment: Comment, replies: &[Comment], depth: u32, max_depth: u32) -> CommentNode {
    let children: Vec<&Comment> = replies
        .iter()
        .filter(|r| r.parent_id == Some(comment.id))
        .collect();
    let (replies_out, continues) = if depth + 1 >= max_depth {
        (Vec::new(), !children.is_empty())
    } else {
        (
            children
                .into_iter()
                .map(|c| nest(c.clone(), replies, depth + 1, max_depth))
                .collect(),
            false,
        )
    };
    CommentNode {
        comment,
        depth,
        replies: replies_out,
        continues,
    }
}

/// Refuses anyone whose role does not moderate.
fn may_moderate(actor: &newsdesk_core::Account) -> Result<()> {
    if actor.role.may(newsdesk_core::Action::Moderate) {
        Ok(())
    } else {
        Err(ServiceError::Forbidden(Denial::Moderate(actor.role)))
    }
}

/// Longest reason a moderator gives a reader for a rejection.
pub const REJECT_REASON_MAX: usize = 300;

impl Newsroom {
    /// One page of a moderation queue, newest first.
    pub async fn moderation_queue(
        &self,
        actor: &newsdesk_core::Account,
        queue: newsdesk_store::Queue,
        page: u32,
    ) -> Result<(Vec<newsdesk_store::QueuedComment>, u64)> {
        may_moderate(actor)?;
        let offset = page
            .max(1)
            .saturating_sub(1)
            .saturating_mul(COMMENTS_PAGE_SIZE);
        Ok(self
            .store()
            .moderation_queue(queue, COMMENTS_PAGE_SIZE, offset)
            .await?)
    }

    /// Approves, rejects (with a reason the writer sees) or features a comment.
    pub async fn decide_comment(
        &self,
        actor: &newsdesk_core::Account,
        comment_id: i64,
        decision: &newsdesk_store::Decision,
        now: Timestamp,
    ) -> Result<()> {
        may_moderate(actor)?;
        if let newsdesk_store::Decision::Reject(reason) = decision {
            let reason = reason.trim();
            if reason.is_empty() {
                return Err(newsdesk_core::Error::Required { field: "reason" }.into());
            }
            if reason.chars().count() > REJECT_REASON_MAX {
                return Err(newsdesk_core::Error::TooLong {
                    field: "reason",
                    max: REJECT_REASON_MAX,
                }
                .into());
            }
        }
        match self
            .store()
            .decide_comment(comment_id, decision, &actor.email, now)
            .await
        {
            Ok(_) => Ok(()),
            Err(newsdesk_store::StoreError::NotFound) => {
                Err(ServiceError::NotFound(Missing::Comment(comment_id)))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Closes or opens a story's comments, and holds them for review or not.
    /// The desk's rules for one story's comments: (closed by hand, premoderated).
    pub async fn story_commenting_rules(&self, item_id: i64) -> Result<(bool, bool)> {
        Ok(self.store().story_commenting(item_id).await?)
    }

    pub async fn set_story_commenting(
        &self,
        actor: &newsdesk_core::Account,
        item_id: i64,
        closed: bool,
        premoderated: bool,
        now: Timestamp,
    ) -> Result<()> {
        may_moderate(actor)?;
        match self
            .store()
            .set_story_commenting(item_id, closed, premoderated, &actor.email, now)
            .await
        {
            Ok(_) => Ok(()),
            Err(newsdesk_store::StoreError::NotFound) => {
                Err(ServiceError::NotFound(Missing::Item(item_id)))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Suspends, bans or restores a reader.
    pub async fn set_reader_status(
        &self,
        actor: &newsdesk_core::Account,
        reader_id: i64,
        status: newsdesk_core::reader::ReaderStatus,
        now: Timestamp,
    ) -> Result<()> {
        may_moderate(actor)?;
        match self
            .store()
            .set_reader_status(reader_id, status, &actor.email, now)
            .await
        {
            Err(newsdesk_store::StoreError::NotFound) => {
                Err(ServiceError::NotFound(Missing::Reader(reader_id)))
            }
            other => Ok(other?),
        }
    }

    /// A reader and their latest comments of every status, for a moderator.
    pub async fn reader_history(
        &self,
        actor: &newsdesk_core::Account,
        reader_id: i64,
    ) -> Result<(Reader, Vec<Comment>)> {
        may_moderate(actor)?;
        let Some(reader) = self.store().reader(reader_id).await? else {
            return Err(ServiceError::NotFound(Missing::Reader(reader_id)));
        };
        let comments = self.store().reader_comments(reader_id, 100).await?;
        Ok((reader, comments))
    }
}
