//! What a reader typed, read forgivingly: words, "quoted phrases" and -excluded words.
//! There is no syntax error: an unclosed quote, a stray colon or brackets are words like
//! any other, so a search can never fail on its text.

use tantivy::Term;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, PhraseQuery, Query, TermQuery};
use tantivy::schema::IndexRecordOption;

use crate::TextField;
use crate::analysis::{self, Analyzer};

/// Longest query read, in characters; the site refuses longer ones with a sentence.
pub const MAX_QUERY_CHARS: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq)]
struct Clause {
    text: String,
    phrase: bool,
    excluded: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedQuery {
    clauses: Vec<Clause>,
}

impl ParsedQuery {
    pub fn parse(text: &str) -> ParsedQuery {
        let text: String = text.chars().take(MAX_QUERY_CHARS).collect();
        let mut clauses = Vec::new();
        let mut rest = text.as_str();
        while let Some(open) = rest.find('"') {
            words(&rest[..open], &mut clauses);
            let after = &rest[open + 1..];
            match after.find('"') {
                Some(close) => {
                    let phrase = after[..close].trim();
                    if !phrase.is_empty() {
                        clauses.push(Clause {
                            text: phrase.to_owned(),
                            phrase: true,
                            excluded: false,
                        });
                    }
                    rest = &after[close + 1..];
                }
                // An unclosed quote: the rest is plain words.
                None => {
                    rest = after;
                    break;
                }
            }
        }
        words(rest, &mut clauses);
        ParsedQuery { clauses }
    }

    /// Clauses that select items (excluded words only narrow).
    pub fn clause_count(&self) -> usize {
        self.clauses.iter().filter(|c| !c.excluded).count()
    }

    pub fn is_empty(&self) -> bool {
        self.clause_count() == 0
    }

    /// Every clause in any text field; `conjunction`: every clause must match, else any.
    pub(crate) fn to_query(
        &self,
        fields: &[(&'static str, TextField)],
        conjunction: bool,
    ) -> Option<Box<dyn Query>> {
        let mut analyzers: Vec<(Analyzer, tantivy::tokenizer::TextAnalyzer)> =
            Analyzer::ALL.iter().map(|a| (*a, a.build())).collect();
        let mut top: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for clause in &self.clauses {
            let mut per_field: Vec<(Occur, Box<dyn Query>)> = Vec::new();
            for (_, tf) in fields {
                let Some((_, analyzer)) = analyzers.iter_mut().find(|(a, _)| *a == tf.analyzer)
                else {
                    continue;
                };
                let terms: Vec<Term> = analysis::terms(analyzer, &clause.text)
                    .into_iter()
                    .map(|(t, _)| Term::from_field_text(tf.field, &t))
                    .collect();
                let query: Box<dyn Query> = match terms.len() {
                    0 => continue,
                    1 => Box::new(TermQuery::new(
                        terms.into_iter().next()?,
                        IndexRecordOption::WithFreqs,
                    )),
                    _ => Box::new(PhraseQuery::new(terms)),
                };
                per_field.push((Occur::Should, Box::new(BoostQuery::new(query, tf.boost))));
            }
            if per_field.is_empty() {
                continue;
            }
            let occur = if clause.excluded {
                Occur::MustNot
            } else if conjunction {
                Occur::Must
            } else {
                Occur::Should
            };
            top.push((occur, Box::new(BooleanQuery::new(per_field))));
        }
        if !top.iter().any(|(o, _)| *o != Occur::MustNot) {
            return None;
        }
        Some(Box::new(BooleanQuery::new(top)))
    }
}

fn words(text: &str, out: &mut Vec<Clause>) {
    for word in text.split_whitespace() {
        let (excluded, word) = match word.strip_prefix('-') {
            Some(rest) if !rest.is_empty() => (true, rest),
            _ => (false, word),
        };
        out.push(Clause {
            text: word.to_owned(),
            phrase: false,
            excluded,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(q: &ParsedQuery) -> Vec<(String, bool, bool)> {
        q.clauses
            .iter()
            .map(|c| (c.text.clone(), c.phrase, c.excluded))
            .collect()
    }

    #[test]
    fn quotes_make_phrases_and_a_minus_excludes() {
        let q = ParsedQuery::parse(r#"port "tidal barrier" -storm"#);
        assert_eq!(
            texts(&q),
            [
                ("port".into(), false, false),
                ("tidal barrier".into(), true, false),
                ("storm".into(), false, true)
            ]
        );
    }

    #[test]
    fn what_a_strict_parser_rejects_is_words() {
        for text in [
            r#""unclosed phrase"#,
            "title:(x OR [a TO z]",
            "^~*?\\",
            "-",
            "\"\"",
        ] {
            let q = ParsedQuery::parse(text);
            assert!(q.clauses.iter().all(|c| !c.text.is_empty()), "{text}");
        }
        assert_eq!(ParsedQuery::parse(r#"a "b c"#).clause_count(), 3);
    }

    #[test]
    fn only_the_first_max_query_chars_are_read() {
        let long = "a".repeat(MAX_QUERY_CHARS + 50);
        assert_eq!(
            ParsedQuery::parse(&long).clauses[0].text.chars().count(),
            MAX_QUERY_CHARS
        );
    }
}
