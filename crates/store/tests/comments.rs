//! Readers and comments in the store, on every backend: accounts, sessions and one-time
//! tokens; threads with their visibility rules; likes, reports, edits, deletion and
//! moderators' decisions, each with the event that refreshes the story page.

mod backends;

use backends::each_backend;
use jiff::{SignedDuration, Timestamp};
use newsdesk_core::comment::{CommentSort, CommentStatus};
use newsdesk_core::reader::ReaderStatus;
use newsdesk_core::{Config, EventKind, ItemInput, ItemKind, ItemStatus, PublicationTimes};
use newsdesk_store::{Decision, NewComment, Queue, Store, StoreError};

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
    .validate(&Config::default())
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
        assert_eq!(
            store
                .comment_counts(&[item, 999])
                .await
                .expect("counts")
                .get(&item),
            Some(&3)
        );

        // Likes toggle; the most-liked order follows.
        let (liked, _) = store.toggle_like(a.id, ben).await.expect("like");
        assert!(liked);
        let (liked, _) = store.toggle_like(a.id, ben).await.expect("unlike");
        assert!(!liked);
        store.toggle_like(a.id, ben).await.expect("like again");
        let (by_likes, _, _) = store
            .comment_page(item, CommentSort::MostLiked, None, 10, 0)
            .await
            .expect("page");
        assert_eq!(by_likes[0].id, a.id);
        assert_eq!(by_likes[0].likes, 1);

        // Reports: one per reader; the second reader's report reaches the limit and holds it.
        let (count, event) = store
            .report_comment(a.id, ben, "Spam", 2, now)
            .await
            .expect("report");
        assert_eq!((count, event.is_some()), (1, false));
        let (count, _) = store
            .report_comment(a.id, ben, "Spam, really", 2, now)
            .await
            .expect("again");
        assert_eq!(count, 1, "one report per reader");
        let carl = store
            .create_reader("carl@example.org", "Carl", "$x", now)
            .await
            .expect("carl")
            .id;
        let (count, event) = store
            .report_comment(a.id, carl, "Off topic", 2, now)
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
