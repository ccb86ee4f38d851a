//! CloudWatch Logs subscription payloads: the Lambda event `{"awslogs": {"data": ...}}`, whose
//! data is base64 of gzip of the JSON below, and that decoded JSON itself:
//! `{"messageType": "DATA_MESSAGE", "logGroup": ..., "logEvents": [{"id", "timestamp", "message"}]}`.

use crate::layout::{self, without_backslashes, Kind, Layout, Member};
use base64::Engine;
use flate2::bufread::MultiGzDecoder;
use std::cell::Cell;
use std::io::Read;
use std::thread::LocalKey;

/// Largest decoded payload accepted; CloudWatch sends at most 1 MB of events per invocation,
/// so anything far larger (a gzip bomb) is not a subscription payload, and is refused without
/// being decoded further.
const MAX_DECODED: u64 = 16 << 20;

/// Payloads that decode to at most this many bytes are decompressed in one call (libdeflate,
/// the fastest gunzip measured); larger ones a window at a time as their log events are read,
/// so that the 5 MB a full 1 MB Lambda event decodes to never sit in memory at once.
const WHOLE_LIMIT: usize = 2 << 20;

/// How many bytes a streamed payload's window takes in at a time.
const CHUNK: usize = 128 << 10;

thread_local! {
    /// The buffers of the payload last decoded on this thread (its JSON, and its gzip data),
    /// given back once done with: the next payload reuses pages already mapped instead of
    /// faulting in (and zeroing) megabytes of fresh ones, which cost a tenth of the time of
    /// a payload. Keeping the gzip buffer while the records are read adds little to the peak,
    /// which is reached while the data is inflated, both buffers full.
    static SPARE_JSON: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
    static SPARE_GZ: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

/// Buffers larger than this are not kept for the next payload.
const SPARE_LIMIT: usize = 4 << 20;

/// Gives `buf` back to its thread-local `slot` for the next payload, unless it is large.
fn keep_spare(slot: &'static LocalKey<Cell<Vec<u8>>>, buf: Vec<u8>) {
    if buf.capacity() <= SPARE_LIMIT {
        slot.set(buf);
    }
}

/// Decodes `awslogs.data` (base64 of gzip) and calls `each` for every log event of the
/// subscription payload, with `buf` holding its message (see [`Reader`]). `Ok(None)`: read;
/// `Ok(Some(json))`: the payload is laid out otherwise (see [`stream_events`]), and `json` is
/// all of it, for a layout. `Err` says why the payload stops (the events before were read).
pub(crate) fn decoded_events(
    data: &str,
    buf: &mut Vec<u8>,
    escaped: bool,
    each: &mut EachEvent,
) -> Result<Option<Vec<u8>>, String> {
    let mut gz = SPARE_GZ.take();
    from_base64(data.trim(), &mut gz)?;
    // gzip ends with the uncompressed size (mod 4 GiB). CloudWatch sends one gzip member,
    // which libdeflate decodes in one call into a buffer of that size.
    let size = gz
        .len()
        .checked_sub(4)
        .and_then(|at| gz.get(at..))
        .and_then(|t| <[u8; 4]>::try_from(t).ok())
        .map_or(0, |t| u32::from_le_bytes(t) as usize);
    let mut spare = SPARE_JSON.take();
    if size > 0 && size <= WHOLE_LIMIT {
        // Every byte is written by the decoder: only new room needs zeroing.
        if spare.len() < size {
            spare.resize(size, 0);
        }
        spare.truncate(size);
        if libdeflater::Decompressor::new().gzip_decompress(&gz, &mut spare) == Ok(size) {
            keep_spare(&SPARE_GZ, gz);
            let read = read_events(&mut Whole(&spare), buf, escaped, each);
            return match read {
                Ok(Events::Odd) => Ok(Some(spare)),
                other => {
                    keep_spare(&SPARE_JSON, spare);
                    other.map(|_| None)
                }
            };
        }
    }
    // Larger, several members, a size that does not fit, or corrupt data: the streaming
    // decoder reads every member and says what is wrong.
    let mut inflow = Inflow::new(&gz, spare, CHUNK);
    let read = match read_events(&mut inflow, buf, escaped, each) {
        Ok(Events::Read) => {
            keep_spare(&SPARE_JSON, inflow.buf);
            Ok(None)
        }
        Ok(Events::Odd) => inflow.all().map(Some),
        Err(e) => Err(e),
    };
    keep_spare(&SPARE_GZ, gz);
    read
}

/// `awslogs.data` decoded. Standard base64 with its padding, refused as the base64 crate
/// refuses it (canonical: no bits left over in the last character); base64-simd decodes it
/// sixteen or thirty-two characters at a time, a twentieth of the base64 crate's work, and
/// the base64 crate, run only on what base64-simd refuses, says why (base64-simd's error
/// says only that it is not base64). The bytes go into `out`, cleared first.
fn from_base64(data: &str, out: &mut Vec<u8>) -> Result<(), String> {
    out.clear();
    if base64_simd::STANDARD.decode_append(data, out).is_ok() {
        return Ok(());
    }
    out.clear();
    base64::engine::general_purpose::STANDARD
        .decode_vec(data, out)
        .map_err(|e| format!("awslogs.data is not base64: {e}"))
}

/// A subscription payload's decoded bytes, as the log event reader sees them: all at once, or
/// a window over a gzip stream that moves on as the events are read.
trait Decoded {
    /// The bytes decoded and not yet dropped.
    fn bytes(&self) -> &[u8];
    /// How many bytes were dropped before `bytes()[0]` (error positions count them).
    fn dropped(&self) -> usize;
    /// Drops the bytes before `keep` and decodes more after the rest; `Ok(false)` when there
    /// are no more.
    fn more(&mut self, keep: usize) -> Result<bool, String>;
}

/// A payload decoded whole.
struct Whole<'a>(&'a [u8]);

impl Decoded for Whole<'_> {
    fn bytes(&self) -> &[u8] {
        self.0
    }
    fn dropped(&self) -> usize {
        0
    }
    fn more(&mut self, _: usize) -> Result<bool, String> {
        Ok(false)
    }
}

/// A payload decompressed a window at a time: `buf[..end]` holds the bytes decoded and not
/// yet read.
struct Inflow<'g> {
    gz: MultiGzDecoder<&'g [u8]>,
    buf: Vec<u8>,
    end: usize,
    dropped: usize,
    ended: bool,
    /// Why the gzip data stopped early: said once the bytes decoded before it are read.
    failed: Option<String>,
    chunk: usize,
}

impl<'g> Inflow<'g> {
    fn new(gz: &'g [u8], mut buf: Vec<u8>, chunk: usize) -> Self {
        buf.clear();
        Inflow {
            gz: MultiGzDecoder::new(gz),
            buf,
            end: 0,
            dropped: 0,
            ended: false,
            failed: None,
            chunk,
        }
    }

    /// The whole payload, for a payload nothing of which was dropped.
    fn all(mut self) -> Result<Vec<u8>, String> {
        while self.more(0)? {}
        debug_assert_eq!(self.dropped, 0);
        self.buf.truncate(self.end);
        Ok(self.buf)
    }
}

impl Decoded for Inflow<'_> {
    fn bytes(&self) -> &[u8] {
        &self.buf[..self.end]
    }

    fn dropped(&self) -> usize {
        self.dropped
    }

    fn more(&mut self, keep: usize) -> Result<bool, String> {
        if self.ended {
            return self.failed.take().map_or(Ok(false), Err);
        }
        self.buf.copy_within(keep..self.end, 0);
        self.end -= keep;
        self.dropped += keep;
        // A log event longer than the window doubles it, so that reading it again from its
        // start each time costs no more than reading it twice.
        let target = self.end + self.chunk.max(self.end);
        if self.buf.len() < target {
            self.buf.resize(target, 0);
        }
        let start = self.end;
        while self.end < target {
            match self.gz.read(&mut self.buf[self.end..target]) {
                Ok(0) => {
                    self.ended = true;
                    break;
                }
                Ok(n) => self.end += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.failed = Some(format!("awslogs.data is not gzip: {e}"));
                    self.ended = true;
                    break;
                }
            }
        }
        if (self.dropped + self.end) as u64 > MAX_DECODED {
            return Err(format!(
                "awslogs.data decodes to more than {MAX_DECODED} bytes: not a CloudWatch Logs subscription payload (they hold at most 1 MB)"
            ));
        }
        if self.end > start {
            Ok(true)
        } else {
            self.failed.take().map_or(Ok(false), Err)
        }
    }
}

/// The text of `awslogs.data` in a checked object, when it is an `{"awslogs": {"data":
/// "..."}}` event whose data is a plain string (base64 never needs escapes).
pub(crate) fn laid_data<'t>(text: &'t str, layout: &Layout) -> Option<&'t str> {
    let (at, m) = layout
        .root()
        .find(|(_, m)| !m.key_escaped && m.raw_key(text) == "awslogs")?;
    let (_, data) = layout
        .children(m, at)
        .find(|(_, d)| !d.key_escaped && d.raw_key(text) == "data")?;
    data.plain(text)
}

/// Whether a checked object is a decoded subscription payload (`messageType` and
/// `logEvents` at its top).
pub(crate) fn is_laid_payload(text: &str, layout: &Layout) -> bool {
    let (mut kind, mut events) = (false, false);
    for (_, m) in layout.root() {
        match m.raw_key(text) {
            "messageType" => kind = true,
            "logEvents" => events = true,
            _ => {}
        }
    }
    kind && events
}

/// One log event of a laid payload: its `id` and its message, unescaped into a buffer.
pub(crate) struct LogEvent<'a> {
    pub id: Option<&'a str>,
    pub message: Result<&'a [u8], String>,
}

/// Calls `each` for every log event of a checked subscription payload, in order, with the
/// message unescaped (no value is built for the payload or its messages). Nothing is called
/// for a `CONTROL_MESSAGE`; `Err` when the payload is not a data message.
pub(crate) fn laid_events(
    text: &str,
    layout: &Layout,
    each: &mut dyn FnMut(usize, LogEvent<'_>),
) -> Result<(), String> {
    let mut events = None;
    for (at, m) in layout.root() {
        match m.raw_key(text) {
            "messageType" => match m.plain(text) {
                Some("CONTROL_MESSAGE") => return Ok(()),
                Some("DATA_MESSAGE") => {}
                _ => return Err(format!("unknown messageType {}", m.value(text))),
            },
            "logEvents" if m.kind == Kind::Array => events = Some(at),
            _ => {}
        }
    }
    let at = events.ok_or("subscription payload without a logEvents array")?;
    let bytes = text.as_bytes();
    let mut buf = Vec::new();
    // Where the text of the current log event began, and what was read of it.
    let mut from = layout.all()[at].value.0 as usize + 1;
    let (mut id, mut message): (Option<&str>, Option<(u32, u32, Kind)>) = (None, None);
    let mut n = 0;
    let mut emit = |n: &mut usize, id: Option<&str>, message: Option<(u32, u32, Kind)>| {
        let message = match message {
            Some((start, end, Kind::Plain)) => Ok(&bytes[start as usize + 1..end as usize - 1]),
            Some((start, end, Kind::Escaped)) => {
                unescape(&text[start as usize..end as usize], &mut buf).map(|()| &buf[..])
            }
            _ => Err("log event without a message string".to_string()),
        };
        each(*n, LogEvent { id, message });
        *n += 1;
    };
    let mut open = false;
    for (_, m) in layout.inside(at) {
        // Between two members of the array's objects there are no strings: each `{` there
        // begins a log event (more than one: empty ones in between).
        let starts = memchr::memchr_iter(b'{', &bytes[from..m.key.0 as usize]).count();
        if starts > 0 {
            if open {
                emit(&mut n, id.take(), message.take());
            }
            for _ in 1..starts {
                emit(&mut n, None, None);
            }
            open = true;
        }
        match m.raw_key(text) {
            "id" => id = m.plain(text),
            "message" => message = Some((m.value.0, m.value.1, m.kind)),
            _ => {}
        }
        from = m.value.1 as usize;
    }
    if open {
        emit(&mut n, id.take(), message.take());
    }
    // Empty log events after the last member.
    let end = layout.all()[at].value.1 as usize;
    for _ in memchr::memchr_iter(b'{', &bytes[from..end]) {
        emit(&mut n, None, None);
    }
    Ok(())
}

/// Reads a decoded subscription payload laid out as CloudWatch writes it (`messageType`
/// before `logEvents`), checking its JSON as it goes and decoding each message straight into
/// `buf`: one pass over the payload's bytes instead of a check, then a decode. Calls `each`
/// for every log event, with `buf` holding its message. `None` when the payload is laid out
/// otherwise (no `messageType` before `logEvents`, escaped member names): read it with a
/// layout then. `Err` says where the payload stops being JSON (the events before were read).
pub(crate) fn stream_events(
    json: &[u8],
    buf: &mut Vec<u8>,
    escaped: bool,
    each: &mut EachEvent,
) -> Option<Result<(), String>> {
    match read_events(&mut Whole(json), buf, escaped, each) {
        Ok(Events::Read) => Some(Ok(())),
        Ok(Events::Odd) => None,
        Err(e) => Some(Err(e)),
    }
}

/// Receives log event `n`: its id, and its message (or why it has none).
pub(crate) type EachEvent<'e> = dyn FnMut(usize, Option<&str>, Result<Message<'_>, String>) + 'e;

/// A log event's message as the reader hands it on.
pub(crate) enum Message<'a> {
    /// Decoded.
    Decoded(&'a [u8]),
    /// A JSON object as it stands in the payload, its quotes written `\"` and no other
    /// escape in it, checked into the layout by [`Layout::scan_escaped`]. Most records are
    /// like this, and a screen can turn most of them away from this layout without their
    /// text ever being decoded. The layout is lent mutably so that a record the screen admits
    /// can have it moved to its decoded text ([`Layout::decode_escaped`]); the reader scans
    /// the next record into it afresh.
    Escaped(&'a str, &'a mut Layout),
}

impl Message<'_> {
    /// The message's text, decoded.
    #[cfg(test)]
    pub(crate) fn to_vec(&self) -> Vec<u8> {
        match self {
            Message::Decoded(bytes) => bytes.to_vec(),
            Message::Escaped(text, _) => {
                let mut out = Vec::new();
                without_backslashes(text.as_bytes(), &mut out);
                out
            }
        }
    }
}

/// What [`read_events`] made of a payload.
enum Events {
    /// Its log events were read (none, for a control message).
    Read,
    /// Laid out otherwise: for a layout.
    Odd,
}

/// Where the payload's members before its log events lead.
enum Head {
    /// To the log events' array, just past its `[`.
    Events,
    Control,
    Odd,
}

/// The payload's log events, read a piece at a time from `src`: its members before the
/// events, then each event with the `,` or `]` after it, then the rest. A piece that does not
/// parse is read again once `src` has decoded more, since the window may have ended inside it;
/// when there is no more, its error stands. Nothing before the events is dropped, so a
/// payload laid out otherwise is still whole.
fn read_events(
    src: &mut (impl Decoded + ?Sized),
    buf: &mut Vec<u8>,
    escaped: bool,
    each: &mut EachEvent,
) -> Result<Events, String> {
    let mut scratch = Vec::new();
    let mut layout = Layout::new();
    let mut at = loop {
        let mut r = Reader::new(src.bytes(), 0, src.dropped(), &mut scratch);
        match r.head() {
            Ok(Head::Events) => break r.i,
            Ok(Head::Control) => return Ok(Events::Read),
            Ok(Head::Odd) => return Ok(Events::Odd),
            Err(e) if !src.more(0)? => return Err(e),
            Err(_) => {}
        }
    };
    let mut n = 0;
    let mut first = true;
    loop {
        let mut r = Reader::new(src.bytes(), at, src.dropped(), &mut scratch);
        let (read, next) = (r.element(first, buf, escaped.then_some(&mut layout)), r.i);
        match read {
            Ok(Some(Element { id, message, last })) => {
                let id = id
                    .map(|(from, to)| &src.bytes()[from..to])
                    .and_then(|v| super::utf8(v).ok());
                let message = match message {
                    Some(Text::Decoded(len)) => Ok(Message::Decoded(&buf[..len])),
                    Some(Text::Escaped(from, to)) => {
                        let bytes = &src.bytes()[from..to];
                        Ok(match super::utf8(bytes) {
                            Ok(text) => Message::Escaped(text, &mut layout),
                            // Decoded, for the error the record's own reading gives.
                            Err(_) => {
                                without_backslashes(bytes, buf);
                                Message::Decoded(buf)
                            }
                        })
                    }
                    None => Err("log event without a message string".to_string()),
                };
                each(n, id, message);
                n += 1;
                (at, first) = (next, false);
                if last {
                    break;
                }
            }
            Ok(None) => {
                at = next;
                break;
            }
            Err(e) if !src.more(at)? => return Err(e),
            Err(_) => at = 0,
        }
    }
    loop {
        let read = Reader::new(src.bytes(), at, src.dropped(), &mut scratch).tail();
        // Read to the end of the window: whatever follows must be read too.
        if !src.more(at)? {
            return read.map(|()| Events::Read);
        }
        at = 0;
    }
}

/// A log event as [`Reader::element`] reads it.
struct Element {
    /// Where its id's text is, when the id is a string without escapes.
    id: Option<(usize, usize)>,
    /// Its message, when it is a string.
    message: Option<Text>,
    /// Whether the array ends after it.
    last: bool,
}

/// Where a log event's message is.
enum Text {
    /// Its length in the buffer it was decoded into.
    Decoded(usize),
    /// Its place in the payload, as it stands there (see [`Message::Escaped`]).
    Escaped(usize, usize),
}

/// A position in a payload's bytes.
struct Reader<'a, 's> {
    b: &'a [u8],
    i: usize,
    /// Bytes of the payload before `b` (for error positions).
    base: usize,
    scratch: &'s mut Vec<Member>,
}

impl<'a, 's> Reader<'a, 's> {
    fn new(b: &'a [u8], i: usize, base: usize, scratch: &'s mut Vec<Member>) -> Self {
        Reader {
            b,
            i,
            base,
            scratch,
        }
    }

    /// The payload's `{` and its members up to the log events, which must come after a
    /// `"messageType": "DATA_MESSAGE"`.
    fn head(&mut self) -> Result<Head, String> {
        let mut data = false;
        let mut head = None;
        self.members(|r, key| {
            match key {
                Some(b"messageType") => {
                    let at = r.i;
                    r.skip()?;
                    match &r.b[at..r.i] {
                        b"\"CONTROL_MESSAGE\"" => head = Some(Head::Control),
                        b"\"DATA_MESSAGE\"" => data = true,
                        other => {
                            return Err(format!(
                                "unknown messageType {}",
                                String::from_utf8_lossy(other)
                            ))
                        }
                    }
                }
                // Where the window ends before the value: read again with more.
                Some(b"logEvents") if r.peek().is_none() => {
                    return Err(r.error("the text ends before the log events"))
                }
                Some(b"logEvents") if data && r.peek() == Some(b'[') => {
                    r.i += 1;
                    head = Some(Head::Events);
                }
                // Events before their type, or a name with escapes: for the layout reader.
                Some(b"logEvents") | None => head = Some(Head::Odd),
                Some(_) => r.skip()?,
            }
            Ok(head.is_none())
        })?;
        head.ok_or_else(|| "subscription payload without a logEvents array".into())
    }

    /// One element of the log events' array and the `,` or `]` after it, its message
    /// decoded into `buf`, or, with `escaped`, checked into that layout as it stands when
    /// it can be (see [`Message::Escaped`]). `first`: just past the `[`, where a `]` ends an
    /// empty array (`None`).
    fn element(
        &mut self,
        first: bool,
        buf: &mut Vec<u8>,
        mut escaped: Option<&mut Layout>,
    ) -> Result<Option<Element>, String> {
        self.ws();
        if first && self.peek() == Some(b']') {
            self.i += 1;
            return Ok(None);
        }
        let (mut id, mut message) = (None, None);
        if self.peek() != Some(b'{') {
            self.skip()?;
        } else if let Some(at) = self.cloudwatch_head() {
            // Past the id and the timestamp, at the message: it and any members after it
            // are read as below.
            id = Some(at);
            self.member(Some(b"message"), &mut id, &mut message, buf, &mut escaped)?;
            while self.next_member(b'}')? {
                let key = self.key()?;
                self.member(key, &mut id, &mut message, buf, &mut escaped)?;
            }
        } else {
            self.members(|r, key| {
                r.member(key, &mut id, &mut message, buf, &mut escaped)?;
                Ok(true)
            })?;
        }
        let last = !self.next_member(b']')?;
        Ok(Some(Element { id, message, last }))
    }

    /// A log event's member whose name is `key` (`None`: escaped), its value at the reader:
    /// its id or its message noted, anything else stepped over.
    fn member(
        &mut self,
        key: Option<&[u8]>,
        id: &mut Option<(usize, usize)>,
        message: &mut Option<Text>,
        buf: &mut Vec<u8>,
        escaped: &mut Option<&mut Layout>,
    ) -> Result<(), String> {
        match key {
            Some(b"id") => {
                let at = self.i;
                self.skip()?;
                // An id with escapes is left out rather than decoded.
                let text = (at + 1, self.i - 1);
                *id = (self.b[at] == b'"' && !self.b[text.0..text.1].contains(&b'\\'))
                    .then_some(text);
            }
            Some(b"message") if self.peek() == Some(b'"') => {
                let layout = escaped.as_deref_mut();
                *message = Some(match layout.and_then(|l| self.escaped_record(l)) {
                    Some((from, to)) => Text::Escaped(from, to),
                    None => Text::Decoded(self.string_into(buf)?),
                });
            }
            Some(b"message") => {
                self.skip()?;
                *message = None;
            }
            Some(_) => self.skip()?,
            None => return Err(self.error("an escaped member name in a log event")),
        }
        Ok(())
    }

    /// A log event as CloudWatch writes it, `{"id":"DIGITS","timestamp":DIGITS,"message":`,
    /// read with fixed comparisons: where its id's digits are, the reader at the message's
    /// value. `None` leaves the reader where it was, for the member-by-member reading (any
    /// other order, blanks, another kind of value), which gives the same answer.
    fn cloudwatch_head(&mut self) -> Option<(usize, usize)> {
        const OPEN: &[u8] = br#"{"id":""#;
        let b = &self.b[self.i..];
        let rest = b.strip_prefix(OPEN)?;
        let digits = leading_digits(rest);
        let id = (self.i + OPEN.len(), self.i + OPEN.len() + digits);
        let rest = rest[digits..].strip_prefix(br#"","timestamp":"#)?;
        let time = leading_digits(rest);
        // A JSON number has no leading zero; a long one is left to the check of its range.
        if digits == 0 || time == 0 || time > 19 || (time > 1 && rest[0] == b'0') {
            return None;
        }
        let rest = rest[time..].strip_prefix(br#","message":"#)?;
        self.i += b.len() - rest.len();
        Some(id)
    }

    /// The payload's members after its log events, its `}` and the blanks after it, up to
    /// the end of the bytes.
    fn tail(&mut self) -> Result<(), String> {
        while self.next_member(b'}')? {
            // Any name at all: the events are read, and nothing after them is.
            self.ws();
            self.skip()?;
            self.expect(b':')?;
            self.ws();
            self.skip()?;
        }
        self.ws();
        if self.i < self.b.len() {
            return Err(self.error("text after the payload"));
        }
        Ok(())
    }

    /// The members of the object whose `{` comes next: `member` is given the reader at each
    /// value (and the member's name; `None` when it has escapes, and is not read), steps over
    /// the value and says whether to go on. The reader stops at the end of the object, or
    /// where `member` said to stop.
    fn members(
        &mut self,
        mut member: impl FnMut(&mut Self, Option<&'a [u8]>) -> Result<bool, String>,
    ) -> Result<(), String> {
        self.expect(b'{')?;
        self.ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Ok(());
        }
        loop {
            let key = self.key()?;
            if !member(self, key)? || !self.next_member(b'}')? {
                return Ok(());
            }
        }
    }

    /// After a member or element: `true` at a `,` (another follows), `false` at `close`.
    fn next_member(&mut self, close: u8) -> Result<bool, String> {
        self.ws();
        match self.peek() {
            Some(b',') => {
                self.i += 1;
                Ok(true)
            }
            Some(c) if c == close => {
                self.i += 1;
                Ok(false)
            }
            _ => Err(self.error("expected ',' or the end of the object or array")),
        }
    }

    /// A member name and its `:`; `None` when the name has escapes.
    fn key(&mut self) -> Result<Option<&'a [u8]>, String> {
        self.expect(b'"')?;
        let start = self.i;
        let end = memchr::memchr2(b'"', b'\\', &self.b[start..])
            .map(|k| start + k)
            .ok_or_else(|| self.error(ODD_EOF))?;
        if self.b[end] == b'\\' {
            return Ok(None);
        }
        self.i = end + 1;
        self.expect(b':')?;
        self.ws();
        Ok(Some(&self.b[start..end]))
    }

    /// The string value at its opening quote, when it is a JSON object whose only escapes
    /// are its quotes' (as [`Layout::scan_escaped`] reads it, into `layout`): where its text
    /// is, the reader past its closing quote. `None` leaves the reader where it was.
    fn escaped_record(&mut self, layout: &mut Layout) -> Option<(usize, usize)> {
        let from = self.i + 1;
        let end = from + layout.scan_escaped(self.b.get(from..)?).ok()?;
        // Blanks after the object are part of the text, as they are of a decoded one.
        let to = end + self.b[end..].iter().take_while(|&&c| c == b' ').count();
        if self.b.get(to) != Some(&b'"') {
            return None;
        }
        self.i = to + 1;
        Some((from, to))
    }

    /// A string value at its opening quote, decoded into `out` (which only grows; what the
    /// string holds is `out[..len]`, `len` returned). A message holding a JSON record has an
    /// escape every few bytes (each of its quotes is `\"`), so the input is read sixteen
    /// bytes at a time with the backslashes, quotes and control characters among them found
    /// at once ([`layout::block_masks`]): the block is copied out whole, and each `\"`,
    /// `\\` or `\/` in it is decoded by copying the sixteen bytes after its backslash one
    /// place back. Other escapes, and the last bytes of the input, go a byte at a time.
    fn string_into(&mut self, out: &mut Vec<u8>) -> Result<usize, String> {
        #[cfg(target_arch = "x86_64")]
        if layout::compact::available() {
            // SAFETY: the processor has SSSE3.
            return unsafe { self.string_into_ssse3(out) };
        }
        self.string_into_with::<false>(out)
    }

    /// [`Reader::string_into`] compiled with SSSE3, whose byte shuffle then sits inline in
    /// the loop over the blocks.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "ssse3")]
    unsafe fn string_into_ssse3(&mut self, out: &mut Vec<u8>) -> Result<usize, String> {
        self.string_into_with::<true>(out)
    }

    /// The decoder; `SHUFFLE`: blocks with only quote and slash escapes are decoded by
    /// [`layout::compact::without`] (only where the processor has SSSE3).
    #[inline(always)]
    fn string_into_with<const SHUFFLE: bool>(
        &mut self,
        out: &mut Vec<u8>,
    ) -> Result<usize, String> {
        let b = self.b;
        let mut i = self.i + 1;
        let mut j = 0;
        'blocks: loop {
            // Room for a block and the copies after its escapes (sixteen bytes past the
            // block at most), and for the four bytes a `\u` escape writes.
            if out.len() < j + 64 {
                let grown = (out.len() * 2).max(j + 4096);
                out.resize(grown, 0);
            }
            // A block, and after it the bytes an escape at its end copies.
            if let Some(ahead) = b.get(i..i + 32) {
                let block: &[u8; 16] = ahead[..16].try_into().unwrap_or(&[0; 16]);
                let masks = layout::block_masks(block);
                let bs = masks.backslash;
                // The common block inside a record: its only escapes are `\"` and `\/`, none
                // of its quotes ends the string. Its backslashes are dropped in one shuffle.
                #[cfg(target_arch = "x86_64")]
                if SHUFFLE && layout::compact::shuffles(&masks, ahead[16]) {
                    // SAFETY: SHUFFLE is set only where the processor has SSSE3.
                    j += unsafe { layout::compact::without(block, bs, &mut out[j..j + 16]) };
                    i += 16;
                    if bs & 0x8000 != 0 {
                        // The byte its last backslash escapes begins the next block.
                        out[j] = ahead[16];
                        j += 1;
                        i += 1;
                    }
                    continue;
                }
                let (mut backslashes, mut stops) = (bs, masks.quote | masks.control);
                out[j..j + 16].copy_from_slice(block);
                // `out[j]` holds `block[base]`.
                let mut base = 0;
                loop {
                    let (bs, stop) = (backslashes.trailing_zeros(), stops.trailing_zeros());
                    if stop < bs {
                        // A quote ends the string; a control character may not be in one.
                        let p = stop as usize;
                        i += p;
                        j += p - base;
                        if block[p] == b'"' {
                            self.i = i + 1;
                            return Ok(j);
                        }
                        self.i = i;
                        return Err(self.error("a control character in a string"));
                    }
                    if bs >= 16 {
                        // The rest of the block is plain. An escape at its end used the
                        // first byte of the next.
                        let next = base.max(16);
                        i += next;
                        j += next - base;
                        continue 'blocks;
                    }
                    let p = bs as usize;
                    let e = ahead[p + 1];
                    if !matches!(e, b'"' | b'\\' | b'/') {
                        // Decoded below, a byte at a time.
                        i += p;
                        j += p - base;
                        break;
                    }
                    // The escaped byte and what follows, one place back over the backslash.
                    j += p - base;
                    out[j..j + 16].copy_from_slice(&ahead[p + 1..p + 17]);
                    j += 1;
                    base = p + 2;
                    // The escaped byte is text, whatever it is.
                    let done = !((1u32 << (p + 2)) - 1);
                    backslashes &= done;
                    stops &= done;
                }
            }
            let c = match b.get(i) {
                Some(&c) if c != b'"' && c != b'\\' && c >= 0x20 => {
                    out[j] = c;
                    i += 1;
                    j += 1;
                    continue;
                }
                Some(&c) => c,
                None => {
                    self.i = i;
                    return Err(self.error(ODD_EOF));
                }
            };
            match c {
                b'"' => {
                    self.i = i + 1;
                    return Ok(j);
                }
                b'\\' => {
                    let e = *b.get(i + 1).ok_or_else(|| self.error(ODD_EOF))?;
                    i += 2;
                    match escape(e, &b[i..], &mut out[j..]) {
                        Ok((used, wrote)) => {
                            i += used;
                            j += wrote;
                        }
                        Err(why) => {
                            self.i = i - 1;
                            return Err(self.error(&why));
                        }
                    }
                }
                _ => {
                    self.i = i;
                    return Err(self.error("a control character in a string"));
                }
            }
        }
    }

    /// Checks the value here and steps over it.
    fn skip(&mut self) -> Result<(), String> {
        self.i = layout::skip_value(self.b, self.i, self.scratch)
            .map_err(|e| format!("awslogs.data is not JSON: {e}"))?;
        Ok(())
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.b.get(self.i) {
            self.i += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn expect(&mut self, c: u8) -> Result<(), String> {
        self.ws();
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            Err(self.error(match c {
                b'{' => "expected an object",
                b':' => "expected ':'",
                _ => "expected a member name",
            }))
        }
    }

    fn error(&self, what: &str) -> String {
        format!(
            "awslogs.data is not JSON: {what} at byte {}",
            self.base + self.i
        )
    }
}

const ODD_EOF: &str = "the text ends inside a string";

/// How many ASCII digits `b` starts with, eight bytes at a time (a log event's id has 56).
fn leading_digits(b: &[u8]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    let mut n = 0;
    while let Some(chunk) = b.get(n..n + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        // A byte is a digit when it less b'0' is below ten: the high bit of each byte of
        // `d + 0x76` or of `d` is set for one that is not.
        let d = u64::from_le_bytes(word) ^ (ONES * u64::from(b'0'));
        let not_digits = (((d & (ONES * 0x7f)) + ONES * 0x76) | d) & (ONES * 0x80);
        if not_digits != 0 {
            return n + (not_digits.trailing_zeros() / 8) as usize;
        }
        n += 8;
    }
    n + b[n..].iter().take_while(|c| c.is_ascii_digit()).count()
}

/// The escape whose letter (after the backslash) is `e`, `rest` the bytes after it, decoded
/// into `out`: how many bytes of `rest` it used, and how many it wrote.
fn escape(e: u8, rest: &[u8], out: &mut [u8]) -> Result<(usize, usize), String> {
    let plain = match e {
        b'"' | b'\\' | b'/' => e,
        b'n' => b'\n',
        b't' => b'\t',
        b'r' => b'\r',
        b'b' => 8,
        b'f' => 12,
        b'u' => {
            let (ch, used) = unicode_escape(rest)?;
            return Ok((used, ch.encode_utf8(out).len()));
        }
        other => return Err(format!("invalid escape \\{}", other as char)),
    };
    out[0] = plain;
    Ok((0, 1))
}

/// The text of a `\u` escape (`b` starts after the `u`), with a following low surrogate
/// when it is a high one; how many bytes it used. A lone surrogate reads as the replacement
/// character.
fn unicode_escape(b: &[u8]) -> Result<(char, usize), String> {
    let hex = |at: usize| -> Result<u32, String> {
        b.get(at..at + 4)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .ok_or_else(|| "a \\u escape without four hex digits".to_string())
    };
    let mut code = hex(0)?;
    let mut used = 4;
    if (0xD800..0xDC00).contains(&code) && b.get(4..6) == Some(b"\\u") {
        let low = hex(6)?;
        if (0xDC00..0xE000).contains(&low) {
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
            used = 10;
        }
    }
    Ok((
        char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER),
        used,
    ))
}

/// A checked JSON string literal (with its quotes) decoded into `out`, which then holds just
/// the decoded text: the payload reader's decoder, on a string already laid out.
fn unescape(quoted: &str, out: &mut Vec<u8>) -> Result<(), String> {
    let mut scratch = Vec::new();
    let mut reader = Reader::new(quoted.as_bytes(), 0, 0, &mut scratch);
    let len = reader.string_into(out)?;
    out.truncate(len);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::GzEncoder;
    use std::io::Write;

    pub(crate) fn encode(json: &str) -> String {
        let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(json.as_bytes()).unwrap();
        base64::engine::general_purpose::STANDARD.encode(gz.finish().unwrap())
    }

    #[test]
    fn messages_are_unescaped_as_serde_json_reads_them() {
        let mut buf = Vec::new();
        let check = |text: &str, buf: &mut Vec<u8>| {
            let quoted = format!("\"{text}\"");
            let want: String = serde_json::from_str(&quoted).expect(text);
            unescape(&quoted, buf).expect(text);
            assert_eq!(std::str::from_utf8(buf), Ok(want.as_str()), "{text}");
        };
        for text in [
            r#""#,
            r#"plain"#,
            r#"{\"eventName\":\"CreateUser\",\"path\":\"a\\\\b/c\",\"nl\":\"x\\ny\"}"#,
            r#"caf\u00e9 \u20AC \ud83d\ude00 tab\tend"#,
            r#"\"\\\/\b\f\n\r\t"#,
        ] {
            check(text, &mut buf);
        }
        // Every escape at every offset around the sixteen-byte blocks; a control character
        // or a lone quote anywhere is refused.
        for len in 0..40 {
            for at in 0..=len {
                let around = |x: &str| format!("{}{x}{}", "a".repeat(at), "b".repeat(len - at));
                for esc in [
                    r#"\""#,
                    r#"\\"#,
                    r#"\/"#,
                    r#"\n"#,
                    r#"\u00e9"#,
                    r#"\ud83d\ude00"#,
                ] {
                    check(&around(esc), &mut buf);
                }
                assert!(unescape(&format!("\"{}\"", around("\u{1f}")), &mut buf).is_err());
                assert!(unescape(&format!("\"{}", around("\\")), &mut buf).is_err());
            }
        }
        // serde_json refuses a lone surrogate; here it reads as the replacement character.
        unescape(r#""lone \ud800 surrogate""#, &mut buf).expect("read");
        assert_eq!(std::str::from_utf8(&buf), Ok("lone \u{fffd} surrogate"));
        assert!(unescape(r#""bad \q""#, &mut buf).is_err());
        assert!(unescape(r#""\u12""#, &mut buf).is_err());
    }

    /// Long strings of escapes and text in every mix, as records inside messages are:
    /// decoded as serde_json decodes them, and cut off anywhere, refused.
    #[test]
    fn long_messages_are_unescaped_as_serde_json_reads_them() {
        let pieces = [
            r#"\""#,
            r#"\\"#,
            r#"\/"#,
            r#"\n"#,
            r#"\t"#,
            r#"\u00e9"#,
            r#"\ud83d\ude00"#,
            "é",
            "€",
            "a",
            "bc",
            "eventName",
            ":",
            "{",
            "0123456789abcdef",
        ];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 11) as usize % n
        };
        let mut buf = Vec::new();
        for _ in 0..3000 {
            let len = next(120);
            let text: String = (0..len).map(|_| pieces[next(pieces.len())]).collect();
            let quoted = format!("\"{text}\"");
            let want: String = serde_json::from_str(&quoted).expect(&text);
            unescape(&quoted, &mut buf).expect(&text);
            assert_eq!(std::str::from_utf8(&buf), Ok(want.as_str()), "{text}");
            let cut = next(quoted.len());
            if quoted.is_char_boundary(cut) {
                assert!(
                    unescape(&quoted[..cut], &mut buf).is_err(),
                    "{}",
                    &quoted[..cut]
                );
            }
        }
    }

    /// A log event as read: its id, and its message or why it has none.
    type Read = (Option<String>, Result<String, String>);

    /// The events `stream_events` reads, or `None` when it leaves the payload to a layout;
    /// the same whether records are read as they stand where they can be or not.
    fn streamed(json: &str) -> Option<Result<Vec<Read>, String>> {
        let [decoded, escaped] = [false, true].map(|escaped| {
            let mut got = Vec::new();
            let mut buf = Vec::new();
            let r = stream_events(json.as_bytes(), &mut buf, escaped, &mut |i, id, m| {
                assert_eq!(i, got.len());
                got.push((
                    id.map(str::to_string),
                    m.map(|m| String::from_utf8(m.to_vec()).expect("utf-8")),
                ));
            })?;
            Some(r.map(|()| got))
        });
        assert_eq!(decoded, escaped, "{json}");
        decoded
    }

    /// A record with no escapes of its own, as a log event's message: read as it stands.
    const PLAIN_RECORD: &str =
        r#"{"eventName":"CreateUser","n":[1,{"a":"b","c":[]}],"e":{},"x":-1.5e3,"t":true }"#;

    #[test]
    fn records_without_escapes_of_their_own_are_read_as_they_stand() {
        let message = serde_json::to_string(PLAIN_RECORD).expect("a JSON string");
        let with_escapes = serde_json::to_string(r#"{"a":"b\\c"}"#).expect("a JSON string");
        let json = format!(
            r#"{{"messageType":"DATA_MESSAGE","logEvents":[{{"id":"1","message":{message}}},{{"message":{with_escapes}}},{{"message":"{{\"a\":1"}}]}}"#
        );
        let mut got = Vec::new();
        let r = stream_events(json.as_bytes(), &mut Vec::new(), true, &mut |_, _, m| {
            let m = m.expect("a message");
            let kind = match &m {
                Message::Escaped(text, layout) => {
                    // The layout is of the text as it stands.
                    let (_, first) = layout.root().next().expect("a member");
                    assert_eq!(first.raw_key(text), "eventName");
                    assert_eq!(first.plain(text), Some("CreateUser"));
                    "escaped"
                }
                Message::Decoded(_) => "decoded",
            };
            got.push((kind, String::from_utf8(m.to_vec()).expect("utf-8")));
        });
        assert_eq!(r, Some(Ok(())));
        assert_eq!(
            got,
            [
                ("escaped", PLAIN_RECORD.to_string()),
                ("decoded", r#"{"a":"b\\c"}"#.to_string()),
                // Cut short: left to the record's own reading, which says so.
                ("decoded", r#"{"a":1"#.to_string()),
            ]
        );
    }

    /// The events the layout reader finds in the same payload.
    fn laid(json: &str) -> Result<Vec<Read>, String> {
        let mut layout = Layout::new();
        layout.scan(json).map_err(|e| e.to_string())?;
        let mut got = Vec::new();
        laid_events(json, &layout, &mut |_, e| {
            got.push((
                e.id.map(str::to_string),
                e.message
                    .map(|m| String::from_utf8(m.to_vec()).expect("utf-8")),
            ))
        })?;
        Ok(got)
    }

    #[test]
    fn streamed_payloads_read_as_laid_ones() {
        let record = r#"{"eventName":"CreateUser","path":"a\\b","uni":"caf\u00e9 \ud83d\ude00","nl":"x\ny\tz"}"#;
        let message = serde_json::to_string(record).expect("a JSON string");
        let plain = serde_json::to_string(PLAIN_RECORD).expect("a JSON string");
        for json in [
            format!(
                r#"{{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","subscriptionFilters":["f"],"logEvents":[{{"id":"1","timestamp":1,"message":{message}}},{{"id":"2","timestamp":2,"message":"plain"}}]}}"#
            ),
            format!(
                r#"{{"messageType":"DATA_MESSAGE","logEvents":[{{"id":"1","message":{plain}}},{{"message":{message}}},{{"message":{plain} }}]}}"#
            ),
            format!(
                r#" {{ "messageType" : "DATA_MESSAGE" , "logEvents" : [ {{ "message" : {message} , "id" : "9" , "extractedFields" : {{"a": [1, {{"b": null}}]}} }} , {{}} , {{"id":"4","message":5}} ] }} "#
            ),
            r#"{"messageType":"DATA_MESSAGE","logEvents":[]}"#.to_string(),
            format!(
                r#"{{"messageType":"DATA_MESSAGE","logEvents":[{{"message":"{}"}}]}}"#,
                "\\\"x".repeat(300)
            ),
        ] {
            let s = streamed(&json).expect("streamed");
            assert_eq!(s, laid(&json), "{json}");
        }
        // A `\u` escape where the decoded message crosses the size the buffer has grown to.
        for pad in 4080..4100 {
            let mut buf = Vec::new();
            let text = format!("{}\\ud83d\\ude00\\u00e9", "a".repeat(pad));
            let json =
                format!(r#"{{"messageType":"DATA_MESSAGE","logEvents":[{{"message":"{text}"}}]}}"#);
            let want: String = serde_json::from_str(&format!("\"{text}\"")).expect("JSON");
            let mut got = None;
            let read = stream_events(json.as_bytes(), &mut buf, true, &mut |_, _, m| {
                got = m
                    .ok()
                    .map(|m| String::from_utf8(m.to_vec()).expect("utf-8"));
            });
            assert_eq!(read, Some(Ok(())));
            assert_eq!(got.as_deref(), Some(want.as_str()), "{pad}");
        }
        // An element that is not an object is a log event without a message, not nothing.
        let odd = streamed(r#"{"messageType":"DATA_MESSAGE","logEvents":[3,{"message":"m"}]}"#);
        assert_eq!(
            odd,
            Some(Ok(vec![
                (None, Err("log event without a message string".to_string())),
                (None, Ok("m".to_string()))
            ]))
        );
        // A control message reads nothing.
        assert_eq!(
            streamed(
                r#"{"messageType":"CONTROL_MESSAGE","logEvents":[{"message":"CWL CONTROL MESSAGE"}]}"#
            ),
            Some(Ok(vec![]))
        );
        // Laid out otherwise: left to the layout reader.
        assert_eq!(
            streamed(r#"{"logEvents":[{"message":"x"}],"messageType":"DATA_MESSAGE"}"#),
            None
        );
        assert_eq!(streamed(r#"{"logEvents":[]}"#), None);
        // Not JSON, cut short, or not a data message: an error, the events before kept.
        for bad in [
            r#"{"messageType":"DATA_MESSAGE","logEvents":[{"message":"a"},{"message":"b"#,
            r#"{"messageType":"DATA_MESSAGE","logEvents":[{"message":"a\q"}]}"#,
            "{\"messageType\":\"DATA_MESSAGE\",\"logEvents\":[{\"message\":\"a\u{1}\"}]}",
            r#"{"messageType":"DATA_MESSAGE","logEvents":[{"message":"a"}]} x"#,
            r#"{"messageType":"DATA_MESSAGE","logEvents":[{"message":"a"} {"message":"b"}]}"#,
            r#"{"messageType":"DATA_MESSAGE"}"#,
            r#"{"messageType":"SOMETHING","logEvents":[]}"#,
        ] {
            assert!(matches!(streamed(bad), Some(Err(_))), "{bad}");
        }
    }

    /// Log events as CloudWatch writes them (`{"id":"DIGITS","timestamp":DIGITS,"message":`,
    /// read with fixed comparisons) and near misses of that layout, each left to the
    /// member-by-member reading: read as the layout reader reads them, errors included.
    #[test]
    fn log_events_as_cloudwatch_writes_them_are_read_as_laid_ones() {
        let plain = serde_json::to_string(PLAIN_RECORD).expect("a JSON string");
        let id = "3".repeat(56);
        for event in [
            format!(r#"{{"id":"{id}","timestamp":1700000000000,"message":{plain}}}"#),
            format!(r#"{{"id":"{id}","timestamp":0,"message":{plain}}}"#),
            format!(r#"{{"id":"{id}","timestamp":1,"message":"x","extractedFields":{{"a":1}}}}"#),
            format!(r#"{{"id":"{id}","timestamp":1,"message":5}}"#),
            format!(r#"{{"id":"{id}","timestamp":1,"message":{plain},"id":"7"}}"#),
            format!(
                r#"{{"id":"{id}","timestamp":{},"message":"x"}}"#,
                "9".repeat(25)
            ),
            format!(r#"{{"id":"{id}","timestamp":-1,"message":"x"}}"#),
            format!(r#"{{"id":"{id}","timestamp":1.5,"message":"x"}}"#),
            format!(r#"{{"id":"{id}", "timestamp":1,"message":"x"}}"#),
            r#"{"id":"","timestamp":1,"message":"x"}"#.to_string(),
            r#"{"id":"12ab","timestamp":1,"message":"x"}"#.to_string(),
            r#"{"id":"1\u0032","timestamp":1,"message":"x"}"#.to_string(),
            r#"{"id":12,"timestamp":1,"message":"x"}"#.to_string(),
            // Not JSON: errors both ways.
            r#"{"id":"1","timestamp":0123,"message":"x"}"#.to_string(),
            format!(
                r#"{{"id":"1","timestamp":{},"message":"x"}}"#,
                "1".repeat(400)
            ),
            r#"{"id":"1","timestamp":1,"message":"x""#.to_string(),
            r#"{"id":"1","timestamp":1,"message":"x",}"#.to_string(),
        ] {
            let json = format!(r#"{{"messageType":"DATA_MESSAGE","logEvents":[{event},{event}]}}"#);
            let s = streamed(&json).expect("streamed");
            assert_eq!(s.is_ok(), laid(&json).is_ok(), "{json}");
            if s.is_ok() {
                assert_eq!(s, laid(&json), "{json}");
            }
        }
    }

    /// What `read_events` makes of `json` read whole, and through a window of `chunk` bytes
    /// over its gzip: the events, and `Ok(true)` when the payload was laid out otherwise.
    /// `escaped`: records read as they stand where they can be.
    fn both_ways(
        json: &str,
        chunk: usize,
        escaped: bool,
    ) -> [(Vec<Read>, Result<bool, String>); 2] {
        let gz = {
            let mut e = GzEncoder::new(Vec::new(), flate2::Compression::default());
            e.write_all(json.as_bytes()).unwrap();
            e.finish().unwrap()
        };
        let read = |src: &mut dyn Decoded| {
            let mut got = Vec::new();
            let r = read_events(src, &mut Vec::new(), escaped, &mut |i, id, m| {
                assert_eq!(i, got.len());
                got.push((
                    id.map(str::to_string),
                    m.map(|m| String::from_utf8(m.to_vec()).expect("utf-8")),
                ));
            });
            (got, r.map(|e| matches!(e, Events::Odd)))
        };
        [
            read(&mut Whole(json.as_bytes())),
            read(&mut Inflow::new(&gz, Vec::new(), chunk)),
        ]
    }

    /// Every payload of the tests above read through windows of every small size, so that a
    /// window ends at every byte of it: the same events and the same error, at the same byte.
    #[test]
    fn payloads_read_a_window_at_a_time_read_as_whole_ones() {
        let record = r#"{"eventName":"CreateUser","path":"a\\b","uni":"caf\u00e9 \ud83d\ude00"}"#;
        let message = serde_json::to_string(record).expect("a JSON string");
        let plain = serde_json::to_string(PLAIN_RECORD).expect("a JSON string");
        let payloads = [
            format!(
                r#"{{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","subscriptionFilters":["f"],"logEvents":[{{"id":"1","timestamp":1,"message":{message}}},{{"id":"2","timestamp":2,"message":"plain"}}]}}"#
            ),
            format!(
                r#"{{"messageType":"DATA_MESSAGE","logEvents":[{{"id":"1","message":{plain}}},{{"message":{message}}},{{"message":{plain}}},{{"message":"{{\"a\":[1,"}}]}}"#
            ),
            format!(
                r#" {{ "messageType" : "DATA_MESSAGE" , "logEvents" : [ {{ "message" : {message} , "id" : "9" , "extractedFields" : {{"a": [1, {{"b": null}}]}} }} , {{}} , {{"id":"4","message":5}}, 17 ] , "after": [1, 2] }} "#
            ),
            r#"{"messageType":"DATA_MESSAGE","logEvents":[]}"#.to_string(),
            format!(
                r#"{{"messageType":"DATA_MESSAGE","logEvents":[{{"message":"{}"}},{{"id":"x","timestamp":123456}}]}}"#,
                "\\\"x".repeat(300)
            ),
            r#"{"messageType":"CONTROL_MESSAGE","logEvents":[{"message":"CWL CONTROL MESSAGE"}]}"#
                .to_string(),
            r#"{"logEvents":[{"message":"x"}],"messageType":"DATA_MESSAGE"}"#.to_string(),
            r#"{"messageType":"DATA_MESSAGE","logEvents":[{"message":"a"},{"message":"b"#
                .to_string(),
            r#"{"messageType":"DATA_MESSAGE","logEvents":[{"message":"a"},{"message":"a\q"}]}"#
                .to_string(),
            r#"{"messageType":"DATA_MESSAGE","logEvents":[{"message":"a"}]} x"#.to_string(),
            r#"{"messageType":"DATA_MESSAGE","logEvents":[{"message":"a"} {"message":"b"}]}"#
                .to_string(),
            r#"{"messageType":"DATA_MESSAGE","logEvents":[{"message":"a","timestamp":12"#
                .to_string(),
            r#"{"messageType":"DATA_MESSAGE"}"#.to_string(),
            r#"{"messageType":"SOMETHING","logEvents":[]}"#.to_string(),
        ];
        for json in &payloads {
            let [whole, _] = both_ways(json, 1, false);
            for chunk in 1..=48 {
                for escaped in [false, true] {
                    let [whole_too, windowed] = both_ways(json, chunk, escaped);
                    assert_eq!(whole_too, whole, "{json}");
                    assert_eq!(windowed, whole, "{json}, {chunk}-byte window");
                }
            }
        }
        // The error positions count the bytes already dropped: this one names the letter of
        // the bad escape.
        let [_, (_, windowed)] = both_ways(&payloads[8], 4, true);
        let at = payloads[8].find("\\q").unwrap() + 1;
        assert!(
            windowed
                .as_ref()
                .is_err_and(|e| e.ends_with(&format!("at byte {at}"))),
            "{windowed:?}"
        );
    }

    #[test]
    fn round_trip_and_control_message() {
        let events = |data: &str| {
            let mut got = Vec::new();
            let mut buf = Vec::new();
            let odd = decoded_events(data, &mut buf, true, &mut |_, id, m| {
                got.push((
                    id.map(str::to_string),
                    m.map(|m| String::from_utf8(m.to_vec()).expect("utf-8")),
                ))
            })?;
            assert!(odd.is_none());
            Ok::<_, String>(got)
        };
        let v = events(&encode(
            r#"{"messageType":"DATA_MESSAGE","logEvents":[{"id":"1","timestamp":1,"message":"{\"eventName\":\"X\"}"},{"id":"2"}]}"#,
        ))
        .expect("read");
        assert_eq!(v[0], (Some("1".into()), Ok(r#"{"eventName":"X"}"#.into())));
        assert!(v[1].1.is_err());
        // A control message: its log event is CloudWatch's health check, not a record.
        let c = events(&encode(
            r#"{"messageType":"CONTROL_MESSAGE","logEvents":[{"id":"","timestamp":1,"message":"CWL CONTROL MESSAGE"}]}"#,
        ));
        assert_eq!(c, Ok(vec![]));
        assert!(events("!!!").unwrap_err().contains("base64"));
        assert!(events("aGVsbG8=").unwrap_err().contains("gzip"));
        // Laid out otherwise: handed back whole.
        let odd = r#"{"logEvents":[{"message":"x"}],"messageType":"DATA_MESSAGE"}"#;
        let back = decoded_events(&encode(odd), &mut Vec::new(), true, &mut |_, _, _| {
            panic!("nothing is read")
        });
        assert_eq!(back, Ok(Some(odd.as_bytes().to_vec())));
    }

    /// A payload whose gzip data is cut: the events before the cut are read, then the payload
    /// is refused as not gzip.
    #[test]
    fn a_cut_payload_keeps_the_events_before_the_cut() {
        let events: Vec<String> = (0..3000)
            .map(|i| {
                format!(
                    r#"{{"id":"{i}","message":"{{\"n\":{i},\"r\":{}}}"}}"#,
                    i * 7919 % 10007
                )
            })
            .collect();
        let json = format!(
            r#"{{"messageType":"DATA_MESSAGE","logEvents":[{}]}}"#,
            events.join(",")
        );
        let gz = base64::engine::general_purpose::STANDARD
            .decode(encode(&json))
            .unwrap();
        let cut = base64::engine::general_purpose::STANDARD.encode(&gz[..gz.len() * 2 / 3]);
        let mut n = 0;
        let read = decoded_events(&cut, &mut Vec::new(), true, &mut |i, id, m| {
            assert_eq!((id, m.is_ok()), (Some(i.to_string().as_str()), true));
            n += 1;
        });
        assert!(
            read.as_ref().is_err_and(|e| e.contains("not gzip")),
            "{read:?}"
        );
        assert!(n > 100 && n < 3000, "{n} events before the cut");
    }

    /// A payload that decodes to more than WHOLE_LIMIT is read a window at a time, one that
    /// decodes to less whole: the same events either way, and as many as were packed.
    #[test]
    fn large_payloads_are_streamed_with_the_same_events() {
        for count in [50, 4000] {
            let events: Vec<String> = (0..count)
                .map(|i| {
                    let record = format!(
                        r#"{{"eventVersion":"1.08","eventName":"Get{i}","requestParameters":{{"pad":"{}"}}}}"#,
                        "p".repeat(i % 1000)
                    );
                    format!(
                        r#"{{"id":"{i}","timestamp":{i},"message":{}}}"#,
                        serde_json::to_string(&record).unwrap()
                    )
                })
                .collect();
            let json = format!(
                r#"{{"messageType":"DATA_MESSAGE","logEvents":[{}]}}"#,
                events.join(",")
            );
            assert_eq!(json.len() > WHOLE_LIMIT, count == 4000, "{}", json.len());
            let mut whole = Vec::new();
            let read = stream_events(json.as_bytes(), &mut Vec::new(), false, &mut |_, id, m| {
                whole.push((id.map(str::to_string), m.map(|m| m.to_vec())))
            });
            assert_eq!(read, Some(Ok(())));
            let mut decoded = Vec::new();
            let read = decoded_events(&encode(&json), &mut Vec::new(), true, &mut |_, id, m| {
                decoded.push((id.map(str::to_string), m.map(|m| m.to_vec())))
            });
            assert_eq!(read, Ok(None));
            assert_eq!(decoded.len(), count);
            assert!(decoded == whole, "{count} events");
        }
    }

    /// `awslogs.data` is refused exactly where the base64 crate refuses it, and decodes to
    /// its bytes: every string of up to five characters over an alphabet holding padding, a
    /// character outside base64, and characters whose last bits are or are not zero; and
    /// long strings (which base64-simd decodes in vector blocks) with one character changed
    /// at every place.
    #[test]
    fn data_is_decoded_and_refused_as_the_base64_crate_does() {
        let same = |s: &str| {
            let want = base64::engine::general_purpose::STANDARD.decode(s);
            let mut got = vec![7; 3];
            match (from_base64(s, &mut got).map(|()| got), want) {
                (Ok(got), Ok(want)) => assert_eq!(got, want, "{s:?}"),
                (Err(got), Err(want)) => {
                    assert_eq!(got, format!("awslogs.data is not base64: {want}"))
                }
                (got, want) => panic!("{s:?}: {got:?}, the base64 crate {want:?}"),
            }
            // Refused by base64-simd too: the error comes from the base64 crate, not from
            // bytes base64-simd decoded differently.
            assert_eq!(
                base64_simd::STANDARD.decode_to_vec(s).is_ok(),
                base64::engine::general_purpose::STANDARD.decode(s).is_ok(),
                "{s:?}"
            );
        };
        let alphabet = ['A', 'B', 'Q', 'g', '/', '+', '=', '-'];
        let mut strings = vec![String::new()];
        for _ in 0..5 {
            strings = strings
                .iter()
                .flat_map(|s| alphabet.iter().map(move |c| format!("{s}{c}")))
                .collect();
            strings.iter().for_each(|s| same(s));
        }
        let long =
            base64::engine::general_purpose::STANDARD.encode((0u8..=255).collect::<Vec<u8>>());
        same(&long);
        for at in 0..long.len() {
            for c in ['A', '=', '-', '_', ' ', '\u{e9}'] {
                let mut s = long.clone();
                s.replace_range(at..at + 1, c.encode_utf8(&mut [0; 4]));
                same(&s);
            }
        }
        for cut in 1..8 {
            same(&long[..long.len() - cut]);
        }
    }

    #[test]
    fn leading_digits_are_counted_as_a_byte_at_a_time_counts_them() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for len in 0..40 {
            for _ in 0..300 {
                // Mostly digits, and the bytes next to them.
                let text =
                    crate::testing::random_bytes(&mut seed, len, b"0123456789/:\x00\xb0\xb9\x80");
                let want = text.iter().take_while(|c| c.is_ascii_digit()).count();
                assert_eq!(leading_digits(&text), want, "{text:?}");
            }
        }
    }
}
