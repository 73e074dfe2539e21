//! Who is on the other end of a request: the client's address and whether it came over
//! https. Forwarding headers are believed only from the proxies named in
//! `server.trusted_proxies`; from anyone else they are text a client typed, and reading them
//! would let a stranger step around every limit keyed on the address.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use newsdesk_core::network::IpRange;

/// The client of one request, as rate limits, throttles, comment limits, the access log and
/// the `Secure` cookie decision see it. Take it as an extractor in any handler or middleware
/// inside the router: `ClientAddress { ip, .. }: ClientAddress`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress {
    pub ip: IpAddr,
    /// The request reached us over https (by a trusted proxy's word: this server speaks
    /// plain HTTP itself).
    pub https: bool,
}

impl ClientAddress {
    /// Works out the client from the TCP peer and, when the peer is a trusted proxy, the
    /// forwarding headers: `Forwarded` (RFC 7239) if present, else `X-Forwarded-For`, read
    /// from the right and skipping trusted hops, since only the rightmost entries were
    /// written by proxies we know; anything to their left a client could have sent.
    pub fn resolve(peer: IpAddr, headers: &HeaderMap, trusted: &[IpRange]) -> ClientAddress {
        let peer = peer.to_canonical();
        let is_trusted = |ip: IpAddr| trusted.iter().any(|range| range.contains(ip));
        if !is_trusted(peer) {
            return ClientAddress {
                ip: peer,
                https: false,
            };
        }
        let forwarded = header_list(headers, "forwarded");
        let (hops, proto) = if forwarded.is_empty() {
            (
                header_list(headers, "x-forwarded-for"),
                header_list(headers, "x-forwarded-proto").pop(),
            )
        } else {
            rfc7239(&forwarded)
        };
        let mut client = peer;
        for hop in hops.iter().rev() {
            match parse_hop(hop) {
                Some(ip) => {
                    client = ip;
                    if !is_trusted(ip) {
                        break;
                    }
                }
                // An entry we cannot read ("unknown", an obfuscated name, garbage): the
                // nearest proxy we could read is the client as far as we can know.
                None => break,
            }
        }
        ClientAddress {
            ip: client,
            https: proto.is_some_and(|p| p.eq_ignore_ascii_case("https")),
        }
    }
}

/// Every comma-separated entry of every instance of a header, trimmed, in order.
fn header_list(headers: &HeaderMap, name: &str) -> Vec<String> {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .collect()
}

/// The `for=` of each element and the last element's `proto=` (the nearest proxy's word).
fn rfc7239(elements: &[String]) -> (Vec<String>, Option<String>) {
    let mut hops = Vec::new();
    let mut proto = None;
    for element in elements {
        let mut element_for = None;
        let mut element_proto = None;
        for pair in element.split(';') {
            let Some((name, value)) = pair.split_once('=') else {
                continue;
            };
            let value = value.trim().trim_matches('"').to_owned();
            match name.trim().to_ascii_lowercase().as_str() {
                "for" => element_for = Some(value),
                "proto" => element_proto = Some(value),
                _ => {}
            }
        }
        // An element without for= still counts as a hop we cannot read.
        hops.push(element_for.unwrap_or_default());
        proto = element_proto;
    }
    (hops, proto)
}

/// An address from a forwarding entry: `203.0.113.7`, `203.0.113.7:4711`, `[2001:db8::1]`,
/// `[2001:db8::1]:4711` or a bare `2001:db8::1`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    if let Ok(socket) = hop.parse::<SocketAddr>() {
        return Some(socket.ip().to_canonical());
    }
    let inner = hop.strip_prefix('[')?.split_once(']')?.0;
    inner.parse::<IpAddr>().ok().map(|ip| ip.to_canonical())
}

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = (StatusCode, &'static str);

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        // `observe` resolves it once per request; the peer alone is the answer for a route
        // served outside it (tests of a single router).
        if let Some(client) = parts.extensions.get::<ClientAddress>() {
            return Ok(*client);
        }
        match parts.extensions.get::<ConnectInfo<SocketAddr>>() {
            Some(ConnectInfo(peer)) => Ok(ClientAddress {
                ip: peer.ip().to_canonical(),
                https: false,
            }),
            None => Err((
                StatusCode::INTERNAL_SERVER_ERROR,
                "The client's address is unknown.",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).expect("header"));
        }
        map
    }

    fn ranges(list: &[&str]) -> Vec<IpRange> {
        list.iter().map(|r| r.parse().expect("range")).collect()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("address")
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_claims() {
        let claims = headers(&[
            ("x-forwarded-for", "198.51.100.1"),
            ("forwarded", "for=198.51.100.2;proto=https"),
            ("x-forwarded-proto", "https"),
        ]);
        let client = ClientAddress::resolve(ip("203.0.113.5"), &claims, &ranges(&["10.0.0.0/8"]));
        assert_eq!(
            client,
            ClientAddress {
                ip: ip("203.0.113.5"),
                https: false
            }
        );
    }

    #[test]
    fn behind_trusted_proxies_the_rightmost_untrusted_hop_is_the_client() {
        let trusted = ranges(&["10.0.0.0/8", "127.0.0.1"]);
        let chain = headers(&[
            ("x-forwarded-for", "1.1.1.1, 198.51.100.7"),
            ("x-forwarded-for", "10.0.0.2"),
            ("x-forwarded-proto", "https"),
        ]);
        let client = ClientAddress::resolve(ip("127.0.0.1"), &chain, &trusted);
        assert_eq!(
            client.ip,
            ip("198.51.100.7"),
            "1.1.1.1 was typed by the client"
        );
        assert!(client.https);
        let all_trusted = headers(&[("x-forwarded-for", "10.0.0.9, 10.0.0.2")]);
        assert_eq!(
            ClientAddress::resolve(ip("127.0.0.1"), &all_trusted, &trusted).ip,
            ip("10.0.0.9")
        );
        let none = HeaderMap::new();
        let direct = ClientAddress::resolve(ip("127.0.0.1"), &none, &trusted);
        assert_eq!(direct.ip, ip("127.0.0.1"));
        assert!(!direct.https);
    }

    #[test]
    fn forwarded_is_read_as_rfc_7239_writes_it() {
        let trusted = ranges(&["127.0.0.1"]);
        let forwarded = headers(&[
            (
                "forwarded",
                r#"for=192.0.2.43, for="[2001:db8:cafe::17]:4711";proto=https"#,
            ),
            ("x-forwarded-for", "198.51.100.99"),
        ]);
        let client = ClientAddress::resolve(ip("127.0.0.1"), &forwarded, &trusted);
        assert_eq!(client.ip, ip("2001:db8:cafe::17"));
        assert!(client.https);
        let ported = headers(&[("forwarded", "for=\"198.51.100.3:1234\";proto=http")]);
        let client = ClientAddress::resolve(ip("127.0.0.1"), &ported, &trusted);
        assert_eq!(client.ip, ip("198.51.100.3"));
        assert!(!client.https);
        let unknown = headers(&[("forwarded", "for=unknown")]);
        assert_eq!(
            ClientAddress::resolve(ip("127.0.0.1"), &unknown, &trusted).ip,
            ip("127.0.0.1")
        );
    }

    #[test]
    fn garbage_in_the_chain_stops_at_the_nearest_readable_hop() {
        let trusted = ranges(&["127.0.0.1", "10.0.0.0/8"]);
        let chain = headers(&[("x-forwarded-for", "198.51.100.1, not-an-address, 10.0.0.3")]);
        assert_eq!(
            ClientAddress::resolve(ip("127.0.0.1"), &chain, &trusted).ip,
            ip("10.0.0.3")
        );
    }
}
