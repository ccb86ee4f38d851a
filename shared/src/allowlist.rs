//! Named IP allowlists: networks in CIDR form, IPv4 and IPv6.
//!
//! Entries are written as IBM's `allowed_ip_addresses` account setting writes them: a
//! comma-separated list (or a JSON array) of addresses and CIDR blocks, blanks around entries
//! ignored. An address outside every network is not allowed; so is a blank or unparseable
//! address, and [`Allowlist::check`] says which of those it was.

use crate::net::parse_ip;
use std::fmt;
use std::net::IpAddr;

/// One network: an address and a prefix length, in IPv6 space (IPv4 as IPv4-mapped) so that
/// one comparison serves both families.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    bits: u128,
    prefix: u8,
}

impl Network {
    /// `10.0.0.0/8`, `2001:db8::/32`, or a single address.
    pub fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim();
        let (addr, prefix) = match t.split_once('/') {
            Some((a, p)) => (a, Some(p.trim())),
            None => (t, None),
        };
        let ip =
            parse_ip(addr).ok_or_else(|| format!("{t:?} is not an IP address or CIDR block"))?;
        let (bits, max, offset) = match ip {
            IpAddr::V4(v4) => (u128::from(v4.to_ipv6_mapped()), 32u8, 96u8),
            IpAddr::V6(v6) => (u128::from(v6), 128u8, 0u8),
        };
        let len = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{t:?}: the prefix length must be 0 to {max}"))?,
        };
        let prefix = len + offset;
        Ok(Self {
            bits: bits & mask(prefix),
            prefix,
        })
    }

    /// Whether `other` (an address or a whole network) lies inside this network.
    pub fn contains(&self, other: &Network) -> bool {
        other.prefix >= self.prefix && other.bits & mask(self.prefix) == self.bits
    }
}

fn mask(prefix: u8) -> u128 {
    if prefix == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(prefix))
    }
}

/// Why an address is not allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    NotListed,
    Blank,
    Unparseable(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allowlist {
    pub name: String,
    networks: Vec<Network>,
    /// A named allowlist with no entries means "not restricted", as an empty IBM
    /// `allowed_ip_addresses` setting does: every address is allowed.
    unrestricted: bool,
}

impl Allowlist {
    /// From entries, each an address or CIDR block (a comma-separated string splits too).
    pub fn new<'a>(name: &str, entries: impl IntoIterator<Item = &'a str>) -> Result<Self, String> {
        let networks = entries
            .into_iter()
            .flat_map(|e| e.split(','))
            .filter(|e| !e.trim().is_empty())
            .map(Network::parse)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            name: name.to_string(),
            networks,
            unrestricted: false,
        })
    }

    /// A named allowlist: empty means not restricted (every address allowed), as IBM's
    /// account setting means it.
    pub fn named<'a>(
        name: &str,
        entries: impl IntoIterator<Item = &'a str>,
    ) -> Result<Self, String> {
        let mut l = Self::new(name, entries)?;
        l.unrestricted = l.networks.is_empty();
        Ok(l)
    }

    pub fn len(&self) -> usize {
        self.networks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.networks.is_empty()
    }

    /// Whether `address` (an address, or a CIDR block for subnet initiators) is allowed.
    pub fn check(&self, address: &str) -> Verdict {
        if self.unrestricted {
            return Verdict::Allowed;
        }
        if address.trim().is_empty() {
            return Verdict::Blank;
        }
        match Network::parse(address) {
            Ok(n) if self.networks.iter().any(|allowed| allowed.contains(&n)) => Verdict::Allowed,
            Ok(_) => Verdict::NotListed,
            Err(_) => Verdict::Unparseable(address.to_string()),
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Allowed => f.write_str("on the allowlist"),
            Verdict::NotListed => f.write_str("not on the allowlist"),
            Verdict::Blank => f.write_str("blank, so not on the allowlist"),
            Verdict::Unparseable(s) => {
                write!(f, "{s:?} is not an IP address, so not on the allowlist")
            }
        }
    }
}

/// The environment variable that defines allowlist `name`: `IAMWATCH_ALLOWLIST_<NAME>`, the name
/// upper-cased with every other character than letters and digits written as `_`.
pub fn env_var(name: &str) -> String {
    let n: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("IAMWATCH_ALLOWLIST_{n}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_and_addresses() {
        let a = Allowlist::new("iam", [" 10.0.0.0/8 , 203.0.113.7", "2001:db8::/32"]).unwrap();
        assert_eq!(a.len(), 3);
        for (addr, v) in [
            ("10.45.116.217", Verdict::Allowed),
            (" 10.45.116.217", Verdict::Allowed),
            ("::ffff:10.1.2.3", Verdict::Allowed),
            ("010.001.002.003", Verdict::Allowed),
            ("203.0.113.7", Verdict::Allowed),
            ("203.0.113.8", Verdict::NotListed),
            ("2001:db8:1::5", Verdict::Allowed),
            ("2001:db9::1", Verdict::NotListed),
            ("10.2.0.0/16", Verdict::Allowed),
            ("10.0.0.0/7", Verdict::NotListed),
            ("", Verdict::Blank),
            ("  ", Verdict::Blank),
            (
                "signin.amazonaws.com",
                Verdict::Unparseable("signin.amazonaws.com".into()),
            ),
        ] {
            assert_eq!(a.check(addr), v, "{addr}");
        }
        // IPv4 networks never contain IPv6 addresses outside the mapped range, and back.
        let v6 = Allowlist::new("x", ["::/0"]).unwrap();
        assert_eq!(
            v6.check("192.0.2.1"),
            Verdict::Allowed,
            "::/0 holds the mapped IPv4 space too"
        );
        let v4 = Allowlist::new("x", ["0.0.0.0/0"]).unwrap();
        assert_eq!(v4.check("2001:db8::1"), Verdict::NotListed);
        assert!(Allowlist::new("x", ["10.0.0.0/33"]).is_err());
        assert!(Allowlist::new("x", ["nope"]).is_err());
        assert!(Allowlist::new("x", [""]).unwrap().is_empty());
        assert_eq!(env_var("iam"), "IAMWATCH_ALLOWLIST_IAM");
        // A named list with no entries restricts nothing, as IBM's setting; an inline one allows nothing.
        assert_eq!(
            Allowlist::named("iam", [""]).unwrap().check("203.0.113.1"),
            Verdict::Allowed
        );
        assert_eq!(
            Allowlist::named("iam", [""]).unwrap().check(""),
            Verdict::Allowed
        );
        assert_eq!(
            Allowlist::new("x", [""]).unwrap().check("203.0.113.1"),
            Verdict::NotListed
        );
        assert_eq!(env_var("office-v6"), "IAMWATCH_ALLOWLIST_OFFICE_V6");
    }
}
