//! Language tags (BCP 47) as the site uses them: in content, in URLs and in `lang`
//! attributes. We accept the common shape `xx`, `xxx`, `xx-YY`, `xx-Xxxx`, `xx-Xxxx-YY`
//! and normalise case, which is what every outlet we know of needs.

/// Checks a tag's shape and returns it in canonical case (`az-Latn-AZ`), or `None`.
pub fn normalize(tag: &str) -> Option<String> {
    let mut parts = tag.split(['-', '_']);
    let primary = parts.next()?;
    if !(2..=3).contains(&primary.len()) || !primary.bytes().all(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    let mut out = primary.to_ascii_lowercase();
    let mut seen_region = false;
    for (i, part) in parts.enumerate() {
        let alpha = part.bytes().all(|b| b.is_ascii_alphabetic());
        if i == 0 && part.len() == 4 && alpha && !seen_region {
            // Script subtag: title case.
            let mut chars = part.chars();
            let first = chars.next()?.to_ascii_uppercase();
            out.push('-');
            out.push(first);
            out.push_str(&chars.as_str().to_ascii_lowercase());
        } else if !seen_region
            && ((part.len() == 2 && alpha)
                || (part.len() == 3 && part.bytes().all(|b| b.is_ascii_digit())))
        {
            seen_region = true;
            out.push('-');
            out.push_str(&part.to_ascii_uppercase());
        } else {
            return None;
        }
    }
    Some(out)
}

/// The form used in URL paths: lowercase (`/pt-br/`).
pub fn url_segment(tag: &str) -> String {
    tag.to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn canonical_case_is_restored() {
        assert_eq!(normalize("EN").as_deref(), Some("en"));
        assert_eq!(normalize("pt-br").as_deref(), Some("pt-BR"));
        assert_eq!(normalize("az-latn-az").as_deref(), Some("az-Latn-AZ"));
        assert_eq!(normalize("es-419").as_deref(), Some("es-419"));
    }

    #[test]
    fn malformed_tags_are_refused() {
        for bad in ["", "e", "english", "en-", "en-GB-GB", "1n", "en-12"] {
            assert_eq!(normalize(bad), None, "{bad}");
        }
    }
}
