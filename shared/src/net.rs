//! Source addresses as audit logs write them, normalised to `IpAddr` where they are one.

use std::net::{IpAddr, Ipv4Addr};

/// The IP address in `text`, or `None` when it holds none (a blank, a service name such as
/// `signin.amazonaws.com`, `AWS Internal`).
///
/// Normalises the odd forms seen in real logs: surrounding blanks, `[v6]` brackets, a `%zone`
/// suffix, IPv4-mapped IPv6 (`::ffff:203.0.113.7` is `203.0.113.7`), and dotted quads with
/// leading zeros (`075.050.255.67`, read as decimal, as anonymisers write them).
pub fn parse_ip(text: &str) -> Option<IpAddr> {
    let t = text.trim();
    let t = t
        .strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .unwrap_or(t);
    let t = t.split_once('%').map_or(t, |(addr, _zone)| addr);
    if t.is_empty() {
        return None;
    }
    match t.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) => Some(v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4)),
        Ok(v4) => Some(v4),
        Err(_) => decimal_quad(t).map(IpAddr::V4),
    }
}

/// `a.b.c.d` with 1–3 decimal digits per part, leading zeros allowed.
fn decimal_quad(t: &str) -> Option<Ipv4Addr> {
    let mut parts = [0u8; 4];
    let mut n = 0;
    for part in t.split('.') {
        if n == 4 || part.is_empty() || part.len() > 3 || !part.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        parts[n] = part.parse().ok()?;
        n += 1;
    }
    (n == 4).then(|| Ipv4Addr::from(parts))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_forms() {
        let v4 = |s: &str| parse_ip(s).map(|a| a.to_string());
        assert_eq!(v4("203.0.113.7").as_deref(), Some("203.0.113.7"));
        assert_eq!(v4(" 203.0.113.7 ").as_deref(), Some("203.0.113.7"));
        assert_eq!(v4("075.050.255.67").as_deref(), Some("75.50.255.67"));
        assert_eq!(v4("::ffff:203.0.113.7").as_deref(), Some("203.0.113.7"));
        assert_eq!(v4("[2001:db8::1]").as_deref(), Some("2001:db8::1"));
        assert_eq!(v4("fe80::1%eth0").as_deref(), Some("fe80::1"));
        for s in [
            "",
            "  ",
            "signin.amazonaws.com",
            "AWS Internal",
            "256.1.1.1",
            "1.2.3",
            "1.2.3.4.5",
        ] {
            assert_eq!(parse_ip(s), None, "{s}");
        }
    }
}
