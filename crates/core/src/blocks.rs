//! An item's body as structured blocks, for apps that lay text out natively instead of in a
//! web view: paragraphs, headings, quotes, lists, code, tables. Each block's HTML is rendered
//! from the same Markdown and passes the same sanitizer as the page's body, so a block is
//! never less safe than the page.

use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag};
use serde::Serialize;

use crate::text;

/// One top-level block of a body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Block {
    Paragraph {
        html: String,
    },
    Heading {
        level: u8,
        text: String,
    },
    Quote {
        html: String,
    },
    List {
        ordered: bool,
        items: Vec<String>,
    },
    Code {
        text: String,
    },
    Table {
        html: String,
    },
    Rule,
    /// Anything else (footnotes, raw HTML the sanitizer kept), as safe HTML.
    Html {
        html: String,
    },
}

fn options() -> Options {
    let mut options = Options::empty();
    options.insert(Options::ENABLE_STRIKETHROUGH);
    options.insert(Options::ENABLE_TABLES);
    options.insert(Options::ENABLE_FOOTNOTES);
    options.insert(Options::ENABLE_SMART_PUNCTUATION);
    options
}

fn html_of(events: &[Event<'_>]) -> String {
    let mut raw = String::new();
    pulldown_cmark::html::push_html(&mut raw, events.iter().cloned());
    text::sanitize(&raw).trim().to_owned()
}

fn text_of(events: &[Event<'_>]) -> String {
    let mut out = String::new();
    for event in events {
        match event {
            Event::Text(t) | Event::Code(t) => out.push_str(t),
            Event::SoftBreak | Event::HardBreak => out.push(' '),
            _ => {}
        }
    }
    out.trim().to_owned()
}

/// The events of each top-level block, and the events inside its outer tag.
pub(crate) fn top_level<'a>(events: &'a [Event<'a>]) -> Vec<&'a [Event<'a>]> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, event) in events.iter().enumerate() {
        match event {
            Event::Start(_) => {
                if depth == 0 {
                    start = i;
                }
                depth += 1;
            }
            Event::End(_) => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    out.push(&events[start..=i]);
                }
            }
            _ if depth == 0 => out.push(&events[i..=i]),
            _ => {}
        }
    }
    out
}

fn inner<'a>(block: &'a [Event<'a>]) -> &'a [Event<'a>] {
    if block.len() >= 2 {
        &block[1..block.len() - 1]
    } else {
        &[]
    }
}

/// The body's blocks, in order. Empty blocks (a paragraph the sanitizer emptied) are left out.
pub fn body_blocks(markdown: &str) -> Vec<Block> {
    let events: Vec<Event<'_>> = Parser::new_ext(markdown, options()).collect();
    let mut blocks = Vec::new();
    for block in top_level(&events) {
        let made = match &block[0] {
            Event::Start(Tag::Paragraph) => Block::Paragraph {
                html: inner_html(block),
            },
            Event::Start(Tag::Heading { level, .. }) => Block::Heading {
                level: heading_level(*level),
                text: text_of(inner(block)),
            },
            Event::Start(Tag::BlockQuote(_)) => Block::Quote {
                html: inner_html(block),
            },
            Event::Start(Tag::List(first)) => Block::List {
                ordered: first.is_some(),
                items: top_level(inner(block))
                    .into_iter()
                    .map(|item| {
                        // A tight list item holds bare text; a loose one, paragraphs.
                        let inside = inner(item);
                        let paragraphs = top_level(inside);
                        if paragraphs.len() == 1
                            && matches!(paragraphs[0].first(), Some(Event::Start(Tag::Paragraph)))
                        {
                            html_of(inner(paragraphs[0]))
                        } else {
                            html_of(inside)
                        }
                    })
                    .filter(|html| !html.is_empty())
                    .collect(),
            },
            Event::Start(Tag::CodeBlock(_)) => Block::Code {
                text: text_of(inner(block)),
            },
            Event::Start(Tag::Table(_)) => Block::Table {
                html: html_of(block),
            },
            Event::Rule => Block::Rule,
            _ => Block::Html {
                html: html_of(block),
            },
        };
        let empty = match &made {
            Block::Paragraph { html } | Block::Quote { html } | Block::Html { html } => {
                html.is_empty()
            }
            Block::Heading { text, .. } => text.is_empty(),
            Block::List { items, .. } => items.is_empty(),
            _ => false,
        };
        if !empty {
            blocks.push(made);
        }
    }
    blocks
}

fn inner_html(block: &[Event<'_>]) -> String {
    html_of(inner(block))
}

fn heading_level(level: HeadingLevel) -> u8 {
    match level {
        HeadingLevel::H1 => 1,
        HeadingLevel::H2 => 2,
        HeadingLevel::H3 => 3,
        HeadingLevel::H4 => 4,
        HeadingLevel::H5 => 5,
        HeadingLevel::H6 => 6,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_becomes_its_blocks_in_order() {
        let body = "Opening words with *stress*.\n\n## What happened\n\n> A quoted line.\n\n\
                    - first\n- second\n\n1. one\n2. two\n\n```\nlet x = 1;\n```\n\n---\n\n\
                    | a | b |\n|---|---|\n| 1 | 2 |\n";
        let blocks = body_blocks(body);
        assert_eq!(
            blocks[0],
            Block::Paragraph {
                html: "Opening words with <em>stress</em>.".into()
            }
        );
        assert_eq!(
            blocks[1],
            Block::Heading {
                level: 2,
                text: "What happened".into()
            }
        );
        assert_eq!(
            blocks[2],
            Block::Quote {
                html: "<p>A quoted line.</p>".into()
            }
        );
        assert_eq!(
            blocks[3],
            Block::List {
                ordered: false,
                items: vec!["first".into(), "second".into()]
            }
        );
        assert!(matches!(&blocks[4], Block::List { ordered: true, items } if items.len() == 2));
        assert_eq!(
            blocks[5],
            Block::Code {
                text: "let x = 1;".into()
            }
        );
        assert_eq!(blocks[6], Block::Rule);
        assert!(matches!(&blocks[7], Block::Table { html } if html.starts_with("<table>")));
        assert_eq!(blocks.len(), 8);
    }

    #[test]
    fn blocks_are_sanitized_like_the_page() {
        let blocks = body_blocks(
            "Hello <script>alert(1)</script><img src=x onerror=alert(2)> there\n\n<script>x</script>\n",
        );
        let json = format!("{blocks:?}");
        assert!(!json.contains("<script"), "{json}");
        assert!(!json.contains("onerror"), "{json}");
        assert!(json.contains("Hello"), "{json}");
    }
}
