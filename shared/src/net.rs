//! Source addresses as audit logs write them, read strictly.
//!
//! An alerting tool must not be talked out of an alert by an oddly written address, so a value
//! counts as an address only when it is exactly one address in the form every common parser
//! reads the same way. Anything else is [`Ambiguous`], with the reason, and allowlist rules
//! treat it as outside every list (see `docs/rules.md`, "Addresses and allowlists").

use std::fmt;
use std::net::IpAddr;

/// Why a value is not exactly one IP address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ambiguous {
    /// Nothing but blanks.
    Blank,
    /// `10.0.0.0/8`: a network, not one address.
    Network,
    /// `203.0.113.7:443`, `[2001:db8::1]:443`.
    Port,
    /// `[2001:db8::1]`.
    Brackets,
    /// `fe80::1%eth0`.
    Zone,
    /// `10.0.0.1, 10.0.0.2`: more than one value.
    List,
    /// `010.0.0.1`: decimal to some parsers, octal (`8.0.0.1`) to others.
    LeadingZeros,
    /// `0x0a000001`, `167772161`, `10.1`: hexadecimal, octal, integer or shortened forms.
    OtherForm,
    /// A host name or anything else that is no address at all.
    NotAnAddress,
}

impl fmt::Display for Ambiguous {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Ambiguous::Blank => "blank",
            Ambiguous::Network => "a network, not one address",
            Ambiguous::Port => "an address with a port",
            Ambiguous::Brackets => "an address in brackets",
            Ambiguous::Zone => "an address with a zone",
            Ambiguous::List => "a list, not one address",
            Ambiguous::LeadingZeros => {
                "an address with leading zeros in an octet (decimal to some parsers, octal to others)"
            }
            Ambiguous::OtherForm => "a hexadecimal, octal, integer or shortened address form",
            Ambiguous::NotAnAddress => "not an IP address",
        })
    }
}

/// The one IP address `text` is, or why it is not exactly one.
///
/// IPv4 is the dotted quad without leading zeros; IPv6 is any form RFC 4291 allows. Blanks
/// around the address are ignored: IBM's events write `" 10.45.116.217"`, and no parser reads
/// such a value as another address. An
/// IPv4-mapped IPv6 address (`::ffff:203.0.113.7`) is returned as the IPv4 address it maps, so
/// it compares as IPv4 (it is one address, written plainly).
pub fn parse_address(text: &str) -> Result<IpAddr, Ambiguous> {
    let text = text.trim();
    if text.is_empty() {
        return Err(Ambiguous::Blank);
    }
    match text.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) => Ok(v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4)),
        Ok(v4) => Ok(v4),
        Err(_) => Err(why_not(text)),
    }
}

/// The reason `text`, which std's parser refused, is not one address.
fn why_not(text: &str) -> Ambiguous {
    let t = text;
    const SEPARATORS: [char; 6] = [',', ';', ' ', '\t', '\n', '\r'];
    if t.contains(SEPARATORS) {
        // `AWS Internal` is a name; `10.0.0.1, 10.0.0.2` is a list.
        return if t.split(SEPARATORS).any(|p| parse_address(p).is_ok()) {
            Ambiguous::List
        } else {
            Ambiguous::NotAnAddress
        };
    }
    if t.contains('/') {
        return Ambiguous::Network;
    }
    if t.starts_with('[') {
        // `[v6]` or `[v6]:port`
        return match t.split_once(']') {
            Some((_, rest)) if rest.starts_with(':') => Ambiguous::Port,
            _ => Ambiguous::Brackets,
        };
    }
    if t.contains('%') {
        return Ambiguous::Zone;
    }
    if let Some((host, port)) = t.rsplit_once(':') {
        // One colon after a dotted quad: `a.b.c.d:port`.
        if !host.contains(':') && !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) {
            return Ambiguous::Port;
        }
    }
    // The last group of an IPv6 address may be a dotted quad (`::ffff:010.0.0.1`).
    let quad = t.rsplit(':').next().unwrap_or(t);
    let parts: Vec<&str> = quad.split('.').collect();
    let numeric = |p: &str| {
        !p.is_empty()
            && (p.bytes().all(|b| b.is_ascii_digit())
                || (p.len() > 2
                    && (p.starts_with("0x") || p.starts_with("0X"))
                    && p[2..].bytes().all(|b| b.is_ascii_hexdigit())))
    };
    if parts.iter().all(|p| numeric(p)) {
        let decimal = parts.iter().all(|p| p.bytes().all(|b| b.is_ascii_digit()));
        if parts.len() == 4 && decimal && parts.iter().any(|p| p.len() > 1 && p.starts_with('0')) {
            return Ambiguous::LeadingZeros;
        }
        let in_range = parts
            .iter()
            .all(|p| p.len() <= 3 && p.parse::<u16>().is_ok_and(|n| n < 256));
        if parts.len() <= 4 && !(parts.len() == 4 && decimal && !in_range) {
            return Ambiguous::OtherForm;
        }
    }
    Ambiguous::NotAnAddress
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exactly_one_address() {
        let ok = |s: &str| parse_address(s).map(|a| a.to_string());
        assert_eq!(ok("203.0.113.7").as_deref(), Ok("203.0.113.7"));
        assert_eq!(ok("::ffff:203.0.113.7").as_deref(), Ok("203.0.113.7"));
        assert_eq!(ok("::ffff:cb00:7107").as_deref(), Ok("203.0.113.7"));
        assert_eq!(ok("2001:DB8::1").as_deref(), Ok("2001:db8::1"));
        assert_eq!(ok("0.0.0.0").as_deref(), Ok("0.0.0.0"));
        assert_eq!(ok(" 10.45.116.217 \n").as_deref(), Ok("10.45.116.217"));
        for (s, why) in [
            ("", Ambiguous::Blank),
            ("  ", Ambiguous::Blank),
            ("10.0.0.0/8", Ambiguous::Network),
            ("::ffff:10.0.0.0/8", Ambiguous::Network),
            ("::ffff:10.0.0.0/104", Ambiguous::Network),
            ("10.0.0.0/08", Ambiguous::Network),
            ("203.0.113.7:443", Ambiguous::Port),
            ("[2001:db8::1]:443", Ambiguous::Port),
            ("[2001:db8::1]", Ambiguous::Brackets),
            ("fe80::1%eth0", Ambiguous::Zone),
            ("10.0.0.1,10.0.0.2", Ambiguous::List),
            ("10.0.0.1 10.0.0.2", Ambiguous::List),
            ("010.0.0.1", Ambiguous::LeadingZeros),
            ("075.050.255.67", Ambiguous::LeadingZeros),
            ("::ffff:010.0.0.1", Ambiguous::LeadingZeros),
            ("0x0a000001", Ambiguous::OtherForm),
            ("0x0a.0.0.1", Ambiguous::OtherForm),
            ("167772161", Ambiguous::OtherForm),
            ("10.1", Ambiguous::OtherForm),
            ("256.1.1.1", Ambiguous::NotAnAddress),
            ("1.2.3.4.5", Ambiguous::NotAnAddress),
            ("signin.amazonaws.com", Ambiguous::NotAnAddress),
            ("AWS Internal", Ambiguous::NotAnAddress),
            ("localhost", Ambiguous::NotAnAddress),
        ] {
            assert_eq!(parse_address(s), Err(why), "{s:?}");
        }
    }
}
