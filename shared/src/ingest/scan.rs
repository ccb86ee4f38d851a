//! Streaming over the elements of a JSON array, alone (`[...]`) or as the `Records` member of a
//! CloudTrail log file (`{"Records": [...]}`), holding one element in memory at a time.
//!
//! An object element that lies whole in the read buffer is checked and laid out there, in
//! one pass ([`Layout::scan_object`]), and handed on without a copy. Otherwise (it straddles
//! the buffer's end, or it is not valid JSON) the scanner copies it out, finding its end from
//! strings, escapes and nesting alone, and the caller checks the copy. A malformed element is
//! reported and skipped when its end can still be found; malformed structure around the
//! elements ends the scan with an error.

use crate::layout::Layout;
use std::io::{self, BufRead};

/// The UTF-8 byte-order mark.
pub(crate) const BOM: &[u8] = b"\xEF\xBB\xBF";

pub(crate) struct Scanner<R> {
    r: R,
    /// 1-based line of the next byte.
    pub(crate) line: u64,
    /// The next byte begins a line.
    pub(crate) line_start: bool,
    layout: Layout,
    /// The most bytes of one value held; a larger value is read through, not held, and
    /// handed on as no bytes at all (see [`Each`]).
    max: usize,
    /// The value being copied went past `max`.
    oversize: bool,
}

/// Why a scan stopped early.
pub(crate) enum ScanError {
    Io(io::Error),
    /// The input is not the expected JSON structure; the text says what was found where.
    Syntax(String),
    /// The input ended inside a record, and a later line of that record begins a new
    /// document (a truncated file with others concatenated after it): `rest` holds the
    /// input from that line, numbered `line`.
    Cut {
        reason: String,
        rest: Vec<u8>,
        line: u64,
    },
}

impl From<io::Error> for ScanError {
    fn from(e: io::Error) -> Self {
        ScanError::Io(e)
    }
}

type Result<T> = std::result::Result<T, ScanError>;

/// Receives each document or element: its bytes, their layout when they have been checked
/// already, the line it starts on, and its 1-based index inside an array (`None` for a whole
/// top-level object). No bytes (a JSON value has at least one) mean the value was larger than
/// the scanner's limit and was read through without being held.
pub(crate) type Each<'a> = dyn FnMut(&[u8], Option<&Layout>, u64, Option<u64>) + 'a;

/// Receives each array element: its bytes, their layout when checked already, its line.
type Element<'a> = dyn FnMut(&[u8], Option<&Layout>, u64) + 'a;

/// Finds where one JSON value ends in bytes fed to it piece by piece, holding none of them:
/// for reading through a value too large to hold. Only strings, escapes and nesting are
/// followed; the value is not checked.
#[derive(Default)]
pub(crate) struct ValueEnd {
    depth: usize,
    in_string: bool,
    escaped: bool,
    started: bool,
    /// Line breaks fed so far.
    pub(crate) newlines: u64,
    /// The last byte fed was a line break.
    line_start: bool,
}

impl ValueEnd {
    /// Feeds the next bytes; returns how many of them belong to the value when it ends in
    /// them.
    pub(crate) fn feed(&mut self, bytes: &[u8]) -> Option<usize> {
        for (i, &b) in bytes.iter().enumerate() {
            // A line that begins with `{` or `[` inside the value begins the next document
            // (the value is too large to be read anyway): it ends here.
            if self.line_start && self.depth > 0 && !self.in_string && matches!(b, b'{' | b'[') {
                return Some(i);
            }
            self.line_start = b == b'\n';
            if b == b'\n' {
                self.newlines += 1;
            }
            if self.escaped {
                self.escaped = false;
                continue;
            }
            if self.in_string {
                match b {
                    b'\\' => self.escaped = true,
                    b'"' => {
                        self.in_string = false;
                        if self.depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    _ => {}
                }
                continue;
            }
            match b {
                b'"' => {
                    self.started = true;
                    self.in_string = true;
                }
                b'{' | b'[' => {
                    self.started = true;
                    self.depth += 1;
                }
                b'}' | b']' => {
                    self.depth = self.depth.saturating_sub(1);
                    if self.depth == 0 {
                        return Some(i + 1);
                    }
                }
                b if b.is_ascii_whitespace() && self.started && self.depth == 0 => {
                    return Some(i);
                }
                b if !b.is_ascii_whitespace() => self.started = true,
                _ => {}
            }
        }
        None
    }
}

/// Where in `bytes` (after their first line) a line begins with `{` or `[`, and how many line
/// breaks come before it.
fn later_document(bytes: &[u8]) -> Option<(usize, u64)> {
    memchr::memchr_iter(b'\n', bytes)
        .enumerate()
        .map(|(k, n)| (n + 1, k as u64 + 1))
        .find(|&(at, _)| begins_document(&bytes[at..]))
}

/// Whether `line` begins (after blanks) with `{` or `[`: a document may start there.
fn begins_document(line: &[u8]) -> bool {
    line.iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| matches!(b, b'{' | b'['))
}

impl<R: BufRead> Scanner<R> {
    pub(crate) fn new(r: R) -> Self {
        Self {
            r,
            line: 1,
            line_start: true,
            layout: Layout::new(),
            max: usize::MAX,
            oversize: false,
        }
    }

    /// Values larger than `max` bytes are read through without being held.
    pub(crate) fn within(mut self, max: usize) -> Self {
        self.max = max;
        self
    }

    /// The reader, where the scan stopped: after an error, at the byte it stopped on (not
    /// consumed), or inside the line it stopped in.
    pub(crate) fn into_inner(self) -> R {
        self.r
    }

    fn peek(&mut self) -> Result<Option<u8>> {
        Ok(self.r.fill_buf()?.first().copied())
    }

    fn bump(&mut self) -> Result<Option<u8>> {
        let b = self.peek()?;
        if let Some(b) = b {
            self.r.consume(1);
            self.line_start = b == b'\n';
            if b == b'\n' {
                self.line += 1;
            }
        }
        Ok(b)
    }

    /// Takes the next byte when it is `want`; leaves any other byte unread, so that reading
    /// can go on from it after an error.
    fn take(&mut self, want: u8) -> Result<Option<u8>> {
        match self.peek()? {
            Some(b) if b == want => self.bump(),
            other => Ok(other),
        }
    }

    /// Skips a UTF-8 byte-order mark (files concatenated from editors that write one).
    fn skip_bom(&mut self) -> Result<()> {
        if self.r.fill_buf()?.starts_with(BOM) {
            self.r.consume(BOM.len());
        }
        Ok(())
    }

    fn skip_ws(&mut self) -> Result<()> {
        while let Some(b) = self.peek()? {
            if !b.is_ascii_whitespace() {
                break;
            }
            self.bump()?;
        }
        Ok(())
    }

    fn expect(&mut self, want: u8, what: &str) -> Result<()> {
        self.skip_ws()?;
        match self.take(want)? {
            Some(b) if b == want => Ok(()),
            Some(b) => Err(ScanError::Syntax(format!(
                "expected {what} on line {}, found '{}'",
                self.line,
                b.escape_ascii()
            ))),
            None => Err(ScanError::Syntax(format!(
                "expected {what}, found the end of the input"
            ))),
        }
    }

    /// Copies one JSON value into `out` (or skips it when `out` is `None`).
    fn value(&mut self, out: Option<&mut Vec<u8>>) -> Result<()> {
        self.skip_ws()?;
        self.copy(out, 0)
    }

    /// The copied value, or no bytes when it was larger than the limit.
    fn held<'b>(&mut self, buf: &'b [u8]) -> &'b [u8] {
        if std::mem::take(&mut self.oversize) {
            &[]
        } else {
            buf
        }
    }

    /// Copies bytes until the container open `depth` levels deep closes (or, at depth 0, until
    /// one whole value has been read).
    fn copy(&mut self, mut out: Option<&mut Vec<u8>>, mut depth: usize) -> Result<()> {
        if self.oversize {
            // Part of a value already too large to hold.
            out = None;
        }
        let mut in_string = false;
        // A backslash was the last byte of the previous buffer: skip the byte it escapes.
        let mut escaped = false;
        loop {
            let buf = self.r.fill_buf()?;
            if buf.is_empty() {
                return Err(ScanError::Syntax(
                    "the input ends inside a JSON value".to_string(),
                ));
            }
            let mut i = 0;
            let mut done = false;
            if escaped {
                i = 1;
                escaped = false;
            }
            while i < buf.len() {
                if in_string {
                    // Strings are most of a record: jump to the next quote or backslash. A
                    // line break cannot be in a JSON string: the record was cut there, and
                    // reading goes on from the line break.
                    match memchr::memchr3(b'"', b'\\', b'\n', &buf[i..]) {
                        None => i = buf.len(),
                        Some(k) if buf[i + k] == b'\n' => {
                            let n = i + k;
                            if let Some(o) = out.as_deref_mut() {
                                o.extend_from_slice(&buf[..n]);
                            }
                            self.line_start = false;
                            self.r.consume(n);
                            return Err(ScanError::Syntax(format!(
                                "a line break inside a string on line {}: the record is cut short",
                                self.line
                            )));
                        }
                        Some(k) if buf[i + k] == b'\\' => {
                            if i + k + 1 < buf.len() {
                                i += k + 2;
                            } else {
                                escaped = true;
                                i = buf.len();
                            }
                        }
                        Some(k) => {
                            i += k + 1;
                            in_string = false;
                            if depth == 0 {
                                done = true;
                                break;
                            }
                        }
                    }
                    continue;
                }
                match buf[i] {
                    b'"' => in_string = true,
                    b'{' | b'[' => depth += 1,
                    // Past the limit, a line that begins with `{` or `[` inside the value
                    // is taken for the next document (a value this large is bad anyway):
                    // reading goes on from there rather than through the rest of the input.
                    b'\n'
                        if self.oversize
                            && depth > 0
                            && matches!(buf.get(i + 1), Some(b'{' | b'[')) =>
                    {
                        let n = i + 1;
                        self.line += memchr::memchr_iter(b'\n', &buf[..n]).count() as u64;
                        self.line_start = true;
                        self.r.consume(n);
                        self.oversize = false;
                        return Err(ScanError::Syntax(format!(
                            "a value larger than {} bytes (IAMWATCH_MAX_RECORD_BYTES), cut short where line {} begins a new document",
                            self.max, self.line
                        )));
                    }
                    b'}' | b']' => {
                        if depth == 0 {
                            // The end of the enclosing container: not part of this value.
                            done = true;
                            break;
                        }
                        depth -= 1;
                        if depth == 0 {
                            i += 1;
                            done = true;
                            break;
                        }
                    }
                    b',' if depth == 0 => {
                        done = true;
                        break;
                    }
                    _ => {}
                }
                i += 1;
            }
            let n = i.min(buf.len());
            self.line += memchr::memchr_iter(b'\n', &buf[..n]).count() as u64;
            if n > 0 {
                self.line_start = buf[n - 1] == b'\n';
            }
            if let Some(o) = out.as_deref_mut() {
                let over = o.len() + n > self.max;
                o.extend_from_slice(&buf[..n]);
                if over {
                    // Too large to hold. When a later line of it begins a document, the value
                    // was cut short there (a truncated file with others after it): reading
                    // goes on from that line. Otherwise the rest is read through, not held.
                    if let Some((at, _)) = later_document(o) {
                        let rest = o.split_off(at);
                        let line = self.line - memchr::memchr_iter(b'\n', &rest).count() as u64;
                        *o = Vec::new();
                        self.r.consume(n);
                        return Err(ScanError::Cut {
                            reason: format!(
                                "a value larger than {} bytes (IAMWATCH_MAX_RECORD_BYTES), cut short where line {line} begins a new document",
                                self.max
                            ),
                            rest,
                            line,
                        });
                    }
                    *o = Vec::new();
                    out = None;
                    self.oversize = true;
                }
            }
            self.r.consume(n);
            if done {
                return Ok(());
            }
        }
    }

    /// After a top-level `[` or the `[` of `Records`: calls `each` with every element's bytes
    /// and the line it starts on.
    fn elements(&mut self, each: &mut Element) -> Result<()> {
        let mut buf = Vec::with_capacity(8 * 1024);
        self.skip_ws()?;
        if self.peek()? == Some(b']') {
            self.bump()?;
            return Ok(());
        }
        loop {
            self.skip_ws()?;
            let line = self.line;
            let ahead = self.r.fill_buf()?;
            match self.layout.scan_object(ahead) {
                Ok(n) => {
                    let element = &ahead[..n];
                    if n > self.max {
                        each(&[], None, line);
                    } else {
                        each(element, Some(&self.layout), line);
                    }
                    self.line += self.layout.newlines();
                    self.line_start = false;
                    self.r.consume(n);
                }
                // A record cut short where a new document begins on a later line (files
                // concatenated after a truncated one): the container ends there, and
                // reading goes on from that line.
                Err(e) if !e.is_eof() && e.line() > 1 => {
                    let starts = memchr::memchr_iter(b'\n', ahead)
                        .nth(e.line() - 2)
                        .map(|n| n + 1)
                        .filter(|&at| begins_document(&ahead[at..]));
                    match starts {
                        Some(at) => {
                            self.r.consume(at);
                            self.line += e.line() as u64 - 1;
                            self.line_start = true;
                            return Err(ScanError::Syntax(format!(
                                "the record starting on line {line} is cut short: a new document begins on line {}",
                                self.line
                            )));
                        }
                        None => {
                            buf.clear();
                            self.value(Some(&mut buf))?;
                            each(self.held(&buf), None, line);
                        }
                    }
                }
                Err(_) => {
                    buf.clear();
                    match self.value(Some(&mut buf)) {
                        Ok(()) => each(self.held(&buf), None, line),
                        Err(ScanError::Syntax(reason))
                            if !self.oversize && self.r.fill_buf()?.is_empty() =>
                        {
                            return Err(match later_document(&buf) {
                                Some((at, lines)) => ScanError::Cut {
                                    reason: format!(
                                        "the record starting on line {line} is cut short ({reason}): a new document begins on line {}",
                                        line + lines
                                    ),
                                    rest: buf.split_off(at),
                                    line: line + lines,
                                },
                                None => ScanError::Syntax(reason),
                            })
                        }
                        Err(e) => return Err(e),
                    }
                }
            }
            self.skip_ws()?;
            let next = match self.peek()? {
                Some(b',' | b']') => self.bump()?,
                other => other,
            };
            match next {
                Some(b',') => continue,
                Some(b']') => return Ok(()),
                Some(b) => {
                    return Err(ScanError::Syntax(format!(
                        "expected ',' or ']' after an array element on line {}, found '{}'",
                        self.line,
                        b.escape_ascii()
                    )))
                }
                None => {
                    return Err(ScanError::Syntax(
                        "the input ends inside the array: is the file truncated?".into(),
                    ))
                }
            }
        }
    }

    /// Every top-level JSON document in the input, one after another: an array yields its
    /// elements (with their 1-based index); an object whose first member is `Records` (a
    /// CloudTrail log file) yields the elements of that array, other members skipped; any
    /// other object is yielded whole (index `None`).
    pub(crate) fn documents(&mut self, each: &mut Each) -> Result<()> {
        let mut buf = Vec::with_capacity(8 * 1024);
        loop {
            self.skip_ws()?;
            self.skip_bom()?;
            self.skip_ws()?;
            match self.peek()? {
                None => return Ok(()),
                Some(b'[') => {
                    self.bump()?;
                    let mut index = 0u64;
                    self.elements(&mut |bytes, layout, line| {
                        index += 1;
                        each(bytes, layout, line, Some(index))
                    })?;
                }
                Some(b'{') => {
                    let line = self.line;
                    self.bump()?;
                    self.skip_ws()?;
                    buf.clear();
                    buf.push(b'{');
                    if self.peek()? == Some(b'"') {
                        let key_start = buf.len();
                        self.copy(Some(&mut buf), 0)?;
                        if !self.oversize && buf.get(key_start..) == Some(b"\"Records\"") {
                            self.records_after_key(each)?;
                            continue;
                        }
                    }
                    self.copy(Some(&mut buf), 1)?;
                    each(self.held(&buf), None, line, None);
                }
                Some(b) => {
                    return Err(ScanError::Syntax(format!(
                        "expected a JSON object or array on line {}, found '{}'",
                        self.line,
                        b.escape_ascii()
                    )))
                }
            }
        }
    }

    /// The rest of a CloudTrail log file once its `"Records"` key has been read.
    fn records_after_key(&mut self, each: &mut Each) -> Result<()> {
        let mut index = 0u64;
        let mut first = true;
        loop {
            if !first {
                self.skip_ws()?;
                let mut key = Vec::new();
                self.value(Some(&mut key))?;
                first = self.held(&key) == b"\"Records\"";
            }
            self.expect(b':', "':' after a member name")?;
            self.skip_ws()?;
            if first && self.peek()? == Some(b'[') {
                self.bump()?;
                self.elements(&mut |bytes, layout, line| {
                    index += 1;
                    each(bytes, layout, line, Some(index))
                })?;
            } else {
                self.value(None)?;
            }
            first = false;
            self.skip_ws()?;
            let next = match self.peek()? {
                Some(b',' | b'}') => self.bump()?,
                other => other,
            };
            match next {
                Some(b',') => continue,
                Some(b'}') => return Ok(()),
                Some(b) => {
                    return Err(ScanError::Syntax(format!(
                        "expected ',' or '}}' on line {}, found '{}'",
                        self.line,
                        b.escape_ascii()
                    )))
                }
                None => {
                    return Err(ScanError::Syntax(
                        "the input ends inside the log file: is it truncated?".into(),
                    ))
                }
            }
        }
    }
}
