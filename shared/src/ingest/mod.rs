//! Reading audit records from what users have on disk or what a trigger delivers.
//!
//! Containers: CloudTrail log files (`{"Records": [...]}`), JSON arrays, JSON Lines (also IBM
//! Cloud Pak `*-audit.log` files and CADF event lines), and CloudWatch Logs subscription
//! payloads (the Lambda event with base64+gzip `awslogs.data`, or its decoded JSON). Any of
//! them may be gzip-compressed. Inside, an EventBridge envelope (`detail-type` + `detail`)
//! yields its `detail`.
//!
//! Records stream one at a time, so memory stays flat on large files. A record that cannot be
//! read is reported with its position and counted; the rest of the input is still read.

pub mod awslogs;
#[cfg(feature = "aws")]
pub mod object;
mod repeated;
mod scan;

use crate::event::{provider_of, Event, NotAnEvent, Provider};
use crate::layout::{self, Layout, NameBits};
use crate::pattern::ast::Step;
use crate::projection::Projection;
use crate::screen::Screen;
use awslogs::Message;
use flate2::bufread::MultiGzDecoder;
use scan::{ScanError, Scanner, BOM};
use serde::de::IgnoredAny;
use serde_json::Value;
use std::fmt;
use std::io::{self, BufRead, BufReader, Read};
use std::str::FromStr;
use std::sync::LazyLock;

/// How the input is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Work it out from the content.
    Auto,
    /// A CloudTrail log file: `{"Records": [...]}`.
    CloudTrail,
    /// A JSON array of records.
    JsonArray,
    /// One JSON value per line: records, envelopes or subscription payloads.
    JsonLines,
    /// CloudWatch Logs subscription payload(s), encoded or decoded, one per line or one
    /// pretty-printed document.
    AwsLogs,
}

impl Format {
    pub const NAMES: &'static [&'static str] =
        &["auto", "cloudtrail", "json-array", "json-lines", "awslogs"];
}

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "auto" => Format::Auto,
            "cloudtrail" => Format::CloudTrail,
            "json-array" => Format::JsonArray,
            "json-lines" | "jsonl" | "cadf" | "cloudpak" => Format::JsonLines,
            "awslogs" => Format::AwsLogs,
            other => {
                return Err(format!(
                    "unknown input format '{other}' (expected one of: {})",
                    Format::NAMES.join(", ")
                ))
            }
        })
    }
}

/// Where a record was found: the line it starts on and, inside a container that holds several
/// (an array, a `Records` file, a subscription payload), its 1-based index there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Position {
    pub line: u64,
    pub index: Option<u64>,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}", self.line)?;
        if let Some(i) = self.index {
            write!(f, ", record {i}")?;
        }
        Ok(())
    }
}

/// One thing read from the input.
#[derive(Debug)]
pub enum Item<'a> {
    /// A record, parsed; whether it is an audit event is for the caller to decide. With a
    /// projection, `raw` holds the record's bytes when `value` was projected from them (parse
    /// `raw` for the whole record); `raw` is `None` when `value` is whole.
    Record {
        value: Value,
        position: Position,
        raw: Option<&'a [u8]>,
    },
    /// A record that no rule can match (see [`crate::screen`]), read only as far as telling
    /// whether it is an audit event, and from which provider.
    Screened {
        event: Result<Provider, NotAnEvent>,
        position: Position,
    },
    /// A record checked but not built (see [`read_laid`]): its text and where its members
    /// are, for rules that read a few members straight from the text.
    Laid {
        text: &'a str,
        layout: &'a Layout,
        position: Position,
    },
    /// Something that could not be read as a record, and why.
    Bad { position: Position, reason: String },
    /// The record at `position` repeats a key (see `repeated.rs`): the items up to the next
    /// `Reading` with `reading` 0 are its readings, the `reading`-th of `readings`, each
    /// evaluated like a record of its own. `total` readings there are in all (more than
    /// `readings` when they were too many); `keys` are the repeated keys.
    Reading {
        position: Position,
        reading: usize,
        readings: usize,
        total: u128,
        keys: &'a [String],
    },
}

/// Reads every record in `input`, calling `sink` for each record or bad record in order.
///
/// Returns an error only when the input cannot be read at all; corrupt data part-way (a
/// truncated gzip member, a broken array) is reported to `sink` as a bad record and ends
/// the input there.
pub fn read(input: impl Read, format: Format, sink: &mut Sink) -> io::Result<()> {
    read_projected(input, format, &Projection::everything(), sink)
}

/// Receives what [`read`] finds, in order.
pub type Sink<'s> = dyn for<'a> FnMut(Item<'a>) + 's;

/// The default largest record, in bytes: CloudWatch Logs events and EventBridge events are
/// at most 1 MB, CloudTrail records far smaller; a larger record is reported as bad and
/// skipped without being held whole, which bounds the memory any input can take.
pub const DEFAULT_MAX_RECORD: usize = 4 << 20;

/// The smallest and largest record limits a configuration may set.
pub const MIN_MAX_RECORD: usize = 64 << 10;
pub const MAX_MAX_RECORD: usize = 256 << 20;

/// Top-level members that make a value a container rather than a record: kept whole by a
/// projection so that containers still open.
const ENVELOPE_KEYS: &[&str] = &[
    "Records",
    "awslogs",
    "logEvents",
    "messageType",
    "detail",
    "detail-type",
    "_source",
    "data",
];

/// Like [`read`], but records are parsed with `projection` (see
/// [`crate::detector::Detector::projection`]) and come with their raw bytes.
pub fn read_projected(
    input: impl Read,
    format: Format,
    projection: &Projection,
    sink: &mut Sink,
) -> io::Result<()> {
    read_screened(input, format, projection, None, DEFAULT_MAX_RECORD, sink)
}

/// Like [`read_projected`], and records that `screen` turns away are parsed with `minimal`
/// only (see [`crate::detector::Detector::screen`]) and come as [`Item::Screened`]. A record
/// larger than `max_record` bytes is an [`Item::Bad`], read through without being held.
pub fn read_screened(
    input: impl Read,
    format: Format,
    projection: &Projection,
    screen: Option<(&Screen, &Projection)>,
    max_record: usize,
    sink: &mut Sink,
) -> io::Result<()> {
    screened(projection, screen, max_record, |how| {
        read_with(input, format, how, sink)
    })
}

/// Like [`read_screened`], for input already in memory: lines and records are read where
/// they lie, with no copy into a read buffer (gzip input is decompressed as it is read).
pub fn read_screened_bytes(
    input: &[u8],
    format: Format,
    projection: &Projection,
    screen: Option<(&Screen, &Projection)>,
    max_record: usize,
    sink: &mut Sink,
) -> io::Result<()> {
    screened(projection, screen, max_record, |how| {
        if input.starts_with(&[0x1f, 0x8b]) {
            read_with(input, format, how, sink)
        } else {
            read_plain(input, format, how, sink)
        }
    })
}

/// `read` with the parse a projection and a screen make (envelope keys kept whole).
fn screened<T>(
    projection: &Projection,
    screen: Option<(&Screen, &Projection)>,
    max_record: usize,
    read: impl FnOnce(&Parse<'_>) -> T,
) -> T {
    let projection = with_envelopes(projection);
    let minimal = screen.map(|(s, m)| (s, with_envelopes(m)));
    read(&Parse {
        projection: &projection,
        screen: minimal.as_ref().map(|(s, m)| (*s, m)),
        laid: false,
        readings: true,
        max_record,
    })
}

/// Like [`read`] with nothing built: a record (not a container) comes as [`Item::Laid`], its
/// text checked and its members located. Records inside containers (arrays on one line,
/// subscription payloads, EventBridge envelopes, a document spread over several lines) are
/// parsed whole and come as [`Item::Record`].
pub fn read_laid(input: impl Read, format: Format, sink: &mut Sink) -> io::Result<()> {
    let how = Parse {
        projection: &Projection::everything(),
        screen: None,
        laid: true,
        readings: true,
        max_record: DEFAULT_MAX_RECORD,
    };
    read_with(input, format, &how, sink)
}

/// `p`, keeping the members that make a value a container whole, so that containers still open.
fn with_envelopes(p: &Projection) -> Projection {
    let mut p = p.clone();
    for key in ENVELOPE_KEYS {
        p.keep(&[Step::Key((*key).to_string())]);
    }
    p
}

/// How much of the input is read at a time. A line that lies whole in the buffer is read
/// where it is; one that does not is copied out. Lines of CloudWatch Logs subscription events
/// (256 KB to 1 MB of base64 each) would mostly not fit in less: with a megabyte, four in
/// five fit.
const READ_BUFFER: usize = 1 << 20;

fn read_with(input: impl Read, format: Format, how: &Parse<'_>, sink: &mut Sink) -> io::Result<()> {
    let mut input = BufReader::with_capacity(READ_BUFFER, input);
    let gzip = input.fill_buf()?.starts_with(&[0x1f, 0x8b]);
    if gzip {
        let inner = BufReader::with_capacity(READ_BUFFER, MultiGzDecoder::new(input));
        read_plain(inner, format, how, sink)
    } else {
        read_plain(input, format, how, sink)
    }
}

/// How records are parsed.
#[derive(Clone, Copy)]
struct Parse<'p> {
    projection: &'p Projection,
    /// The screen and the projection of the records it turns away.
    screen: Option<(&'p Screen, &'p Projection)>,
    /// Records are handed on checked but not built ([`Item::Laid`]).
    laid: bool,
    /// A record that repeats a key is read once per choice of values ([`Item::Reading`]);
    /// off for the readings themselves.
    readings: bool,
    /// The largest record held whole, in bytes.
    max_record: usize,
}

/// One record's bytes parsed.
enum Parsed<'t> {
    /// The value, whether it was projected, whether the screen turned it away.
    Value {
        value: Value,
        projected: bool,
        screened: bool,
    },
    /// Turned away by the screen, and not a container: whether it is an event.
    Screened(Result<Provider, NotAnEvent>),
    /// Checked, not built, and not a container.
    Laid(&'t str, &'t Layout),
    /// A CloudWatch Logs subscription event: the text of its `awslogs.data`.
    AwsLogs(&'t str),
    /// A decoded subscription payload, checked.
    Payload(&'t str, &'t Layout),
    /// A record that repeats a key, and its readings.
    Repeated(&'t str, repeated::Readings),
    /// An array or a CloudTrail log file whose records repeat a key: its records are read
    /// one by one, so that only those are read more than once.
    Split(&'t [u8]),
}

/// Why a record's bytes could not be read.
#[derive(Debug)]
enum ParseError {
    NotUtf8(usize),
    Json(layout::Error),
    Build(serde_json::Error),
}

impl ParseError {
    /// The bytes end inside a value: more input could complete it.
    fn is_eof(&self) -> bool {
        matches!(self, ParseError::Json(e) if e.is_eof())
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::NotUtf8(at) => write!(f, "not UTF-8 at byte {at}"),
            ParseError::Json(e) => e.fmt(f),
            ParseError::Build(e) => e.fmt(f),
        }
    }
}

/// Parses one record's bytes: checks them into `scratch` (unless `checked` is their layout
/// already), then builds what the projection keeps of an object (a record or an envelope),
/// or the whole value otherwise; with the minimal projection when the screen turns the record
/// away. Checking every byte, whatever is kept, makes a record good or bad whatever the rules
/// read of it.
fn parse_record<'t>(
    bytes: &'t [u8],
    checked: Option<&'t Layout>,
    scratch: &'t mut Layout,
    how: &Parse<'_>,
) -> Result<Parsed<'t>, ParseError> {
    // A byte-order mark before a record (a log event's message, a line) is not part of it.
    let bytes = match (checked, bytes.strip_prefix(BOM)) {
        (None, Some(rest)) => rest,
        _ => bytes,
    };
    let text = utf8(bytes).map_err(ParseError::NotUtf8)?;
    let layout = match checked {
        Some(layout) => layout,
        None => {
            scratch.scan(text).map_err(ParseError::Json)?;
            &*scratch
        }
    };
    let object = layout.is_object();
    // Whether the object is a container of records (most are not: the bits the scan noted
    // for its member names tell).
    let container = object && may_hold_records(text, layout);
    if how.readings && !layout.repeats().is_empty() {
        let records_first = container
            && layout
                .root()
                .next()
                .is_some_and(|(_, m)| m.raw_key(text) == "Records");
        if !object || records_first {
            return Ok(Parsed::Split(bytes));
        }
        // Only keys some rule reads can hide an event (a repeated key in, say, a KMS
        // encryption context that no rule reads changes nothing): their records are read
        // once per reading, the others once.
        let read: Vec<(u32, u32)> = layout
            .repeats()
            .iter()
            .copied()
            .filter(|&(first, _)| repeated::read_by(how.projection, text, layout, first as usize))
            .collect();
        if !read.is_empty() {
            return Ok(Parsed::Repeated(
                text,
                repeated::readings(text, layout, &read),
            ));
        }
    }
    // Subscription payloads: their log events are read from the text, each as a record of
    // its own (screened, projected or laid like any other), with no value built for the
    // payload.
    if container {
        if let Some(data) = awslogs::laid_data(text, layout) {
            return Ok(Parsed::AwsLogs(data));
        }
        if awslogs::is_laid_payload(text, layout) {
            return Ok(Parsed::Payload(text, layout));
        }
    }
    if object {
        if let Some((screen, minimal)) = how.screen {
            // A record is screened by its provider's rules alone, a container (or an object
            // that is not an event) by every rule's.
            if !container {
                let event = provider_of(text, layout);
                let admitted = match &event {
                    Ok(provider) => screen.admits_from(*provider, text, layout),
                    Err(_) => screen.admits(text, layout),
                };
                if !admitted {
                    return Ok(Parsed::Screened(event));
                }
            } else if !screen.admits(text, layout) {
                return minimal
                    .build(text, layout)
                    .map(|value| Parsed::Value {
                        value,
                        projected: true,
                        screened: true,
                    })
                    .map_err(ParseError::Build);
            }
        }
    }
    if how.laid && object && !container {
        return Ok(Parsed::Laid(text, layout));
    }
    let projected = object && !how.projection.is_everything();
    let value = if object {
        how.projection.build(text, layout)
    } else {
        serde_json::from_str(text)
    };
    value
        .map(|value| Parsed::Value {
            value,
            projected,
            screened: false,
        })
        .map_err(ParseError::Build)
}

/// `bytes` as text, or where they stop being UTF-8. Records are mostly ASCII: that is
/// checked sixty-four bytes at a time, the rest by the standard library.
pub(crate) fn utf8(bytes: &[u8]) -> Result<&str, usize> {
    if ascii(bytes) {
        // SAFETY: ASCII text is UTF-8.
        return Ok(unsafe { std::str::from_utf8_unchecked(bytes) });
    }
    std::str::from_utf8(bytes).map_err(|e| e.valid_up_to())
}

/// Whether every byte is below 0x80.
#[cfg(target_arch = "x86_64")]
fn ascii(bytes: &[u8]) -> bool {
    use std::arch::x86_64::{__m128i, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128};
    let mut chunks = bytes.chunks_exact(64);
    let mut high = 0;
    for chunk in &mut chunks {
        let p = chunk.as_ptr().cast::<__m128i>();
        // SAFETY: SSE2 is part of every x86_64 processor; the four loads read the 64 bytes
        // of `chunk` (unaligned loads are allowed).
        high |= unsafe {
            let v = _mm_or_si128(
                _mm_or_si128(_mm_loadu_si128(p), _mm_loadu_si128(p.add(1))),
                _mm_or_si128(_mm_loadu_si128(p.add(2)), _mm_loadu_si128(p.add(3))),
            );
            _mm_movemask_epi8(v)
        };
    }
    high == 0 && chunks.remainder().is_ascii()
}

#[cfg(not(target_arch = "x86_64"))]
fn ascii(bytes: &[u8]) -> bool {
    bytes.is_ascii()
}

/// Whether a checked object has a member that makes it a container of records (an escaped
/// key might spell one).
fn may_hold_records(text: &str, layout: &Layout) -> bool {
    static NAMES: LazyLock<NameBits> =
        LazyLock::new(|| layout::name_bits(ENVELOPE_KEYS.iter().map(|k| k.as_bytes())));
    layout.root().any(|(_, m)| {
        // Most keys are passed over on the bit the scan noted for them.
        m.key_escaped
            || (layout::has_name_bit(&NAMES, m.name_bit)
                && ENVELOPE_KEYS.contains(&m.raw_key(text)))
    })
}

fn read_plain<R: BufRead>(
    mut input: R,
    format: Format,
    how: &Parse<'_>,
    sink: &mut Sink,
) -> io::Result<()> {
    let format = match format {
        Format::Auto => match sniff(&mut input) {
            Ok(f) => f,
            // The very first read failed: report as corrupt data at the start.
            Err(e) if is_data_error(&e) => {
                sink(Item::Bad {
                    position: Position {
                        line: 1,
                        index: None,
                    },
                    reason: format!("cannot decompress: {e}"),
                });
                return Ok(());
            }
            Err(e) => return Err(e),
        },
        f => f,
    };
    match format {
        Format::CloudTrail | Format::JsonArray => {
            let mut scanner = Scanner::new(input).within(how.max_record);
            let mut count = 0u64;
            let mut scratch = Layout::new();
            let result = scanner.documents(&mut |bytes, layout, line, index| {
                count += 1;
                scanned(
                    bytes,
                    layout,
                    Position { line, index },
                    &mut scratch,
                    how,
                    sink,
                );
            });
            let line = scanner.line;
            let line_start = scanner.line_start;
            let cut = match result {
                Err(ScanError::Cut { reason, rest, line }) => {
                    structural(Err(ScanError::Syntax(reason)), line, count, sink)?;
                    let rest = (&rest[..]).chain(scanner.into_inner());
                    return lines(rest, line - 1, true, how, sink);
                }
                Err(ScanError::Syntax(_)) => true,
                _ => false,
            };
            structural(result, line, count, sink)?;
            if !cut {
                return Ok(());
            }
            // A cut container: what follows may be good (the next file of a concatenation,
            // records after a cut one). Reading goes on line by line from the line the scan
            // stopped on when it stopped at its start, else from the next line.
            let mut rest = scanner.into_inner();
            let mut before = line - 1;
            if !line_start {
                if let Err(e) = skip_line(&mut rest) {
                    return if is_data_error(&e) { Ok(()) } else { Err(e) };
                }
                before = line;
            }
            lines(rest, before, true, how, sink)
        }
        Format::JsonLines | Format::AwsLogs | Format::Auto => lines(input, 0, true, how, sink),
    }
}

/// A record skipped unread: longer than the limit.
fn too_large(position: Position, max: usize) -> Item<'static> {
    Item::Bad {
        position,
        reason: format!(
            "longer than {max} bytes (IAMWATCH_MAX_RECORD_BYTES): skipped without being read whole"
        ),
    }
}

/// Reads a line into `buf` (with its line break, if any) when it is at most `max` bytes;
/// otherwise consumes the rest of it without holding it and returns `false`.
fn read_line_within(input: &mut impl BufRead, buf: &mut Vec<u8>, max: usize) -> io::Result<bool> {
    loop {
        let ahead = input.fill_buf()?;
        if ahead.is_empty() {
            return Ok(true);
        }
        let (n, done) = match memchr::memchr(b'\n', ahead) {
            Some(end) => (end + 1, true),
            None => (ahead.len(), false),
        };
        if buf.len() + n > max + 1 {
            if !done {
                input.consume(n);
                skip_line(input)?;
            } else {
                input.consume(n);
            }
            return Ok(false);
        }
        buf.extend_from_slice(&ahead[..n]);
        input.consume(n);
        if done {
            return Ok(true);
        }
    }
}

/// Consumes `input` up to and with the next line break, without holding the line.
fn skip_line(input: &mut impl BufRead) -> io::Result<()> {
    loop {
        let ahead = input.fill_buf()?;
        if ahead.is_empty() {
            return Ok(());
        }
        match memchr::memchr(b'\n', ahead) {
            Some(end) => {
                input.consume(end + 1);
                return Ok(());
            }
            None => {
                let n = ahead.len();
                input.consume(n);
            }
        }
    }
}

/// Reports how a streamed container ended.
fn structural(
    result: Result<(), ScanError>,
    line: u64,
    records: u64,
    sink: &mut dyn FnMut(Item),
) -> io::Result<()> {
    let position = Position {
        line,
        index: Some(records + 1),
    };
    match result {
        Ok(()) => Ok(()),
        Err(ScanError::Syntax(reason)) => {
            sink(Item::Bad { position, reason });
            Ok(())
        }
        Err(ScanError::Io(e)) if is_data_error(&e) => {
            sink(Item::Bad {
                position,
                reason: format!("the input is corrupt or truncated after record {records}: {e}"),
            });
            Ok(())
        }
        Err(ScanError::Io(e)) => Err(e),
        Err(ScanError::Cut { reason, .. }) => {
            sink(Item::Bad { position, reason });
            Ok(())
        }
    }
}

/// Errors that mean the bytes are bad (a decompressor's complaint), not that reading failed.
fn is_data_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::InvalidData | io::ErrorKind::InvalidInput | io::ErrorKind::UnexpectedEof
    )
}

/// Guesses the layout from the first bytes: `[` an array, `{` followed by a `"Records"` key a
/// CloudTrail file (either may be followed by more documents of any kind); anything else JSON
/// Lines (which also reads one pretty-printed document).
fn sniff(input: &mut impl BufRead) -> io::Result<Format> {
    if input.fill_buf()?.starts_with(BOM) {
        input.consume(BOM.len());
    }
    let head = input.fill_buf()?;
    let start = head.iter().position(|b| !b.is_ascii_whitespace());
    let Some(start) = start else {
        return Ok(Format::JsonLines);
    };
    Ok(match head[start] {
        b'[' => Format::JsonArray,
        b'{' => {
            let rest = &head[start + 1..];
            let key = rest.iter().position(|b| !b.is_ascii_whitespace());
            if key.is_some_and(|k| rest[k..].starts_with(b"\"Records\"")) {
                Format::CloudTrail
            } else {
                Format::JsonLines
            }
        }
        _ => Format::JsonLines,
    })
}

/// JSON Lines. A line that does not parse on its own may begin a pretty-printed document:
/// if the whole remaining input parses as JSON values, those are read instead.
/// `before` is the number of lines already read before `input`; `documents` whether a line
/// may begin a document spread over several lines (tried once per input: the rest is read
/// into memory for it).
fn lines<R: BufRead>(
    mut input: R,
    before: u64,
    documents: bool,
    how: &Parse<'_>,
    sink: &mut Sink,
) -> io::Result<()> {
    let mut buf = Vec::with_capacity(16 * 1024);
    let mut layout = Layout::new();
    let mut checked = Layout::new();
    let mut line = before;
    // Corrupt data (a decompressor's complaint) is a bad record that ends the input.
    let corrupt = |sink: &mut Sink, line: u64, e: io::Error| {
        if !is_data_error(&e) {
            return Err(e);
        }
        sink(Item::Bad {
            position: Position { line, index: None },
            reason: format!("the input is corrupt or truncated: {e}"),
        });
        Ok(())
    };
    loop {
        // A line that lies whole in the read buffer is read there, without a copy.
        let ahead = match input.fill_buf() {
            Ok(ahead) => ahead,
            Err(e) => return corrupt(sink, line + 1, e),
        };
        if ahead.is_empty() {
            return Ok(());
        }
        // The common line: one object and its line break, whole in the buffer. The scan
        // finds where it ends (no search for the line break first) and the record is read
        // with that layout; any other line is read as a line below.
        if let Some((n, line_end)) = compact_object(ahead, &mut checked) {
            line += 1;
            if n > how.max_record {
                sink(too_large(Position { line, index: None }, how.max_record));
                input.consume(line_end);
                continue;
            }
            // A whole object does not begin a document over lines: this cannot fail.
            let _ = one_line(
                &ahead[..n],
                Some(&checked),
                line,
                false,
                &mut layout,
                how,
                sink,
            );
            input.consume(line_end);
            continue;
        }
        if let Some(end) = memchr::memchr(b'\n', ahead) {
            line += 1;
            if end > how.max_record {
                sink(too_large(Position { line, index: None }, how.max_record));
                input.consume(end + 1);
                continue;
            }
            let text = trim_ascii(&ahead[..end]);
            match one_line(text, None, line, documents, &mut layout, how, sink) {
                Ok(()) => input.consume(end + 1),
                Err(()) => {
                    // The start of a document spread over several lines.
                    buf.clear();
                    buf.extend_from_slice(&ahead[..=end]);
                    input.consume(end + 1);
                    return document(buf, input, line, how, sink);
                }
            }
            continue;
        }
        buf.clear();
        match read_line_within(&mut input, &mut buf, how.max_record) {
            Ok(true) => {}
            Ok(false) => {
                line += 1;
                sink(too_large(Position { line, index: None }, how.max_record));
                // The buffer may have grown to the limit: give the memory back.
                buf = Vec::with_capacity(16 * 1024);
                continue;
            }
            Err(e) => return corrupt(sink, line + 1, e),
        }
        line += 1;
        let text = trim_ascii(&buf);
        if one_line(text, None, line, documents, &mut layout, how, sink).is_err() {
            return document(buf, input, line, how, sink);
        }
    }
}

/// When `ahead` starts with an object on one line followed by nothing but whitespace up
/// to a line break: the object's length and the length of its line with the break, its
/// layout in `layout`.
fn compact_object(ahead: &[u8], layout: &mut Layout) -> Option<(usize, usize)> {
    if ahead.first() != Some(&b'{') {
        return None;
    }
    let n = layout.scan_object(ahead).ok()?;
    if layout.newlines() != 0 {
        return None;
    }
    // Only what the line's trim would take off may come before the line break.
    let k = ahead[n..]
        .iter()
        .position(|&c| c == b'\n' || !c.is_ascii_whitespace())?;
    (ahead[n + k] == b'\n').then_some((n, n + k + 1))
}

/// One line of JSON Lines (its text's layout in `checked` when that is known already); `Err`
/// when it does not parse on its own but may begin a document spread over several lines (and
/// `documents` allows one).
fn one_line(
    text: &[u8],
    checked: Option<&Layout>,
    line: u64,
    documents: bool,
    layout: &mut Layout,
    how: &Parse<'_>,
    sink: &mut Sink,
) -> Result<(), ()> {
    // A byte-order mark (a file concatenated from an editor's) is not part of the record.
    let text = match text.strip_prefix(BOM) {
        Some(rest) => trim_ascii(rest),
        None => text,
    };
    if text.is_empty() {
        return Ok(());
    }
    let position = Position { line, index: None };
    match parse_record(text, checked, layout, how) {
        Ok(p) => expand(p, position, text, how, sink),
        Err(e) if documents && e.is_eof() && matches!(text.first(), Some(b'{' | b'[')) => {
            return Err(())
        }
        // Bare CR line breaks (as old Mac tools write): each piece is a line of its own,
        // numbered as a record of this line.
        Err(_) if memchr::memchr(b'\r', text).is_some() => {
            let pieces = text
                .split(|&b| b == b'\r')
                .map(trim_ascii)
                .filter(|p| !p.is_empty());
            // A byte-order mark before a piece is parse_record's to skip.
            for (k, piece) in pieces.enumerate() {
                let position = Position {
                    line,
                    index: Some(k as u64 + 1),
                };
                record(piece, None, position, layout, how, sink);
            }
        }
        Err(e) => sink(Item::Bad {
            position,
            reason: format!("not valid JSON: {e}"),
        }),
    }
    Ok(())
}

/// A document spread over several lines, starting with `first` (the line it begins on,
/// numbered `line`): the rest of the input is read and parsed as JSON values one after
/// another. Where that fails, the line it fails on is reported and reading goes on line by
/// line after it, so that a line cut short in JSON Lines loses nothing after it.
fn document<R: BufRead>(
    mut first: Vec<u8>,
    mut input: R,
    line: u64,
    how: &Parse<'_>,
    sink: &mut Sink,
) -> io::Result<()> {
    if first.starts_with(BOM) {
        first.drain(..BOM.len());
    }
    // The input is read a window at a time, as large as the largest record: values are read
    // from it, the rest is kept for the next window, and memory stays bounded whatever the
    // input holds.
    let window = how.max_record;
    let mut buf = first;
    let mut ended = false;
    let mut n = 0u64;
    // The line `buf` starts on.
    let mut base = line;
    let mut scratch = Layout::new();
    loop {
        if !ended && buf.len() < window {
            let want = (window - buf.len()) as u64;
            match (&mut input).take(want).read_to_end(&mut buf) {
                Ok(got) => ended = (got as u64) < want,
                Err(e) => {
                    sink(Item::Bad {
                        position: Position {
                            line: base,
                            index: None,
                        },
                        reason: format!("the input is corrupt or truncated: {e}"),
                    });
                    return Ok(());
                }
            }
        }
        let mut values = serde_json::Deserializer::from_slice(&buf).into_iter::<IgnoredAny>();
        let mut done = 0usize;
        let failure = loop {
            match values.next() {
                None => {
                    done = buf.len();
                    break None;
                }
                Some(Ok(_)) => {
                    let end = values.byte_offset();
                    n += 1;
                    let position = Position {
                        line,
                        index: Some(n),
                    };
                    // Read like any record (repeated keys, containers, envelopes).
                    let bytes = trim_ascii(&buf[done..end]);
                    record(bytes, None, position, &mut scratch, how, sink);
                    done = end;
                }
                // The value goes on past the window: read more.
                Some(Err(e)) if e.is_eof() && !ended => break None,
                Some(Err(e)) => break Some(e),
            }
        };
        if let Some(e) = failure {
            // Lines into the window where it fails (1 is its first line).
            let at = (e.line() as u64).max(1);
            let position = match n {
                0 => Position { line, index: None },
                _ => Position {
                    line: base + at - 1,
                    index: Some(n + 1),
                },
            };
            sink(Item::Bad {
                position,
                reason: format!("not valid JSON: {e}"),
            });
            // Go on after the line the error is reported on.
            let skip = if n == 0 { 1 } else { at };
            let rest = match memchr::memchr_iter(b'\n', &buf).nth(skip as usize - 1) {
                Some(end) => &buf[end + 1..],
                None if ended => return Ok(()),
                None => &[][..],
            };
            let rest: Box<dyn BufRead + '_> = Box::new(rest.chain(input));
            return lines(rest, position.line, false, how, sink);
        }
        if ended && done >= buf.len() {
            return Ok(());
        }
        base += memchr::memchr_iter(b'\n', &buf[..done]).count() as u64;
        buf.drain(..done);
        if buf.len() >= window {
            // One value larger than the largest record: reported, read through without
            // being held, and the documents after it are read.
            n += 1;
            let lead = buf
                .iter()
                .position(|b| !b.is_ascii_whitespace())
                .unwrap_or(0);
            let line = base + memchr::memchr_iter(b'\n', &buf[..lead]).count() as u64;
            sink(too_large(
                Position {
                    line,
                    index: Some(n),
                },
                how.max_record,
            ));
            let mut end = scan::ValueEnd::default();
            match end.feed(&buf) {
                Some(k) => {
                    base += memchr::memchr_iter(b'\n', &buf[..k]).count() as u64;
                    buf.drain(..k);
                }
                None => {
                    buf.clear();
                    loop {
                        let ahead = match input.fill_buf() {
                            Ok(ahead) => ahead,
                            Err(_) => return Ok(()),
                        };
                        if ahead.is_empty() {
                            return Ok(());
                        }
                        match end.feed(ahead) {
                            Some(k) => {
                                input.consume(k);
                                break;
                            }
                            None => {
                                let all = ahead.len();
                                input.consume(all);
                            }
                        }
                    }
                    base += end.newlines;
                }
            }
        }
    }
}

fn trim_ascii(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(start, |i| i + 1);
    &b[start..end]
}

/// Unwraps containers found inside a value: a `Records` file on one line, an array, a
/// subscription payload (encoded or decoded), an EventBridge envelope. `bytes` are the value's
/// bytes: a record found directly gets them when it was projected; what comes out of a
/// container was parsed whole. What the screen turned away stays turned away inside
/// containers (their records are in the same bytes).
fn expand(parsed: Parsed, position: Position, bytes: &[u8], how: &Parse<'_>, sink: &mut Sink) {
    let (value, projected, screened) = match parsed {
        Parsed::AwsLogs(data) => return encoded_payload(data, position, how, sink),
        Parsed::Payload(text, layout) => return payload(text, layout, position, how, sink),
        Parsed::Repeated(text, r) => return readings(text, &r, position, how, sink),
        Parsed::Split(bytes) => return split(bytes, position, how, sink),
        Parsed::Value {
            value,
            projected,
            screened,
        } => (value, projected, screened),
        Parsed::Screened(event) => return sink(Item::Screened { event, position }),
        Parsed::Laid(text, layout) => {
            return sink(Item::Laid {
                text,
                layout,
                position,
            })
        }
    };
    let raw = projected.then_some(bytes);
    let expand_one = |v: Value, p: Position, raw: Option<&[u8]>, sink: &mut Sink| {
        if screened && !is_envelope(&v) {
            sink(Item::Screened {
                event: Event::new(v).map(|e| e.provider()),
                position: p,
            });
        } else {
            expand_one(v, p, raw, how, sink);
        }
    };
    match value {
        Value::Array(items) => {
            for (i, v) in items.into_iter().enumerate() {
                let p = Position {
                    index: Some(i as u64 + 1),
                    ..position
                };
                expand_one(v, p, None, sink);
            }
        }
        Value::Object(ref m) if m.get("Records").is_some_and(Value::is_array) => {
            let Value::Object(mut m) = value else {
                unreachable!()
            };
            let Some(Value::Array(items)) = m.remove("Records") else {
                unreachable!()
            };
            for (i, v) in items.into_iter().enumerate() {
                let p = Position {
                    index: Some(i as u64 + 1),
                    ..position
                };
                expand_one(v, p, None, sink);
            }
        }
        other => expand_one(other, position, raw, sink),
    }
}

/// One record's bytes (`checked` their layout when known): expanded, or a bad record.
fn record(
    bytes: &[u8],
    checked: Option<&Layout>,
    position: Position,
    scratch: &mut Layout,
    how: &Parse<'_>,
    sink: &mut Sink,
) {
    match parse_record(bytes, checked, scratch, how) {
        Ok(p) => expand(p, position, bytes, how, sink),
        Err(e) => sink(Item::Bad {
            position,
            reason: format!("not valid JSON: {e}"),
        }),
    }
}

/// A record the [`Scanner`] hands on: no bytes mean it was too large to hold.
fn scanned(
    bytes: &[u8],
    layout: Option<&Layout>,
    position: Position,
    scratch: &mut Layout,
    how: &Parse<'_>,
    sink: &mut Sink,
) {
    if bytes.is_empty() {
        sink(too_large(position, how.max_record));
    } else {
        record(bytes, layout, position, scratch, how, sink);
    }
}

/// Each reading of a record that repeats a key, as a record of its own, between
/// [`Item::Reading`]s.
fn readings(
    original: &str,
    r: &repeated::Readings,
    position: Position,
    how: &Parse<'_>,
    sink: &mut Sink,
) {
    let once = Parse {
        readings: false,
        ..*how
    };
    let mut scratch = Layout::new();
    for n in 0..r.len() {
        let text = r.text(original, n);
        sink(Item::Reading {
            position,
            reading: n + 1,
            readings: r.len(),
            total: r.total,
            keys: &r.keys,
        });
        // A reading renames keys of a checked text: it is JSON too.
        record(text.as_bytes(), None, position, &mut scratch, &once, sink);
    }
    sink(Item::Reading {
        position,
        reading: 0,
        readings: r.len(),
        total: r.total,
        keys: &r.keys,
    });
}

/// The records of an array or a CloudTrail log file held in `bytes`, one by one.
fn split(bytes: &[u8], position: Position, how: &Parse<'_>, sink: &mut Sink) {
    let mut scratch = Layout::new();
    let mut scanner = Scanner::new(bytes).within(how.max_record);
    let result = scanner.documents(&mut |bytes, layout, line, index| {
        let at = Position {
            line: position.line + line - 1,
            index: index.or(position.index),
        };
        scanned(bytes, layout, at, &mut scratch, how, sink);
    });
    // The bytes were checked as one JSON value: the scan cannot fail on them.
    if let Err(ScanError::Syntax(reason) | ScanError::Cut { reason, .. }) = result {
        sink(Item::Bad { position, reason });
    }
}

/// A decoded subscription payload's bytes (from `awslogs.data`): read in one pass as
/// CloudWatch lays it out, else checked into a layout first.
fn payload_bytes(json: &[u8], position: Position, how: &Parse<'_>, sink: &mut Sink) {
    let mut scratch = EventScratch::default();
    let mut buf = Vec::new();
    let escaped = how.screen.is_some();
    let streamed = awslogs::stream_events(json, &mut buf, escaped, &mut |i, id, message| {
        log_event(i, id, message, position, &mut scratch, how, &mut *sink)
    });
    match streamed {
        Some(Ok(())) => {}
        Some(Err(reason)) => sink(Item::Bad { position, reason }),
        None => laid_payload_bytes(json, position, how, sink),
    }
}

/// A decoded subscription payload laid out otherwise than CloudWatch writes it: checked into
/// a layout, then its log events read.
fn laid_payload_bytes(json: &[u8], position: Position, how: &Parse<'_>, sink: &mut Sink) {
    let mut layout = Layout::new();
    let checked = match utf8(json) {
        Ok(text) => layout.scan(text).map(|()| text).map_err(|e| e.to_string()),
        Err(at) => Err(format!("not UTF-8 at byte {at}")),
    };
    match checked {
        Ok(text) if layout.is_object() => payload(text, &layout, position, how, sink),
        Ok(_) => sink(Item::Bad {
            position,
            reason: "awslogs.data is not a subscription payload object".into(),
        }),
        Err(e) => sink(Item::Bad {
            position,
            reason: format!("awslogs.data is not JSON: {e}"),
        }),
    }
}

/// An encoded subscription payload (`awslogs.data`): decoded, its log events read as
/// records.
fn encoded_payload(data: &str, position: Position, how: &Parse<'_>, sink: &mut Sink) {
    let mut scratch = EventScratch::default();
    let mut buf = Vec::new();
    let escaped = how.screen.is_some();
    let read = awslogs::decoded_events(data, &mut buf, escaped, &mut |i, id, message| {
        log_event(i, id, message, position, &mut scratch, how, &mut *sink)
    });
    match read {
        Ok(None) => {}
        // The one-pass reader has already turned it down.
        Ok(Some(json)) => laid_payload_bytes(&json, position, how, sink),
        Err(reason) => sink(Item::Bad { position, reason }),
    }
}

/// The log events of a checked subscription payload, each message read as a record.
fn payload(text: &str, layout: &Layout, position: Position, how: &Parse<'_>, sink: &mut Sink) {
    let mut scratch = EventScratch::default();
    let result = awslogs::laid_events(text, layout, &mut |i, event| {
        log_event(
            i,
            event.id,
            event.message.map(Message::Decoded),
            position,
            &mut scratch,
            how,
            &mut *sink,
        )
    });
    if let Err(reason) = result {
        sink(Item::Bad { position, reason });
    }
}

/// What reading one log event after another reuses.
#[derive(Default)]
struct EventScratch {
    /// For the scan of a decoded message.
    layout: Layout,
    /// A message decoded.
    text: Vec<u8>,
}

/// Log event `i` of the payload at `position`: its message read as a record.
fn log_event(
    i: usize,
    id: Option<&str>,
    message: Result<Message<'_>, String>,
    position: Position,
    scratch: &mut EventScratch,
    how: &Parse<'_>,
    sink: &mut Sink,
) {
    let p = Position {
        index: Some(i as u64 + 1),
        ..position
    };
    let id = || id.map(|s| format!(" (log event {s})")).unwrap_or_default();
    let message = match message {
        Ok(m) => m,
        Err(reason) => {
            return sink(Item::Bad {
                position: p,
                reason: format!("{reason}{}", id()),
            })
        }
    };
    let admitted;
    let (how, checked, bytes) = match message {
        Message::Escaped(record, layout) => match screening(record, layout, how) {
            Screening::Away(provider) => {
                return sink(Item::Screened {
                    event: Ok(provider),
                    position: p,
                })
            }
            // The screen has let it through (it would only say so again), and its layout,
            // moved to the decoded text (where it stands: the reader scans the next record
            // into it afresh), spares a second scan.
            Screening::Admitted => {
                admitted = Parse {
                    screen: None,
                    ..*how
                };
                layout.decode_escaped(record.as_bytes(), &mut scratch.text);
                (&admitted, Some(&*layout), &scratch.text[..])
            }
            Screening::Undecided => {
                layout::without_backslashes(record.as_bytes(), &mut scratch.text);
                (how, None, &scratch.text[..])
            }
        },
        Message::Decoded(bytes) => (how, None, bytes),
    };
    match parse_record(bytes, checked, &mut scratch.layout, how) {
        Ok(parsed) => expand(parsed, p, bytes, how, sink),
        Err(e) => sink(Item::Bad {
            position: p,
            reason: format!("log event message is not JSON: {e}{}", id()),
        }),
    }
}

/// What the screen makes of a record, from a layout of it as it stands in a log event's
/// message ([`Message::Escaped`]).
enum Screening {
    /// Turned away, an event of this provider: what [`parse_record`] finds for it.
    Away(Provider),
    /// Let through.
    Admitted,
    /// Left to `parse_record`: no screen, a container, repeated keys, or not an event.
    Undecided,
}

/// What the screen makes of the record `text`, checked as it stands into `layout`: what
/// [`parse_record`] would make of it, without decoding it.
fn screening(text: &str, layout: &Layout, how: &Parse<'_>) -> Screening {
    let Some((screen, _)) = how.screen else {
        return Screening::Undecided;
    };
    let record = layout.is_object() && layout.repeats().is_empty();
    if !record || may_hold_records(text, layout) {
        return Screening::Undecided;
    }
    // As `parse_record` screens: by the provider's rules alone. An object that is not an
    // event is left to it.
    match provider_of(text, layout) {
        Ok(provider) if screen.admits_from(provider, text, layout) => Screening::Admitted,
        Ok(provider) => Screening::Away(provider),
        Err(_) => Screening::Undecided,
    }
}

/// Subscription payloads, EventBridge events, archive lines and Event Notifications
/// alerts: records inside something else.
fn is_envelope(v: &Value) -> bool {
    v.get("awslogs").is_some()
        || (v.get("logEvents").is_some() && v.get("messageType").is_some())
        || v.get("detail-type").is_some()
        || v.get("_source").is_some_and(Value::is_object)
        || v.pointer("/data/log_example").is_some()
}

fn expand_one(
    value: Value,
    position: Position,
    raw: Option<&[u8]>,
    how: &Parse<'_>,
    sink: &mut Sink,
) {
    let bad = |sink: &mut Sink, reason: String| sink(Item::Bad { position, reason });
    if let Some(data) = value.pointer("/awslogs/data") {
        match data.as_str() {
            Some(data) => encoded_payload(data, position, how, sink),
            None => bad(sink, "awslogs.data is not a string".into()),
        }
        return;
    }
    if value.get("logEvents").is_some() && value.get("messageType").is_some() {
        // A payload that was parsed as a value (a document over lines, an element of an
        // array) is read as the text it writes out to, as every payload is read.
        let text = serde_json::to_vec(&value).unwrap_or_default();
        payload_bytes(&text, position, how, sink);
        return;
    }
    if value.get("detail-type").is_some() {
        match value {
            Value::Object(mut m) => match m.remove("detail") {
                Some(detail @ Value::Object(_)) => sink(Item::Record {
                    value: detail,
                    position,
                    raw: None,
                }),
                _ => bad(sink, "EventBridge event without a detail object".into()),
            },
            _ => unreachable!("only objects have keys"),
        }
        return;
    }
    if value.get("_source").is_some_and(Value::is_object) {
        // An Activity Tracker archive line: the event's members sit in `_source` beside the
        // archive's own (`_ts`, `_app`, ...); when they do not, `_line` holds its text.
        let Value::Object(mut m) = value else {
            unreachable!("only objects have keys")
        };
        let Some(Value::Object(source)) = m.remove("_source") else {
            unreachable!("checked above")
        };
        let event = if source.contains_key("action") || source.contains_key("eventName") {
            Some(Value::Object(source))
        } else {
            match source.get("_line") {
                Some(Value::String(line)) => match serde_json::from_str::<Value>(line) {
                    Ok(v @ Value::Object(_)) => Some(v),
                    _ => None,
                },
                _ => Some(Value::Object(source)),
            }
        };
        return match event {
            Some(value) => sink(Item::Record {
                value,
                position,
                raw: None,
            }),
            None => bad(sink, "archive line whose _line is not a JSON event".into()),
        };
    }
    if let Some(example) = value.pointer("/data/log_example") {
        // An IBM Cloud Logs alert sent by Event Notifications: it carries one log line, an
        // object, or its text when Cloud Logs cut it (past 1000 characters).
        let event = match example {
            Value::Object(_) => Ok(example.clone()),
            Value::String(text) => match serde_json::from_str::<Value>(text) {
                Ok(v @ Value::Object(_)) => Ok(v),
                _ => Err(
                    if value.pointer("/data/log_example_truncated") == Some(&Value::Bool(true)) {
                        "Event Notifications alert whose log_example was cut by Cloud Logs (1000 \
                     characters at most): send the events themselves instead"
                    } else {
                        "Event Notifications alert whose log_example is not a JSON event"
                    },
                ),
            },
            _ => Err("Event Notifications alert whose log_example is not a JSON event"),
        };
        return match event {
            Ok(value) => sink(Item::Record {
                value,
                position,
                raw: None,
            }),
            Err(why) => bad(sink, why.into()),
        };
    }
    sink(Item::Record {
        value,
        position,
        raw,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_checked_as_the_standard_library_checks_it() {
        // A non-ASCII byte (valid or not) at every offset of texts that end inside, at and
        // after the 64-byte chunks.
        for len in [0, 1, 63, 64, 65, 130, 200] {
            let ascii = vec![b'a'; len];
            assert_eq!(utf8(&ascii), Ok("a".repeat(len).as_str()));
            for at in 0..len {
                for insert in [&[0xc3, 0xa9][..], &[0xff], &[0x80], &[0xe2, 0x82], &[0x7f]] {
                    let mut b = ascii.clone();
                    b.splice(at..at, insert.iter().copied());
                    let want = std::str::from_utf8(&b).map_err(|e| e.valid_up_to());
                    assert_eq!(utf8(&b), want, "{len} {at} {insert:?}");
                }
            }
        }
    }

    #[test]
    fn every_envelope_key_may_hold_records() {
        for key in ENVELOPE_KEYS.iter().chain(&["event\\u0073"]) {
            let text = format!(r#"{{"eventName":"x","{key}":1}}"#);
            let mut layout = Layout::new();
            layout.scan(&text).expect("JSON");
            assert!(may_hold_records(&text, &layout), "{key}");
        }
        let text = r#"{"eventName":"x","detailType":1}"#;
        let mut layout = Layout::new();
        layout.scan(text).expect("JSON");
        assert!(!may_hold_records(text, &layout));
    }
}
