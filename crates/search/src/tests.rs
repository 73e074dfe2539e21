use jiff::{SignedDuration, Timestamp};
use newsdesk_core::{Item, ItemKind, ItemStatus, Tag};

use super::*;

fn item(id: i64, language: &str, headline: &str, body: &str, tags: &[&str], days_ago: i64) -> Item {
    let now = Timestamp::now();
    let at = now - SignedDuration::from_hours(24 * days_ago);
    Item {
        id,
        kind: ItemKind::Story,
        status: ItemStatus::Published,
        language: language.into(),
        translation_group: None,
        section: "world".into(),
        slug: format!("item-{id}"),
        headline: Some(headline.into()),
        standfirst: None,
        body_markdown: body.into(),
        body_html: format!("<p>{}</p>", body.replace('&', "&amp;").replace('<', "&lt;")),
        hero: None,
        breaking: false,
        tags: tags
            .iter()
            .map(|t| Tag {
                slug: (*t).into(),
                name: (*t).into(),
            })
            .collect(),
        authors: Vec::new(),
        sources: Vec::new(),
        notes: Vec::new(),
        first_published_at: Some(at),
        published_at: Some(at),
        updated_at: None,
        created_at: at,
        changed_at: at,
        version: 1,
    }
}

fn index_of(items: &[Item]) -> (tempfile::TempDir, SearchIndex) {
    let dir = tempfile::tempdir().expect("tempdir");
    let index = SearchIndex::create(&dir.path().join("search")).expect("create");
    for i in items {
        index.put(i).expect("put");
    }
    index.commit(7).expect("commit");
    (dir, index)
}

fn ids(index: &SearchIndex, text: &str) -> Vec<i64> {
    index
        .search(&SearchRequest {
            text: text.into(),
            filters: Filters::default(),
            sort: Sort::Relevance,
            offset: 0,
            limit: 10,
            now: Timestamp::now(),
        })
        .expect("search")
        .hits
        .iter()
        .map(|h| h.id)
        .collect()
}

#[test]
fn folding_finds_turkish_names_however_they_are_typed() {
    let (_d, index) = index_of(&[
        item(
            1,
            "tr",
            "Türkiye seçimlere gidiyor",
            "İstanbul'da sandıklar açıldı.",
            &[],
            1,
        ),
        item(2, "en", "Weather", "Sunny in Oslo.", &[], 1),
    ]);
    assert_eq!(ids(&index, "Turkiye"), [1]);
    assert_eq!(ids(&index, "türkiye"), [1]);
    assert_eq!(ids(&index, "istanbul"), [1]);
    assert_eq!(ids(&index, "ISTANBUL"), [1]);
}

#[test]
fn phrases_need_their_words_in_order() {
    let (_d, index) = index_of(&[
        item(
            1,
            "en",
            "Tidal barrier closes",
            "The tidal barrier closed.",
            &[],
            1,
        ),
        item(
            2,
            "en",
            "Barrier and tide",
            "A barrier; the tidal range.",
            &[],
            1,
        ),
    ]);
    assert_eq!(ids(&index, "\"tidal barrier\""), [1]);
    let mut both = ids(&index, "tidal barrier");
    both.sort_unstable();
    assert_eq!(both, [1, 2]);
}

#[test]
fn headline_matches_rank_above_body_mentions_and_recent_above_old() {
    let (_d, index) = index_of(&[
        item(1, "en", "Budget talks", "The harbour was quiet.", &[], 1),
        item(2, "en", "Harbour reopens", "Boats returned.", &[], 1),
        item(3, "en", "Harbour reopens", "Boats returned.", &[], 400),
    ]);
    assert_eq!(ids(&index, "harbour"), [2, 3, 1]);
}

#[test]
fn checkpoint_survives_reopening_and_a_torn_index_is_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("search");
    {
        let index = SearchIndex::create(&path).expect("create");
        index.put(&item(1, "en", "A", "b", &[], 1)).expect("put");
        index.commit(41).expect("commit");
    }
    let (index, checkpoint) = SearchIndex::open(&path).expect("open");
    assert_eq!(checkpoint.cursor, 41);
    assert_eq!(index.len(), 1);
    drop(index);
    std::fs::write(path.join("meta.json"), "{not json").expect("write");
    assert!(matches!(
        SearchIndex::open(&path),
        Err(Unusable::Corrupt(_))
    ));
    assert!(matches!(
        SearchIndex::open(&dir.path().join("none")),
        Err(Unusable::Missing)
    ));
}

#[test]
fn snippets_mark_matches_and_keep_hostile_text_as_text() {
    let (_d, index) = index_of(&[item(
        1,
        "en",
        "<script>alert(1)</script> harbour",
        "Before. <img src=x onerror=alert(1)> The harbour gates & more.",
        &[],
        1,
    )]);
    let outcome = index
        .search(&SearchRequest {
            text: "harbour".into(),
            filters: Filters::default(),
            sort: Sort::Relevance,
            offset: 0,
            limit: 10,
            now: Timestamp::now(),
        })
        .expect("search");
    let h = outcome
        .highlighter
        .headline("<script>alert(1)</script> harbour", "en");
    assert_eq!(
        h,
        "&lt;script&gt;alert(1)&lt;/script&gt; <mark>harbour</mark>"
    );
    let s = outcome.highlighter.snippet(
        "Before. <img src=x onerror=alert(1)> The harbour gates & more.",
        "en",
        200,
    );
    assert!(s.contains("&lt;img src=x onerror=alert(1)&gt;"), "{s}");
    assert!(s.contains("<mark>harbour</mark> gates &amp; more"), "{s}");
}

#[test]
fn related_items_share_words_or_tags_and_language() {
    let (_d, index) = index_of(&[
        item(
            1,
            "en",
            "Flood barrier closes",
            "The flood barrier at Port Halden closed.",
            &["floods"],
            1,
        ),
        item(
            2,
            "en",
            "Flood barrier tested",
            "Engineers tested the flood barrier.",
            &[],
            3,
        ),
        item(
            3,
            "en",
            "Rain warning",
            "Heavy rain expected.",
            &["floods"],
            2,
        ),
        item(4, "en", "Chess final", "A draw in the final.", &[], 1),
        item(5, "ru", "Flood barrier", "flood barrier", &["floods"], 1),
    ]);
    let subject = item(
        1,
        "en",
        "Flood barrier closes",
        "The flood barrier at Port Halden closed.",
        &["floods"],
        1,
    );
    let related: Vec<i64> = index
        .related(&subject, 5, &[], Timestamp::now())
        .expect("related")
        .iter()
        .map(|h| h.id)
        .collect();
    assert!(related.contains(&2) && related.contains(&3), "{related:?}");
    assert!(
        !related.contains(&1) && !related.contains(&4) && !related.contains(&5),
        "{related:?}"
    );
    let skipped: Vec<i64> = index
        .related(&subject, 5, &[2], Timestamp::now())
        .expect("related")
        .iter()
        .map(|h| h.id)
        .collect();
    assert!(!skipped.contains(&2));
}

#[test]
fn a_second_writer_on_the_same_directory_is_refused_as_busy() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("search");
    let first = SearchIndex::create(&path).expect("create");
    first.commit(1).expect("commit");
    assert!(
        matches!(SearchIndex::open(&path), Err(Unusable::Busy)),
        "{:?}",
        SearchIndex::open(&path).err()
    );
}

#[test]
fn the_words_that_pick_related_items_are_bounded_by_the_root_of_the_archive() {
    // A small site keeps every word it has; a large one drops its most common.
    assert_eq!(related_max_doc_frequency(20), 50);
    assert_eq!(related_max_doc_frequency(2_000), 447);
    assert_eq!(related_max_doc_frequency(100_000), 3_162);
}
