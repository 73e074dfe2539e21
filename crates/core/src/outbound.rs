//! Which network addresses a request the server makes on its own (webhooks, WebSub pings,
//! agency ingest) may reach: the public internet, and inside the network only what the
//! site's `[outbound] allow` list names. Pure rules; resolving and connecting are the
//! services' (`newsdesk_services::outbound`), which must apply them after DNS resolution.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::network::IpRange;

/// Why an address is inside the network (or nowhere) rather than on the public internet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressKind {
    /// `0.0.0.0/8`, `::`: "this host", which connects to the local machine.
    Unspecified,
    /// `127.0.0.0/8`, `::1`.
    Loopback,
    /// RFC 1918 (`10/8`, `172.16/12`, `192.168/16`) and IPv6 unique local `fc00::/7`.
    Private,
    /// `169.254/16` (cloud metadata services live at 169.254.169.254) and `fe80::/10`.
    LinkLocal,
    /// Carrier-grade NAT, RFC 6598 `100.64/10`: another customer's network, or our own.
    SharedNat,
    /// `224/4`, `ff00::/8`.
    Multicast,
    /// `255.255.255.255`.
    Broadcast,
    /// Ranges no public host has: documentation, benchmarking, IETF protocol assignments,
    /// `240/4`, deprecated site-local `fec0::/10`, discard `100::/64`, Teredo tunnels.
    Reserved,
}

impl fmt::Display for AddressKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AddressKind::Unspecified => "an unspecified address (this machine)",
            AddressKind::Loopback => "a loopback address (this machine)",
            AddressKind::Private => "a private network address",
            AddressKind::LinkLocal => "a link-local address (where cloud metadata services answer)",
            AddressKind::SharedNat => "a carrier-grade NAT address",
            AddressKind::Multicast => "a multicast address",
            AddressKind::Broadcast => "a broadcast address",
            AddressKind::Reserved => "a reserved address no public host has",
        })
    }
}

/// `None` for a public address; otherwise why it is not one. IPv6 forms that carry an IPv4
/// address (mapped, compatible, NAT64, 6to4) are judged by that address.
pub fn classify(ip: IpAddr) -> Option<AddressKind> {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn classify_v4(ip: Ipv4Addr) -> Option<AddressKind> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        (0, _, _) => AddressKind::Unspecified,
        (127, _, _) => AddressKind::Loopback,
        (10, _, _) | (192, 168, _) => AddressKind::Private,
        (172, 16..=31, _) => AddressKind::Private,
        (169, 254, _) => AddressKind::LinkLocal,
        (100, 64..=127, _) => AddressKind::SharedNat,
        (224..=239, _, _) => AddressKind::Multicast,
        _ if ip == Ipv4Addr::BROADCAST => AddressKind::Broadcast,
        (240..=255, _, _) => AddressKind::Reserved,
        (192, 0, 0) | (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => AddressKind::Reserved,
        (198, 18..=19, _) => AddressKind::Reserved,
        _ => return None,
    })
}

fn classify_v6(ip: Ipv6Addr) -> Option<AddressKind> {
    if ip.is_unspecified() {
        return Some(AddressKind::Unspecified);
    }
    if ip.is_loopback() {
        return Some(AddressKind::Loopback);
    }
    if let Some(v4) = ip.to_ipv4_mapped() {
        return classify_v4(v4);
    }
    let s = ip.segments();
    let embedded = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    match s {
        // IPv4-compatible `::a.b.c.d` (deprecated, still routed by some stacks).
        [0, 0, 0, 0, 0, 0, hi, lo] => classify_v4(embedded(hi, lo)),
        // NAT64 well-known prefix (RFC 6052): the gateway connects to the embedded address.
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => classify_v4(embedded(hi, lo)),
        // 6to4 (RFC 3056): the relay reaches the embedded address.
        [0x2002, hi, lo, ..] => classify_v4(embedded(hi, lo)),
        // Local-use NAT64 (RFC 8215).
        [0x64, 0xff9b, 1, ..] => Some(AddressKind::Private),
        [0x100, 0, 0, 0, ..] => Some(AddressKind::Reserved),
        // Teredo: a tunnel whose far end is obfuscated in the address.
        [0x2001, 0, ..] => Some(AddressKind::Reserved),
        [0x2001, 0xdb8, ..] => Some(AddressKind::Reserved),
        [first, ..] if first & 0xfe00 == 0xfc00 => Some(AddressKind::Private),
        [first, ..] if first & 0xffc0 == 0xfe80 => Some(AddressKind::LinkLocal),
        [first, ..] if first & 0xffc0 == 0xfec0 => Some(AddressKind::Reserved),
        [first, ..] if first & 0xff00 == 0xff00 => Some(AddressKind::Multicast),
        _ => None,
    }
}

/// Whether a host name means this machine whatever DNS says (RFC 6761 §6.3).
pub fn is_local_name(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    host == "localhost" || host.ends_with(".localhost")
}

/// What one entry of `[outbound] allow` lets through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowedHost {
    /// A host name, lowercase, without a trailing dot: its addresses whatever they are.
    Name(String),
    /// An address, or a network of them (`10.1.0.0/16`).
    Network(IpRange),
}

/// One entry of `[outbound] allow`: a host, address or network, and optionally one port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowEntry {
    pub host: AllowedHost,
    /// None: every port.
    pub port: Option<u16>,
}

impl AllowEntry {
    /// Reads `hooks.internal.example`, `hooks.internal.example:8443`, `127.0.0.1`,
    /// `127.0.0.1:8125`, `10.0.0.0/8`, `::1`, `[::1]:8125` or `fd00::/8`.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        let bad = |why: &str| Err(format!("`{raw}` {why}"));
        if raw.is_empty() {
            return bad("is empty");
        }
        if raw.contains('/') {
            return match raw.parse::<IpRange>() {
                Ok(network) => Ok(AllowEntry {
                    host: AllowedHost::Network(network),
                    port: None,
                }),
                Err(_) => bad(
                    "is not a network: write an address, a slash and a prefix length (0 to 32, or to 128 for IPv6)",
                ),
            };
        }
        if let Ok(address) = raw.parse::<IpAddr>() {
            return Ok(AllowEntry::address(address, None));
        }
        if let Some(rest) = raw.strip_prefix('[') {
            let Some((address, after)) = rest.split_once(']') else {
                return bad("opens a bracket it does not close");
            };
            let Ok(address) = address.parse::<Ipv6Addr>() else {
                return bad("has no IPv6 address between its brackets");
            };
            let port = match after {
                "" => None,
                after => match after.strip_prefix(':').map(str::parse::<u16>) {
                    Some(Ok(port)) if port > 0 => Some(port),
                    _ => return bad("has a port that is not 1 to 65535"),
                },
            };
            return Ok(AllowEntry::address(IpAddr::V6(address), port));
        }
        let (host, port) = match raw.rsplit_once(':') {
            Some((host, port)) => match port.parse::<u16>() {
                Ok(port) if port > 0 => (host, Some(port)),
                _ => return bad("has a port that is not 1 to 65535"),
            },
            None => (raw, None),
        };
        if let Ok(address) = host.parse::<Ipv4Addr>() {
            return Ok(AllowEntry::address(IpAddr::V4(address), port));
        }
        let name = host.trim_end_matches('.').to_ascii_lowercase();
        let valid = !name.is_empty()
            && name.len() <= 253
            && name.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && label
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            });
        if !valid {
            return bad("is neither a host name, an address nor a network");
        }
        Ok(AllowEntry {
            host: AllowedHost::Name(name),
            port,
        })
    }

    fn address(address: IpAddr, port: Option<u16>) -> Self {
        AllowEntry {
            host: AllowedHost::Network(IpRange::single(address)),
            port,
        }
    }

    /// Whether the entry names `name` (lowercase, no trailing dot).
    pub fn names(&self, name: &str) -> bool {
        matches!(&self.host, AllowedHost::Name(n) if n == name)
    }

    /// Whether the entry's network holds `ip` (an IPv4-mapped IPv6 address as its IPv4 one).
    pub fn contains(&self, ip: IpAddr) -> bool {
        matches!(&self.host, AllowedHost::Network(network) if network.contains(ip))
    }

    /// Whether the entry lets a request to `port` through.
    pub fn opens(&self, port: u16) -> bool {
        self.port.is_none_or(|p| p == port)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_inside_the_network_are_told_from_public_ones() {
        let table: &[(&str, Option<AddressKind>)] = &[
            ("8.8.8.8", None),
            ("93.184.216.34", None),
            ("1.1.1.1", None),
            ("100.63.255.255", None),
            ("100.128.0.0", None),
            ("172.15.255.255", None),
            ("172.32.0.0", None),
            ("192.169.0.1", None),
            ("223.255.255.255", None),
            ("0.0.0.0", Some(AddressKind::Unspecified)),
            ("0.1.2.3", Some(AddressKind::Unspecified)),
            ("127.0.0.1", Some(AddressKind::Loopback)),
            ("127.255.255.254", Some(AddressKind::Loopback)),
            ("10.0.0.1", Some(AddressKind::Private)),
            ("172.16.0.1", Some(AddressKind::Private)),
            ("172.31.255.255", Some(AddressKind::Private)),
            ("192.168.1.1", Some(AddressKind::Private)),
            ("169.254.169.254", Some(AddressKind::LinkLocal)),
            ("169.254.0.1", Some(AddressKind::LinkLocal)),
            ("100.64.0.1", Some(AddressKind::SharedNat)),
            ("100.127.255.255", Some(AddressKind::SharedNat)),
            ("224.0.0.1", Some(AddressKind::Multicast)),
            ("239.255.255.250", Some(AddressKind::Multicast)),
            ("255.255.255.255", Some(AddressKind::Broadcast)),
            ("240.0.0.1", Some(AddressKind::Reserved)),
            ("192.0.2.1", Some(AddressKind::Reserved)),
            ("198.18.0.1", Some(AddressKind::Reserved)),
            ("203.0.113.7", Some(AddressKind::Reserved)),
            ("2606:4700:4700::1111", None),
            ("2a00:1450:4001:80b::200e", None),
            ("::", Some(AddressKind::Unspecified)),
            ("::1", Some(AddressKind::Loopback)),
            ("fc00::1", Some(AddressKind::Private)),
            ("fd12:3456:789a::1", Some(AddressKind::Private)),
            ("fe80::1", Some(AddressKind::LinkLocal)),
            ("febf::1", Some(AddressKind::LinkLocal)),
            ("fec0::1", Some(AddressKind::Reserved)),
            ("ff02::1", Some(AddressKind::Multicast)),
            ("2001:db8::1", Some(AddressKind::Reserved)),
            ("2001:0:4136:e378::1", Some(AddressKind::Reserved)),
            ("100::1", Some(AddressKind::Reserved)),
            ("64:ff9b:1::1", Some(AddressKind::Private)),
            // IPv6 forms carrying an IPv4 address are judged by it.
            ("::ffff:127.0.0.1", Some(AddressKind::Loopback)),
            ("::ffff:169.254.169.254", Some(AddressKind::LinkLocal)),
            ("::ffff:10.0.0.1", Some(AddressKind::Private)),
            ("::ffff:8.8.8.8", None),
            ("::127.0.0.1", Some(AddressKind::Loopback)),
            ("64:ff9b::a9fe:a9fe", Some(AddressKind::LinkLocal)),
            ("64:ff9b::808:808", None),
            ("2002:7f00:1::", Some(AddressKind::Loopback)),
            ("2002:c0a8:101::1", Some(AddressKind::Private)),
            ("2002:808:808::1", None),
        ];
        for (address, expected) in table {
            let ip: IpAddr = address.parse().expect(address);
            assert_eq!(classify(ip), *expected, "{address}");
        }
    }

    #[test]
    fn localhost_names_mean_this_machine() {
        for name in ["localhost", "LOCALHOST.", "api.localhost", "a.b.localhost"] {
            assert!(is_local_name(name), "{name}");
        }
        for name in ["localhost.example.org", "mylocalhost", "example.org"] {
            assert!(!is_local_name(name), "{name}");
        }
    }

    #[test]
    fn allow_entries_name_hosts_addresses_networks_and_ports() {
        let entry = |raw: &str| AllowEntry::parse(raw).expect(raw);
        let statsd = entry("127.0.0.1:8125");
        assert!(statsd.contains("127.0.0.1".parse().expect("ip")));
        assert!(statsd.contains("::ffff:127.0.0.1".parse().expect("ip")));
        assert!(!statsd.contains("127.0.0.2".parse().expect("ip")));
        assert!(statsd.opens(8125) && !statsd.opens(5432));
        let host = entry("Hooks.Internal.Example.");
        assert!(host.names("hooks.internal.example") && host.opens(1));
        assert!(!host.contains("10.0.0.1".parse().expect("ip")));
        let ported = entry("hooks.internal.example:8443");
        assert!(ported.names("hooks.internal.example") && ported.opens(8443));
        let net = entry("10.1.0.0/16");
        assert!(net.contains("10.1.255.1".parse().expect("ip")));
        assert!(!net.contains("10.2.0.1".parse().expect("ip")));
        assert!(entry("0.0.0.0/0").contains("8.8.8.8".parse().expect("ip")));
        let v6 = entry("[::1]:8125");
        assert!(v6.contains("::1".parse().expect("ip")) && v6.opens(8125));
        assert!(entry("fd00::/8").contains("fd12::1".parse().expect("ip")));
        assert!(entry("::1").contains("::1".parse().expect("ip")));
        for bad in [
            "",
            "10.0.0.0/33",
            "fd00::/129",
            "host/8",
            "[::1",
            "[nope]:1",
            "host:0",
            "host:99999",
            "a b",
            "http://hooks.example",
            "[::1]:x",
        ] {
            assert!(AllowEntry::parse(bad).is_err(), "{bad}");
        }
    }
}
