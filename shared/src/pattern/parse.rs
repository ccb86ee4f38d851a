//! Recursive-descent parser from pattern text to [`ast::Pattern`].
//!
//! The three sub-languages share a lexer-level cursor. Which one a pattern is follows from its
//! first non-blank character: `{` JSON, `[` space-delimited, anything else terms.

use super::ast::*;
use super::error::PatternError;

/// CloudWatch refuses longer patterns (`filterPattern` is 0–1024 characters).
pub const MAX_PATTERN_CHARS: usize = 1024;

/// Parentheses may nest this deep. Real patterns nest two or three levels; the limit keeps the
/// recursive parser, compiler and matcher within a small, fixed stack.
pub const MAX_NESTING: usize = 64;

type Result<T> = std::result::Result<T, PatternError>;

pub fn parse(src: &str) -> Result<Pattern> {
    if let Some((offset, _)) = src.char_indices().nth(MAX_PATTERN_CHARS) {
        return Err(PatternError::new(
            offset,
            format!(
                "filter pattern is longer than {MAX_PATTERN_CHARS} characters ({})",
                src.chars().count()
            ),
        ));
    }
    let mut cur = Cursor::new(src);
    cur.skip_ws();
    match cur.peek() {
        None => Ok(Pattern::MatchAll),
        Some(b'{') => parse_json(&mut cur).map(Pattern::Json),
        Some(b'[') => parse_delimited(&mut cur).map(Pattern::Delimited),
        Some(_) => parse_terms(&mut cur),
    }
}

pub(crate) struct Cursor<'a> {
    src: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn new(src: &'a str) -> Self {
        Self { src, pos: 0 }
    }

    fn bytes(&self) -> &'a [u8] {
        self.src.as_bytes()
    }

    fn peek(&self) -> Option<u8> {
        self.bytes().get(self.pos).copied()
    }

    fn peek_at(&self, n: usize) -> Option<u8> {
        self.bytes().get(self.pos + n).copied()
    }

    fn rest(&self) -> &'a str {
        &self.src[self.pos..]
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn eat_str(&mut self, s: &str) -> bool {
        if self.rest().starts_with(s) {
            self.pos += s.len();
            true
        } else {
            false
        }
    }

    /// Eats an ASCII keyword, any case, that is not followed by another word character.
    fn eat_keyword(&mut self, kw: &str) -> bool {
        let rest = self.rest().as_bytes();
        let n = kw.len();
        if rest.len() >= n
            && rest[..n].eq_ignore_ascii_case(kw.as_bytes())
            && !rest
                .get(n)
                .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
        {
            self.pos += n;
            true
        } else {
            false
        }
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_whitespace()) {
            self.pos += 1;
        }
    }

    fn found(&self) -> String {
        match self.rest().chars().next() {
            None => "the end of the pattern".to_string(),
            Some(c) => format!("'{c}'"),
        }
    }

    fn expected(&self, what: &str) -> PatternError {
        PatternError::new(self.pos, format!("expected {what}, found {}", self.found()))
    }

    /// `"..."` with `\"` and `\\` as the only escapes; other backslashes stay as written.
    fn quoted(&mut self) -> Result<String> {
        let start = self.pos;
        debug_assert_eq!(self.peek(), Some(b'"'));
        self.pos += 1;
        let mut out = String::new();
        let mut run = self.pos;
        loop {
            match self.peek() {
                None => {
                    return Err(PatternError::new(
                        start,
                        "unterminated quoted string: add the closing '\"'",
                    ))
                }
                Some(b'"') => {
                    out.push_str(&self.src[run..self.pos]);
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') if matches!(self.peek_at(1), Some(b'"' | b'\\')) => {
                    out.push_str(&self.src[run..self.pos]);
                    self.pos += 1;
                    run = self.pos;
                    self.pos += 1;
                }
                Some(_) => self.pos += 1,
            }
        }
    }

    /// `%...%`: returns the body and the offset where it starts.
    fn regex(&mut self) -> Result<(&'a str, usize)> {
        let start = self.pos;
        self.pos += 1;
        let body_start = self.pos;
        match self.rest().find('%') {
            Some(n) => {
                self.pos += n + 1;
                Ok((&self.src[body_start..body_start + n], body_start))
            }
            None => Err(PatternError::new(
                start,
                "unterminated regex: add the closing '%'",
            )),
        }
    }

    /// The longest run of bytes for which `stop` is false.
    fn bare(&mut self, stop: impl Fn(&[u8]) -> bool) -> &'a str {
        let start = self.pos;
        while self.pos < self.src.len() && !stop(&self.bytes()[self.pos..]) {
            self.pos += 1;
        }
        // `stop` only ever fires on ASCII bytes, so `pos` is on a character boundary.
        &self.src[start..self.pos]
    }
}

// ---------------------------------------------------------------- terms

fn parse_terms(cur: &mut Cursor) -> Result<Pattern> {
    let mut terms = Vec::new();
    loop {
        cur.skip_ws();
        let start = cur.pos;
        let Some(first) = cur.peek() else { break };
        // A lone `-` or `?` followed by a blank is an ordinary term, not an operator.
        let prefixed = cur.peek_at(1).is_some_and(|b| !b.is_ascii_whitespace());
        let mode = match first {
            b'?' if prefixed => TermMode::Optional,
            b'-' if prefixed => TermMode::Excluded,
            _ => TermMode::Required,
        };
        if mode != TermMode::Required {
            cur.pos += 1;
        }
        let value = match cur.peek() {
            Some(b'"') => TermValue::Text(cur.quoted()?),
            Some(b'%') => TermValue::Regex(cur.regex()?.0.to_string()),
            _ => TermValue::Text(cur.bare(|b| b[0].is_ascii_whitespace()).to_string()),
        };
        if cur.peek().is_some_and(|b| !b.is_ascii_whitespace()) {
            return Err(cur.expected("a blank between terms"));
        }
        terms.push(Term {
            mode,
            value,
            span: Span::new(start, cur.pos),
        });
    }
    Ok(Pattern::Terms(terms))
}

// ---------------------------------------------------------------- shared expressions

/// `or := and ("||" and)*`, `and := primary ("&&" primary)*`, `primary := "(" or ")" | leaf`.
fn parse_expr<C>(
    cur: &mut Cursor,
    depth: usize,
    leaf: &mut impl FnMut(&mut Cursor) -> Result<C>,
) -> Result<Expr<C>> {
    let mut ors = vec![parse_and(cur, depth, leaf)?];
    loop {
        cur.skip_ws();
        if !cur.eat_str("||") {
            break;
        }
        ors.push(parse_and(cur, depth, leaf)?);
    }
    Ok(if ors.len() == 1 {
        ors.pop().expect("one element")
    } else {
        Expr::Or(ors)
    })
}

fn parse_and<C>(
    cur: &mut Cursor,
    depth: usize,
    leaf: &mut impl FnMut(&mut Cursor) -> Result<C>,
) -> Result<Expr<C>> {
    let mut ands = vec![parse_primary(cur, depth, leaf)?];
    loop {
        cur.skip_ws();
        if !cur.eat_str("&&") {
            break;
        }
        ands.push(parse_primary(cur, depth, leaf)?);
    }
    Ok(if ands.len() == 1 {
        ands.pop().expect("one element")
    } else {
        Expr::And(ands)
    })
}

fn parse_primary<C>(
    cur: &mut Cursor,
    depth: usize,
    leaf: &mut impl FnMut(&mut Cursor) -> Result<C>,
) -> Result<Expr<C>> {
    cur.skip_ws();
    if cur.peek() == Some(b'(') {
        if depth >= MAX_NESTING {
            return Err(PatternError::new(
                cur.pos,
                format!("parentheses nest deeper than {MAX_NESTING} levels"),
            ));
        }
        let open = cur.pos;
        cur.pos += 1;
        let inner = parse_expr(cur, depth + 1, leaf)?;
        cur.skip_ws();
        if !cur.eat(b')') {
            let mut err = cur.expected("')' or an operator ('&&', '||')");
            err.message
                .push_str(&format!(" (the '(' at byte {open} is not closed)"));
            return Err(err);
        }
        return Ok(inner);
    }
    leaf(cur).map(Expr::Leaf)
}

fn parse_op(cur: &mut Cursor) -> Option<Op> {
    let op = match (cur.peek()?, cur.peek_at(1)) {
        (b'!', Some(b'=')) => (Op::Ne, 2),
        (b'<', Some(b'=')) => (Op::Le, 2),
        (b'>', Some(b'=')) => (Op::Ge, 2),
        (b'<', _) => (Op::Lt, 1),
        (b'>', _) => (Op::Gt, 1),
        (b'=', _) => (Op::Eq, 1),
        _ => return None,
    };
    cur.pos += op.1;
    Some(op.0)
}

/// Parses the value after an operator. `stop` ends a bare value.
fn parse_value(cur: &mut Cursor, op: Op, stop: impl Fn(&[u8]) -> bool) -> Result<(Value, Span)> {
    cur.skip_ws();
    let start = cur.pos;
    let value = match cur.peek() {
        Some(b'"') => Value::Text {
            text: cur.quoted()?,
            quoted: true,
        },
        Some(b'%') => Value::Regex(cur.regex()?.0.to_string()),
        Some(b'=') => return Err(cur.expected("a value ('==' is not an operator; use '=')")),
        _ => {
            let text = cur.bare(stop);
            if text.is_empty() {
                return Err(cur.expected("a value after the operator"));
            }
            match parse_number(text) {
                Some(value) => Value::Number {
                    value,
                    text: text.to_string(),
                },
                None => Value::Text {
                    text: text.to_string(),
                    quoted: false,
                },
            }
        }
    };
    let span = Span::new(start, cur.pos);
    if op.is_relational() && !matches!(value, Value::Number { .. }) {
        return Err(PatternError::new(
            start,
            "expected a number: '<', '>', '<=' and '>=' compare numbers only",
        ));
    }
    Ok((value, span))
}

/// A number as filter patterns write it: optional sign, integer or decimal, optional exponent.
pub(crate) fn parse_number(text: &str) -> Option<f64> {
    let b = text.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let int_start = i;
    while b.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    let mut digits = i - int_start;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let frac = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        digits += i - frac;
    }
    if digits == 0 {
        return None;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let exp = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == exp {
            return None;
        }
    }
    if i != b.len() {
        return None;
    }
    text.parse().ok()
}

// ---------------------------------------------------------------- JSON

fn parse_json(cur: &mut Cursor) -> Result<Expr<JsonCondition>> {
    let open = cur.pos;
    if !cur.src.trim_end().ends_with('}') {
        let last = cur
            .src
            .trim_end()
            .char_indices()
            .last()
            .map_or(open, |(i, _)| i);
        return Err(PatternError::new(
            last.max(open),
            "a filter pattern that starts with '{' must end with '}'",
        ));
    }
    cur.pos += 1;
    cur.skip_ws();
    if cur.peek() == Some(b'}') {
        return Err(cur.expected("a condition such as '$.eventName = \"CreateUser\"'"));
    }
    let expr = parse_expr(cur, 0, &mut json_condition)?;
    cur.skip_ws();
    if !cur.eat(b'}') {
        return Err(cur.expected("'&&', '||' or the closing '}'"));
    }
    cur.skip_ws();
    if cur.peek().is_some() {
        return Err(cur.expected("nothing after the closing '}'"));
    }
    Ok(expr)
}

/// Ends a bare JSON value: a blank, `)`, `}`, `&&` or `||`.
fn json_value_stop(b: &[u8]) -> bool {
    matches!(b[0], b')' | b'}')
        || b[0].is_ascii_whitespace()
        || b.starts_with(b"&&")
        || b.starts_with(b"||")
}

fn json_condition(cur: &mut Cursor) -> Result<JsonCondition> {
    let start = cur.pos;
    let selector = parse_selector(cur)?;
    cur.skip_ws();
    let test = if cur.eat_keyword("IS") {
        cur.skip_ws();
        if cur.eat_keyword("NULL") {
            JsonTest::IsNull
        } else if cur.eat_keyword("TRUE") {
            JsonTest::IsTrue
        } else if cur.eat_keyword("FALSE") {
            JsonTest::IsFalse
        } else if cur.eat_keyword("NOT") {
            return Err(PatternError::new(
                cur.pos - 3,
                "'IS NOT' is not supported; use '!=' or 'NOT EXISTS'",
            ));
        } else {
            return Err(cur.expected("NULL, TRUE or FALSE after IS"));
        }
    } else if cur.eat_keyword("NOT") {
        cur.skip_ws();
        if !cur.eat_keyword("EXISTS") {
            return Err(cur.expected("EXISTS after NOT"));
        }
        JsonTest::NotExists
    } else if cur.eat_keyword("EXISTS") {
        return Err(PatternError::new(
            cur.pos - 6,
            "'EXISTS' is not supported; use '= *' to require a value, or 'NOT EXISTS'",
        ));
    } else {
        let Some(op) = parse_op(cur) else {
            return Err(cur.expected(
                "an operator (=, !=, <, >, <=, >=) or IS NULL / IS TRUE / IS FALSE / NOT EXISTS",
            ));
        };
        let (value, value_span) = parse_value(cur, op, json_value_stop)?;
        JsonTest::Compare {
            op,
            value,
            value_span,
        }
    };
    Ok(JsonCondition {
        selector,
        test,
        span: Span::new(start, cur.pos),
    })
}

/// Characters that end a bare key in a selector.
fn key_stop(b: u8) -> bool {
    b.is_ascii_whitespace()
        || matches!(
            b,
            b'$' | b'.'
                | b'['
                | b']'
                | b'='
                | b'!'
                | b'<'
                | b'>'
                | b'('
                | b')'
                | b'&'
                | b'|'
                | b'"'
                | b'\''
                | b'{'
                | b'}'
                | b'%'
                | b'*'
        )
}

fn parse_selector(cur: &mut Cursor) -> Result<Selector> {
    let start = cur.pos;
    if !cur.eat(b'$') {
        return Err(cur.expected("a selector starting with '$' (for example $.eventName)"));
    }
    let mut steps = Vec::new();
    loop {
        match cur.peek() {
            Some(b'.') => {
                cur.pos += 1;
                match cur.peek() {
                    Some(b'*') => {
                        cur.pos += 1;
                        steps.push(Step::AnyKey);
                    }
                    Some(b'[') => steps.push(bracket_step(cur)?),
                    _ => {
                        let key = cur.bare(|b| key_stop(b[0]));
                        if key.is_empty() {
                            return Err(cur.expected("a property name after '.'"));
                        }
                        steps.push(Step::Key(key.to_string()));
                    }
                }
            }
            Some(b'[') => steps.push(bracket_step(cur)?),
            _ => break,
        }
    }
    if steps.is_empty() {
        return Err(cur.expected("a property after '$' (for example $.eventName)"));
    }
    let selector = Selector {
        steps,
        span: Span::new(start, cur.pos),
    };
    if selector.wildcards() > 1 {
        return Err(PatternError::new(
            start,
            "a selector may contain only one wildcard ('[*]' or '.*')",
        ));
    }
    Ok(selector)
}

/// `[0]`, `[*]`, `['key']` or `["key"]`.
fn bracket_step(cur: &mut Cursor) -> Result<Step> {
    cur.pos += 1; // '['
    let step = match cur.peek() {
        Some(b'*') => {
            cur.pos += 1;
            Step::AnyIndex
        }
        Some(q @ (b'\'' | b'"')) => {
            let open = cur.pos;
            cur.pos += 1;
            let Some(n) = cur.rest().find(q as char) else {
                return Err(PatternError::new(open, "unterminated quoted property name"));
            };
            let key = &cur.rest()[..n];
            cur.pos += n + 1;
            Step::Key(key.to_string())
        }
        Some(b'0'..=b'9') => {
            let digits = cur.bare(|b| !b[0].is_ascii_digit());
            match digits.parse() {
                Ok(i) => Step::Index(i),
                Err(_) => return Err(PatternError::new(cur.pos, "array index is too large")),
            }
        }
        _ => return Err(cur.expected("an array index, '*' or a quoted property name")),
    };
    if !cur.eat(b']') {
        return Err(cur.expected("']'"));
    }
    Ok(step)
}

// ---------------------------------------------------------------- space-delimited

fn parse_delimited(cur: &mut Cursor) -> Result<Vec<Entry>> {
    let open = cur.pos;
    if !cur.src.trim_end().ends_with(']') {
        return Err(PatternError::new(
            open,
            "a filter pattern that starts with '[' must end with ']'",
        ));
    }
    cur.pos += 1;
    let mut entries = Vec::new();
    cur.skip_ws();
    if cur.eat(b']') {
        return finish_delimited(cur, entries);
    }
    loop {
        cur.skip_ws();
        let start = cur.pos;
        let kind = if cur.eat_str("...") {
            EntryKind::Ellipsis
        } else if matches!(cur.peek(), Some(b',' | b']')) {
            EntryKind::Field {
                name: None,
                condition: None,
            }
        } else {
            field_entry(cur)?
        };
        cur.skip_ws();
        entries.push(Entry {
            kind,
            span: Span::new(start, cur.pos),
        });
        if cur.eat(b',') {
            continue;
        }
        if cur.eat(b']') {
            break;
        }
        if cur.peek().is_none() {
            return Err(PatternError::new(
                open,
                "a filter pattern that starts with '[' must end with ']'",
            ));
        }
        return Err(cur.expected("',' or ']'"));
    }
    let ellipses = entries
        .iter()
        .filter(|e| e.kind == EntryKind::Ellipsis)
        .count();
    if ellipses > 1 {
        let second = entries
            .iter()
            .filter(|e| e.kind == EntryKind::Ellipsis)
            .nth(1)
            .map_or(open, |e| e.span.start);
        return Err(PatternError::new(second, "only one '...' is allowed"));
    }
    finish_delimited(cur, entries)
}

fn finish_delimited(cur: &mut Cursor, entries: Vec<Entry>) -> Result<Vec<Entry>> {
    cur.skip_ws();
    if cur.peek().is_some() {
        return Err(cur.expected("nothing after the closing ']'"));
    }
    Ok(entries)
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// `name`, or conditions on one field: `status_code = 404 || status_code = 410`.
fn field_entry(cur: &mut Cursor) -> Result<EntryKind> {
    let save = cur.pos;
    let name = cur.bare(|b| !is_name_byte(b[0]));
    if !name.is_empty() {
        cur.skip_ws();
        if matches!(cur.peek(), Some(b',' | b']')) {
            return Ok(EntryKind::Field {
                name: Some(name.to_string()),
                condition: None,
            });
        }
    }
    cur.pos = save;
    let mut field: Option<(String, usize)> = None;
    let condition = parse_expr(cur, 0, &mut |cur: &mut Cursor| {
        cur.skip_ws();
        let start = cur.pos;
        let name = cur.bare(|b| !is_name_byte(b[0]));
        if name.is_empty() {
            return Err(cur.expected("a field name"));
        }
        match &field {
            None => field = Some((name.to_string(), start)),
            Some((first, _)) if first != name => {
                return Err(PatternError::new(
                    start,
                    format!(
                        "conditions in one entry must all test the field '{first}'; put '{name}' in an entry of its own"
                    ),
                ))
            }
            Some(_) => {}
        }
        cur.skip_ws();
        let Some(op) = parse_op(cur) else {
            return Err(cur.expected("an operator (=, !=, <, >, <=, >=), ',' or ']'"));
        };
        let (value, value_span) = parse_value(cur, op, |b| {
            matches!(b[0], b',' | b']' | b')')
                || b[0].is_ascii_whitespace()
                || b.starts_with(b"&&")
                || b.starts_with(b"||")
        })?;
        Ok(FieldCondition {
            op,
            value,
            value_span,
            span: Span::new(start, cur.pos),
        })
    })?;
    Ok(EntryKind::Field {
        name: field.map(|(n, _)| n),
        condition: Some(condition),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_follow_the_documented_forms() {
        for (text, value) in [
            ("400", 400.0),
            ("+1000", 1000.0),
            ("-5", -5.0),
            ("55.5", 55.5),
            ("10e3", 10e3),
            ("10e-3", 10e-3),
            ("1e+3", 1000.0),
            (".5", 0.5),
        ] {
            assert_eq!(parse_number(text), Some(value), "{text}");
        }
        for text in ["4*", "1.2.3", "e3", "inf", "NaN", "1e", "+", "0x10", ""] {
            assert_eq!(parse_number(text), None, "{text}");
        }
    }

    #[test]
    fn precedence_is_and_over_or() {
        let Pattern::Json(Expr::Or(ors)) = parse("{ $.a = 1 || $.b = 2 && $.c = 3 }").unwrap()
        else {
            panic!("expected an OR at the top")
        };
        assert_eq!(ors.len(), 2);
        assert!(matches!(ors[1], Expr::And(_)));
    }

    #[test]
    fn selectors() {
        let Pattern::Json(Expr::Leaf(c)) = parse("{ $.a.b[0][1].['c.d'].* = 1 }").unwrap() else {
            unreachable!()
        };
        assert_eq!(
            c.selector.steps,
            vec![
                Step::Key("a".into()),
                Step::Key("b".into()),
                Step::Index(0),
                Step::Index(1),
                Step::Key("c.d".into()),
                Step::AnyKey
            ]
        );
    }
}
