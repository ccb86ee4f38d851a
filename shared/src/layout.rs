//! One pass over a JSON text that checks it and notes where its object members are.
//!
//! Rules read a few members of a record; parsing all of it into a `serde_json::Value`, or
//! even skipping it through serde_json, costs far more than the rules. A [`Layout`] is made
//! by one validating scan: every object member gets its key's and value's place in the
//! text, so a [`crate::projection::Projection`] can build just the members it
//! keeps from their text. The scan accepts exactly the texts `serde_json::from_str::<Value>`
//! accepts (grammar, control characters in strings, escapes and surrogate pairs, numbers that
//! overflow, 127 levels of nesting); UTF-8 is the caller's: the scan reads `str`.

use std::borrow::Cow;
use std::fmt;

/// Members of one object checked for repeated keys with a bit per name; past this, with a map.
const BLOOM_MEMBERS: usize = 32;

/// Nesting allowed, as serde_json allows it (127 levels).
const MAX_DEPTH: u32 = 127;

/// A text's length and first eight bytes (zeros after its end): texts that differ mostly
/// differ there, so comparing this pair first spares most byte comparisons.
pub type Head = (usize, u64);

/// The [`Head`] of `b`.
pub fn head(b: &[u8]) -> Head {
    if let Some(word) = b.first_chunk::<8>() {
        return (b.len(), u64::from_le_bytes(*word));
    }
    // Fewer than eight bytes: four, two and one at a time (a copy of a length only known
    // here would call `memcpy`, for every short key and value).
    let (mut word, mut rest) = (0u64, b);
    let mut shift = 0;
    if let Some((four, tail)) = rest.split_first_chunk::<4>() {
        word = u64::from(u32::from_le_bytes(*four));
        (rest, shift) = (tail, 32);
    }
    if let Some((two, tail)) = rest.split_first_chunk::<2>() {
        word |= u64::from(u16::from_le_bytes(*two)) << shift;
        (rest, shift) = (tail, shift + 16);
    }
    if let Some(&one) = rest.first() {
        word |= u64::from(one) << shift;
    }
    (b.len(), word)
}

/// What a value is, as far as building it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A string without backslashes: its text between the quotes is its value.
    Plain,
    /// A string with escapes.
    Escaped,
    Object,
    Array,
    /// A number, `true`, `false` or `null`.
    Scalar,
}

/// One object member: where its key (between the quotes) and its value are in the text.
#[derive(Debug, Clone, Copy)]
pub struct Member {
    pub key: (u32, u32),
    pub key_escaped: bool,
    /// The key's place (of 256) in a filter of names ([`name_bit`]), from its text as
    /// written.
    pub(crate) name_bit: u8,
    pub value: (u32, u32),
    pub kind: Kind,
    /// Index of the member after this one's descendants: its next sibling, if it has one.
    next: u32,
}

impl Member {
    /// The key's text between its quotes, escapes not decoded.
    pub fn raw_key<'t>(&self, text: &'t str) -> &'t str {
        &text[self.key.0 as usize..self.key.1 as usize]
    }

    /// The key, escapes decoded.
    pub fn key<'t>(&self, text: &'t str) -> serde_json::Result<Cow<'t, str>> {
        if self.key_escaped {
            let quoted = &text[self.key.0 as usize - 1..self.key.1 as usize + 1];
            serde_json::from_str::<String>(quoted).map(Cow::Owned)
        } else {
            Ok(Cow::Borrowed(self.raw_key(text)))
        }
    }

    /// The value's text, as written (a string with its quotes).
    pub fn value<'t>(&self, text: &'t str) -> &'t str {
        &text[self.value.0 as usize..self.value.1 as usize]
    }

    /// Index (in [`Layout::all`]) of the member after this one's descendants.
    pub(crate) fn end(&self) -> usize {
        self.next as usize
    }

    /// A string value without escapes: its text between the quotes, which is its value.
    pub fn plain<'t>(&self, text: &'t str) -> Option<&'t str> {
        let v = self.value(text);
        (self.kind == Kind::Plain).then(|| &v[1..v.len() - 1])
    }
}

/// Where the members of a checked JSON text are; reused from text to text.
#[derive(Debug, Default, Clone)]
pub struct Layout {
    members: Vec<Member>,
    /// The text's top-level value is an object.
    object: bool,
    /// Some string has a `\u`, `\/` or `\\` escape.
    odd_escapes: bool,
    /// Line breaks in the scanned text (all in whitespace: strings cannot hold them).
    newlines: u64,
    /// Members whose key repeats an earlier sibling's: (the first sibling with that key, the
    /// repeat), as indices into `members`, in text order.
    repeats: Vec<(u32, u32)>,
}

/// Why a text is not JSON, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    what: &'static str,
    line: usize,
    column: usize,
}

impl Error {
    /// The text ended inside a value: more input could complete it.
    pub fn is_eof(&self) -> bool {
        self.what == EOF
    }

    /// The 1-based line of the text the error is on.
    pub fn line(&self) -> usize {
        self.line
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at line {} column {}",
            self.what, self.line, self.column
        )
    }
}

impl std::error::Error for Error {}

const EOF: &str = "the text ends inside a value";

/// Why [`Layout::scan_escaped`] leaves a text to a scan of its decoded form.
const ESCAPED_AWAY: &str = "an escape other than a quote's in an escaped text";

impl Layout {
    pub fn new() -> Self {
        Self::default()
    }

    /// Checks that `text` is one JSON value (surrounding whitespace allowed) and notes its
    /// members.
    pub fn scan(&mut self, text: &str) -> Result<(), Error> {
        let end = self.scan_prefix(text.as_bytes(), false)?;
        let mut s = Scan::<false>::new(text.as_bytes(), end);
        s.ws();
        if s.i < s.b.len() {
            return Err(s.error("trailing characters after the value"));
        }
        Ok(())
    }

    /// Checks the object that starts `bytes` (after whitespace) and returns where it ends;
    /// what follows it is not looked at. An error that [`Error::is_eof`] means `bytes` end
    /// inside it. `bytes` must be UTF-8 up to the object's end for [`Layout::all`] to be
    /// read as `str` (the scan itself only compares ASCII).
    pub fn scan_object(&mut self, bytes: &[u8]) -> Result<usize, Error> {
        self.scan_prefix(bytes, true)
    }

    fn scan_prefix(&mut self, bytes: &[u8], object_only: bool) -> Result<usize, Error> {
        self.members.clear();
        let mut s = Scan::<false>::new(bytes, 0);
        s.ws();
        self.object = s.peek() == Some(b'{');
        self.odd_escapes = false;
        if object_only && !self.object {
            return Err(s.error(if s.i == bytes.len() {
                EOF
            } else {
                "expected an object"
            }));
        }
        let result = s.value(0, &mut self.members);
        self.odd_escapes = s.odd_escapes;
        self.newlines = s.newlines;
        self.repeats = s.repeats;
        result.map(|_| s.i)
    }

    /// Checks the JSON object that starts `bytes` as it stands inside a JSON string, each of
    /// its quotes written `\"` (a record in a CloudWatch Logs log event's message), and
    /// returns where it ends; what follows is not looked at. Only texts whose sole escapes
    /// are those quotes are scanned: a record with escapes of its own (written `\\` here),
    /// a text with any other escape, or one that is not an object, is an error, which means
    /// only that the decoded text must be scanned instead. The members are those of the
    /// decoded text, placed in `bytes`, except that a string value's place covers
    /// `"text\`: [`Member::plain`] (and whatever strips a value's first and last bytes)
    /// reads its text as in plain JSON. No string has escapes, so none is [`Kind::Escaped`].
    pub(crate) fn scan_escaped(&mut self, bytes: &[u8]) -> Result<usize, Error> {
        self.members.clear();
        self.object = bytes.first() == Some(&b'{');
        self.odd_escapes = false;
        self.newlines = 0;
        let mut s = Scan::<true>::new(bytes, 0);
        let result = if self.object {
            s.value(0, &mut self.members).map(|_| s.i)
        } else {
            Err(s.error(ESCAPED_AWAY))
        };
        self.repeats = s.repeats;
        result
    }

    /// Decodes `escaped`, the text a [`Layout::scan_escaped`] of it checked into this
    /// layout, into `out` ([`without_backslashes`]), and moves every member's place to where
    /// it is in `out`: the layout is then the one [`Layout::scan`] of the decoded text gives,
    /// without that scan. The only escapes in `escaped` are quotes' (`\"`), so a place moves
    /// back by the backslashes before it.
    pub(crate) fn decode_escaped(&mut self, escaped: &[u8], out: &mut Vec<u8>) {
        #[cfg(target_arch = "x86_64")]
        if compact::available() {
            // SAFETY: the processor has SSSE3 and POPCNT.
            return unsafe { self.decode_escaped_ssse3(escaped, out) };
        }
        self.decode_escaped_with::<false>(escaped, out);
    }

    /// [`Layout::decode_escaped`] compiled with SSSE3 (each block loses its backslashes in
    /// one shuffle) and POPCNT (counts in one instruction).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "ssse3,popcnt")]
    unsafe fn decode_escaped_ssse3(&mut self, escaped: &[u8], out: &mut Vec<u8>) {
        self.decode_escaped_with::<true>(escaped, out);
    }

    #[inline(always)]
    fn decode_escaped_with<const SHUFFLE: bool>(&mut self, escaped: &[u8], out: &mut Vec<u8>) {
        // Per sixteen-byte block: the backslashes before it, and which of its bytes are
        // backslashes. A place then moves back by the first plus those of the second below
        // it: a look-up and a count, with no search and no branch on the text.
        let mut blocks: Vec<(u32, u32)> = Vec::with_capacity(escaped.len() / 16 + 3);
        let mut before = 0;
        drop_backslashes::<SHUFFLE>(escaped, out, |mask| {
            blocks.push((before, mask));
            before += mask.count_ones();
        });
        // A place at the very end of the text may begin the block after the last.
        blocks.push((before, 0));
        let moved = |at: u32| {
            let (before, mask) = blocks[(at / 16) as usize];
            at - before - (mask & ((1 << (at % 16)) - 1)).count_ones()
        };
        for m in &mut self.members {
            m.key = (moved(m.key.0), moved(m.key.1));
            m.value = match m.kind {
                // `"text\` (see `scan_escaped`) becomes `"text"`: its end was the closing
                // quote's place.
                Kind::Plain => (moved(m.value.0), moved(m.value.1) + 1),
                _ => (moved(m.value.0), moved(m.value.1)),
            };
        }
    }

    /// Members whose key repeats an earlier sibling's (the same key after escapes are
    /// decoded), each with the first sibling of that key: `(first, repeat)` indices into
    /// [`Layout::all`], in text order. Empty for almost every record.
    pub(crate) fn repeats(&self) -> &[(u32, u32)] {
        &self.repeats
    }

    /// How many line breaks the scanned value holds.
    pub fn newlines(&self) -> u64 {
        self.newlines
    }

    /// Some string (a key or a value) has a `\u`, `\/` or `\\` escape: text that could
    /// spell a string without its bytes, in the string or in JSON held in it.
    pub fn odd_escapes(&self) -> bool {
        self.odd_escapes
    }

    /// Every object member, at any depth (inside arrays too), in the order of the text.
    pub fn all(&self) -> &[Member] {
        &self.members
    }

    /// The text's value is an object.
    pub fn is_object(&self) -> bool {
        self.object
    }

    /// The top-level members, when the text is an object.
    pub fn root(&self) -> Members<'_> {
        Members {
            all: if self.object { &self.members } else { &[] },
            i: 0,
            end: if self.object { self.members.len() } else { 0 },
        }
    }

    /// The members one level inside member `at`'s value: its own members when it is an
    /// object, the members of its elements (one after another) when it is an array of
    /// objects. Deeper members are stepped over.
    pub(crate) fn inside(&self, at: usize) -> Members<'_> {
        Members {
            all: &self.members,
            i: at + 1,
            end: self.members.get(at).map_or(at + 1, |m| m.next as usize),
        }
    }

    /// The members of `m`'s value, when it is an object (members of objects inside an array
    /// are not its children).
    pub fn children(&self, m: &Member, at: usize) -> Members<'_> {
        Members {
            all: &self.members,
            i: at + 1,
            end: if m.kind == Kind::Object {
                m.next as usize
            } else {
                at + 1
            },
        }
    }
}

/// Checks the JSON value that starts at `at` in `bytes` (after whitespace) and returns
/// where it ends; what follows is not looked at. The members of objects in it are noted in
/// `scratch` (cleared first). Strings are checked as JSON strings, not for UTF-8.
pub(crate) fn skip_value(
    bytes: &[u8],
    at: usize,
    scratch: &mut Vec<Member>,
) -> Result<usize, Error> {
    scratch.clear();
    let mut s = Scan::<false>::new(bytes, at);
    s.ws();
    s.value(0, scratch)?;
    Ok(s.i)
}

/// Members of one object, in order, with their index for [`Layout::children`].
pub struct Members<'a> {
    all: &'a [Member],
    i: usize,
    end: usize,
}

impl<'a> Iterator for Members<'a> {
    type Item = (usize, &'a Member);

    fn next(&mut self) -> Option<Self::Item> {
        if self.i >= self.end {
            return None;
        }
        let at = self.i;
        let m = &self.all[at];
        self.i = m.next as usize;
        Some((at, m))
    }
}

/// A member name's place in a 256-bit filter of names (an object's names seen, the names a
/// screen has needs on). Audit records' names share their first letters, lengths and last letters
/// (`eventTime`, `eventType`), so the middle and the next to last letters count too: a
/// false hit costs a comparison with every earlier name.
#[inline]
pub(crate) fn name_bit(name: &[u8]) -> u8 {
    let at = |k: usize| u32::from(name.get(k).copied().unwrap_or(0));
    let n = name.len();
    let h = (n as u32)
        ^ at(0) << 8
        ^ at(n / 2) << 16
        ^ at(n.wrapping_sub(2)) << 24
        ^ at(n.wrapping_sub(1)).rotate_left(4);
    (h.wrapping_mul(0x9e37_79b1) >> 24) as u8
}

/// A filter of 256 bits, one per [`name_bit`].
pub(crate) type NameBits = [u64; 4];

/// Sets `bit` in `bits`, and says whether it was set.
#[inline]
pub(crate) fn set_name_bit(bits: &mut NameBits, bit: u8) -> bool {
    let (word, mask) = (usize::from(bit >> 6), 1u64 << (bit & 63));
    let was = bits[word] & mask != 0;
    bits[word] |= mask;
    was
}

/// The filter of these names' bits.
pub(crate) fn name_bits<'n>(names: impl IntoIterator<Item = &'n [u8]>) -> NameBits {
    let mut bits = NameBits::default();
    for name in names {
        set_name_bit(&mut bits, name_bit(name));
    }
    bits
}

/// Whether `bit` is set in `bits`.
#[inline]
pub(crate) fn has_name_bit(bits: &NameBits, bit: u8) -> bool {
    bits[usize::from(bit >> 6)] & (1u64 << (bit & 63)) != 0
}

/// A scan of JSON text; `ESC`: of JSON text as it stands inside a JSON string, each of its
/// quotes written `\"` (see [`Layout::scan_escaped`]).
struct Scan<'b, const ESC: bool = false> {
    b: &'b [u8],
    i: usize,
    odd_escapes: bool,
    newlines: u64,
    repeats: Vec<(u32, u32)>,
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// High bit set in each byte of `x` that is `"`, `\` or a control character; the lowest set
/// bit is exact (borrows only carry upwards), which is all a search needs.
#[inline]
pub(crate) fn specials(x: u64) -> u64 {
    let quote = x ^ (ONES * u64::from(b'"'));
    let backslash = x ^ (ONES * u64::from(b'\\'));
    let zero = |v: u64| v.wrapping_sub(ONES) & !v;
    let control = x.wrapping_sub(ONES * 0x20) & !x;
    (zero(quote) | zero(backslash) | control) & HIGHS
}

/// Skips, sixteen bytes at a time, bytes that are neither `"`, `\` nor control characters;
/// returns where the first such byte is, or where fewer than sixteen bytes are left.
#[cfg(target_arch = "x86_64")]
#[inline]
fn skip_plain(b: &[u8], mut i: usize) -> usize {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_max_epu8, _mm_movemask_epi8, _mm_or_si128,
        _mm_set1_epi8,
    };
    // SAFETY: SSE2 is part of every x86_64 processor, and each load reads the 16 bytes at
    // `i..i + 16`, inside `b` (unaligned loads are allowed).
    unsafe {
        let quote = _mm_set1_epi8(b'"' as i8);
        let backslash = _mm_set1_epi8(b'\\' as i8);
        let last_control = _mm_set1_epi8(0x1f);
        while i + 16 <= b.len() {
            let v = _mm_loadu_si128(b.as_ptr().add(i).cast::<__m128i>());
            // Unsigned `v <= 0x1f` is `max(v, 0x1f) == 0x1f`.
            let control = _mm_cmpeq_epi8(_mm_max_epu8(v, last_control), last_control);
            let hits = _mm_or_si128(
                _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
                control,
            );
            let mask = _mm_movemask_epi8(hits) as u32;
            if mask != 0 {
                return i + mask.trailing_zeros() as usize;
            }
            i += 16;
        }
    }
    i
}

/// Which of sixteen bytes are backslashes, quotes, slashes and control characters: a bit
/// per byte, bit `k` for byte `k`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Masks {
    pub backslash: u32,
    pub quote: u32,
    pub slash: u32,
    pub control: u32,
}

#[cfg(target_arch = "x86_64")]
#[inline]
pub(crate) fn block_masks(b: &[u8; 16]) -> Masks {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_max_epu8, _mm_movemask_epi8, _mm_set1_epi8,
    };
    // SAFETY: SSE2 is part of every x86_64 processor, and the load reads the sixteen bytes
    // of `b` (unaligned loads are allowed).
    unsafe {
        let v = _mm_loadu_si128(b.as_ptr().cast::<__m128i>());
        let last_control = _mm_set1_epi8(0x1f);
        let eq = |c: u8| _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(c as i8))) as u32;
        Masks {
            backslash: eq(b'\\'),
            quote: eq(b'"'),
            slash: eq(b'/'),
            // Unsigned `v <= 0x1f` is `max(v, 0x1f) == 0x1f`.
            control: _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_max_epu8(v, last_control), last_control))
                as u32,
        }
    }
}

/// Sixteen bytes less some of them, kept in order, in one byte shuffle (SSSE3, which every
/// x86_64 processor Lambda runs on has, as it has POPCNT for the counts; both checked once).
#[cfg(target_arch = "x86_64")]
pub(crate) mod compact {
    use super::Masks;
    use std::arch::x86_64::{
        __m128i, _mm_loadu_si128, _mm_set_epi64x, _mm_shuffle_epi8, _mm_storeu_si128,
    };
    use std::sync::OnceLock;

    /// For each set of bytes to leave out of eight (a bit each), the places of those kept,
    /// in order; 0x80 (a zero from the shuffle) after them.
    static KEPT: [[u8; 8]; 256] = kept();

    const fn kept() -> [[u8; 8]; 256] {
        let mut t = [[0x80u8; 8]; 256];
        let mut leave = 0;
        while leave < 256 {
            let (mut k, mut n) = (0, 0);
            while k < 8 {
                if leave & (1 << k) == 0 {
                    t[leave][n] = k as u8;
                    n += 1;
                }
                k += 1;
            }
            leave += 1;
        }
        t
    }

    /// Whether the processor has SSSE3 (and POPCNT, which every processor with SSSE3 that
    /// Lambda runs on has, for the counts of kept bytes).
    pub(crate) fn available() -> bool {
        static SSSE3: OnceLock<bool> = OnceLock::new();
        *SSSE3.get_or_init(|| {
            std::arch::is_x86_feature_detected!("ssse3")
                && std::arch::is_x86_feature_detected!("popcnt")
        })
    }

    /// Whether a block with these masks, followed by the byte `next`, is decoded by dropping
    /// its backslashes: it has some, each escapes a quote or a slash (or, the last one, the
    /// byte `next`: a quote, backslash or slash), and no quote of it ends the string.
    #[inline]
    pub(crate) fn shuffles(m: &Masks, next: u8) -> bool {
        let bs = m.backslash;
        let escaped = bs << 1;
        bs != 0
            && bs & escaped == 0
            && (escaped & 0xffff) & !(m.quote | m.slash) == 0
            && (m.quote & !escaped) | m.control == 0
            && (bs & 0x8000 == 0 || matches!(next, b'"' | b'\\' | b'/'))
    }

    /// `block` without the bytes whose bits are set in `leave`, written to the start of
    /// `out` (sixteen bytes); how many were written.
    ///
    /// # Safety
    /// The processor must have SSSE3 ([`available`]).
    #[inline]
    #[target_feature(enable = "ssse3")]
    pub(crate) unsafe fn without(block: &[u8; 16], leave: u32, out: &mut [u8]) -> usize {
        let (lo, hi) = ((leave & 0xff) as usize, ((leave >> 8) & 0xff) as usize);
        // The high half's places are eight further on (0x80 stays a zero: 0x88).
        let places_lo = u64::from_le_bytes(KEPT[lo]);
        let places_hi = u64::from_le_bytes(KEPT[hi]) + 0x0808_0808_0808_0808;
        let mut both = [0u8; 16];
        // SAFETY: the load reads the sixteen bytes of `block`, the store writes those of
        // `both`.
        unsafe {
            let v = _mm_loadu_si128(block.as_ptr().cast::<__m128i>());
            let kept = _mm_shuffle_epi8(v, _mm_set_epi64x(places_hi as i64, places_lo as i64));
            _mm_storeu_si128(both.as_mut_ptr().cast::<__m128i>(), kept);
        }
        let n_lo = 8 - lo.count_ones() as usize;
        let n_hi = 8 - hi.count_ones() as usize;
        out[..8].copy_from_slice(&both[..8]);
        out[n_lo..n_lo + 8].copy_from_slice(&both[8..]);
        n_lo + n_hi
    }
}

/// Elsewhere (arm64 among them), the same from two words.
#[cfg(not(target_arch = "x86_64"))]
#[inline]
pub(crate) fn block_masks(b: &[u8; 16]) -> Masks {
    block_masks_words(b)
}

/// [`block_masks`] without SIMD, exact in every byte (no borrow crosses a byte).
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
#[inline]
pub(crate) fn block_masks_words(b: &[u8; 16]) -> Masks {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    // High bit of each byte that is zero.
    let zero = |v: u64| !(((v & LOW7) + LOW7) | v | LOW7);
    // High bit of each byte below 0x20.
    let control = |v: u64| !(((v & LOW7) + ONES * 0x60) | v) & HIGHS;
    // One bit per byte, from the high bits: byte `k` to bit `k`.
    let gather = |m: u64| (((m >> 7) & ONES).wrapping_mul(0x0102_0408_1020_4080) >> 56) as u32;
    let half = |at: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&b[at..at + 8]);
        let v = u64::from_le_bytes(w);
        let eq = |c: u8| gather(zero(v ^ (ONES * u64::from(c))));
        Masks {
            backslash: eq(b'\\'),
            quote: eq(b'"'),
            slash: eq(b'/'),
            control: gather(control(v)),
        }
    };
    let (lo, hi) = (half(0), half(8));
    Masks {
        backslash: lo.backslash | hi.backslash << 8,
        quote: lo.quote | hi.quote << 8,
        slash: lo.slash | hi.slash << 8,
        control: lo.control | hi.control << 8,
    }
}

/// Elsewhere, eight bytes at a time in a word.
#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn skip_plain(b: &[u8], i: usize) -> usize {
    skip_plain_words(b, i)
}

/// [`skip_plain`] without SIMD: eight bytes at a time in a word, until fewer than eight are
/// left.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
#[inline]
fn skip_plain_words(b: &[u8], mut i: usize) -> usize {
    while let Some(chunk) = b.get(i..i + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let hits = specials(u64::from_le_bytes(word));
        if hits != 0 {
            return i + (hits.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    i
}

/// The text of a record whose only escapes are its quotes' (see [`Layout::scan_escaped`]),
/// decoded into `out`: every backslash comes before a quote, which stays.
pub(crate) fn without_backslashes(escaped: &[u8], out: &mut Vec<u8>) {
    drop_backslashes::<false>(escaped, out, |_| {});
}

/// [`without_backslashes`], telling `blocks` which bytes of each sixteen-byte block of
/// `escaped` (in order, the last one short) were backslashes, a bit per byte.
///
/// A record has a backslash every ten bytes or so: it is read sixteen bytes at a time, its
/// backslashes found all at once ([`block_masks`]). With `SHUFFLE` (only where the
/// processor has SSSE3, [`compact::available`]) a block loses them in one byte shuffle;
/// otherwise it is written out whole and each backslash dropped by writing the sixteen bytes
/// after it again one place back. Either way, fixed-size copies with no call and no search
/// per backslash.
#[inline(always)]
fn drop_backslashes<const SHUFFLE: bool>(
    escaped: &[u8],
    out: &mut Vec<u8>,
    mut blocks: impl FnMut(u32),
) {
    // Room for the text and for the sixteen bytes a block or a backslash may write past it.
    out.clear();
    out.resize(escaped.len() + 16, 0);
    let (mut i, mut j) = (0, 0);
    #[cfg(target_arch = "x86_64")]
    if SHUFFLE {
        while let Some(block) = escaped.get(i..i + 16) {
            let block: &[u8; 16] = block.try_into().unwrap_or(&[0; 16]);
            let mask = block_masks(block).backslash;
            blocks(mask);
            // SAFETY: SHUFFLE is set only where the processor has SSSE3.
            j += unsafe { compact::without(block, mask, &mut out[j..j + 16]) };
            i += 16;
        }
    }
    // Each block needs the sixteen bytes after it, which a backslash at its end copies.
    while let Some(ahead) = escaped.get(i..i + 32) {
        let block: &[u8; 16] = ahead[..16].try_into().unwrap_or(&[0; 16]);
        let mask = block_masks(block).backslash;
        blocks(mask);
        out[j..j + 16].copy_from_slice(block);
        // `out[j]` holds `block[base]`.
        let (mut backslashes, mut base) = (mask, 0);
        while backslashes != 0 {
            let p = backslashes.trailing_zeros() as usize;
            j += p - base;
            out[j..j + 16].copy_from_slice(&ahead[p + 1..p + 17]);
            base = p + 1;
            backslashes &= backslashes - 1;
        }
        j += 16 - base;
        i += 16;
    }
    // The last bytes (fewer than 32), one at a time.
    for chunk in escaped[i..].chunks(16) {
        let mut mask = 0;
        for (k, &c) in chunk.iter().enumerate() {
            if c == b'\\' {
                mask |= 1 << k;
            } else {
                out[j] = c;
                j += 1;
            }
        }
        blocks(mask);
    }
    out.truncate(j);
}

impl<'b, const ESC: bool> Scan<'b, ESC> {
    fn new(b: &'b [u8], i: usize) -> Self {
        Self {
            b,
            i,
            odd_escapes: false,
            newlines: 0,
            repeats: Vec::new(),
        }
    }

    fn error(&self, what: &'static str) -> Error {
        let at = self.i.min(self.b.len());
        let before = &self.b[..at];
        let line = 1 + memchr::memchr_iter(b'\n', before).count();
        let start = memchr::memrchr(b'\n', before).map_or(0, |n| n + 1);
        Error {
            what,
            line,
            column: at - start + 1,
        }
    }

    fn eof(&self) -> Error {
        self.error(EOF)
    }

    #[inline]
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    #[inline]
    fn ws(&mut self) {
        while let Some(&c @ (b' ' | b'\n' | b'\t' | b'\r')) = self.b.get(self.i) {
            self.newlines += u64::from(c == b'\n');
            self.i += 1;
        }
    }

    /// One value at `self.i`; objects note their members in `out`.
    fn value(&mut self, depth: u32, out: &mut Vec<Member>) -> Result<Kind, Error> {
        match self.peek() {
            Some(b'"') if !ESC => self.string_value(),
            Some(b'\\') if ESC => self.string_value(),
            Some(b'{') => {
                self.object(depth + 1, out)?;
                Ok(Kind::Object)
            }
            Some(b'[') => {
                self.array(depth + 1, out)?;
                Ok(Kind::Array)
            }
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'n') => self.literal(b"null"),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.error("expected a value")),
            None => Err(self.eof()),
        }
    }

    fn literal(&mut self, word: &[u8]) -> Result<Kind, Error> {
        for &c in word {
            match self.peek() {
                Some(b) if b == c => self.i += 1,
                Some(_) => return Err(self.error("expected a value")),
                None => return Err(self.eof()),
            }
        }
        Ok(Kind::Scalar)
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while let Some(b'0'..=b'9') = self.peek() {
            self.i += 1;
        }
        self.i - start
    }

    fn number(&mut self) -> Result<Kind, Error> {
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek() {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            Some(_) => return Err(self.error("expected a digit")),
            None => return Err(self.eof()),
        }
        let mut float = false;
        if self.peek() == Some(b'.') {
            self.i += 1;
            float = true;
            if self.digits() == 0 {
                return Err(match self.peek() {
                    None => self.eof(),
                    Some(_) => self.error("expected a digit after the decimal point"),
                });
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.i += 1;
            float = true;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            if self.digits() == 0 {
                return Err(match self.peek() {
                    None => self.eof(),
                    Some(_) => self.error("expected a digit in the exponent"),
                });
            }
        }
        // serde_json refuses a number that overflows a double; only long ones or ones with
        // an exponent can, so only they pay for the check.
        if float || self.i - start > 19 {
            let text = std::str::from_utf8(&self.b[start..self.i]).unwrap_or("0");
            if text.parse::<f64>().is_ok_and(f64::is_infinite) {
                self.i = start;
                return Err(self.error("number out of range"));
            }
        }
        Ok(Kind::Scalar)
    }

    /// A string value at its opening quote, and its kind.
    #[inline(always)]
    fn string_value(&mut self) -> Result<Kind, Error> {
        self.open_quote()?;
        self.string_kind()
    }

    /// The rest of a string value after its opening quote, and its kind.
    #[inline(always)]
    fn string_kind(&mut self) -> Result<Kind, Error> {
        Ok(if self.string()? {
            Kind::Escaped
        } else {
            Kind::Plain
        })
    }

    /// The rest of a string after its opening quote; whether it has escapes.
    #[inline(always)]
    fn string(&mut self) -> Result<bool, Error> {
        // Most strings end at the first special byte: their scan is inlined where they are.
        let end = skip_plain(self.b, self.i);
        if ESC {
            return self.escaped_string(end);
        }
        if self.b.get(end) == Some(&b'"') {
            self.i = end + 1;
            return Ok(false);
        }
        self.i = end;
        self.string_rest()
    }

    /// The rest of a string in an escaped text, from its first special byte (or its last few
    /// bytes) at `end`: it must end at a `\"`. Any other escape (one of the record's own,
    /// written `\\` here, or one of the text that holds it) is for a scan of the decoded
    /// text.
    #[inline(always)]
    fn escaped_string(&mut self, mut end: usize) -> Result<bool, Error> {
        loop {
            // The two bytes of the closing `\"` at once.
            if self.b.get(end..end + 2) == Some(b"\\\"") {
                self.i = end + 2;
                return Ok(false);
            }
            self.i = end;
            match self.peek() {
                Some(b'"' | b'\\' | 0..=0x1f) | None => return Err(self.error(ESCAPED_AWAY)),
                // One of the last few bytes, which the search leaves.
                Some(_) => end = skip_plain(self.b, end + 1),
            }
        }
    }

    /// Steps over the quote that [`Scan::at_quote`] has found at `self.i`.
    #[inline(always)]
    fn past_quote(&mut self) {
        self.i += if ESC { 2 } else { 1 };
    }

    /// Steps over the quote that opens a string (`\"` in an escaped text), which is at
    /// `self.i`.
    #[inline(always)]
    fn open_quote(&mut self) -> Result<(), Error> {
        if ESC {
            if self.b.get(self.i + 1) != Some(&b'"') {
                return Err(self.error(ESCAPED_AWAY));
            }
            self.i += 2;
        } else {
            self.i += 1;
        }
        Ok(())
    }

    /// Whether a string opens at `self.i`.
    #[inline(always)]
    fn at_quote(&self) -> bool {
        if ESC {
            self.b.get(self.i..self.i + 2) == Some(b"\\\"")
        } else {
            self.peek() == Some(b'"')
        }
    }

    /// [`Scan::string`] from its first special byte (or its last few bytes).
    #[inline(never)]
    fn string_rest(&mut self) -> Result<bool, Error> {
        let mut escaped = false;
        loop {
            self.i = skip_plain(self.b, self.i);
            match self.peek() {
                Some(b'"') => {
                    self.i += 1;
                    return Ok(escaped);
                }
                Some(b'\\') => {
                    escaped = true;
                    self.escape()?;
                }
                Some(0..=0x1f) => {
                    return Err(self.error("control character in a string"));
                }
                Some(_) => self.i += 1,
                None => return Err(self.eof()),
            }
        }
    }

    /// An escape at the backslash under `self.i`.
    fn escape(&mut self) -> Result<(), Error> {
        self.i += 1;
        match self.peek() {
            Some(b'"' | b'b' | b'f' | b'n' | b'r' | b't') => {
                self.i += 1;
                Ok(())
            }
            // `\\` can begin an escape of JSON held in a string (`\\u005f` is `_` there).
            Some(b'/' | b'\\') => {
                self.i += 1;
                self.odd_escapes = true;
                Ok(())
            }
            Some(b'u') => {
                self.i += 1;
                self.odd_escapes = true;
                let unit = self.hex4()?;
                match unit {
                    0xD800..=0xDBFF => {
                        // A leading surrogate must be followed by an escaped trailing one.
                        if self.b.get(self.i..self.i + 2) != Some(b"\\u") {
                            return Err(match self.b.len() - self.i {
                                0 => self.eof(),
                                1 if self.b[self.i] == b'\\' => self.eof(),
                                _ => self.error("lone leading surrogate in a \\u escape"),
                            });
                        }
                        self.i += 2;
                        match self.hex4()? {
                            0xDC00..=0xDFFF => Ok(()),
                            _ => Err(self.error("invalid surrogate pair in a \\u escape")),
                        }
                    }
                    0xDC00..=0xDFFF => Err(self.error("lone trailing surrogate in a \\u escape")),
                    _ => Ok(()),
                }
            }
            Some(_) => Err(self.error("invalid escape")),
            None => Err(self.eof()),
        }
    }

    fn hex4(&mut self) -> Result<u32, Error> {
        let mut n = 0;
        for _ in 0..4 {
            let d = match self.peek() {
                Some(c @ b'0'..=b'9') => c - b'0',
                Some(c @ b'a'..=b'f') => c - b'a' + 10,
                Some(c @ b'A'..=b'F') => c - b'A' + 10,
                Some(_) => return Err(self.error("invalid \\u escape")),
                None => return Err(self.eof()),
            };
            n = n * 16 + u32::from(d);
            self.i += 1;
        }
        Ok(n)
    }

    fn deeper(&self, depth: u32) -> Result<(), Error> {
        if depth > MAX_DEPTH {
            Err(self.error("nested too deeply"))
        } else {
            Ok(())
        }
    }

    fn object(&mut self, depth: u32, members: &mut Vec<Member>) -> Result<(), Error> {
        self.deeper(depth)?;
        self.i += 1;
        self.ws();
        match self.peek() {
            Some(b'}') => {
                self.i += 1;
                return Ok(());
            }
            None => return Err(self.eof()),
            _ => {}
        }
        // Repeated keys: one bit of 256 per member name ([`name_bit`]) tells
        // almost every new name apart from those seen; only a hit (or an escaped name, which
        // may spell another) compares names.
        let first = members.len();
        let mut seen = [0u64; 4];
        let mut escapes = false;
        // Past a few dozen members the bits are mostly set: the names go into a map instead,
        // so that an object with a million members costs a million look-ups, not 10^12
        // comparisons.
        let mut count = 0usize;
        // Boxed: most objects never make one, and then dropping `None` is a test, not a
        // call.
        let mut names: Option<Box<std::collections::HashMap<Vec<u8>, usize>>> = None;
        loop {
            self.ws();
            match self.peek() {
                _ if self.at_quote() => self.past_quote(),
                Some(_) => return Err(self.error("expected a member name")),
                None => return Err(self.eof()),
            }
            let key_start = self.i;
            let key_escaped = self.string()?;
            let key_end = self.i - if ESC { 2 } else { 1 };
            let key = (key_start as u32, key_end as u32);
            let name = &self.b[key_start..key_end];
            let bit = name_bit(name);
            escapes |= key_escaped;
            count += 1;
            if count == BLOOM_MEMBERS {
                let mut map = std::collections::HashMap::new();
                let mut i = first;
                while i < members.len() {
                    let m = &members[i];
                    map.entry(self.decoded(m.key, m.key_escaped).into_owned())
                        .or_insert(i);
                    i = m.next as usize;
                }
                names = Some(Box::new(map));
            }
            match names.as_mut() {
                Some(map) => {
                    let name = self.decoded(key, key_escaped).into_owned();
                    match map.get(&name) {
                        Some(&earlier) => {
                            self.repeats.push((earlier as u32, members.len() as u32));
                        }
                        None => {
                            map.insert(name, members.len());
                        }
                    }
                }
                None => {
                    if (set_name_bit(&mut seen, bit) || escapes) && members.len() > first {
                        if let Some(earlier) = self.same_key(members, first, key, key_escaped) {
                            self.repeats.push((earlier as u32, members.len() as u32));
                        }
                    }
                }
            }
            // Compact JSON has no whitespace around ':'.
            if self.peek() != Some(b':') {
                self.ws();
            }
            match self.peek() {
                Some(b':') => self.i += 1,
                Some(_) => return Err(self.error("expected ':' after a member name")),
                None => return Err(self.eof()),
            }
            self.ws();
            let start = self.i;
            let slot = members.len();
            if self.at_quote() {
                // A string value, the most common, is scanned here and noted whole.
                self.past_quote();
                let kind = self.string_kind()?;
                // In an escaped text, `"text\`: what lies inside its first and last bytes is
                // the string's text, as for a string in plain JSON.
                let value = if ESC {
                    (start + 1, self.i - 1)
                } else {
                    (start, self.i)
                };
                members.push(Member {
                    key,
                    key_escaped,
                    name_bit: bit,
                    value: (value.0 as u32, value.1 as u32),
                    kind,
                    next: slot as u32 + 1,
                });
            } else {
                members.push(Member {
                    key,
                    key_escaped,
                    name_bit: bit,
                    value: (0, 0),
                    kind: Kind::Scalar,
                    next: 0,
                });
                let kind = self.value(depth, members)?;
                let next = members.len() as u32;
                let m = &mut members[slot];
                m.value = (start as u32, self.i as u32);
                m.kind = kind;
                m.next = next;
            }
            if self.peek() == Some(b',') {
                self.i += 1;
                continue;
            }
            self.ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    return Ok(());
                }
                Some(_) => return Err(self.error("expected ',' or '}' after an object member")),
                None => return Err(self.eof()),
            }
        }
    }

    /// The key at `k` (between its quotes), escapes decoded when it has any; the scan has
    /// checked the escapes, so decoding cannot fail.
    fn decoded(&self, k: (u32, u32), escaped: bool) -> Cow<'_, [u8]> {
        let text = &self.b[k.0 as usize..k.1 as usize];
        if !escaped {
            return Cow::Borrowed(text);
        }
        let quoted = &self.b[k.0 as usize - 1..k.1 as usize + 1];
        match serde_json::from_slice::<String>(quoted) {
            Ok(s) => Cow::Owned(s.into_bytes()),
            Err(_) => Cow::Borrowed(text),
        }
    }

    /// The first of the siblings from `first` (to the end of `members`) whose key is the same
    /// as the key at `key`.
    #[cold]
    fn same_key(
        &self,
        members: &[Member],
        first: usize,
        key: (u32, u32),
        escaped: bool,
    ) -> Option<usize> {
        let this = self.decoded(key, escaped);
        let mut i = first;
        while i < members.len() {
            let m = &members[i];
            if self.decoded(m.key, m.key_escaped) == this {
                return Some(i);
            }
            i = m.next as usize;
        }
        None
    }

    fn array(&mut self, depth: u32, members: &mut Vec<Member>) -> Result<(), Error> {
        self.deeper(depth)?;
        self.i += 1;
        self.ws();
        match self.peek() {
            Some(b']') => {
                self.i += 1;
                return Ok(());
            }
            None => return Err(self.eof()),
            _ => {}
        }
        loop {
            self.ws();
            self.value(depth, members)?;
            self.ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.i += 1;
                    return Ok(());
                }
                Some(_) => return Err(self.error("expected ',' or ']' after an array element")),
                None => return Err(self.eof()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn a_block_without_some_bytes_keeps_the_rest_in_order() {
        assert!(compact::available(), "the shuffle needs SSSE3");
        let block: [u8; 16] = *b"0123456789abcdef";
        for leave in (0..=0xffffu32)
            .step_by(7)
            .chain([0, 0xffff, 0x8000, 0x0001])
        {
            let want: Vec<u8> = (0..16)
                .filter(|k| leave & (1 << k) == 0)
                .map(|k| block[k])
                .collect();
            let mut out = [0u8; 16];
            // SAFETY: the processor has SSSE3 (asserted above).
            let n = unsafe { compact::without(&block, leave, &mut out) };
            assert_eq!(&out[..n], &want[..], "{leave:016b}");
        }
    }

    /// Backslashes dropped a block at a time (with the shuffle or without) leave what
    /// dropping them one by one leaves, and are told block by block, wherever they fall in a
    /// block, alone or in runs, at any length.
    #[test]
    fn backslashes_are_dropped_as_one_at_a_time_drops_them() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut out = Vec::new();
        for len in 0..120 {
            for _ in 0..200 {
                let text = crate::testing::random_bytes(&mut seed, len, b"\\\\\"ab{}:,\xff");
                let want: Vec<u8> = text.iter().copied().filter(|&c| c != b'\\').collect();
                let masks: Vec<u32> = text
                    .chunks(16)
                    .map(|block| {
                        (0..block.len())
                            .filter(|&k| block[k] == b'\\')
                            .fold(0, |m, k| m | 1 << k)
                    })
                    .collect();
                let mut told = Vec::new();
                drop_backslashes::<false>(&text, &mut out, |mask| told.push(mask));
                assert_eq!((&out, &told), (&want, &masks), "{text:?}");
                #[cfg(target_arch = "x86_64")]
                if compact::available() {
                    told.clear();
                    drop_backslashes::<true>(&text, &mut out, |mask| told.push(mask));
                    assert_eq!((&out, &told), (&want, &masks), "{text:?}");
                }
            }
        }
    }

    #[test]
    fn block_masks_agree_with_a_byte_at_a_time() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let alphabet = b"\\\"\0\x1f\x20a/\xff\x7f\x80\x5c\x22\x2f\x2e\x30";
        for _ in 0..20_000 {
            let mut block = [0u8; 16];
            for c in &mut block {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                *c = if seed & 1 == 0 {
                    alphabet[(seed >> 8) as usize % alphabet.len()]
                } else {
                    (seed >> 16) as u8
                };
            }
            let bits = |f: &dyn Fn(u8) -> bool| {
                block
                    .iter()
                    .enumerate()
                    .fold(0u32, |m, (k, &c)| m | u32::from(f(c)) << k)
            };
            let want = Masks {
                backslash: bits(&|c| c == b'\\'),
                quote: bits(&|c| c == b'"'),
                slash: bits(&|c| c == b'/'),
                control: bits(&|c| c < 0x20),
            };
            assert_eq!(block_masks(&block), want, "{block:?}");
            assert_eq!(block_masks_words(&block), want, "{block:?}");
        }
    }

    fn ok(text: &str) -> bool {
        Layout::new().scan(text).is_ok()
    }

    #[test]
    fn heads_are_the_length_and_the_first_eight_bytes_zero_padded() {
        let text = b"abcdefghij";
        for n in 0..=text.len() {
            let mut word = [0u8; 8];
            let k = n.min(8);
            word[..k].copy_from_slice(&text[..k]);
            assert_eq!(head(&text[..n]), (n, u64::from_le_bytes(word)), "{n} bytes");
        }
    }

    #[test]
    fn accepts_what_serde_json_accepts() {
        let cases = [
            r#"{"a":1,"b":[1,2,{"c":null}],"d":{"e":"f\"\\\/\b\f\n\r\t\u00e9"}}"#,
            " [ ] ",
            "{}",
            "-0.5e+10",
            "0",
            "\"\\ud83d\\ude00\"",
            "1e400",
            "1e-400",
            "123456789012345678901234567890",
            "{\"a\":1,}",
            "[1,]",
            "01",
            "1.",
            ".5",
            "\"\\ud83d\"",
            "\"\\ude00\"",
            "\"\\ud83dx\"",
            "\"\\ud83d\\u0041\"",
            "\"a\u{1}b\"",
            "\"\\x\"",
            "{\"a\" 1}",
            "{1:2}",
            "tru",
            "nul",
            "[1 2]",
            "{} {}",
            "\"unterminated",
            "[[[[]]]]",
            "-",
            "1e",
            "\"\\u12\"",
            "\"é\"",
            "\"tab\there\"",
        ];
        for text in cases {
            let serde = serde_json::from_str::<serde_json::Value>(text).is_ok();
            assert_eq!(ok(text), serde, "{text}");
        }
        let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        for n in [127, 128, 129] {
            let serde = serde_json::from_str::<serde_json::Value>(&deep(n)).is_ok();
            assert_eq!(ok(&deep(n)), serde, "{n} levels");
        }
    }

    #[test]
    fn notes_members_at_every_depth() {
        let text = r#"{"a":{"b":"x","c":[{"d":1}]},"e\n":"y\"","f":2}"#;
        let mut l = Layout::new();
        l.scan(text).unwrap();
        let part = |s: (u32, u32)| &text[s.0 as usize..s.1 as usize];
        let root: Vec<_> = l
            .root()
            .map(|(_, m)| (part(m.key), part(m.value)))
            .collect();
        assert_eq!(
            root,
            [
                ("a", r#"{"b":"x","c":[{"d":1}]}"#),
                ("e\\n", r#""y\"""#),
                ("f", "2")
            ]
        );
        let (at, a) = l.root().next().unwrap();
        let inner: Vec<_> = l
            .children(a, at)
            .map(|(_, m)| (part(m.key), m.kind))
            .collect();
        assert_eq!(inner, [("b", Kind::Plain), ("c", Kind::Array)]);
        let all: Vec<_> = l.all().iter().map(|m| part(m.key)).collect();
        assert_eq!(all, ["a", "b", "c", "d", "e\\n", "f"]);
        assert!(!l.odd_escapes());
        let kinds: Vec<_> = l.root().map(|(_, m)| (m.key_escaped, m.kind)).collect();
        assert_eq!(
            kinds,
            [
                (false, Kind::Object),
                (true, Kind::Escaped),
                (false, Kind::Scalar)
            ]
        );
        for (text, odd) in [
            (r#"["\/"]"#, true),
            (r#"{"\u0041":1}"#, true),
            (r#""\n""#, false),
            (r#""\\""#, true),
        ] {
            l.scan(text).unwrap();
            assert_eq!(l.odd_escapes(), odd, "{text}");
        }
    }

    #[test]
    fn both_string_searches_stop_at_the_same_byte() {
        // Every special byte at every offset, after plain ASCII and non-ASCII text.
        for filler in [b'a', 0x80, 0xff, 0x7f, b' '] {
            for special in [b'"', b'\\', 0x00, 0x1f, b'\n'] {
                for at in 0..40 {
                    let mut b = vec![filler; 40];
                    b[at] = special;
                    let simd = skip_plain(&b, 0);
                    let words = skip_plain_words(&b, 0);
                    // Either stops at the special byte or where its chunks run out before it.
                    assert!(
                        simd == at || (simd < at && simd + 16 > b.len()),
                        "{at}: {simd}"
                    );
                    assert!(
                        words == at || (words < at && words + 8 > b.len()),
                        "{at}: {words}"
                    );
                }
            }
            // A plain filler byte is never taken for a special one.
            let b = vec![filler; 40];
            assert!(skip_plain(&b, 0) + 16 > 40 && skip_plain_words(&b, 0) + 8 > 40);
        }
    }

    #[test]
    fn tells_a_truncated_text_from_a_broken_one() {
        for text in [
            r#"{"a":"#,
            r#"{"a":"x"#,
            r#"{"a":[1,"#,
            r#"{"a":tr"#,
            "{\"a\":\"\\",
        ] {
            let e = Layout::new().scan(text).unwrap_err();
            assert!(e.is_eof(), "{text}: {e}");
        }
        let e = Layout::new().scan("{\n  \"a\": x}").unwrap_err();
        assert!(!e.is_eof());
        assert_eq!(e.to_string(), "expected a value at line 2 column 8");
        let mut l = Layout::new();
        assert_eq!(l.scan_object(b"\n{\"a\":\n [1,\r\n2]}\n, {"), Ok(16));
        assert_eq!(l.newlines(), 3);
        assert_eq!(l.scan_object(br#"  {"a":1}, {"b""#), Ok(9));
        assert!(l.scan_object(br#"{"a":1"#).unwrap_err().is_eof());
        assert!(!l.scan_object(b"[1]").unwrap_err().is_eof());
    }

    /// A text as it stands inside a JSON string, and the place after the string's quote.
    fn escaped(text: &str) -> (String, usize) {
        let quoted = serde_json::to_string(text).unwrap();
        let inner = &quoted[1..quoted.len() - 1];
        // A log event's message is followed by the rest of its payload.
        (format!("{inner}\",\"id\":\"1\"}}]}}"), inner.len())
    }

    #[test]
    fn escaped_texts_scan_as_their_decoded_form_or_not_at_all() {
        let records = include_str!("../../examples/cloudtrail/events.jsonl")
            .lines()
            .chain(include_str!("../../examples/ibm/activity-tracker-events.jsonl").lines());
        let cases = [
            r#"{"a":1,"b":[1,2,{"c":null,"d":"x"}],"e":{"f":"g","h":[]},"i":-0.5e3,"j":true}"#,
            r#"{"a":"1","a":"2","b":{"a":3}}"#,
            r#"{ "a" : "b" , "c" : [ "d" , { "e" : "f" } ] }"#,
            r#"{"a":"","b":"0123456789abcdefghijklmnopqrstuvwxyz0123456789"}"#,
            // Escapes of the record's own, other escapes of the string, errors.
            r#"{"a":"b\"c"}"#,
            r#"{"a":"b\\c"}"#,
            r#"{"a":"\u00e9"}"#,
            "{\"a\":\n1}",
            "{\"a\":\"tab\u{1}\"}",
            r#"{"a":1,}"#,
            r#"{"a" 1}"#,
            r#"{"a":"b""#,
            r#"{"a":1e400}"#,
            "[1,2]",
            " {}",
            "{}",
            r#"{"a":"é","b":"日本"}"#,
        ];
        let mut scanned = 0;
        for text in records.chain(cases) {
            let (bytes, inner) = escaped(text);
            let mut esc = Layout::new();
            let Ok(end) = esc.scan_escaped(bytes.as_bytes()) else {
                // Only texts with escapes of their own, whitespace that JSON escapes, no
                // object first, or no JSON are left to the decoded scan.
                let decoded_ok = Layout::new().scan(text).is_ok();
                assert!(
                    !decoded_ok || !text.starts_with('{') || text.contains(['\\', '\n', '\u{1}']),
                    "{text}"
                );
                continue;
            };
            scanned += 1;
            assert_eq!(end, inner, "{text}");
            let mut plain = Layout::new();
            plain.scan(text).unwrap();
            assert!(esc.is_object() && !esc.odd_escapes(), "{text}");
            assert_eq!(esc.repeats(), plain.repeats(), "{text}");
            assert_eq!(esc.all().len(), plain.all().len(), "{text}");
            for (e, p) in esc.all().iter().zip(plain.all()) {
                assert_eq!(e.raw_key(&bytes), p.raw_key(text), "{text}");
                assert_eq!(e.kind, p.kind, "{text}");
                assert_eq!(e.next, p.next, "{text}");
                let value = |m: &Member, t: &str| {
                    let v = m.value(t);
                    if m.kind == Kind::Plain {
                        v[1..v.len() - 1].to_string()
                    } else {
                        v.replace("\\\"", "\"")
                    }
                };
                assert_eq!(value(e, &bytes), value(p, text), "{text}");
            }
            // Decoded, the layout is the decoded text's, place for place (and the same
            // without the shuffle).
            let mut decoded = Vec::new();
            let mut without_shuffle = esc.clone();
            without_shuffle.decode_escaped_with::<false>(&bytes.as_bytes()[..end], &mut decoded);
            assert_eq!(decoded, text.as_bytes());
            for (e, p) in without_shuffle.all().iter().zip(plain.all()) {
                assert_eq!((e.key, e.value), (p.key, p.value), "{text}");
            }
            esc.decode_escaped(&bytes.as_bytes()[..end], &mut decoded);
            assert_eq!(decoded, text.as_bytes());
            for (e, p) in esc.all().iter().zip(plain.all()) {
                assert_eq!(
                    (e.key, e.value, e.kind, e.next, e.name_bit),
                    (p.key, p.value, p.kind, p.next, p.name_bit),
                    "{text}"
                );
            }
        }
        // Every example record but those with escapes of their own is scanned as it stands.
        assert!(scanned >= 20, "{scanned}");
    }
}
