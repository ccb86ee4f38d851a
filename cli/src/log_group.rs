//! `replay --log-group`: history read from a CloudWatch Logs log group (a CloudTrail trail's,
//! typically) with `FilterLogEvents`, page after page, as JSON lines: one log event's message
//! a line, so that a new rule can be tried on last week's events.

use aws_sdk_cloudwatchlogs::Client;
use iamwatch::time::Timestamp;
use std::io::{self, Read};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::runtime::Handle;

/// A time given on the command line: RFC 3339 (`2026-11-20T10:00:00Z`) or an age (`30m`,
/// `24h`, `7d`, `2w`) before now; ms since the epoch.
pub fn parse_time(text: &str) -> Result<i64, String> {
    if let Some(t) = Timestamp::parse(text) {
        return Ok(t.millis());
    }
    let (n, unit) = text.split_at(text.len().saturating_sub(1));
    let n: u64 = n.parse().map_err(|_| expected(text))?;
    let secs = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return Err(expected(text)),
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO);
    let ago = Duration::from_secs(n.saturating_mul(secs));
    Ok(now.saturating_sub(ago).as_millis() as i64)
}

fn expected(text: &str) -> String {
    format!("expected an RFC 3339 time (2026-11-20T10:00:00Z) or an age (30m, 24h, 7d, 2w), found {text:?}")
}

/// The log events of a log group between two times, read a page at a time as JSON lines.
pub struct LogGroup {
    client: Client,
    handle: Handle,
    group: String,
    start: i64,
    end: Option<i64>,
    next: Option<String>,
    /// The current page as lines, and how much of it was read.
    page: Vec<u8>,
    at: usize,
    done: bool,
    /// Log events read so far, and requests sent.
    pub events: u64,
    pub requests: u64,
}

impl LogGroup {
    pub fn new(client: Client, handle: Handle, group: &str, start: i64, end: Option<i64>) -> Self {
        Self {
            client,
            handle,
            group: group.to_string(),
            start,
            end,
            next: None,
            page: Vec::new(),
            at: 0,
            done: false,
            events: 0,
            requests: 0,
        }
    }

    /// The next page into `self.page`; `false` when there is none.
    fn fetch(&mut self) -> io::Result<bool> {
        while !self.done {
            let call = self
                .client
                .filter_log_events()
                .log_group_name(&self.group)
                .start_time(self.start)
                .set_end_time(self.end)
                .set_next_token(self.next.take());
            self.requests += 1;
            let out = self.handle.block_on(call.send()).map_err(|e| {
                io::Error::other(format!(
                    "FilterLogEvents on {}: {}",
                    self.group,
                    iamwatch::aws::describe(&e)
                ))
            })?;
            self.next = out.next_token().map(str::to_string);
            self.done = self.next.is_none();
            self.page.clear();
            self.at = 0;
            for e in out.events() {
                if let Some(m) = e.message() {
                    // A message is one record on one line (CloudTrail writes no line breaks
                    // in a record; one that has them is read as several bad lines).
                    self.page.extend_from_slice(m.trim_end().as_bytes());
                    self.page.push(b'\n');
                    self.events += 1;
                }
            }
            // A page may come back empty with a token for more.
            if !self.page.is_empty() {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

impl Read for LogGroup {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.at == self.page.len() && !self.fetch()? {
            return Ok(0);
        }
        let n = buf.len().min(self.page.len() - self.at);
        buf[..n].copy_from_slice(&self.page[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::parse_time;

    #[test]
    fn times_and_ages() {
        assert_eq!(parse_time("2026-11-20T10:00:00Z"), Ok(1_795_168_800_000));
        let now = parse_time("0s").expect("now");
        let day = parse_time("1d").expect("a day ago");
        assert!((now - day - 86_400_000).abs() < 5_000, "{now} {day}");
        for bad in ["yesterday", "7", "7y", "", "-1d"] {
            assert!(parse_time(bad).is_err(), "{bad}");
        }
    }
}
