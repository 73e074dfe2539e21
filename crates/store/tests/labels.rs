//! Sections, tags, authors and roles as the desk changes them, on every backend: each change
//! is audited and announced by a `site_changed` event in its own transaction, and what would
//! break the site (a section or author in use, the last admin) is refused.

mod backends;

use std::collections::BTreeMap;

use backends::each_backend;
use jiff::Timestamp;
use newsdesk_core::config::Section;
use newsdesk_core::{
    Author, Config, EventKind, ItemInput, ItemKind, ItemStatus, PublicationTimes, Role,
};
use newsdesk_store::{SiteChange, Store, StoreError};

fn section(slug: &str, name: &str) -> Section {
    Section {
        slug: slug.into(),
        name: name.into(),
        names: BTreeMap::new(),
    }
}

const KEYS: &[String] = &[];

fn change(now: Timestamp) -> SiteChange<'static> {
    SiteChange {
        actor: "editor@example.org",
        now,
        keys: KEYS,
    }
}

async fn file_a_story(store: &dyn Store, now: Timestamp) {
    let valid = ItemInput {
        kind: Some(ItemKind::Story),
        section: Some("world".into()),
        headline: Some("Ferries wait out the storm".into()),
        body: "Crossings resume tomorrow.".into(),
        tags: vec!["storms".into()],
        authors: vec!["amina-rahimova".into()],
        status: Some(ItemStatus::Draft),
        ..Default::default()
    }
    .validate(&Config::default(), &Config::default().seed_sections())
    .expect("valid");
    store
        .create_item(
            &valid,
            PublicationTimes {
                first_published_at: None,
                published_at: None,
                updated_at: None,
            },
            "editor@example.org",
            now,
        )
        .await
        .expect("create");
}

async fn audit_actions(store: &dyn Store) -> Vec<String> {
    let (entries, _) = store.audit_log(100, 0).await.expect("audit");
    entries.into_iter().map(|e| e.action).collect()
}

#[tokio::test]
async fn sections_are_seeded_once_then_added_renamed_moved_and_deleted() {
    each_backend(|store| async move {
        let now = Timestamp::now();
        let seed = [section("world", "World"), section("science", "Science")];
        assert!(store.seed_sections(&seed).await.expect("seed"));
        assert!(
            !store
                .seed_sections(&[section("other", "Other")])
                .await
                .expect("seed again")
        );
        assert_eq!(store.sections().await.expect("list"), seed);

        let before = store.last_event_id().await.expect("last");
        let mut elections = section("elections", "Elections");
        elections.names.insert("ru".into(), "Выборы".into());
        let event = store
            .add_section(&elections, change(now))
            .await
            .expect("add");
        assert_eq!(event.kind, EventKind::SiteChanged);
        assert_eq!(event.item_id, None);
        assert!(event.id > before);
        assert_eq!(
            store
                .add_section(&section("elections", "Again"), change(now))
                .await
                .err()
                .map(|e| e.to_string()),
            Some(StoreError::Duplicate { field: "slug" }.to_string())
        );
        let slugs = |list: Vec<Section>| list.into_iter().map(|s| s.slug).collect::<Vec<_>>();
        assert_eq!(
            slugs(store.sections().await.expect("list")),
            ["world", "science", "elections"]
        );

        store
            .move_section("elections", true, change(now))
            .await
            .expect("up");
        assert_eq!(
            slugs(store.sections().await.expect("list")),
            ["world", "elections", "science"]
        );
        store
            .move_section("world", true, change(now))
            .await
            .expect("first stays first");
        assert_eq!(
            slugs(store.sections().await.expect("list")),
            ["world", "elections", "science"]
        );

        store
            .update_section(&section("world", "World news"), change(now))
            .await
            .expect("rename");
        let listed = store.sections().await.expect("list");
        assert_eq!(listed[0].name, "World news");
        assert_eq!(
            listed[1].names.get("ru").map(String::as_str),
            Some("Выборы")
        );
        assert!(matches!(
            store
                .update_section(&section("nowhere", "X"), change(now))
                .await,
            Err(StoreError::NotFound)
        ));

        file_a_story(store.as_ref(), now).await;
        match store.delete_section("world", change(now)).await {
            Err(StoreError::InUse { items, .. }) => assert_eq!(items, 1),
            other => panic!("a section in use was deleted: {other:?}"),
        }
        store
            .delete_section("elections", change(now))
            .await
            .expect("delete empty");
        assert_eq!(
            slugs(store.sections().await.expect("list")),
            ["world", "science"]
        );
        let actions = audit_actions(store.as_ref()).await;
        for action in [
            "added the section",
            "reordered the sections",
            "renamed the section",
            "deleted the section",
        ] {
            assert!(
                actions.iter().any(|a| a == action),
                "{action} in {actions:?}"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn tags_are_renamed_and_deleted_from_every_item() {
    each_backend(|store| async move {
        let now = Timestamp::now();
        file_a_story(store.as_ref(), now).await;
        let usage = store.tag_usage().await.expect("usage");
        assert_eq!(usage.len(), 1);
        assert_eq!(
            (usage[0].label.slug.as_str(), usage[0].items),
            ("storms", 1)
        );

        store
            .rename_tag("storms", "Storm season", change(now))
            .await
            .expect("rename");
        assert_eq!(
            store.tag("storms").await.expect("tag").map(|t| t.name),
            Some("Storm season".into())
        );
        assert!(matches!(
            store.rename_tag("nothing", "X", change(now)).await,
            Err(StoreError::NotFound)
        ));

        let event = store
            .delete_tag("storms", change(now))
            .await
            .expect("delete");
        assert_eq!(event.kind, EventKind::SiteChanged);
        assert_eq!(store.tag("storms").await.expect("tag"), None);
        let (items, _) = store
            .desk_items(&newsdesk_store::DeskQuery {
                limit: 10,
                ..Default::default()
            })
            .await
            .expect("items");
        assert!(items[0].tags.is_empty(), "{:?}", items[0].tags);
    })
    .await;
}

#[tokio::test]
async fn authors_are_added_updated_and_deleted_only_when_unused() {
    each_backend(|store| async move {
        let now = Timestamp::now();
        let nadia = Author {
            slug: "nadia-okafor".into(),
            name: "Nadia Okafor".into(),
            bio: "Covers courts.".into(),
        };
        store.add_author(&nadia, change(now)).await.expect("add");
        assert!(matches!(
            store.add_author(&nadia, change(now)).await,
            Err(StoreError::Duplicate { field: "slug" })
        ));
        let longer = Author {
            bio: "Covers courts and councils.".into(),
            ..nadia.clone()
        };
        store
            .update_author(&longer, change(now))
            .await
            .expect("update");
        assert_eq!(
            store.author("nadia-okafor").await.expect("get"),
            Some(longer)
        );

        file_a_story(store.as_ref(), now).await;
        let usage = store.author_usage().await.expect("usage");
        let amina = usage
            .iter()
            .find(|u| u.label.slug == "amina-rahimova")
            .expect("amina");
        assert_eq!(amina.items, 1);
        assert!(matches!(
            store.delete_author("amina-rahimova", change(now)).await,
            Err(StoreError::InUse { items: 1, .. })
        ));
        store
            .delete_author("nadia-okafor", change(now))
            .await
            .expect("delete unused");
        assert_eq!(store.author("nadia-okafor").await.expect("get"), None);
    })
    .await;
}

#[tokio::test]
async fn a_role_change_is_audited_and_the_last_admin_stays() {
    each_backend(|store| async move {
        let now = Timestamp::now();
        let admin = store
            .create_account(
                "admin@example.org",
                "Admin",
                Role::Admin,
                "$argon2id$x",
                now,
            )
            .await
            .expect("admin");
        let writer = store
            .create_account(
                "writer@example.org",
                "Writer",
                Role::Contributor,
                "$argon2id$y",
                now,
            )
            .await
            .expect("writer");
        let promoted = store
            .set_account_role(writer.id, Role::Editor, "admin@example.org", now)
            .await
            .expect("promote");
        assert_eq!(promoted.role, Role::Editor);
        assert!(matches!(
            store
                .set_account_role(admin.id, Role::Editor, "admin@example.org", now)
                .await,
            Err(StoreError::LastAdmin)
        ));
        store
            .set_account_role(writer.id, Role::Admin, "admin@example.org", now)
            .await
            .expect("second admin");
        store
            .set_account_role(admin.id, Role::Editor, "writer@example.org", now)
            .await
            .expect("one admin may step down while another remains");
        assert!(matches!(
            store.set_account_role(9999, Role::Editor, "x", now).await,
            Err(StoreError::NotFound)
        ));
        let (entries, _) = store.audit_log(10, 0).await.expect("audit");
        let changes: Vec<(&str, &str)> = entries
            .iter()
            .filter(|e| e.subject == "account:writer@example.org" && e.action == "changed the role")
            .map(|e| (e.actor.as_str(), e.detail.as_str()))
            .collect();
        assert_eq!(
            changes,
            [
                ("admin@example.org", "editor → admin"),
                ("admin@example.org", "contributor → editor")
            ]
        );
    })
    .await;
}

#[tokio::test]
async fn the_media_library_keeps_each_image_once_newest_first_and_finds_by_words() {
    each_backend(|store| async move {
        let start = Timestamp::now();
        let image = |n: i64, caption: &str| newsdesk_store::LibraryImage {
            path: format!("uploads/2026/11/{n:04}.jpg"),
            width: 1600,
            height: 900,
            alt: format!("Picture {n}"),
            caption: caption.into(),
            credit: "Staff".into(),
            uploaded_by: "writer@example.org".into(),
            created_at: start + jiff::SignedDuration::from_secs(n),
        };
        for n in 1..=5 {
            store
                .add_to_library(&image(
                    n,
                    if n == 3 {
                        "The 100% solar ferry"
                    } else {
                        "Harbour"
                    },
                ))
                .await
                .expect("add");
        }
        // The same bytes uploaded again keep the first entry and its words.
        store
            .add_to_library(&image(2, "Another caption"))
            .await
            .expect("again");
        let (page, total) = store.library(None, 2, 0).await.expect("page");
        assert_eq!(total, 5);
        let paths: Vec<_> = page.iter().map(|i| i.path.as_str()).collect();
        assert_eq!(
            paths,
            ["uploads/2026/11/0005.jpg", "uploads/2026/11/0004.jpg"]
        );
        let (rest, _) = store.library(None, 2, 4).await.expect("last page");
        assert_eq!(rest.len(), 1);
        let second = store
            .library_image("uploads/2026/11/0002.jpg")
            .await
            .expect("get")
            .expect("there");
        assert_eq!(second.caption, "Harbour");
        assert_eq!((second.width, second.height), (1600, 900));

        let (found, total) = store.library(Some("SOLAR"), 10, 0).await.expect("search");
        assert_eq!((found.len(), total), (1, 1));
        let (found, _) = store.library(Some("100%"), 10, 0).await.expect("percent");
        assert_eq!(found.len(), 1, "a literal percent sign");
        let (found, _) = store.library(Some("1_0"), 10, 0).await.expect("underscore");
        assert!(found.is_empty(), "an underscore is not a wildcard");
        assert_eq!(
            store.library_image("uploads/none.jpg").await.expect("get"),
            None
        );
    })
    .await;
}
