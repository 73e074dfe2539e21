//! Store behaviour, on every backend: saves keep revisions, append their event in the same
//! transaction, a stale save is refused, listings filter and page.

mod backends;

use backends::each_backend;
use jiff::Timestamp;
use newsdesk_core::{Config, EventKind, ItemInput, ItemKind, ItemStatus, ValidItem};
use newsdesk_store::{ItemQuery, PublicationTimes, Saved, Store, StoreError};

fn story(status: ItemStatus) -> ItemInput {
    ItemInput {
        kind: Some(ItemKind::Story),
        section: Some("world".into()),
        headline: Some("Harbour gates close before the surge".into()),
        body: "The gates rose before dawn.".into(),
        tags: vec!["flood-defences".into()],
        authors: vec!["amina-rahimova".into()],
        status: Some(status),
        ..Default::default()
    }
}

fn times(at: Timestamp) -> PublicationTimes {
    PublicationTimes {
        first_published_at: Some(at),
        published_at: Some(at),
        updated_at: None,
    }
}

/// Creates the published test story as `actor`.
async fn publish(store: &dyn Store, actor: &str, now: Timestamp) -> (ValidItem, Saved) {
    let valid = story(ItemStatus::Published)
        .validate(&Config::default(), &Config::default().seed_sections())
        .expect("valid");
    let saved = store
        .create_item(&valid, times(now), actor, now)
        .await
        .expect("create");
    (valid, saved)
}

#[tokio::test]
async fn migrations_apply_once() {
    each_backend(|store| async move {
        assert!(store.migrate().await.expect("second run").is_empty());
    })
    .await;
}

#[tokio::test]
async fn publishing_appends_an_event_with_the_pages_it_touches() {
    each_backend(|store| async move {
        let now = Timestamp::now();
        let (_, saved) = publish(&*store, "test", now).await;
        let event = saved.event.expect("a published item emits an event");
        assert_eq!(event.kind, EventKind::ItemPublished);
        assert!(event.keys.contains(&format!("item:{}", saved.item.id)));
        assert!(event.keys.contains(&"section:en:world".to_string()));
        assert!(event.keys.contains(&"tag:flood-defences".to_string()));
        assert_eq!(store.last_event_id().await.expect("last"), event.id);
        assert_eq!(
            store.events_after(0, 10).await.expect("events"),
            vec![event]
        );

        let listed = store
            .published(&ItemQuery {
                tag: Some("flood-defences".into()),
                limit: 10,
                ..Default::default()
            })
            .await
            .expect("list");
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].authors[0].name, "Amina Rahimova");
    })
    .await;
}

#[tokio::test]
async fn a_draft_is_not_public_and_emits_no_event() {
    each_backend(|store| async move {
        let now = Timestamp::now();
        let valid = story(ItemStatus::Draft)
            .validate(&Config::default(), &Config::default().seed_sections())
            .expect("valid");
        let saved = store
            .create_item(
                &valid,
                PublicationTimes {
                    first_published_at: None,
                    published_at: None,
                    updated_at: None,
                },
                "t",
                now,
            )
            .await
            .expect("create");
        assert!(saved.event.is_none());
        let q = ItemQuery {
            limit: 10,
            ..Default::default()
        };
        assert_eq!(store.count_published(&q).await.expect("count"), 0);
        assert_eq!(store.count_all_items().await.expect("count"), 1);
    })
    .await;
}

#[tokio::test]
async fn a_stale_save_is_refused_and_every_save_keeps_a_revision() {
    each_backend(|store| async move {
        let now = Timestamp::now();
        let (valid, saved) = publish(&*store, "a", now).await;
        let mut changed = valid.clone();
        changed.headline = Some("Gates hold through the night".into());
        let updated = store
            .update_item(saved.item.id, 1, &changed, times(now), "b", now)
            .await
            .expect("update");
        assert_eq!(updated.item.version, 2);
        assert_eq!(updated.event.map(|e| e.kind), Some(EventKind::ItemUpdated));
        let stale = store
            .update_item(saved.item.id, 1, &valid, times(now), "c", now)
            .await;
        assert!(
            matches!(stale, Err(StoreError::Conflict { current: 2 })),
            "{stale:?}"
        );
        let revisions = store.revisions(saved.item.id).await.expect("revisions");
        assert_eq!(
            revisions
                .iter()
                .map(|r| r.actor.as_str())
                .collect::<Vec<_>>(),
            ["a", "b"]
        );
    })
    .await;
}

#[tokio::test]
async fn a_slug_taken_in_the_same_language_is_a_duplicate() {
    each_backend(|store| async move {
        let now = Timestamp::now();
        let (valid, _) = publish(&*store, "a", now).await;
        let again = store.create_item(&valid, times(now), "a", now).await;
        assert!(
            matches!(again, Err(StoreError::Duplicate { field: "slug" })),
            "{again:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn listings_filter_page_and_order_newest_first() {
    each_backend(|store| async move {
        let base = Timestamp::from_second(1_800_000_000).expect("time");
        let config = Config::default();
        for n in 0..5i64 {
            let mut input = story(ItemStatus::Published);
            input.slug = Some(format!("story-{n}"));
            input.section = Some(if n % 2 == 0 { "world" } else { "sport" }.into());
            input.kind = Some(if n == 4 {
                ItemKind::Brief
            } else {
                ItemKind::Story
            });
            input.breaking = n == 3;
            let valid = input
                .validate(&config, &config.seed_sections())
                .expect("valid");
            let at = base + jiff::SignedDuration::from_mins(n);
            store
                .create_item(&valid, times(at), "t", at)
                .await
                .expect("create");
        }
        let slugs =
            |items: Vec<newsdesk_core::Item>| items.into_iter().map(|i| i.slug).collect::<Vec<_>>();
        let all = ItemQuery {
            limit: 2,
            ..Default::default()
        };
        assert_eq!(store.count_published(&all).await.expect("count"), 5);
        assert_eq!(
            slugs(store.published(&all).await.expect("p1")),
            ["story-4", "story-3"]
        );
        let page2 = ItemQuery {
            offset: 2,
            ..all.clone()
        };
        assert_eq!(
            slugs(store.published(&page2).await.expect("p2")),
            ["story-2", "story-1"]
        );

        let world = ItemQuery {
            section: Some("world".into()),
            exclude_id: None,
            limit: 10,
            ..Default::default()
        };
        assert_eq!(
            slugs(store.published(&world).await.expect("world")),
            ["story-4", "story-2", "story-0"]
        );
        assert_eq!(store.count_published(&world).await.expect("count"), 3);
        // A cursor at the second item continues after it, whatever arrives above.
        let listed = store.published(&world).await.expect("world");
        let second = &listed[1];
        let after_second = ItemQuery {
            before: Some((second.published_at.expect("published"), second.id)),
            ..world.clone()
        };
        assert_eq!(
            slugs(store.published(&after_second).await.expect("after")),
            ["story-0"]
        );
        let stories = ItemQuery {
            kind: Some(ItemKind::Story),
            limit: 1,
            ..Default::default()
        };
        assert_eq!(
            slugs(store.published(&stories).await.expect("stories")),
            ["story-3"]
        );
        let breaking_recent = ItemQuery {
            breaking: Some(true),
            published_since: Some(base + jiff::SignedDuration::from_mins(3)),
            limit: 1,
            ..Default::default()
        };
        assert_eq!(
            slugs(store.published(&breaking_recent).await.expect("breaking")),
            ["story-3"]
        );
        let too_late = ItemQuery {
            published_since: Some(
                base + jiff::SignedDuration::from_mins(4) + jiff::SignedDuration::from_secs(1),
            ),
            ..breaking_recent
        };
        assert!(store.published(&too_late).await.expect("none").is_empty());
        let other_language = ItemQuery {
            language: Some("ru".into()),
            limit: 10,
            ..Default::default()
        };
        assert!(
            store
                .published(&other_language)
                .await
                .expect("ru")
                .is_empty()
        );
        let first = store
            .item_by_slug("en", "story-0")
            .await
            .expect("find")
            .expect("exists");
        let without_first = ItemQuery {
            section: Some("world".into()),
            exclude_id: Some(first.id),
            limit: 10,
            ..Default::default()
        };
        assert_eq!(
            slugs(store.published(&without_first).await.expect("excl")),
            ["story-4", "story-2"]
        );
        let by_author = ItemQuery {
            author: Some("amina-rahimova".into()),
            limit: 10,
            ..Default::default()
        };
        assert_eq!(store.count_published(&by_author).await.expect("count"), 5);
    })
    .await;
}

#[tokio::test]
async fn a_scheduled_item_is_published_once_when_due_even_by_racing_runs() {
    each_backend(|store| async move {
        let at = Timestamp::from_second(1_800_000_000).expect("time");
        let mut input = story(ItemStatus::Scheduled);
        input.published_at = Some(at);
        let valid = input
            .validate(&Config::default(), &Config::default().seed_sections())
            .expect("valid");
        let created = store
            .create_item(
                &valid,
                PublicationTimes {
                    first_published_at: None,
                    published_at: Some(at),
                    updated_at: None,
                },
                "editor",
                at - jiff::SignedDuration::from_hours(1),
            )
            .await
            .expect("create");
        assert!(
            created.event.is_none(),
            "a scheduled item is not public yet"
        );

        let early = at - jiff::SignedDuration::from_secs(1);
        assert!(
            store
                .publish_due(early, "scheduler", 10)
                .await
                .expect("early")
                .is_empty()
        );

        let due = at + jiff::SignedDuration::from_secs(1);
        let (a, b) = tokio::join!(
            store.publish_due(due, "scheduler-a", 10),
            store.publish_due(due, "scheduler-b", 10)
        );
        let published: Vec<Saved> = a.expect("a").into_iter().chain(b.expect("b")).collect();
        assert_eq!(published.len(), 1, "exactly one run publishes it");
        let item = &published[0].item;
        assert_eq!(item.status, ItemStatus::Published);
        assert_eq!(
            item.published_at,
            Some(at),
            "published at its scheduled time"
        );
        assert_eq!(item.first_published_at, Some(at));
        let events = store.events_after(0, 10).await.expect("events");
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].kind, EventKind::ItemPublished);
        assert_eq!(store.revisions(item.id).await.expect("revisions").len(), 2);
        assert!(
            store
                .publish_due(due, "scheduler", 10)
                .await
                .expect("again")
                .is_empty()
        );
    })
    .await;
}

#[tokio::test]
async fn the_desk_lists_every_status_filtered_and_searched() {
    each_backend(|store| async move {
        let config = Config::default();
        let now = Timestamp::from_second(1_800_000_000).expect("time");
        for (n, (status, headline)) in [
            (ItemStatus::Draft, "Harbour gates: 100% closed"),
            (ItemStatus::Published, "Harbour reopens"),
            (ItemStatus::InReview, "Budget vote tonight"),
        ]
        .into_iter()
        .enumerate()
        {
            let mut input = story(status);
            input.headline = Some(headline.into());
            let valid = input
                .validate(&config, &config.seed_sections())
                .expect("valid");
            let at = now + jiff::SignedDuration::from_mins(n as i64);
            let times = PublicationTimes::settle(None, &valid, at);
            // The draft is the writer's; the others someone else's.
            let actor = if n == 0 { "writer@example.org" } else { "t" };
            store
                .create_item(&valid, times, actor, at)
                .await
                .expect("create");
        }
        let all = newsdesk_store::DeskQuery {
            limit: 10,
            ..Default::default()
        };
        let (items, total) = store.desk_items(&all).await.expect("all");
        assert_eq!(total, 3);
        let headlines: Vec<_> = items.iter().filter_map(|i| i.headline.clone()).collect();
        assert_eq!(
            headlines,
            [
                "Budget vote tonight",
                "Harbour reopens",
                "Harbour gates: 100% closed"
            ],
            "last change first"
        );
        let search = |text: &str| newsdesk_store::DeskQuery {
            headline: Some(text.into()),
            ..all.clone()
        };
        assert_eq!(
            store
                .desk_items(&search("HARBOUR"))
                .await
                .expect("search")
                .1,
            2
        );
        assert_eq!(
            store.desk_items(&search("100%")).await.expect("search").1,
            1
        );
        assert_eq!(
            store.desk_items(&search("%")).await.expect("search").1,
            1,
            "% is a character, not a wildcard"
        );
        assert_eq!(store.desk_items(&search("_")).await.expect("search").1, 0);
        let drafts = newsdesk_store::DeskQuery {
            status: Some(ItemStatus::Draft),
            ..all.clone()
        };
        assert_eq!(store.desk_items(&drafts).await.expect("drafts").1, 1);
        let paged = newsdesk_store::DeskQuery {
            limit: 1,
            offset: 1,
            ..all.clone()
        };
        let (page, total) = store.desk_items(&paged).await.expect("page");
        assert_eq!((page.len(), total), (1, 3));
        assert_eq!(page[0].headline.as_deref(), Some("Harbour reopens"));
        // A contributor's list: what is published and what they wrote, nothing else.
        let seen_by = |email: &str| newsdesk_store::DeskQuery {
            published_or_written_by: Some(email.into()),
            ..all.clone()
        };
        let (mine, total) = store
            .desk_items(&seen_by("writer@example.org"))
            .await
            .expect("writer's list");
        assert_eq!(total, 2);
        let headlines: Vec<_> = mine.iter().filter_map(|i| i.headline.clone()).collect();
        assert_eq!(headlines, ["Harbour reopens", "Harbour gates: 100% closed"]);
        let (theirs, total) = store
            .desk_items(&seen_by("other@example.org"))
            .await
            .expect("other's list");
        assert_eq!(total, 1);
        assert_eq!(theirs[0].headline.as_deref(), Some("Harbour reopens"));
    })
    .await;
}

#[tokio::test]
async fn a_changed_slug_leaves_a_redirect_until_another_item_takes_the_address() {
    each_backend(|store| async move {
        let now = Timestamp::from_second(1_800_000_000).expect("time");
        let (valid, saved) = publish(&*store, "a", now).await;
        let old_slug = valid.slug.clone();
        let mut moved = valid.clone();
        moved.slug = "harbour-gates-close".into();
        store
            .update_item(saved.item.id, 1, &moved, times(now), "a", now)
            .await
            .expect("rename");
        assert_eq!(
            store.redirect_for("en", &old_slug).await.expect("lookup"),
            Some(saved.item.id)
        );
        assert_eq!(
            store
                .redirect_for("en", "harbour-gates-close")
                .await
                .expect("lookup"),
            None
        );

        let mut newcomer = valid.clone();
        newcomer.headline = Some("A different story".into());
        store
            .create_item(&newcomer, times(now), "b", now)
            .await
            .expect("reuse the address");
        assert_eq!(
            store.redirect_for("en", &old_slug).await.expect("lookup"),
            None,
            "the address has a new owner"
        );
    })
    .await;
}

#[tokio::test]
async fn every_item_save_writes_its_audit_line_in_the_same_transaction() {
    each_backend(|store| async move {
        let now = Timestamp::from_second(1_800_000_000).expect("time");
        let (valid, saved) = publish(&*store, "editor@example.org", now).await;
        let mut down = valid.clone();
        down.status = ItemStatus::Unpublished;
        store
            .update_item(
                saved.item.id,
                1,
                &down,
                times(now),
                "chief@example.org",
                now,
            )
            .await
            .expect("unpublish");
        store
            .record_audit(
                "command line",
                "disabled the account",
                "account:x@example.org",
                "",
                now,
            )
            .await
            .expect("record");
        let (entries, total) = store.audit_log(10, 0).await.expect("log");
        assert_eq!(total, 3);
        let lines: Vec<_> = entries
            .iter()
            .map(|e| (e.actor.as_str(), e.action.as_str()))
            .collect();
        assert_eq!(
            lines,
            [
                ("command line", "disabled the account"),
                ("chief@example.org", "unpublished"),
                ("editor@example.org", "published"),
            ]
        );
        assert_eq!(entries[1].subject, format!("item:{}", saved.item.id));
    })
    .await;
}

#[tokio::test]
async fn a_note_is_a_new_version_with_its_event_and_a_stale_one_conflicts() {
    each_backend(|store| async move {
        let now = Timestamp::from_second(1_800_000_000).expect("time");
        let (_, saved) = publish(&*store, "a", now).await;
        let later = now + jiff::SignedDuration::from_mins(30);
        let noted = store
            .add_note(
                saved.item.id,
                1,
                newsdesk_core::NoteKind::Update,
                "Ferries resume.",
                "b",
                later,
            )
            .await
            .expect("note");
        assert_eq!(noted.item.version, 2);
        assert_eq!(noted.item.updated_at, Some(later));
        assert_eq!(noted.item.notes.len(), 1);
        assert_eq!(noted.item.notes[0].text, "Ferries resume.");
        assert_eq!(noted.event.map(|e| e.kind), Some(EventKind::ItemUpdated));
        let stale = store
            .add_note(
                saved.item.id,
                1,
                newsdesk_core::NoteKind::Correction,
                "x",
                "c",
                later,
            )
            .await;
        assert!(
            matches!(stale, Err(StoreError::Conflict { current: 2 })),
            "{stale:?}"
        );
        let reread = store
            .item_by_id(saved.item.id)
            .await
            .expect("read")
            .expect("exists");
        assert_eq!(reread.notes, noted.item.notes);
    })
    .await;
}

#[tokio::test]
async fn a_draft_is_deleted_whole_and_a_once_published_item_is_not() {
    each_backend(|store| async move {
        let now = Timestamp::now();
        let draft = story(ItemStatus::Draft)
            .validate(&Config::default(), &Config::default().seed_sections())
            .expect("valid");
        let no_times = PublicationTimes {
            first_published_at: None,
            published_at: None,
            updated_at: None,
        };
        let saved = store
            .create_item(&draft, no_times, "writer@example.org", now)
            .await
            .expect("create");
        let id = saved.item.id;
        assert!(matches!(
            store.delete_item(id, 7, "writer@example.org", now).await,
            Err(StoreError::Conflict { current: 1 })
        ));
        store
            .delete_item(id, 1, "writer@example.org", now)
            .await
            .expect("delete");
        assert_eq!(store.item_by_id(id).await.expect("get"), None);
        assert!(store.revisions(id).await.expect("revisions").is_empty());
        let (audit, _) = store.audit_log(5, 0).await.expect("audit");
        assert_eq!(audit[0].action, "deleted the item");
        assert_eq!(audit[0].subject, format!("item:{id}"));
        assert!(matches!(
            store.delete_item(id, 1, "writer@example.org", now).await,
            Err(StoreError::NotFound)
        ));

        let (_, published) = publish(store.as_ref(), "editor@example.org", now).await;
        assert!(matches!(
            store
                .delete_item(
                    published.item.id,
                    published.item.version,
                    "editor@example.org",
                    now
                )
                .await,
            Err(StoreError::WasPublished)
        ));
        assert!(
            store
                .item_by_id(published.item.id)
                .await
                .expect("get")
                .is_some()
        );
    })
    .await;
}

#[tokio::test]
async fn related_choices_are_kept_in_order_and_announce_the_page() {
    each_backend(|store| async move {
        let now = Timestamp::now();
        let (_, subject) = publish(&*store, "test", now).await;
        let mut others = Vec::new();
        for slug in ["second", "third"] {
            let mut input = story(ItemStatus::Published);
            input.slug = Some(slug.into());
            let valid = input
                .validate(&Config::default(), &Config::default().seed_sections())
                .expect("valid");
            others.push(
                store
                    .create_item(&valid, times(now), "test", now)
                    .await
                    .expect("create")
                    .item
                    .id,
            );
        }
        let id = subject.item.id;
        assert_eq!(
            store.related_choices(id).await.expect("read"),
            Default::default()
        );
        assert_eq!(
            store.story_facts(id).await.expect("facts"),
            Default::default(),
            "no choices, comments open, none posted"
        );
        let choices = newsdesk_store::RelatedChoices {
            pinned: vec![others[1], others[0]],
            excluded: vec![],
        };
        let event = store
            .set_related_choices(id, &choices, "editor", now)
            .await
            .expect("save")
            .expect("a published item's page is announced");
        assert_eq!(event.kind, EventKind::ItemUpdated);
        assert_eq!(event.keys, [format!("item:{id}")]);
        assert_eq!(store.related_choices(id).await.expect("read"), choices);
        store
            .set_story_commenting(id, true, true, "editor", now)
            .await
            .expect("close");
        let facts = store.story_facts(id).await.expect("facts");
        assert_eq!(facts.related, choices, "pins in their order");
        assert!(facts.closed_by_hand && facts.premoderated);
        let swapped = newsdesk_store::RelatedChoices {
            pinned: vec![],
            excluded: vec![others[0]],
        };
        store
            .set_related_choices(id, &swapped, "editor", now)
            .await
            .expect("save");
        assert_eq!(store.related_choices(id).await.expect("read"), swapped);
        assert!(matches!(
            store
                .set_related_choices(
                    id,
                    &newsdesk_store::RelatedChoices {
                        pinned: vec![9999],
                        excluded: vec![]
                    },
                    "editor",
                    now
                )
                .await,
            Err(StoreError::NotFound)
        ));
        let by_ids = store
            .published_by_ids(&[others[1], 9999, id])
            .await
            .expect("by ids");
        assert_eq!(
            by_ids.iter().map(|i| i.id).collect::<Vec<_>>(),
            [others[1], id]
        );
        let after = store.published_after_id(id, 10).await.expect("after");
        assert_eq!(after.iter().map(|i| i.id).collect::<Vec<_>>(), others);
    })
    .await;
}
