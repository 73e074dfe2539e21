//! The search index of published stories and briefs: its schema, writing items into it,
//! reading queries typed by readers, ranking, snippets and related items. It holds no
//! content of its own (nothing is stored but ids): it is derived from the database and can
//! always be thrown away and rebuilt. It never reads the database itself.

mod analysis;
mod highlight;
#[doc(hidden)]
pub mod labelled;
mod query;

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use jiff::Timestamp;
use newsdesk_core::Item;
use serde::{Deserialize, Serialize};
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{
    BooleanQuery, BoostQuery, MoreLikeThisQuery, Occur, Query, RangeQuery, TermQuery,
};
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, OwnedValue, STRING, Schema, TextFieldIndexing,
    TextOptions,
};
use tantivy::{
    DocAddress, Index, IndexReader, IndexWriter, Order, ReloadPolicy, TantivyDocument, Term,
};

pub use analysis::Analyzer;
pub use highlight::Highlighter;
pub use query::{MAX_QUERY_CHARS, ParsedQuery};

/// Bumped whenever the schema or an analyzer changes: an index written under another
/// version is rebuilt at start rather than read wrongly.
pub const SCHEMA_VERSION: u32 = 1;
/// Memory the writer may buffer before it flushes a segment (tantivy's floor is 15 MB).
const WRITER_MEMORY: usize = 64 * 1024 * 1024;
/// News decays: a match this many days old weighs half of today's recency share.
const RECENCY_HALF_LIFE_DAYS: f64 = 60.0;
/// The share of a search score that recency can move: relevance stays in charge.
const SEARCH_RECENCY_SHARE: f32 = 0.3;
/// Related items lean harder on recency: a reader of today's story wants this week's.
const RELATED_RECENCY_SHARE: f32 = 0.5;

/// Headline and standfirst say what a story is about; the body mentions much in passing.
const TEXT_FIELDS: [(&str, f32); 3] = [("headline", 3.0), ("standfirst", 2.0), ("body", 1.0)];

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("search index directory: {0}")]
    Io(#[from] std::io::Error),
    #[error("search index opened in {0}: {1}")]
    Open(PathBuf, tantivy::TantivyError),
}

pub type Result<T, E = SearchError> = std::result::Result<T, E>;

/// What the last commit recorded: which schema wrote it and the last event it includes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub schema: u32,
    /// The id of the last event whose change the index holds.
    pub cursor: i64,
}

/// Why an index on disk cannot be used as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unusable {
    Missing,
    /// Another process (a second instance on the same data directory, or `reindex` while
    /// the server runs) holds the writer lock. Never rebuilt over: that would pull the index
    /// out from under it.
    Busy,
    Corrupt(String),
    OtherSchema(u32),
}

impl std::fmt::Display for Unusable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unusable::Missing => write!(f, "no index yet"),
            Unusable::Busy => write!(
                f,
                "in use by another newsdesk process on this data directory"
            ),
            Unusable::Corrupt(why) => write!(f, "unreadable ({why})"),
            Unusable::OtherSchema(v) => write!(
                f,
                "written by schema {v}, this build reads {SCHEMA_VERSION}"
            ),
        }
    }
}

#[derive(Clone, Copy)]
struct TextField {
    field: Field,
    analyzer: Analyzer,
    boost: f32,
}

#[derive(Clone)]
struct Fields {
    id: Field,
    published: Field,
    kind: Field,
    language: Field,
    section: Field,
    tag: Field,
    author: Field,
    /// headline, standfirst, body × every analyzer.
    text: Vec<(&'static str, TextField)>,
}

impl Fields {
    fn schema() -> (Schema, Fields) {
        let mut b = Schema::builder();
        let id = b.add_i64_field("id", INDEXED | FAST);
        let published = b.add_i64_field("published", INDEXED | FAST);
        let kind = b.add_text_field("kind", STRING);
        let language = b.add_text_field("language", STRING);
        let section = b.add_text_field("section", STRING);
        let tag = b.add_text_field("tag", STRING);
        let author = b.add_text_field("author", STRING);
        let mut text = Vec::new();
        for (name, boost) in TEXT_FIELDS {
            for analyzer in Analyzer::ALL {
                let options = TextOptions::default().set_indexing_options(
                    TextFieldIndexing::default()
                        .set_tokenizer(analyzer.name())
                        .set_index_option(IndexRecordOption::WithFreqsAndPositions),
                );
                let field = b.add_text_field(&format!("{name}_{}", analyzer.suffix()), options);
                text.push((
                    name,
                    TextField {
                        field,
                        analyzer,
                        boost,
                    },
                ));
            }
        }
        (
            b.build(),
            Fields {
                id,
                published,
                kind,
                language,
                section,
                tag,
                author,
                text,
            },
        )
    }

    fn text_field(&self, name: &str, analyzer: Analyzer) -> Option<Field> {
        self.text
            .iter()
            .find(|(n, t)| *n == name && t.analyzer == analyzer)
            .map(|(_, t)| t.field)
    }
}

/// Which published items a search wants; every filter is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    pub section: Option<String>,
    pub tag: Option<String>,
    pub author: Option<String>,
    pub language: Option<String>,
    /// `story` or `brief`.
    pub kind: Option<String>,
    /// Published at or after.
    pub from: Option<Timestamp>,
    /// Published before.
    pub until: Option<Timestamp>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Sort {
    #[default]
    Relevance,
    Newest,
}

#[derive(Debug, Clone)]
pub struct SearchRequest {
    /// What the reader typed (words, "quoted phrases", -excluded words).
    pub text: String,
    pub filters: Filters,
    pub sort: Sort,
    pub offset: usize,
    pub limit: usize,
    /// Recency is measured from here.
    pub now: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    pub id: i64,
    pub score: f32,
}

pub struct SearchOutcome {
    pub total: usize,
    pub hits: Vec<Hit>,
    /// No item had every word, so these have any of them.
    pub relaxed: bool,
    pub highlighter: Highlighter,
}

pub struct SearchIndex {
    dir: PathBuf,
    reader: IndexReader,
    /// tantivy allows one writer per index; its lock file keeps other processes out.
    writer: Mutex<IndexWriter>,
    fields: Fields,
}

fn register_analyzers(index: &Index) {
    for analyzer in Analyzer::ALL {
        index
            .tokenizers()
            .register(analyzer.name(), analyzer.build());
    }
}

fn micros_to_secs(t: Timestamp) -> i64 {
    t.as_second()
}

impl SearchIndex {
    /// Opens the index in `dir` as it is, or says why it cannot be used.
    pub fn open(dir: &Path) -> Result<(SearchIndex, Checkpoint), Unusable> {
        if !dir.join("meta.json").is_file() {
            return Err(Unusable::Missing);
        }
        let index = Index::open_in_dir(dir).map_err(|e| Unusable::Corrupt(e.to_string()))?;
        let checkpoint = index
            .load_metas()
            .map_err(|e| Unusable::Corrupt(e.to_string()))?
            .payload
            .and_then(|p| serde_json::from_str::<Checkpoint>(&p).ok())
            .ok_or_else(|| Unusable::Corrupt("no checkpoint in the last commit".into()))?;
        if checkpoint.schema != SCHEMA_VERSION {
            return Err(Unusable::OtherSchema(checkpoint.schema));
        }
        let (expected, _) = Fields::schema();
        if index.schema() != expected {
            return Err(Unusable::OtherSchema(checkpoint.schema));
        }
        let search = SearchIndex::from_index(dir, index).map_err(|e| match e {
            SearchError::Open(_, tantivy::TantivyError::LockFailure(..)) => Unusable::Busy,
            e => Unusable::Corrupt(e.to_string()),
        })?;
        // Reading every segment's postings would be slow; opening a searcher reads each
        // segment's footer, which catches truncated files.
        search
            .reader
            .searcher()
            .segment_readers()
            .iter()
            .try_for_each(|s| s.fast_fields().i64("id").map(|_| ()))
            .map_err(|e| Unusable::Corrupt(e.to_string()))?;
        Ok((search, checkpoint))
    }

    /// Creates an empty index in `dir`, removing whatever was there.
    pub fn create(dir: &Path) -> Result<SearchIndex> {
        if dir.exists() {
            std::fs::remove_dir_all(dir)?;
        }
        std::fs::create_dir_all(dir)?;
        let (schema, _) = Fields::schema();
        let index =
            Index::create_in_dir(dir, schema).map_err(|e| SearchError::Open(dir.to_owned(), e))?;
        SearchIndex::from_index(dir, index)
    }

    fn from_index(dir: &Path, index: Index) -> Result<SearchIndex> {
        register_analyzers(&index);
        let (_, fields) = Fields::schema();
        let writer = index
            .writer_with_num_threads(1, WRITER_MEMORY)
            .map_err(|e| SearchError::Open(dir.to_owned(), e))?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(SearchIndex {
            dir: dir.to_owned(),
            reader,
            writer: Mutex::new(writer),
            fields,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Items in the index as of the last commit.
    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn writer(&self) -> std::sync::MutexGuard<'_, IndexWriter> {
        self.writer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Puts `item` in the index in place of any earlier version (seen after `commit`).
    pub fn put(&self, item: &Item) -> Result<()> {
        let writer = self.writer();
        writer.delete_term(Term::from_field_i64(self.fields.id, item.id));
        writer.add_document(self.document(item))?;
        Ok(())
    }

    /// Takes the item out of the index (seen after `commit`).
    pub fn remove(&self, id: i64) {
        self.writer()
            .delete_term(Term::from_field_i64(self.fields.id, id));
    }

    pub fn remove_all(&self) -> Result<()> {
        self.writer().delete_all_documents()?;
        Ok(())
    }

    /// Makes every change since the last commit durable and visible, recording that the
    /// index now holds every event up to `cursor`.
    pub fn commit(&self, cursor: i64) -> Result<()> {
        let payload = serde_json::to_string(&Checkpoint {
            schema: SCHEMA_VERSION,
            cursor,
        })
        .unwrap_or_default();
        {
            let mut writer = self.writer();
            let mut prepared = writer.prepare_commit()?;
            prepared.set_payload(&payload);
            prepared.commit()?;
        }
        self.reader.reload()?;
        Ok(())
    }

    fn document(&self, item: &Item) -> TantivyDocument {
        let f = &self.fields;
        let mut doc = TantivyDocument::default();
        doc.add_i64(f.id, item.id);
        let published = item.published_at.unwrap_or(item.changed_at);
        doc.add_i64(f.published, micros_to_secs(published));
        doc.add_text(f.kind, item.kind.as_str());
        doc.add_text(f.language, item.language.to_ascii_lowercase());
        doc.add_text(f.section, &item.section);
        for tag in &item.tags {
            doc.add_text(f.tag, &tag.slug);
        }
        for author in &item.authors {
            doc.add_text(f.author, &author.slug);
        }
        let body = newsdesk_core::text::plain_text(&item.body_html);
        let stemmed = Analyzer::stemmed_for(&item.language);
        for (name, text) in [
            ("headline", item.headline.as_deref().unwrap_or("")),
            ("standfirst", item.standfirst.as_deref().unwrap_or("")),
            ("body", body.as_str()),
        ] {
            if text.is_empty() {
                continue;
            }
            for analyzer in [Some(Analyzer::Plain), stemmed].into_iter().flatten() {
                if let Some(field) = f.text_field(name, analyzer) {
                    doc.add_text(field, text);
                }
            }
        }
        doc
    }

    fn filter_clauses(&self, filters: &Filters) -> Vec<(Occur, Box<dyn Query>)> {
        let f = &self.fields;
        let mut out: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let mut exact = |field: Field, value: &Option<String>, lower: bool| {
            if let Some(v) = value {
                let v = if lower {
                    v.to_ascii_lowercase()
                } else {
                    v.clone()
                };
                out.push((
                    Occur::Must,
                    Box::new(TermQuery::new(
                        Term::from_field_text(field, &v),
                        IndexRecordOption::Basic,
                    )),
                ));
            }
        };
        exact(f.section, &filters.section, false);
        exact(f.tag, &filters.tag, false);
        exact(f.author, &filters.author, false);
        exact(f.language, &filters.language, true);
        exact(f.kind, &filters.kind, false);
        if filters.from.is_some() || filters.until.is_some() {
            use std::ops::Bound;
            let bound = |t: Option<Timestamp>, inclusive: bool| match t {
                Some(t) if inclusive => {
                    Bound::Included(Term::from_field_i64(f.published, t.as_second()))
                }
                Some(t) => Bound::Excluded(Term::from_field_i64(f.published, t.as_second())),
                None => Bound::Unbounded,
            };
            out.push((
                Occur::Must,
                Box::new(RangeQuery::new(
                    bound(filters.from, true),
                    bound(filters.until, false),
                )),
            ));
        }
        out
    }

    /// Runs a reader's search. Never fails on what the reader typed: anything the query
    /// language cannot read is taken as plain words.
    pub fn search(&self, request: &SearchRequest) -> Result<SearchOutcome> {
        let parsed = ParsedQuery::parse(&request.text);
        let searcher = self.reader.searcher();
        let limit = request.limit.max(1);
        let run = |conjunction: bool| -> Result<(usize, Vec<Hit>, Box<dyn Query>)> {
            let text_query = parsed.to_query(&self.fields.text, conjunction);
            let mut clauses = self.filter_clauses(&request.filters);
            match text_query {
                Some(q) => clauses.push((Occur::Must, q)),
                None if clauses.is_empty() => {
                    return Ok((0, Vec::new(), Box::new(tantivy::query::EmptyQuery)));
                }
                None => clauses.push((Occur::Must, Box::new(tantivy::query::AllQuery))),
            }
            let query: Box<dyn Query> = Box::new(BooleanQuery::new(clauses));
            let (total, hits) =
                self.collect(&searcher, &*query, request, limit, SEARCH_RECENCY_SHARE)?;
            Ok((total, hits, query))
        };
        let (mut total, mut hits, mut query) = run(true)?;
        let mut relaxed = false;
        if total == 0 && parsed.clause_count() > 1 {
            (total, hits, query) = run(false)?;
            relaxed = total > 0;
        }
        let highlighter = Highlighter::new(&*query, &self.fields.text);
        Ok(SearchOutcome {
            total,
            hits,
            relaxed,
            highlighter,
        })
    }

    fn collect(
        &self,
        searcher: &tantivy::Searcher,
        query: &dyn Query,
        request: &SearchRequest,
        limit: usize,
        recency_share: f32,
    ) -> Result<(usize, Vec<Hit>)> {
        let top = TopDocs::with_limit(limit).and_offset(request.offset);
        let addresses: (usize, Vec<(f32, DocAddress)>) = match request.sort {
            Sort::Newest => {
                let (total, docs) = searcher.search(
                    query,
                    &(
                        Count,
                        top.order_by_fast_field::<i64>("published", Order::Desc),
                    ),
                )?;
                (total, docs.into_iter().map(|(_, a)| (0.0, a)).collect())
            }
            Sort::Relevance => {
                let now = request.now.as_second();
                let collector = top.tweak_score(move |segment: &tantivy::SegmentReader| {
                    let published = segment.fast_fields().i64("published").ok();
                    move |doc: tantivy::DocId, score: tantivy::Score| {
                        let at = published.as_ref().and_then(|c| c.first(doc)).unwrap_or(now);
                        score * recency_weight(now, at, recency_share)
                    }
                });
                searcher.search(query, &(Count, collector))?
            }
        };
        let (total, docs) = addresses;
        let mut hits = Vec::with_capacity(docs.len());
        for (score, address) in docs {
            let ids = searcher
                .segment_reader(address.segment_ord)
                .fast_fields()
                .i64("id")?;
            if let Some(id) = ids.first(address.doc_id) {
                hits.push(Hit { id, score });
            }
        }
        Ok((total, hits))
    }

    /// Every tag slug the index holds (deleted documents' terms may linger until a merge,
    /// which only makes the caller look at a few items more).
    pub fn tag_slugs(&self) -> Result<Vec<String>> {
        let mut out = std::collections::BTreeSet::new();
        for segment in self.reader.searcher().segment_readers() {
            let inverted = segment.inverted_index(self.fields.tag)?;
            let mut stream = inverted.terms().stream()?;
            while stream.advance() {
                if let Ok(slug) = std::str::from_utf8(stream.key()) {
                    out.insert(slug.to_owned());
                }
            }
        }
        Ok(out.into_iter().collect())
    }

    /// Ids of the items indexed with tag `slug`.
    pub fn ids_with_tag(&self, slug: &str) -> Result<Vec<i64>> {
        let searcher = self.reader.searcher();
        let query = TermQuery::new(
            Term::from_field_text(self.fields.tag, slug),
            IndexRecordOption::Basic,
        );
        let addresses = searcher.search(&query, &tantivy::collector::DocSetCollector)?;
        let mut ids = Vec::with_capacity(addresses.len());
        for address in addresses {
            let column = searcher
                .segment_reader(address.segment_ord)
                .fast_fields()
                .i64("id")?;
            ids.extend(column.first(address.doc_id));
        }
        Ok(ids)
    }

    /// Items like `item`: its words (terms that are frequent in it and rare in the index)
    /// and its tags, in its language, newer ones first among equals. `skip` are never
    /// returned (the item itself is always left out).
    pub fn related(
        &self,
        item: &Item,
        limit: usize,
        skip: &[i64],
        now: Timestamp,
    ) -> Result<Vec<Hit>> {
        let searcher = self.reader.searcher();
        let docs = searcher.num_docs();
        let analyzer = Analyzer::stemmed_for(&item.language).unwrap_or(Analyzer::Plain);
        let body = newsdesk_core::text::plain_text(&item.body_html);
        let mut like: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for (name, text) in [
            ("headline", item.headline.clone().unwrap_or_default()),
            ("standfirst", item.standfirst.clone().unwrap_or_default()),
            ("body", body),
        ] {
            let Some(field) = self.fields.text_field(name, analyzer) else {
                continue;
            };
            if text.is_empty() {
                continue;
            }
            let mlt = MoreLikeThisQuery::builder()
                .with_min_doc_frequency(1)
                .with_max_doc_frequency(related_max_doc_frequency(docs))
                .with_min_term_frequency(1)
                // Short words are mostly grammar ("the", "and", "что", "bir").
                .with_min_word_length(4)
                .with_max_query_terms(20)
                .with_document_fields(vec![(field, vec![OwnedValue::Str(text)])]);
            let boost = TEXT_FIELDS
                .iter()
                .find(|(n, _)| *n == name)
                .map_or(1.0, |(_, b)| *b);
            like.push((
                Occur::Should,
                Box::new(BoostQuery::new(Box::new(mlt), boost)),
            ));
        }
        for tag in &item.tags {
            let term = TermQuery::new(
                Term::from_field_text(self.fields.tag, &tag.slug),
                IndexRecordOption::Basic,
            );
            like.push((
                Occur::Should,
                Box::new(BoostQuery::new(Box::new(term), 4.0)),
            ));
        }
        if like.is_empty() {
            return Ok(Vec::new());
        }
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![
            (Occur::Must, Box::new(BooleanQuery::new(like))),
            (
                Occur::Must,
                Box::new(TermQuery::new(
                    Term::from_field_text(
                        self.fields.language,
                        &item.language.to_ascii_lowercase(),
                    ),
                    IndexRecordOption::Basic,
                )),
            ),
        ];
        for id in skip.iter().chain(std::iter::once(&item.id)) {
            clauses.push((
                Occur::MustNot,
                Box::new(TermQuery::new(
                    Term::from_field_i64(self.fields.id, *id),
                    IndexRecordOption::Basic,
                )),
            ));
        }
        let query = BooleanQuery::new(clauses);
        let request = SearchRequest {
            text: String::new(),
            filters: Filters::default(),
            sort: Sort::Relevance,
            offset: 0,
            limit,
            now,
        };
        let (_, hits) = self.collect(
            &searcher,
            &query,
            &request,
            limit.max(1),
            RELATED_RECENCY_SHARE,
        )?;
        Ok(hits)
    }
}

/// The most items a word may appear in and still pick related items. Common words say
/// nothing about a story, and each one costs a visit to every item it appears in: every
/// match is scored, since recency reweighs the scores. A bound that grows as the square root
/// of the archive keeps a small site's words (in up to 447 of 2,000 items) while the cost of a
/// related lookup grows far slower than the archive: at 100,000 items a quarter, the bound
/// before, let words in 25,000 items each through and the lookup took two thirds of a cold
/// miss's CPU (BENCHMARKS.md, "A large archive").
fn related_max_doc_frequency(docs: u64) -> u64 {
    ((10.0 * (docs as f64).sqrt()) as u64).max(50)
}

/// A multiplier in `[1 - share, 1]`: 1 for today, halving the recency share every
/// `RECENCY_HALF_LIFE_DAYS`.
fn recency_weight(now: i64, published: i64, share: f32) -> f32 {
    let age_days = ((now - published).max(0) as f64) / 86_400.0;
    let decay = 0.5f64.powf(age_days / RECENCY_HALF_LIFE_DAYS) as f32;
    (1.0 - share) + share * decay
}

#[cfg(test)]
mod tests;
