//! Named IP allowlists: networks in CIDR form, IPv4 and IPv6, on `ipnet`.
//!
//! Entries are written as IBM's `allowed_ip_addresses` account setting writes them: a
//! comma-separated list (or a JSON array) of addresses and CIDR blocks, blanks around entries
//! ignored. Entries are read as strictly as the addresses they are checked against (see
//! [`crate::net`]): an entry that common parsers could read two ways (leading zeros, bits set
//! after the prefix, a zone) is refused at load, naming it. An address outside every network
//! is not allowed; so is a blank, missing or ambiguous one, and [`Allowlist::check`] says
//! which of those it was.

use crate::net::{parse_address, Ambiguous};
use ipnet::{IpNet, Ipv4Net};
use std::fmt;
use std::net::IpAddr;

/// The value of a named allowlist that restricts nothing (as an IBM account without IP
/// address restrictions). A blank list is refused instead, so that a setting emptied by
/// mistake never opens every address.
pub const UNRESTRICTED: &str = "unrestricted";

/// One allowlist entry: `10.0.0.0/8`, `2001:db8::/32`, or a single address. The IPv6 form of
/// an IPv4 network (`::ffff:10.0.0.0/104`) is that IPv4 network.
pub fn parse_network(text: &str) -> Result<IpNet, String> {
    let t = text.trim();
    let (addr, prefix) = match t.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (t, None),
    };
    let ip = match addr.parse::<IpAddr>() {
        Ok(ip) => ip,
        Err(_) => {
            return Err(format!(
                "{t:?} is not an address or CIDR block: {}",
                why(addr)
            ))
        }
    };
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let len = match prefix {
        None => max,
        Some(p) => match p.parse::<u8>() {
            // `/08` reads as 8 to some and is refused by others: only plain decimal.
            Ok(n)
                if n <= max
                    && p.bytes().all(|b| b.is_ascii_digit())
                    && (p == "0" || !p.starts_with('0')) =>
            {
                n
            }
            _ => {
                return Err(format!(
                    "{t:?}: the prefix length must be a whole number from 0 to {max}, without leading zeros"
                ))
            }
        },
    };
    let net = IpNet::new(ip, len).map_err(|e| format!("{t:?}: {e}"))?;
    if net.network() != ip {
        return Err(format!(
            "{t:?} has bits set after the prefix, so it could mean the address or the network: write {}",
            net.trunc()
        ));
    }
    Ok(match net {
        IpNet::V6(v6) if v6.prefix_len() >= 96 => match v6.network().to_ipv4_mapped() {
            Some(v4) => IpNet::V4(
                Ipv4Net::new(v4, v6.prefix_len() - 96).map_err(|e| format!("{t:?}: {e}"))?,
            ),
            None => net,
        },
        other => other,
    })
}

/// Why an entry's address part is not one address, in words.
fn why(addr: &str) -> String {
    match parse_address(addr) {
        Err(a) => a.to_string(),
        // One address once trimmed: blanks stand between it and its prefix (`10.0.0.0 /8`).
        Ok(_) => "not an address".to_string(),
    }
}

/// Why an address is not allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    NotListed,
    Blank,
    /// Not exactly one address ([`crate::net::Ambiguous`]): the value as written and why.
    Ambiguous(String, Ambiguous),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allowlist {
    pub name: String,
    networks: Vec<IpNet>,
    /// [`UNRESTRICTED`]: every address is allowed.
    unrestricted: bool,
}

impl Allowlist {
    /// From entries, each an address or CIDR block (a comma-separated string splits too).
    /// Blank entries are skipped; no entries at all allow nothing.
    pub fn new<'a>(name: &str, entries: impl IntoIterator<Item = &'a str>) -> Result<Self, String> {
        let networks = entries
            .into_iter()
            .flat_map(|e| e.split(','))
            .filter(|e| !e.trim().is_empty())
            .map(parse_network)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            name: name.to_string(),
            networks,
            unrestricted: false,
        })
    }

    /// A named allowlist, as a pack or `IAMWATCH_ALLOWLIST_<NAME>` defines it: its entries, or
    /// the single value [`UNRESTRICTED`]. A blank list is an error, since an emptied setting
    /// would otherwise silence every rule that reads it.
    pub fn named<'a>(
        name: &str,
        entries: impl IntoIterator<Item = &'a str>,
    ) -> Result<Self, String> {
        let entries: Vec<&str> = entries
            .into_iter()
            .flat_map(|e| e.split(','))
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .collect();
        match entries.as_slice() {
            [] => Err(format!(
                "is blank: list the allowed addresses and networks, or write {UNRESTRICTED:?} to allow every address"
            )),
            [one] if one.eq_ignore_ascii_case(UNRESTRICTED) => Ok(Self {
                name: name.to_string(),
                networks: Vec::new(),
                unrestricted: true,
            }),
            more if more.iter().any(|e| e.eq_ignore_ascii_case(UNRESTRICTED)) => Err(format!(
                "{UNRESTRICTED:?} must be the only value, not mixed with addresses"
            )),
            _ => Self::new(name, entries),
        }
    }

    pub fn len(&self) -> usize {
        self.networks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.networks.is_empty()
    }

    /// Whether this list allows every address ([`UNRESTRICTED`]).
    pub fn is_unrestricted(&self) -> bool {
        self.unrestricted
    }

    /// Whether `address`, exactly one address, is allowed.
    pub fn check(&self, address: &str) -> Verdict {
        if self.unrestricted {
            return Verdict::Allowed;
        }
        match parse_address(address) {
            Ok(ip) if self.contains(ip) => Verdict::Allowed,
            Ok(_) => Verdict::NotListed,
            Err(Ambiguous::Blank) => Verdict::Blank,
            Err(why) => Verdict::Ambiguous(address.to_string(), why),
        }
    }

    /// A list of networks checked already (exceptions' `source`).
    pub(crate) fn from_networks(name: &str, networks: Vec<IpNet>) -> Self {
        Self {
            name: name.to_string(),
            networks,
            unrestricted: false,
        }
    }

    /// An IPv4 address is also inside an IPv6 network that holds its mapped form
    /// (`::/0` holds every address).
    pub(crate) fn contains(&self, ip: IpAddr) -> bool {
        let mapped = match ip {
            IpAddr::V4(v4) => IpAddr::V6(v4.to_ipv6_mapped()),
            v6 => v6,
        };
        self.networks
            .iter()
            .any(|n| n.contains(&ip) || n.contains(&mapped))
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Allowed => f.write_str("on the allowlist"),
            Verdict::NotListed => f.write_str("not on the allowlist"),
            Verdict::Blank => f.write_str("blank, so not on the allowlist"),
            Verdict::Ambiguous(_, why) => write!(f, "{why}, so not on the allowlist"),
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
        let amb = |s: &str, why| Verdict::Ambiguous(s.into(), why);
        for (addr, v) in [
            ("10.45.116.217", Verdict::Allowed),
            ("::ffff:10.1.2.3", Verdict::Allowed),
            ("::ffff:a01:203", Verdict::Allowed),
            ("203.0.113.7", Verdict::Allowed),
            ("203.0.113.8", Verdict::NotListed),
            ("2001:db8:1::5", Verdict::Allowed),
            ("2001:db9::1", Verdict::NotListed),
            ("", Verdict::Blank),
            ("  ", Verdict::Blank),
            // Nothing but exactly one address can be on a list.
            (" 10.45.116.217", Verdict::Allowed),
            (
                "010.001.002.003",
                amb("010.001.002.003", Ambiguous::LeadingZeros),
            ),
            ("10.2.0.0/16", amb("10.2.0.0/16", Ambiguous::Network)),
            (
                "::ffff:10.0.0.0/8",
                amb("::ffff:10.0.0.0/8", Ambiguous::Network),
            ),
            (
                "::ffff:10.0.0.0/104",
                amb("::ffff:10.0.0.0/104", Ambiguous::Network),
            ),
            ("10.0.0.0/08", amb("10.0.0.0/08", Ambiguous::Network)),
            ("[2001:db8::1]", amb("[2001:db8::1]", Ambiguous::Brackets)),
            ("2001:db8::1%2", amb("2001:db8::1%2", Ambiguous::Zone)),
            ("10.0.0.1:22", amb("10.0.0.1:22", Ambiguous::Port)),
            ("10.0.0.1,8.8.8.8", amb("10.0.0.1,8.8.8.8", Ambiguous::List)),
            ("0xa000001", amb("0xa000001", Ambiguous::OtherForm)),
            (
                "signin.amazonaws.com",
                amb("signin.amazonaws.com", Ambiguous::NotAnAddress),
            ),
        ] {
            assert_eq!(a.check(addr), v, "{addr}");
        }
        // An IPv4 address is inside an IPv6 network that holds its mapped form.
        let v6 = Allowlist::new("x", ["::/0"]).unwrap();
        assert_eq!(v6.check("192.0.2.1"), Verdict::Allowed);
        let v4 = Allowlist::new("x", ["0.0.0.0/0"]).unwrap();
        assert_eq!(v4.check("2001:db8::1"), Verdict::NotListed);
        // The IPv6 way of writing 10.0.0.0/8 is 10.0.0.0/8.
        let mapped = Allowlist::new("x", ["::ffff:10.0.0.0/104"]).unwrap();
        assert_eq!(
            mapped.networks,
            vec!["10.0.0.0/8".parse::<IpNet>().unwrap()]
        );
        assert_eq!(mapped.check("10.9.9.9"), Verdict::Allowed);
        assert_eq!(mapped.check("11.0.0.1"), Verdict::NotListed);
        assert!(Allowlist::new("x", [""]).unwrap().is_empty());
        assert_eq!(
            Allowlist::new("x", [""]).unwrap().check("203.0.113.1"),
            Verdict::NotListed
        );
        assert_eq!(env_var("iam"), "IAMWATCH_ALLOWLIST_IAM");
        assert_eq!(env_var("office-v6"), "IAMWATCH_ALLOWLIST_OFFICE_V6");
    }

    #[test]
    fn ambiguous_entries_are_refused_naming_them() {
        for (entry, says) in [
            ("10.0.0.0/33", "from 0 to 32"),
            ("10.0.0.0/08", "without leading zeros"),
            ("10.0.0.0/+8", "whole number"),
            ("10.0.0.0/", "whole number"),
            ("10.1.2.3/8", "write 10.0.0.0/8"),
            ("::ffff:10.0.0.0/8", "write ::/8"),
            ("010.0.0.0/8", "leading zeros"),
            ("[2001:db8::]/32", "brackets"),
            ("fe80::%eth0/64", "zone"),
            ("nope", "not an IP address"),
            ("10.0.0.0/8 10.1.0.0/16", "whole number"),
        ] {
            let e = Allowlist::new("x", [entry]).unwrap_err();
            assert!(e.contains(&format!("{:?}", entry.trim())), "{entry}: {e}");
            assert!(e.contains(says), "{entry}: {e}");
        }
    }

    #[test]
    fn a_named_list_is_never_blank_by_mistake() {
        for blank in [vec![""], vec![" , "], vec![]] {
            let e = Allowlist::named("iam", blank.clone()).unwrap_err();
            assert!(e.contains("is blank") && e.contains("unrestricted"), "{e}");
        }
        let open = Allowlist::named("iam", [" Unrestricted "]).unwrap();
        assert!(open.is_unrestricted());
        assert_eq!(open.check("203.0.113.1"), Verdict::Allowed);
        assert_eq!(open.check(""), Verdict::Allowed);
        assert!(Allowlist::named("iam", ["unrestricted, 10.0.0.0/8"])
            .unwrap_err()
            .contains("the only value"));
        let listed = Allowlist::named("iam", ["10.0.0.0/8"]).unwrap();
        assert!(!listed.is_unrestricted());
        assert_eq!(listed.check("203.0.113.1"), Verdict::NotListed);
    }
}
