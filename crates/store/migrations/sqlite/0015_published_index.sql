-- Every public listing (home, sections, `/latest`, feeds, the API's stream) asks for
-- published items newest first under optional filters, with their count; the sitemaps ask
-- for each listing's last change. Without this index each of them read every item's row,
-- body and all, and sorted it (at 100,000 stories 0.1 to 0.4 s a query). In this order a
-- page is the first matching entries and stops there, and the filters, the count and the
-- sitemaps' aggregates read the index alone (BENCHMARKS.md, "A large archive").
CREATE INDEX items_published ON items
    (status, published_at, id, language, kind, section, breaking, translation_group, updated_at);
