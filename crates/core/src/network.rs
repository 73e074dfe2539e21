//! Address ranges named in the settings (`10.0.0.0/8`, `::1`): parsed once at start and
//! matched against a peer's address. Written out here rather than taken from a crate because
//! the whole job is a mask and a comparison.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use serde::Deserialize;

/// One address or a CIDR block of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct IpRange {
    network: IpAddr,
    prefix: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not an address or a CIDR block (write it like 203.0.113.7, 10.0.0.0/8 or fd00::/8)"
)]
pub struct NotARange(String);

impl IpRange {
    /// The range of one address.
    pub fn single(address: IpAddr) -> IpRange {
        let network = address.to_canonical();
        IpRange {
            network,
            prefix: if network.is_ipv4() { 32 } else { 128 },
        }
    }

    /// Whether `address` is in this range. An IPv4 address seen as IPv6
    /// (`::ffff:10.0.0.1`, as a dual-stack listener reports it) is matched as IPv4.
    pub fn contains(&self, address: IpAddr) -> bool {
        match (self.network, address.to_canonical()) {
            (IpAddr::V4(network), IpAddr::V4(address)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(network) & mask == u32::from(address) & mask
            }
            (IpAddr::V6(network), IpAddr::V6(address)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(network) & mask == u128::from(address) & mask
            }
            _ => false,
        }
    }
}

impl FromStr for IpRange {
    type Err = NotARange;

    fn from_str(text: &str) -> Result<Self, NotARange> {
        let refuse = || NotARange(text.to_owned());
        let (address, prefix) = match text.trim().split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text.trim(), None),
        };
        let network = IpAddr::from_str(address)
            .map_err(|_| refuse())?
            .to_canonical();
        let widest = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) if p.bytes().all(|b| b.is_ascii_digit()) => {
                p.parse::<u8>().map_err(|_| refuse())?
            }
            Some(_) => return Err(refuse()),
            None => widest,
        };
        if prefix > widest {
            return Err(refuse());
        }
        Ok(IpRange { network, prefix })
    }
}

impl TryFrom<String> for IpRange {
    type Error = NotARange;

    fn try_from(text: String) -> Result<Self, NotARange> {
        text.parse()
    }
}

impl fmt::Display for IpRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("address")
    }

    #[test]
    fn blocks_hold_their_addresses_and_no_others() {
        let block: IpRange = "10.0.0.0/8".parse().expect("range");
        assert!(block.contains(ip("10.0.0.1")));
        assert!(block.contains(ip("10.255.255.255")));
        assert!(block.contains(ip("::ffff:10.1.2.3")));
        assert!(!block.contains(ip("11.0.0.0")));
        assert!(!block.contains(ip("9.255.255.255")));
        assert!(!block.contains(ip("::1")));
        let one: IpRange = "127.0.0.1".parse().expect("range");
        assert!(one.contains(ip("127.0.0.1")));
        assert!(!one.contains(ip("127.0.0.2")));
        let v6: IpRange = "fd00::/8".parse().expect("range");
        assert!(v6.contains(ip("fd12::1")));
        assert!(!v6.contains(ip("fe80::1")));
        let everything: IpRange = "0.0.0.0/0".parse().expect("range");
        assert!(everything.contains(ip("203.0.113.9")));
        let loopback6: IpRange = "::1".parse().expect("range");
        assert!(loopback6.contains(ip("::1")));
        assert!(!loopback6.contains(ip("::2")));
    }

    #[test]
    fn what_is_not_a_range_is_refused() {
        for bad in [
            "",
            "10.0.0.0/33",
            "::/129",
            "10.0.0.0/",
            "10.0.0.0/-1",
            "10.0.0.0/+8",
            "10.0.0",
            "example.org",
            "10.0.0.0/8/8",
        ] {
            assert!(bad.parse::<IpRange>().is_err(), "{bad}");
        }
    }
}
