//! Readers and comments in the store, on every backend: accounts, sessions and one-time
//! tokens; threads with their visibility rules; likes, reports, edits, deletion and
//! moderators' decisions, each with the event that refreshes the story page.

mod backends;

use backends::each_backend;
use jiff::{SignedDuration, Timestamp};
use newsdesk_core::comment::{CommentSort, CommentStatus};
use newsdesk_core::reader::ReaderStatus;
use newsdesk_core::{Config, EventKind, ItemInput, ItemKind, ItemStatus, PublicationTimes};
use newsdesk_store::{ActionLimit, Decision, NewComment, Queue, Store, StoreError};

/// Limits high enough not to matter where a test is not about them.
const LIKES: ActionLimit = ActionLimit {
    action: "like",
    max: 1000,
    window_secs: 60,
};
const REPORTS: ActionLimit = ActionLimit {
    action: "report",
    max: 1000,
    window_secs: 3600,
};

async fn story(store: &dyn Store, now: Timestamp) -> i64 {
    let valid = ItemInput {
        kind: Some(ItemKind::Story),
        section: Some("world".into()),
        headline: Some("Ferries run again".into()),
        body: "The first crossing left at six.".into(),
        authors: vec!["amina-rahimova".into()],
        status: Some(ItemStatus::Published),
        ..Default::default()
    }
    .validate(&Config::default(), &Config::default().seed_sections())
    .expect("valid");
    let times = PublicationTimes {
        first_published_at: Some(now),
        published_at: Some(now),
        updated_at: None,
    };
    store
        .create_item(&valid, times, "editor@example.org", now)
        .await
        .expect("create")
        .item
        .id
}

fn new<'a>(
    item: i64,
    reader: i64,
    body: &'a str,
    parent: Option<i64>,
    now: Timestamp,
) -> NewComment<'a> {
    NewComment {
        item_id: item,
        parent_id: parent,
        reader_id: reader,
        body,
        status: CommentStatus::Published,
        hold_reasons: "",
        address_hash: "a1",
        client_key: None,
        now,
    }
}

#[tokio::test]
async fn readers_have_unique_addresses_sessions_and_one_time_tokens() {
    each_backend(|store| async move {
        let now = Timestamp::now();
        let reader = store
            .create_reader("ana@example.org", "Ana", "$argon2id$x", now)
            .await
            .expect("create");
        assert!(!reader.verified);
        assert!(matches!(
            store
                .create_reader("ana@example.org", "Again", "$argon2id$y", now)
                .await,
            Err(StoreError::Duplicate { field: "email" })
        ));
        let later = now + SignedDuration::from_hours(1);
        store
            .create_reader_token("t-verify", reader.id, "verify", later)
            .await
            .expect("token");
        assert_eq!(
            store
                .take_reader_token("t-verify", "reset", now)
                .await
                .expect("take"),
            None,
            "purpose must match"
        );
        assert_eq!(
            store
                .take_reader_token("t-verify", "verify", now)
                .await
                .expect("take"),
            Some(reader.id)
        );
        assert_eq!(
            store
                .take_reader_token("t-verify", "verify", now)
                .await
                .expect("take"),
            None,
            "used once"
        );
        store
            .create_reader_token("t-old", reader.id, "reset", now)
            .await
            .expect("token");
        assert_eq!(
            store
                .take_reader_token("t-old", "reset", later)
                .await
                .expect("take"),
            None,
            "expired"
        );

        store
            .create_reader_session("s1", reader.id, "csrf", now, later)
            .await
            .expect("session");
        assert_eq!(
            store
                .reader_session("s1", now)
                .await
                .expect("get")
                .map(|s| s.csrf_token),
            Some("csrf".into())
        );
        assert_eq!(
            store.reader_session("s1", later).await.expect("get"),
            None,
            "expired session"
        );
        store
            .set_reader_password(reader.id, "$argon2id$new")
            .await
            .expect("password");
        assert_eq!(
            store.reader_session("s1", now).await.expect("get"),
            None,
            "a new password ends sessions"
        );
        store.set_reader_verified(reader.id).await.expect("verify");
        store
            .set_reader_display_name(reader.id, "Ana K.")
            .await
            .expect("rename");
        let found = store.reader(reader.id).await.expect("get").expect("there");
        assert!(found.verified);
        assert_eq!(found.display_name, "Ana K.");
        store
            .set_reader_status(reader.id, ReaderStatus::Banned, "mod@example.org", now)
            .await
            .expect("ban");
        assert_eq!(
            store
                .reader(reader.id)
                .await
                .expect("get")
                .map(|r| r.status),
            Some(ReaderStatus::Banned)
        );
    })
    .await;
}

#[tokio::test]
async fn threads_show_what_each_reader_may_see_and_every_change_is_an_event() {
    each_backend(|store| async move {
        let now = Timestamp::now();
        let item = story(store.as_ref(), now).await;
        let ana = store
            .create_reader("ana@example.org", "Ana", "$x", now)
            .await
            .expect("ana")
            .id;
        let ben = store
            .create_reader("ben@example.org", "Ben", "$x", now)
            .await
            .expect("ben")
            .id;

        let (top, event) = store
            .insert_comment(&new(item, ana, "First.", None, now))
            .await
            .expect("top");
        let event = event.expect("a published comment announces itself");
        assert_eq!(
            (event.kind, event.item_id),
            (EventKind::CommentPublished, Some(item))
        );
        assert_eq!(top.root_id, top.id);
        let (reply, _) = store
            .insert_comment(&new(item, ben, "Reply.", Some(top.id), now))
            .await
            .expect("reply");
        assert_eq!((reply.parent_id, reply.root_id), (Some(top.id), top.id));
        let held = NewComment {
            status: CommentStatus::Held,
            hold_reasons: "new_reader",
            ..new(item, ben, "Waiting.", None, now)
        };
        let (held, event) = store.insert_comment(&held).await.expect("held");
        assert!(event.is_none(), "a held comment changes no public page");
        assert!(matches!(
            store
                .insert_comment(&new(item, ana, "To a held one.", Some(held.id), now))
                .await,
            Err(StoreError::NotFound)
        ));

        // The same form key from the same reader is stored once.
        let keyed = NewComment {
            client_key: Some("k1"),
            ..new(item, ana, "Once.", None, now)
        };
        let (a, _) = store.insert_comment(&keyed).await.expect("first");
        let (b, _) = store.insert_comment(&keyed).await.expect("again");
        assert_eq!(a.id, b.id);

        let ids = |list: Vec<newsdesk_core::comment::Comment>| {
            list.into_iter().map(|c| c.id).collect::<Vec<_>>()
        };
        let (public, total, _) = store
            .comment_page(item, CommentSort::Oldest, None, 10, 0)
            .await
            .expect("page");
        assert_eq!(ids(public), [top.id, a.id]);
        assert_eq!(total, 3, "visible comments at every depth");
        let (bens, _, _) = store
            .comment_page(item, CommentSort::Oldest, Some(ben), 10, 0)
            .await
            .expect("page");
        assert_eq!(
            ids(bens),
            [top.id, held.id, a.id],
            "the writer sees their held comment"
        );
        assert_eq!(
            ids(store.replies(&[top.id], None).await.expect("replies")),
            [reply.id]
        );
        let (_, _, top_level) = store
            .comment_page(item, CommentSort::Oldest, None, 10, 0)
            .await
            .expect("page");
        assert_eq!(top_level, 2);
        // The story page's one statement counts as the thread does, without the held one.
        let facts = store.story_facts(item).await.expect("facts");
        assert_eq!((facts.comments, facts.top_level_shown), (3, 2));
        assert_eq!(
            store
                .comment_counts(&[item, 999])
                .await
                .expect("counts")
                .get(&item),
            Some(&3)
        );

        // Likes toggle; the most-liked order follows.
        let liked = store
            .toggle_like(a.id, ben, LIKES, now)
            .await
            .expect("like");
        assert!(liked);
        let liked = store
            .toggle_like(a.id, ben, LIKES, now)
            .await
            .expect("unlike");
        assert!(!liked);
        store
            .toggle_like(a.id, ben, LIKES, now)
            .await
            .expect("like again");
        let (by_likes, _, _) = store
            .comment_page(item, CommentSort::MostLiked, None, 10, 0)
            .await
            .expect("page");
        assert_eq!(by_likes[0].id, a.id);
        assert_eq!(by_likes[0].likes, 1);

        // Reports: one per reader; the second reader's report reaches the limit and holds it.
        let (count, event) = store
            .report_comment(a.id, ben, "Spam", 2, REPORTS, now)
            .await
            .expect("report");
        assert_eq!((count, event.is_some()), (1, false));
        let (count, _) = store
            .report_comment(a.id, ben, "Spam, really", 2, REPORTS, now)
            .await
            .expect("again");
        assert_eq!(count, 1, "one report per reader");
        let carl = store
            .create_reader("carl@example.org", "Carl", "$x", now)
            .await
            .expect("carl")
            .id;
        let (count, event) = store
            .report_comment(a.id, carl, "Off topic", 2, REPORTS, now)
            .await
            .expect("report");
        assert_eq!((count, event.is_some()), (2, true));
        assert_eq!(
            store.comment(a.id).await.expect("get").map(|c| c.status),
            Some(CommentStatus::Held)
        );
        let (queue, _) = store
            .moderation_queue(Queue::Held, 10, 0)
            .await
            .expect("queue");
        assert!(
            queue
                .iter()
                .any(|q| q.comment.id == a.id && q.item_headline == "Ferries run again")
        );

        // Moderators decide, with an audit line and an event each.
        // Approving a held comment makes it visible again: its event names it (webhooks
        // announce it); featuring it only refreshes the page.
        let approved = store
            .decide_comment(a.id, &Decision::Approve, "mod@example.org", now)
            .await
            .expect("approve");
        assert_eq!(
            (approved.kind, approved.comment_id, approved.keys.clone()),
            (
                EventKind::CommentPublished,
                Some(a.id),
                vec![format!("item:{item}")]
            )
        );
        let featured = store
            .decide_comment(a.id, &Decision::Feature(true), "mod@example.org", now)
            .await
            .expect("feature");
        assert_eq!(
            (featured.kind, featured.comment_id),
            (EventKind::CommentsChanged, None)
        );
        let logged = store
            .events_after(approved.id - 1, 1)
            .await
            .expect("events");
        assert_eq!(
            logged[0].comment_id,
            Some(a.id),
            "the log keeps the comment"
        );
        let (featured_first, _, _) = store
            .comment_page(item, CommentSort::Newest, None, 10, 0)
            .await
            .expect("page");
        assert_eq!(featured_first[0].id, a.id);
        store
            .decide_comment(
                held.id,
                &Decision::Reject("Off topic".into()),
                "mod@example.org",
                now,
            )
            .await
            .expect("reject");
        let rejected = store.comment(held.id).await.expect("get").expect("there");
        assert_eq!(
            (rejected.status, rejected.reject_reason.as_str()),
            (CommentStatus::Rejected, "Off topic")
        );
        let (audit, _) = store.audit_log(10, 0).await.expect("audit");
        assert!(
            audit.iter().any(|e| e.action == "rejected the comment"
                && e.subject == format!("comment:{}", held.id))
        );

        // Only the writer edits or deletes; a deleted comment keeps its place as a marker.
        assert!(matches!(
            store
                .edit_comment(top.id, ben, "Hijack", CommentStatus::Published, "", now)
                .await,
            Err(StoreError::NotFound)
        ));
        store
            .edit_comment(
                top.id,
                ana,
                "First, edited.",
                CommentStatus::Published,
                "",
                now,
            )
            .await
            .expect("edit");
        assert!(
            store
                .comment(top.id)
                .await
                .expect("get")
                .expect("there")
                .edited_at
                .is_some()
        );
        assert!(matches!(
            store.delete_own_comment(top.id, ben).await,
            Err(StoreError::NotFound)
        ));
        store.delete_own_comment(top.id, ana).await.expect("delete");
        let (after, _, _) = store
            .comment_page(item, CommentSort::Oldest, None, 10, 0)
            .await
            .expect("page");
        let marker = after
            .iter()
            .find(|c| c.id == top.id)
            .expect("a deleted comment with replies stays as a marker");
        assert_eq!(
            (marker.status, marker.body.as_str()),
            (CommentStatus::Deleted, "")
        );

        store
            .set_story_commenting(item, true, false, "mod@example.org", now)
            .await
            .expect("close");
        assert_eq!(
            store.story_commenting(item).await.expect("rules"),
            (true, false)
        );
        let activity = store
            .reader_activity(ana, "a1", now, 10)
            .await
            .expect("activity");
        assert_eq!(activity.in_last_minute_by_address, 4);
        assert_eq!(
            store.reader_comments(ben, 10).await.expect("history").len(),
            2
        );
    })
    .await;
}

async fn readers(store: &dyn Store, names: &[&str], now: Timestamp) -> Vec<i64> {
    let mut ids = Vec::new();
    for name in names {
        let email = format!("{name}@example.org");
        ids.push(
            store
                .create_reader(&email, name, "$x", now)
                .await
                .expect("reader")
                .id,
        );
    }
    ids
}

#[tokio::test]
async fn an_approval_answers_the_reports_and_holding_again_takes_new_readers() {
    each_backend(|store| async move {
        let now = Timestamp::now();
        let item = story(&*store, now).await;
        let ids = readers(&*store, &["ana", "ben", "carl", "dora", "emil"], now).await;
        let [ana, ben, carl, dora, emil] = ids[..] else {
            unreachable!()
        };
        let (c, _) = store
            .insert_comment(&new(item, ana, "A fair point.", None, now))
            .await
            .expect("comment");
        let id = c.id;
        let status = |store: std::sync::Arc<dyn Store>| async move {
            let c = store.comment(id).await.expect("get").expect("there");
            (c.status, c.reports)
        };
        for reader in [ben, carl] {
            store
                .report_comment(c.id, reader, "Rude", 2, REPORTS, now)
                .await
                .expect("report");
        }
        assert_eq!(status(store.clone()).await, (CommentStatus::Held, 2));

        store
            .decide_comment(c.id, &Decision::Approve, "mod@example.org", now)
            .await
            .expect("approve");
        assert_eq!(
            status(store.clone()).await,
            (CommentStatus::Published, 0),
            "the approval answered both reports"
        );
        let (reported, _) = store
            .moderation_queue(Queue::Reported, 10, 0)
            .await
            .expect("queue");
        assert!(reported.iter().all(|q| q.comment.id != c.id));

        // The readers it answered count no more, however often they report again.
        for reader in [ben, carl, ben] {
            let (count, event) = store
                .report_comment(c.id, reader, "Still rude", 2, REPORTS, now)
                .await
                .expect("report again");
            assert_eq!((count, event.is_some()), (0, false));
        }
        // One new report does not hide it again; as many as before do.
        let (count, event) = store
            .report_comment(c.id, dora, "Rude", 2, REPORTS, now)
            .await
            .expect("new report");
        assert_eq!((count, event.is_some()), (1, false));
        assert_eq!(status(store.clone()).await, (CommentStatus::Published, 1));
        let (count, event) = store
            .report_comment(c.id, emil, "Rude", 2, REPORTS, now)
            .await
            .expect("new report");
        assert_eq!((count, event.is_some()), (2, true));
        assert_eq!(status(store.clone()).await, (CommentStatus::Held, 2));
    })
    .await;
}

#[tokio::test]
async fn likes_append_no_event_and_reader_actions_are_limited_over_a_sliding_window() {
    each_backend(|store| async move {
        let now = Timestamp::now();
        let item = story(&*store, now).await;
        let ids = readers(&*store, &["ana", "ben", "carl"], now).await;
        let [ana, ben, carl] = ids[..] else {
            unreachable!()
        };
        let (c, _) = store
            .insert_comment(&new(item, ana, "Worth a like.", None, now))
            .await
            .expect("comment");
        let three = ActionLimit {
            action: "like",
            max: 3,
            window_secs: 60,
        };

        let before = store.last_event_id().await.expect("events");
        for _ in 0..3 {
            store
                .toggle_like(c.id, ben, three, now)
                .await
                .expect("within the limit");
        }
        assert_eq!(
            store.last_event_id().await.expect("events"),
            before,
            "likes purge no page"
        );
        let liked = store.comment(c.id).await.expect("get").expect("there");
        assert_eq!(liked.likes, 1, "like, unlike, like");

        // The fourth within the window is refused, and changes nothing.
        let almost = now + SignedDuration::from_secs(60) - SignedDuration::from_micros(1);
        match store.toggle_like(c.id, ben, three, almost).await {
            Err(StoreError::RateLimited { retry_after_secs }) => {
                assert_eq!(retry_after_secs, 1, "the oldest leaves the window then");
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        assert_eq!(
            store.comment(c.id).await.expect("get").map(|c| c.likes),
            Some(1)
        );
        match store.toggle_like(c.id, ben, three, now).await {
            Err(StoreError::RateLimited { retry_after_secs }) => {
                assert_eq!(retry_after_secs, 60);
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        // Reports count apart, and so does every other reader.
        store
            .report_comment(c.id, ben, "Spam", 10, REPORTS, now)
            .await
            .expect("a report is not a like");
        store
            .toggle_like(c.id, carl, three, now)
            .await
            .expect("another reader");
        // A window after them, the likes made at `now` no longer count.
        let later = now + SignedDuration::from_secs(60);
        for _ in 0..3 {
            store
                .toggle_like(c.id, ben, three, later)
                .await
                .expect("after the window");
        }
        assert!(matches!(
            store.toggle_like(c.id, ben, three, later).await,
            Err(StoreError::RateLimited { .. })
        ));

        // Forty at once from one reader: exactly the limit gets through.
        let five = ActionLimit {
            action: "like",
            max: 5,
            window_secs: 60,
        };
        let tasks: Vec<_> = (0..40)
            .map(|_| {
                let store = store.clone();
                tokio::spawn(async move { store.toggle_like(c.id, carl, five, later).await })
            })
            .collect();
        let mut passed = 0;
        let mut refused = 0;
        for task in tasks {
            match task.await.expect("task") {
                Ok(_) => passed += 1,
                Err(StoreError::RateLimited { .. }) => refused += 1,
                Err(e) => panic!("unexpected error: {e}"),
            }
        }
        assert_eq!((passed, refused), (5, 35));
    })
    .await;
}
