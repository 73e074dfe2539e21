//! HTTP mechanics shared by every public response: content negotiation, conditional
//! requests, cache policy and security headers. Handlers choose a policy; only this module
//! turns it into header values.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use newsdesk_core::config::CacheSettings;

use crate::cache::{CachedPage, Encoding};

/// The type of every HTML page.
pub const HTML: HeaderValue = HeaderValue::from_static("text/html; charset=utf-8");

/// The Content-Security-Policy of every response: nothing but our own files, no inline
/// script or style, no framing (clickjacking), no plugins, forms only to ourselves.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; \
manifest-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// Adds the headers every response carries unless a handler set its own.
pub fn add_security_headers(headers: &mut HeaderMap) {
    let defaults = [
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        ),
        // For browsers that predate frame-ancestors.
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
    ];
    for (name, value) in defaults {
        headers.entry(name).or_insert(value);
    }
}

/// For a request that came over https (the site's address is https, or a trusted proxy
/// says so): every cookie is marked `Secure`, so the browser never sends it over plain
/// HTTP, and browsers are told to use https only (HSTS) unless `hsts_max_age` is 0.
pub fn add_transport_security(headers: &mut HeaderMap, https: bool, hsts_max_age: u32) {
    if !https {
        return;
    }
    let cookies: Vec<HeaderValue> = headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|cookie| {
            let secure = cookie.to_str().is_ok_and(|c| {
                c.split(';')
                    .any(|attribute| attribute.trim().eq_ignore_ascii_case("secure"))
            });
            if secure {
                return cookie.clone();
            }
            let mut marked = cookie.as_bytes().to_vec();
            marked.extend_from_slice(b"; Secure");
            HeaderValue::from_bytes(&marked).unwrap_or_else(|_| cookie.clone())
        })
        .collect();
    if !cookies.is_empty() {
        headers.remove(header::SET_COOKIE);
        for cookie in cookies {
            headers.append(header::SET_COOKIE, cookie);
        }
    }
    if hsts_max_age > 0
        && let Ok(value) = HeaderValue::from_str(&format!("max-age={hsts_max_age}"))
    {
        headers.insert(header::STRICT_TRANSPORT_SECURITY, value);
    }
}

/// Cache-Control of public pages: short in browsers, longer in a CDN, served stale while
/// the CDN revalidates and while we are down.
pub fn public_cache_control(c: &CacheSettings) -> HeaderValue {
    let value = format!(
        "public, max-age={}, s-maxage={}, stale-while-revalidate={}, stale-if-error={}",
        c.max_age, c.s_maxage, c.stale_while_revalidate, c.stale_if_error
    );
    HeaderValue::from_str(&value).unwrap_or(HeaderValue::from_static("no-cache"))
}

pub const IMMUTABLE: HeaderValue = HeaderValue::from_static("public, max-age=31536000, immutable");
pub const NO_STORE: HeaderValue = HeaderValue::from_static("no-store");

/// Picks the best encoding the client accepts (brotli, then gzip), honouring `q=0`.
pub fn negotiate(headers: &HeaderMap) -> Encoding {
    let mut br = false;
    let mut gzip = false;
    for value in headers.get_all(header::ACCEPT_ENCODING) {
        let Ok(value) = value.to_str() else { continue };
        for part in value.split(',') {
            let mut pieces = part.split(';');
            let coding = pieces.next().unwrap_or_default().trim();
            let refused = pieces.any(|p| {
                let p = p.trim();
                p.strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            if refused {
                continue;
            }
            if coding.eq_ignore_ascii_case("br") {
                br = true;
            } else if coding.eq_ignore_ascii_case("gzip") || coding == "*" {
                gzip = true;
            }
        }
    }
    if br {
        Encoding::Brotli
    } else if gzip {
        Encoding::Gzip
    } else {
        Encoding::Identity
    }
}

/// `If-None-Match` uses the weak comparison (RFC 9110 §13.1.2): `W/` is ignored.
pub fn none_match(headers: &HeaderMap, etag: &HeaderValue) -> bool {
    let ours = etag.as_bytes();
    headers.get_all(header::IF_NONE_MATCH).iter().any(|v| {
        v.to_str().is_ok_and(|list| {
            list.split(',').any(|tag| {
                let tag = tag.trim();
                tag == "*" || tag.trim_start_matches("W/").as_bytes() == ours
            })
        })
    })
}

/// An HTTP date (RFC 9110 §5.6.7, IMF-fixdate): `Sun, 29 Nov 2026 09:15:00 GMT`.
pub fn http_date(at: jiff::Timestamp) -> String {
    at.strftime("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// `If-Modified-Since` holds when the document has not changed since that date. Only asked
/// when the request has no `If-None-Match` (RFC 9110 §13.1.3); an unreadable date is ignored.
fn not_modified_since(request: &HeaderMap, last_modified: jiff::Timestamp) -> bool {
    if request.contains_key(header::IF_NONE_MATCH) {
        return false;
    }
    request
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| jiff::civil::DateTime::strptime("%a, %d %b %Y %H:%M:%S GMT", v.trim()).ok())
        .and_then(|dt| dt.to_zoned_datetime(jiff::tz::TimeZone::UTC).ok())
        // HTTP dates have whole seconds.
        .is_some_and(|since| last_modified.as_second() <= since.timestamp().as_second())
}

/// `Surrogate-Key`: the page's purge keys, for a CDN in front that purges by key.
pub const SURROGATE_KEY: header::HeaderName = header::HeaderName::from_static("surrogate-key");

/// A 200 (or 304) from a cached page in `encoding` (negotiated from `request` by the
/// caller). Every cached answer passes here, so it only copies prepared header values.
pub fn from_cached(
    page: &CachedPage,
    encoding: Encoding,
    request: &HeaderMap,
    method: &Method,
    cache_control: &HeaderValue,
) -> Response {
    let (body, etag) = page.body(encoding);
    let last_modified = page.last_modified();
    let not_modified = none_match(request, etag)
        || last_modified.is_some_and(|(at, _)| not_modified_since(request, at));
    let mut response = if not_modified || method == Method::HEAD {
        Response::new(Body::empty())
    } else {
        Response::new(Body::from(body.clone()))
    };
    let headers = response.headers_mut();
    headers.reserve(12);
    headers.insert(header::ETAG, etag.clone());
    headers.insert(header::CACHE_CONTROL, cache_control.clone());
    headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    headers.insert(SURROGATE_KEY, page.surrogate_keys.clone());
    if let Some((_, at)) = last_modified {
        headers.insert(header::LAST_MODIFIED, at.clone());
    }
    if not_modified {
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        return response;
    }
    headers.insert(header::CONTENT_TYPE, page.content_type.clone());
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
    match encoding {
        Encoding::Brotli => {
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("br"));
        }
        Encoding::Gzip => {
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        Encoding::Identity => {}
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(name: header::HeaderName, value: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(name, HeaderValue::from_static(value));
        h
    }

    #[test]
    fn negotiation_prefers_brotli_and_respects_q_zero() {
        let ae = header::ACCEPT_ENCODING;
        assert_eq!(
            negotiate(&with(ae.clone(), "gzip, deflate, br")),
            Encoding::Brotli
        );
        assert_eq!(negotiate(&with(ae.clone(), "gzip")), Encoding::Gzip);
        assert_eq!(
            negotiate(&with(ae.clone(), "br;q=0, gzip;q=0.5")),
            Encoding::Gzip
        );
        assert_eq!(negotiate(&with(ae.clone(), "identity")), Encoding::Identity);
        assert_eq!(negotiate(&HeaderMap::new()), Encoding::Identity);
    }

    #[test]
    fn if_modified_since_compares_whole_seconds_and_yields_to_if_none_match() {
        let at: jiff::Timestamp = "2026-11-29T09:15:00.5Z".parse().expect("time");
        assert_eq!(http_date(at), "Sun, 29 Nov 2026 09:15:00 GMT");
        let ims = header::IF_MODIFIED_SINCE;
        assert!(not_modified_since(
            &with(ims.clone(), "Sun, 29 Nov 2026 09:15:00 GMT"),
            at
        ));
        assert!(!not_modified_since(
            &with(ims.clone(), "Sun, 29 Nov 2026 09:14:59 GMT"),
            at
        ));
        assert!(!not_modified_since(&with(ims.clone(), "yesterday"), at));
        let mut both = with(ims, "Sun, 29 Nov 2026 09:15:00 GMT");
        both.insert(header::IF_NONE_MATCH, HeaderValue::from_static("\"other\""));
        assert!(!not_modified_since(&both, at));
    }

    #[test]
    fn if_none_match_accepts_lists_and_weak_tags() {
        let etag = HeaderValue::from_static("\"abc-gz\"");
        let inm = header::IF_NONE_MATCH;
        assert!(none_match(&with(inm.clone(), "\"x\", W/\"abc-gz\""), &etag));
        assert!(none_match(&with(inm.clone(), "*"), &etag));
        assert!(!none_match(&with(inm.clone(), "\"abc\""), &etag));
    }
}
