//! How text becomes terms: one analyzer per stemmed language plus a plain one, all folding
//! case and diacritics the same way so that `Türkiye` meets `Turkiye` and `İstanbul` meets
//! `istanbul`. Index and query go through the same analyzers; nothing here touches disk.

use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, RemoveLongFilter, SimpleTokenizer, Stemmer, TextAnalyzer, Token,
    TokenFilter, TokenStream, Tokenizer,
};

/// Longer "words" are base64, URLs or garbage: left out of the index.
const MAX_TOKEN_BYTES: usize = 40;

/// The analyzers every text field is indexed with. `Plain` sees every item; the stemmed ones
/// see only items of their language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Analyzer {
    Plain,
    English,
    Russian,
    Turkish,
}

impl Analyzer {
    pub const ALL: [Analyzer; 4] = [
        Analyzer::Plain,
        Analyzer::English,
        Analyzer::Russian,
        Analyzer::Turkish,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Analyzer::Plain => "news_plain",
            Analyzer::English => "news_en",
            Analyzer::Russian => "news_ru",
            Analyzer::Turkish => "news_tr",
        }
    }

    pub fn suffix(self) -> &'static str {
        match self {
            Analyzer::Plain => "plain",
            Analyzer::English => "en",
            Analyzer::Russian => "ru",
            Analyzer::Turkish => "tr",
        }
    }

    /// The stemmed analyzer for an item's language (BCP 47; the primary subtag decides), or
    /// `None` for languages we have no stemmer for: those are found through `Plain` only.
    pub fn stemmed_for(language: &str) -> Option<Analyzer> {
        let primary = language
            .split('-')
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        match primary.as_str() {
            "en" => Some(Analyzer::English),
            "ru" => Some(Analyzer::Russian),
            "tr" => Some(Analyzer::Turkish),
            _ => None,
        }
    }

    pub fn build(self) -> TextAnalyzer {
        let base = TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
            .filter(NewsLowerCaser);
        // Stemmers expect the language's own letters (Turkish suffixes hinge on ı and ü), so
        // folding comes after stemming.
        match self {
            Analyzer::Plain => base.filter(AsciiFoldingFilter).build(),
            Analyzer::English => base
                .filter(Stemmer::new(Language::English))
                .filter(AsciiFoldingFilter)
                .build(),
            Analyzer::Russian => base
                .filter(Stemmer::new(Language::Russian))
                .filter(AsciiFoldingFilter)
                .build(),
            Analyzer::Turkish => base
                .filter(Stemmer::new(Language::Turkish))
                .filter(AsciiFoldingFilter)
                .build(),
        }
    }
}

/// Lower case that does not break Turkish: the standard mapping turns `İ` into `i` plus a
/// combining dot (which then splits the word) and cannot know that `I` may be a dotless
/// `ı`. Both capitals become plain `i`, which is also what folding makes of `ı`, so every
/// spelling of Istanbul meets. `ё` becomes `е`, as Russian readers type it.
#[derive(Clone, Copy)]
pub struct NewsLowerCaser;

fn lower_into(text: &str, out: &mut String) {
    out.clear();
    for c in text.chars() {
        match c {
            'İ' | 'I' => out.push('i'),
            'ё' | 'Ё' => out.push('е'),
            c => out.extend(c.to_lowercase()),
        }
    }
}

impl TokenFilter for NewsLowerCaser {
    type Tokenizer<T: Tokenizer> = NewsLowerCaserFilter<T>;

    fn transform<T: Tokenizer>(self, tokenizer: T) -> NewsLowerCaserFilter<T> {
        NewsLowerCaserFilter { tokenizer }
    }
}

#[derive(Clone)]
pub struct NewsLowerCaserFilter<T> {
    tokenizer: T,
}

impl<T: Tokenizer> Tokenizer for NewsLowerCaserFilter<T> {
    type TokenStream<'a> = NewsLowerCaserStream<T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        NewsLowerCaserStream {
            tail: self.tokenizer.token_stream(text),
            buffer: String::new(),
        }
    }
}

pub struct NewsLowerCaserStream<T> {
    tail: T,
    buffer: String,
}

impl<T: TokenStream> TokenStream for NewsLowerCaserStream<T> {
    fn advance(&mut self) -> bool {
        if !self.tail.advance() {
            return false;
        }
        let token = self.tail.token_mut();
        if token.text.is_ascii() {
            token.text.make_ascii_lowercase();
        } else {
            lower_into(&token.text, &mut self.buffer);
            std::mem::swap(&mut token.text, &mut self.buffer);
        }
        true
    }

    fn token(&self) -> &Token {
        self.tail.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.tail.token_mut()
    }
}

/// The terms `analyzer` makes of `text`, with their byte ranges in `text`.
pub fn terms(analyzer: &mut TextAnalyzer, text: &str) -> Vec<(String, std::ops::Range<usize>)> {
    let mut out = Vec::new();
    let mut stream = analyzer.token_stream(text);
    while stream.advance() {
        let t = stream.token();
        out.push((t.text.clone(), t.offset_from..t.offset_to));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(a: Analyzer, text: &str) -> Vec<String> {
        terms(&mut a.build(), text)
            .into_iter()
            .map(|(t, _)| t)
            .collect()
    }

    #[test]
    fn turkish_capitals_and_diacritics_fold_to_what_people_type() {
        assert_eq!(words(Analyzer::Plain, "İstanbul"), ["istanbul"]);
        assert_eq!(words(Analyzer::Plain, "ISTANBUL"), ["istanbul"]);
        assert_eq!(words(Analyzer::Plain, "ıstanbul"), ["istanbul"]);
        assert_eq!(
            words(Analyzer::Plain, "Türkiye"),
            words(Analyzer::Plain, "Turkiye")
        );
        assert_eq!(words(Analyzer::Plain, "Ёлка"), ["елка"]);
    }

    #[test]
    fn stemmers_join_inflections_in_their_language() {
        assert_eq!(
            words(Analyzer::English, "elections"),
            words(Analyzer::English, "election")
        );
        assert_eq!(
            words(Analyzer::Russian, "выборах"),
            words(Analyzer::Russian, "выборы")
        );
        assert_eq!(
            words(Analyzer::Turkish, "seçimlerde"),
            words(Analyzer::Turkish, "seçimlerden")
        );
    }

    #[test]
    fn offsets_point_into_the_original_text() {
        let text = "Kılıçdaroğlu İstanbul'da";
        for (_, range) in terms(&mut Analyzer::Plain.build(), text) {
            assert!(text.get(range).is_some());
        }
    }
}
