//! Snippets for result pages: the query's terms found again in an item's text with the
//! same analyzers, the best window of it chosen, and everything escaped so that hostile text
//! in a story stays text. The only markup this module emits is `<mark>`.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use tantivy::query::Query;
use tantivy::tokenizer::TextAnalyzer;

use crate::TextField;
use crate::analysis::{self, Analyzer};

pub struct Highlighter {
    /// The query's terms per analyzer, as the index holds them.
    terms: HashMap<Analyzer, HashSet<String>>,
    analyzers: Vec<(Analyzer, TextAnalyzer)>,
}

impl Highlighter {
    pub(crate) fn new(query: &dyn Query, fields: &[(&'static str, TextField)]) -> Highlighter {
        let mut terms: HashMap<Analyzer, HashSet<String>> = HashMap::new();
        query.query_terms(&mut |term, _| {
            if let Some((_, tf)) = fields.iter().find(|(_, tf)| tf.field == term.field())
                && let Some(text) = term.value().as_str()
            {
                terms
                    .entry(tf.analyzer)
                    .or_default()
                    .insert(text.to_owned());
            }
        });
        Highlighter {
            terms,
            analyzers: Analyzer::ALL.iter().map(|a| (*a, a.build())).collect(),
        }
    }

    /// Byte ranges of `text` that match the query, sorted and merged.
    fn ranges(&self, text: &str, language: &str) -> Vec<Range<usize>> {
        let mut out: Vec<Range<usize>> = Vec::new();
        let wanted = [Some(Analyzer::Plain), Analyzer::stemmed_for(language)];
        for (analyzer, built) in &self.analyzers {
            if !wanted.contains(&Some(*analyzer)) {
                continue;
            }
            let Some(terms) = self.terms.get(analyzer) else {
                continue;
            };
            let mut built = built.clone();
            for (term, range) in analysis::terms(&mut built, text) {
                if terms.contains(&term) {
                    out.push(range);
                }
            }
        }
        out.sort_by_key(|r| (r.start, r.end));
        let mut merged: Vec<Range<usize>> = Vec::new();
        for r in out {
            match merged.last_mut() {
                Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
                _ => merged.push(r),
            }
        }
        merged
    }

    /// The whole of `text` (a headline), escaped, matches in `<mark>`.
    pub fn headline(&self, text: &str, language: &str) -> String {
        render(text, 0..text.len(), &self.ranges(text, language))
    }

    /// At most about `max_chars` of `text` around the most matches, escaped, matches in
    /// `<mark>`, with an ellipsis where text was cut.
    pub fn snippet(&self, text: &str, language: &str, max_chars: usize) -> String {
        let text = text.trim();
        let ranges = self.ranges(text, language);
        if text.chars().count() <= max_chars {
            return render(text, 0..text.len(), &ranges);
        }
        let window_end = |start: usize| -> usize {
            text[start..]
                .char_indices()
                .nth(max_chars)
                .map_or(text.len(), |(i, _)| start + i)
        };
        // Start a little before a match, at a word's start, so it is read in context.
        let lead = max_chars / 5;
        let mut best = (0usize, 0usize);
        for r in &ranges {
            let back: usize = text[..r.start]
                .chars()
                .rev()
                .take(lead)
                .map(char::len_utf8)
                .sum();
            let mut start = r.start - back;
            if start > 0
                && let Some(space) = text[start..r.start].find(char::is_whitespace)
            {
                start += space + 1;
            }
            let end = window_end(start);
            let count = ranges
                .iter()
                .filter(|m| m.start >= start && m.end <= end)
                .count();
            if count > best.1 {
                best = (start, count);
            }
        }
        let start = best.0;
        let mut end = window_end(start);
        if end < text.len()
            && let Some(space) = text[start..end].rfind(char::is_whitespace)
            && space > 0
        {
            end = start + space;
        }
        let mut out = String::new();
        if start > 0 {
            out.push('…');
        }
        out.push_str(&render(text, start..end, &ranges));
        if end < text.len() {
            out.push('…');
        }
        out
    }
}

fn render(text: &str, window: Range<usize>, ranges: &[Range<usize>]) -> String {
    let mut out = String::with_capacity(window.len() + 32);
    let mut at = window.start;
    for r in ranges {
        if r.start < at || r.end > window.end {
            continue;
        }
        escape_into(&text[at..r.start], &mut out);
        out.push_str("<mark>");
        escape_into(&text[r.clone()], &mut out);
        out.push_str("</mark>");
        at = r.end;
    }
    escape_into(&text[at..window.end], &mut out);
    out
}

/// HTML text escaping: enough for element content and quoted attribute values.
pub fn escape_into(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}
