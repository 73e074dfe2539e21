//! Where a form may send a person back to (`next=`): only a path on this site. The check
//! must agree with how browsers read a `Location`, which is laxer than it looks: they drop
//! tabs and newlines anywhere, read `\` as `/`, and take `//host` as another site. So a
//! value is refused rather than repaired when any reading of it could leave the site.

use axum::http::HeaderValue;

/// How many layers of percent-encoding are looked through: a value encoded three times
/// over is not a link anyone followed by accident.
const DECODE_DEPTH: usize = 3;

/// `next` as a `Location` on this site, or `None` when it is not plainly a path here.
/// Bytes outside visible ASCII are percent-encoded, so the answer is always a valid header.
pub(crate) fn same_site_path(next: &str) -> Option<String> {
    let mut layer = next.to_owned();
    for _ in 0..=DECODE_DEPTH {
        if !plain_path(&layer) {
            return None;
        }
        let decoded = percent_decode(&layer);
        if decoded == layer {
            return Some(encode_for_header(next));
        }
        layer = decoded;
    }
    None
}

/// A path that every reading keeps on this site: it starts with one `/`, holds no control
/// character (browsers remove tab, CR and LF, which turns `/\t/host` into `//host`), no
/// backslash (read as `/`), and no scheme before its first `/`.
fn plain_path(value: &str) -> bool {
    value.starts_with('/')
        && !value.starts_with("//")
        && !value.chars().any(|c| c.is_control() || c == '\\')
}

/// Percent-decodes once; an escape that is not two hex digits stays as it is, and bytes
/// that do not form UTF-8 become U+FFFD (never a way to hide a `/`).
fn percent_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn encode_for_header(path: &str) -> String {
    path.bytes()
        .map(|b| {
            if b.is_ascii_graphic() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A `Location` value for a path the server built itself; one that would not make a valid
/// header sends the person home rather than answering a redirect that goes nowhere.
pub(crate) fn location(to: &str) -> HeaderValue {
    HeaderValue::from_str(to).unwrap_or_else(|_| {
        tracing::warn!("a redirect target was not a valid header; sent home instead");
        HeaderValue::from_static("/")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_on_this_site_are_kept() {
        for ok in [
            "/",
            "/world/a-story#comments",
            "/ru/world/x?sort=liked",
            "/search?q=a%20b",
            "/a//b",
        ] {
            assert_eq!(same_site_path(ok).as_deref(), Some(ok), "{ok}");
        }
    }

    #[test]
    fn bytes_outside_visible_ascii_are_encoded_for_the_header() {
        assert_eq!(
            same_site_path("/ru/мир").as_deref(),
            Some("/ru/%D0%BC%D0%B8%D1%80")
        );
        assert_eq!(same_site_path("/a b").as_deref(), Some("/a%20b"));
    }

    /// The known ways out of a same-site check, each as a browser would read it.
    #[test]
    fn every_known_bypass_is_refused() {
        for refused in [
            "",
            "world/relative",
            "https://evil.example/",
            "javascript:alert(1)",
            "//evil.example/",
            "///evil.example/",
            "/\\evil.example",
            "\\/evil.example",
            "/\t/evil.example/phish",
            "/\n/evil.example",
            "/\r\n/evil.example",
            "\t//evil.example",
            " //evil.example",
            "/%09/evil.example/phish",
            "/%0A/evil",
            "/%0d%0a/evil",
            "/%2F/evil.example",
            "/%2f%2fevil.example",
            "/%5Cevil.example",
            "/%255C/evil.example",
            "/%252F/evil.example",
            "/%25252F/evil.example",
            "/%2525252F/evil.example",
            "/ok\u{0}",
            "/ok\u{7f}",
            "/ok\u{85}next",
            "/x\nSet-Cookie: a=b",
        ] {
            assert_eq!(same_site_path(refused), None, "{refused:?}");
        }
    }

    #[test]
    fn a_location_that_is_not_a_header_goes_home() {
        assert_eq!(location("/a\nb"), "/");
        assert_eq!(location("/desk?next=%2F"), "/desk?next=%2F");
    }
}
