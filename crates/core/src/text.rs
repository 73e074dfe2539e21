//! The text transformations readers see: Markdown to safe HTML, teasers cut at a word,
//! slugs that survive Azerbaijani and Turkish letters, plain text for descriptions.

use std::sync::LazyLock;

/// Renders a Markdown body and sanitizes the result. pulldown-cmark passes raw HTML
/// through untouched, so the sanitizer is what makes a body safe, never the renderer.
///
/// Each top-level block is sanitized on its own, as `blocks` does: raw HTML that leaves the
/// HTML parser in foreign content (`<math><mtext><table><mglyph><style>`) would otherwise
/// make every following paragraph a child of an element the sanitizer removes with its
/// content, so the page would lose the rest of the body that the blocks keep. Alone, a block
/// can only swallow itself.
pub fn render_markdown(markdown: &str) -> String {
    use pulldown_cmark::{Event, Options, Parser, html};
    let mut options = Options::empty();
    options.insert(Options::ENABLE_STRIKETHROUGH);
    options.insert(Options::ENABLE_TABLES);
    options.insert(Options::ENABLE_FOOTNOTES);
    options.insert(Options::ENABLE_SMART_PUNCTUATION);
    let events: Vec<Event<'_>> = Parser::new_ext(markdown, options).collect();
    let mut out = String::with_capacity(markdown.len() * 3 / 2);
    let mut html_of_block = String::new();
    for block in crate::blocks::top_level(&events) {
        html_of_block.clear();
        html::push_html(&mut html_of_block, block.iter().cloned());
        out.push_str(&SANITIZER.clean(&html_of_block).to_string());
    }
    out
}

/// Sanitizes HTML rendered from a body, as `render_markdown` does.
pub fn sanitize(html: &str) -> String {
    SANITIZER.clean(html).to_string()
}

static SANITIZER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut b = ammonia::Builder::default();
    b.link_rel(Some("noopener noreferrer"))
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .rm_tags(["img"]);
    b
});

/// Text without markup, for descriptions and brief headlines. Expects well-formed HTML
/// such as `render_markdown` produces.
pub fn plain_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    let mut entity = String::new();
    let mut in_entity = false;
    for c in html.chars() {
        if in_tag {
            if c == '>' {
                in_tag = false;
            }
            continue;
        }
        if in_entity {
            if c == ';' {
                out.push_str(&decode_entity(&entity));
                entity.clear();
                in_entity = false;
            } else if entity.len() < 10 {
                entity.push(c);
            } else {
                out.push('&');
                out.push_str(&entity);
                entity.clear();
                in_entity = false;
            }
            continue;
        }
        match c {
            '<' => {
                in_tag = true;
                // Block boundaries become spaces so words do not run together.
                if !out.ends_with(' ') && !out.is_empty() {
                    out.push(' ');
                }
            }
            '&' => in_entity = true,
            c if c.is_whitespace() => {
                if !out.ends_with(' ') && !out.is_empty() {
                    out.push(' ');
                }
            }
            c => out.push(c),
        }
    }
    out.trim().to_owned()
}

fn decode_entity(name: &str) -> String {
    match name {
        "amp" => "&".into(),
        "lt" => "<".into(),
        "gt" => ">".into(),
        "quot" => "\"".into(),
        "apos" => "'".into(),
        "nbsp" => " ".into(),
        _ => {
            let code = name
                .strip_prefix("#x")
                .or_else(|| name.strip_prefix("#X"))
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| name.strip_prefix('#').and_then(|d| d.parse().ok()));
            code.and_then(char::from_u32)
                .map(String::from)
                .unwrap_or_else(|| format!("&{name};"))
        }
    }
}

/// Cuts `text` to at most `max_chars` characters at a word boundary and marks the cut with
/// an ellipsis, as teasers of related stories do. Text that fits is returned unchanged.
pub fn truncate_at_word(text: &str, max_chars: usize) -> String {
    let text = text.trim();
    if text.chars().count() <= max_chars {
        return text.to_owned();
    }
    // Leave room for the ellipsis itself.
    let budget = max_chars.saturating_sub(1);
    let end = text
        .char_indices()
        .nth(budget)
        .map(|(i, _)| i)
        .unwrap_or(text.len());
    let head = &text[..end];
    // When the cut falls inside a word, go back to the last space; a single word longer than
    // the budget is cut hard rather than dropped.
    let next_is_space = text[end..].starts_with(char::is_whitespace);
    let cut = if next_is_space {
        head
    } else {
        match head.rfind(char::is_whitespace) {
            Some(i) => &head[..i],
            None => head,
        }
    };
    let cut = cut.trim_end_matches(|c: char| c.is_whitespace() || ",;:.-–—(".contains(c));
    format!("{cut}…")
}

/// The first `words` words of `text`.
pub fn truncate_words(text: &str, words: usize) -> String {
    text.split_whitespace()
        .take(words)
        .collect::<Vec<_>>()
        .join(" ")
}

/// A URL slug: lowercase ASCII letters and digits joined by single hyphens. Letters that
/// the `slug` crate would drop or mangle are mapped first (`ə` → `e`, `ı` → `i`).
pub fn slugify(text: &str) -> String {
    let mapped: String = text
        .chars()
        .map(|c| match c {
            'ə' | 'Ə' => 'e',
            'ı' | 'İ' => 'i',
            c => c,
        })
        .collect();
    let s = slug::slugify(mapped);
    // Keep slugs a readable length, cutting at a hyphen.
    if s.len() <= 80 {
        return s;
    }
    match s[..80].rfind('-') {
        Some(i) => s[..i].to_owned(),
        None => s[..80].to_owned(),
    }
}

pub fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// `flood-defences` → `Flood defences`; a name that is already written out stays as it is.
pub fn label_from_slug_or_name(s: &str) -> String {
    if is_slug(s) {
        let spaced = s.replace('-', " ");
        let mut chars = spaced.chars();
        match chars.next() {
            Some(first) => first.to_uppercase().chain(chars).collect(),
            None => spaced,
        }
    } else {
        s.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn teaser_is_cut_at_a_word_with_an_ellipsis() {
        let t = "The harbour authority closed every gate before dawn as the surge arrived";
        let cut = truncate_at_word(t, 40);
        assert_eq!(cut, "The harbour authority closed every gate…");
        assert!(cut.chars().count() <= 40);
    }

    #[test]
    fn teaser_that_fits_is_unchanged() {
        assert_eq!(truncate_at_word("  Short text. ", 40), "Short text.");
    }

    #[test]
    fn teaser_cut_works_for_cyrillic_and_turkish() {
        let ru = "Паромное сообщение между островами возобновится в четверг утром";
        let cut = truncate_at_word(ru, 30);
        assert_eq!(cut, "Паромное сообщение между…");
        let tr = "İstanbul'da şiddetli rüzgâr nedeniyle bazı vapur seferleri iptal edildi";
        let cut = truncate_at_word(tr, 36);
        assert_eq!(cut, "İstanbul'da şiddetli rüzgâr…");
        assert!(cut.chars().count() <= 36);
    }

    #[test]
    fn a_cut_right_before_a_space_keeps_the_whole_word() {
        assert_eq!(truncate_at_word("one two three", 8), "one two…");
    }

    #[test]
    fn markdown_raw_html_and_scripts_are_removed() {
        let html = render_markdown(
            "Hello <script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)>\n\n**bold**",
        );
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(!html.contains("onerror"), "{html}");
        assert!(html.contains("<strong>bold</strong>"), "{html}");
    }

    /// Raw HTML that puts the parser in MathML or SVG content must not take the rest of the
    /// body with it, nor let anything executable through.
    #[test]
    fn foreign_content_in_raw_html_keeps_the_rest_of_the_body() {
        let payloads = [
            "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
            "<math><mtext><table><mglyph><style>",
            "<math><mtext><h1><a><h6></a></h6><mglyph><svg><mtext><style><a title=\"</style><img src onerror=alert(1)>\">",
            "<svg><style>",
            "<svg></p><style><a id=\"</style><img src=1 onerror=alert(1)>\">",
            "<math><mi xlink:href=\"javascript:alert(1)\">x</mi>",
            "Inline <math><mtext><table><mglyph><style> inside a paragraph",
        ];
        for payload in payloads {
            let markdown = format!(
                "First paragraph.\n\n{payload}\n\nAfter the math, the story goes on.\n\n## A heading\n\nLast *paragraph*."
            );
            let html = render_markdown(&markdown);
            for kept in [
                "<p>First paragraph.</p>",
                "After the math, the story goes on.",
                "A heading",
                "Last <em>paragraph</em>.",
            ] {
                assert!(
                    html.contains(kept),
                    "{payload}: {kept:?} missing from {html}"
                );
            }
            for bad in [
                "<script",
                "onerror",
                "javascript:",
                "<style",
                "<svg",
                "<math",
                "<img",
            ] {
                assert!(!html.contains(bad), "{payload}: {bad} in {html}");
            }
            // The page's body keeps what the blocks keep.
            let blocks = crate::blocks::body_blocks(&markdown);
            assert!(
                format!("{blocks:?}").contains("After the math, the story goes on."),
                "{blocks:?}"
            );
        }
    }

    #[test]
    fn rendering_block_by_block_keeps_ordinary_markdown_as_it_was() {
        let markdown = "Intro with a [link](https://example.org) and a footnote.[^1]\n\n\
                        > A quote\n\n- one\n- two\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n\
                        ---\n\n<div>raw</div>\n\n[^1]: The note.";
        let html = render_markdown(markdown);
        let mut whole = String::new();
        pulldown_cmark::html::push_html(
            &mut whole,
            pulldown_cmark::Parser::new_ext(markdown, {
                let mut o = pulldown_cmark::Options::empty();
                o.insert(pulldown_cmark::Options::ENABLE_STRIKETHROUGH);
                o.insert(pulldown_cmark::Options::ENABLE_TABLES);
                o.insert(pulldown_cmark::Options::ENABLE_FOOTNOTES);
                o.insert(pulldown_cmark::Options::ENABLE_SMART_PUNCTUATION);
                o
            }),
        );
        assert_eq!(html, sanitize(&whole));
    }

    #[test]
    fn plain_text_strips_tags_and_decodes_entities() {
        assert_eq!(
            plain_text("<p>Tom &amp; Jerry&#39;s <em>show</em></p><p>Next</p>"),
            "Tom & Jerry's show Next"
        );
    }

    #[test]
    fn slugs_keep_azerbaijani_and_turkish_letters_readable() {
        assert_eq!(slugify("Azərbaycan seçkiləri"), "azerbaycan-seckileri");
        assert_eq!(slugify("İstanbul'da fırtına"), "istanbul-da-firtina");
        assert_eq!(slugify("Выборы в парламент"), "vybory-v-parlament");
    }
}
