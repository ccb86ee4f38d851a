//! Event timestamps in every form audit logs use, without a date-time dependency.
//!
//! Accepted: `2026-11-20T08:00:12Z`, fractions of 0–9 digits, offsets `Z`, `+0000`, `+00:00`,
//! `-06:00`, a blank instead of `T`, and IBM Cloud Pak's `2018-04-20 20:15:00.32 +0000 UTC`.

use std::fmt;

/// Milliseconds since the Unix epoch, UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn millis(self) -> i64 {
        self.0
    }

    /// The time now.
    pub fn now() -> Self {
        let ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        Timestamp(ms)
    }

    /// Parses a timestamp; `None` when the text is not one of the accepted forms.
    pub fn parse(text: &str) -> Option<Self> {
        let b = text.trim().as_bytes();
        let num = |at: usize, len: usize| -> Option<i64> {
            let digits = b.get(at..at + len)?;
            digits.iter().try_fold(0i64, |acc, d| {
                d.is_ascii_digit().then(|| acc * 10 + i64::from(d - b'0'))
            })
        };
        let year = num(0, 4)?;
        let month = num(5, 2)?;
        let day = num(8, 2)?;
        if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
            return None;
        }
        if !matches!(b.get(10), Some(b'T' | b't' | b' ')) {
            return None;
        }
        let hour = num(11, 2)?;
        let minute = num(14, 2)?;
        let second = num(17, 2)?;
        if b.get(13) != Some(&b':') || b.get(16) != Some(&b':') {
            return None;
        }
        if !(1..=12).contains(&month)
            || day < 1
            || day > days_in_month(year, month)
            || hour > 23
            || minute > 59
            || second > 60
        {
            return None;
        }
        let mut i = 19;
        let mut millis = 0i64;
        if b.get(i) == Some(&b'.') {
            i += 1;
            let start = i;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                if i - start < 3 {
                    millis = millis * 10 + i64::from(b[i] - b'0');
                }
                i += 1;
            }
            let n = i - start;
            if n == 0 || n > 9 {
                return None;
            }
            for _ in n..3 {
                millis *= 10;
            }
        }
        while b.get(i) == Some(&b' ') {
            i += 1;
        }
        let offset_min = match b.get(i) {
            Some(b'Z' | b'z') => {
                i += 1;
                0
            }
            Some(sign @ (b'+' | b'-')) => {
                let h = num(i + 1, 2)?;
                let (m, len) = if b.get(i + 3) == Some(&b':') {
                    (num(i + 4, 2)?, 6)
                } else {
                    (num(i + 3, 2)?, 5)
                };
                if h > 23 || m > 59 {
                    return None;
                }
                i += len;
                let off = h * 60 + m;
                if *sign == b'-' {
                    -off
                } else {
                    off
                }
            }
            // No offset: audit logs write UTC.
            None => 0,
            Some(_) => return None,
        };
        // IBM Cloud Pak appends the zone name after the offset.
        let rest = std::str::from_utf8(&b[i..]).ok()?.trim();
        if !(rest.is_empty() || rest == "UTC" || rest == "GMT") {
            return None;
        }
        let days = days_from_civil(year, month, day);
        let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_min * 60;
        Some(Timestamp(secs * 1000 + millis))
    }

    /// `HHMM` in UTC, the `event_time` fact of change-window rules.
    pub fn hhmm(self) -> u32 {
        let secs_of_day = self.0.div_euclid(1000).rem_euclid(86_400);
        // Both factors are below 100, so the cast cannot truncate.
        ((secs_of_day / 3600) * 100 + (secs_of_day % 3600) / 60) as u32
    }
}

impl fmt::Display for Timestamp {
    /// RFC 3339 in UTC with milliseconds: `2026-11-20T08:00:12.000Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0.div_euclid(1000);
        let ms = self.0.rem_euclid(1000);
        let days = secs.div_euclid(86_400);
        let sod = secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        write!(
            f,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{ms:03}Z",
            sod / 3600,
            (sod % 3600) / 60,
            sod % 60
        )
    }
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (the well-known era algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> i64 {
        Timestamp::parse(s).unwrap_or_else(|| panic!("{s}")).0
    }

    #[test]
    fn every_form_seen_in_the_wild() {
        let base = ms("2018-04-20T20:15:00Z");
        assert_eq!(base, 1_524_255_300_000);
        assert_eq!(ms("2018-04-20T20:15:00.320Z"), base + 320);
        assert_eq!(ms("2018-04-20T20:15:00.32Z"), base + 320);
        assert_eq!(ms("2018-04-20T20:15:00.3Z"), base + 300);
        assert_eq!(ms("2018-04-20T20:15:00.123456789Z"), base + 123);
        assert_eq!(ms("2018-04-20T20:15:00+0000"), base);
        assert_eq!(ms("2018-04-20T20:15:00+00:00"), base);
        assert_eq!(ms("2018-04-20T14:15:00-06:00"), base);
        assert_eq!(ms("2018-04-20T14:15:00.000-0600"), base);
        assert_eq!(ms("2018-04-20 20:15:00.32 +0000 UTC"), base + 320);
        assert_eq!(ms("2018-04-20T20:15:00"), base);
    }

    #[test]
    fn rejects_what_is_not_a_time() {
        for s in [
            "",
            "yesterday",
            "2018-13-01T00:00:00Z",
            "2018-02-30T00:00:00Z",
            "2018-04-20T24:00:00Z",
            "2018-04-20T20:15:00.Z",
            "2018-04-20T20:15:00Zjunk",
            "2018-04-20T20:15:00+25:00",
        ] {
            assert_eq!(Timestamp::parse(s), None, "{s}");
        }
    }

    #[test]
    fn display_and_hhmm() {
        let t = Timestamp::parse("2024-02-29T23:59:59.5+01:00").unwrap();
        assert_eq!(t.to_string(), "2024-02-29T22:59:59.500Z");
        assert_eq!(t.hhmm(), 2259);
        assert_eq!(Timestamp(-1).to_string(), "1969-12-31T23:59:59.999Z");
    }
}
