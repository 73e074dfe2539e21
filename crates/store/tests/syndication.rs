//! The reads behind sitemaps and feeds, on every backend: publication times for the monthly
//! item sitemaps, items by publication window (the news sitemap's two days), and which
//! section, tag and author listings have published items.

mod backends;

use backends::each_backend;
use jiff::{SignedDuration, Timestamp};
use newsdesk_core::{Config, ItemInput, ItemKind, ItemStatus};
use newsdesk_store::{ListingKind, PublicationTimes, Store};

async fn publish(
    store: &dyn Store,
    slug: &str,
    at: Timestamp,
    updated: Option<Timestamp>,
    status: ItemStatus,
) -> i64 {
    let valid = ItemInput {
        kind: Some(ItemKind::Story),
        section: Some("world".into()),
        slug: Some(slug.into()),
        headline: Some(format!("Story {slug}")),
        body: "Text.".into(),
        tags: vec!["storms".into()],
        authors: vec!["amina-rahimova".into()],
        status: Some(status),
        ..Default::default()
    }
    .validate(&Config::default(), &Config::default().seed_sections())
    .expect("valid");
    let times = PublicationTimes {
        first_published_at: Some(at),
        published_at: Some(at),
        updated_at: updated,
    };
    store
        .create_item(&valid, times, "test", at)
        .await
        .expect("create")
        .item
        .id
}

#[tokio::test]
async fn sitemap_reads_see_only_published_items_with_their_real_times() {
    each_backend(|store| async move {
        let t0: Timestamp = "2026-10-31T23:59:59Z".parse().expect("time");
        let t1: Timestamp = "2026-11-01T00:00:00Z".parse().expect("time");
        let later = t1 + SignedDuration::from_hours(5);
        let a = publish(&*store, "a", t0, None, ItemStatus::Published).await;
        let b = publish(&*store, "b", t1, Some(later), ItemStatus::Published).await;
        publish(&*store, "draft", t1, None, ItemStatus::Draft).await;

        let times = store.published_times().await.expect("times");
        assert_eq!(times.len(), 2, "drafts are not in sitemaps");
        assert_eq!(times[0].published_at, t0);
        assert_eq!(times[0].last_changed, t0);
        assert_eq!(
            times[1].last_changed, later,
            "an update is the real lastmod"
        );

        // The window is half-open: an item exactly at `until` belongs to the next one.
        let november = store
            .published_between(t1, t1 + SignedDuration::from_hours(24 * 30), 10, 0)
            .await
            .expect("november");
        assert_eq!(november.iter().map(|i| i.id).collect::<Vec<_>>(), vec![b]);
        assert_eq!(november[0].tags[0].slug, "storms", "labels come along");
        let october = store
            .published_between(t0 - SignedDuration::from_hours(1), t1, 10, 0)
            .await
            .expect("october");
        assert_eq!(october.iter().map(|i| i.id).collect::<Vec<_>>(), vec![a]);
        let paged = store
            .published_between(t0, later, 1, 1)
            .await
            .expect("page 2");
        assert_eq!(paged.iter().map(|i| i.id).collect::<Vec<_>>(), vec![a]);

        let every_kind = [ListingKind::Section, ListingKind::Tag, ListingKind::Author];
        let activity = store.listing_activity(&every_kind).await.expect("activity");
        for kind in every_kind {
            let alone = store.listing_activity(&[kind]).await.expect("one kind");
            assert!(alone.iter().all(|l| l.kind == kind), "{kind:?}: {alone:?}");
            assert_eq!(
                alone,
                activity
                    .iter()
                    .filter(|l| l.kind == kind)
                    .cloned()
                    .collect::<Vec<_>>()
            );
            let found: Vec<_> = activity.iter().filter(|l| l.kind == kind).collect();
            assert_eq!(found.len(), 1, "{kind:?}: {activity:?}");
            assert_eq!(found[0].language, "en");
            assert_eq!(found[0].last_changed, later, "{kind:?}");
        }
        assert_eq!(
            activity.iter().map(|l| l.slug.as_str()).collect::<Vec<_>>(),
            vec!["world", "storms", "amina-rahimova"]
        );
    })
    .await;
}
