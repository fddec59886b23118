//! A strict JSON reader (spec §1) and the value type every other module works on.
//!
//! The reader is iterative (an explicit stack of open containers), so nesting costs heap, not
//! machine stack, and the depth limit is checked before a container is opened. The whole text is
//! validated as UTF-8 once up front; after that strings are sliced, not decoded char by char.

// Errors are cold and carry a path, message and help; boxing them would only move the cost.
#![allow(clippy::result_large_err)]

use std::borrow::Cow;
use std::cell::Cell;
use std::collections::hash_map::RandomState;
use std::collections::HashSet;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};

use crate::error::{push_index, push_path, Code, Error};

mod build;
mod doc;
#[cfg(test)]
pub(crate) mod samples;

use build::ValueBuilder;
pub(crate) use build::{replay, Both, Build, Leaf, Text};
use doc::DocBuilder;
pub use doc::{Doc, Items, Node, Span, Str};

/// A JSON value. Objects keep members in document order (duplicates are rejected on read).
/// Every number is a finite double: the reader rejects what a double cannot hold exactly
/// (an integer literal that would be rounded) or at all (overflow).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    Array(Vec<Value>),
    Object(Vec<(String, Value)>),
}

impl Value {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(*n),
            _ => None,
        }
    }
    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }
    pub fn as_object(&self) -> Option<&[(String, Value)]> {
        match self {
            Value::Object(o) => Some(o),
            _ => None,
        }
    }
    /// Member lookup on an object (linear: objects in terms are small).
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_object()?.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
    /// JSON type name used in error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        }
    }
}

/// Reader limits (spec §1).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_bytes: usize,
    pub max_depth: usize,
}

impl Limits {
    pub const POLICY: Limits = Limits { max_bytes: 1 << 20, max_depth: 64 };
    pub const FLOW: Limits = Limits { max_bytes: 8 << 20, max_depth: 128 };
    pub const REQUEST: Limits = Limits { max_bytes: 64 << 20, max_depth: 128 };
    pub const CATALOG: Limits = Limits { max_bytes: 4 << 30, max_depth: 32 };
}

/// Objects up to this many members find duplicate names by scanning one `u64` tag per member;
/// larger ones switch to a set of name hashes.
const SCAN_MEMBERS: usize = 32;

/// Containers reserve room for as many items as the last one closed at the same depth, up to this
/// many: catalogs and request bodies repeat one shape, so most containers then never grow.
const MAX_RESERVE: usize = 64;

/// Reads `input` as one strict JSON text (spec §1). Every rejection carries `code`, a rule from
/// §1 and the JSON Pointer of the offending value: for `json_syntax` the container being read
/// (the byte offset is in the message), for `size_limit` and `invalid_utf8` the whole text ("").
pub fn parse(input: &[u8], limits: Limits, code: Code) -> Result<Value, Error> {
    Reader::new(limits, code).read(input)
}

/// Reads `input` exactly as [`parse`] does (same checks, same errors) into a [`Doc`]: strings
/// without escapes borrow from `input` and every node sits in one vector, so a small text costs a
/// handful of allocations instead of one per string and container.
pub fn parse_doc(input: &[u8], limits: Limits, code: Code) -> Result<Doc<'_>, Error> {
    parse_doc_and(checked_text(input, limits, code)?, limits, code, &mut ())
}

/// [`parse_doc`] of a text that passed [`checked_text`], also handing every value, as it is read,
/// to `also` (the canonical writer), so one pass over the text does both.
pub(crate) fn parse_doc_and<'t, B: Build<'t>>(
    text: &'t str,
    limits: Limits,
    code: Code,
    also: &mut B,
) -> Result<Doc<'t>, Error> {
    let mut doc = DocBuilder::for_text(text.len());
    read_into(text, limits, code, &mut Both(&mut doc, also))?;
    Ok(doc.finish())
}

/// Reads a text that passed [`checked_text`] as [`parse`] does, handing the values to `build`.
pub(crate) fn read_into<'t, B: Build<'t>>(
    text: &'t str,
    limits: Limits,
    code: Code,
    build: &mut B,
) -> Result<(), Error> {
    let mut scratch = SPARE.take().unwrap_or_else(|| Box::new(Scratch::new()));
    let read = Parser::new(text, limits, code, &mut scratch, build).run();
    if scratch.is_small() {
        SPARE.set(Some(scratch));
    }
    read
}

thread_local! {
    /// The scratch space of the last text [`read_into`] read on this thread, kept for the next:
    /// reading a small text then allocates nothing for the reader itself.
    static SPARE: Cell<Option<Box<Scratch>>> = const { Cell::new(None) };
}

/// The strict reader as a value that keeps its scratch space between texts, for reading many
/// small documents of one shape (a catalog's models): its stack and its guesses of container
/// sizes carry over, so the next text allocates less. Each text is read exactly as [`parse`] does.
pub struct Reader {
    limits: Limits,
    code: Code,
    scratch: Scratch,
    build: ValueBuilder,
}

impl Reader {
    pub fn new(limits: Limits, code: Code) -> Reader {
        Reader { limits, code, scratch: Scratch::new(), build: ValueBuilder::default() }
    }

    /// Reads `input` as one strict JSON text, like [`parse`].
    pub fn read(&mut self, input: &[u8]) -> Result<Value, Error> {
        let text = checked_text(input, self.limits, self.code)?;
        self.build.reset();
        Parser::new(text, self.limits, self.code, &mut self.scratch, &mut self.build).run()?;
        Ok(self.build.take_root())
    }
}

/// The size and encoding checks that come before any syntax (spec §1): the text, as `str`.
pub(crate) fn checked_text(input: &[u8], limits: Limits, code: Code) -> Result<&str, Error> {
    if input.len() > limits.max_bytes {
        return Err(Error::new(
            code,
            "size_limit",
            "",
            format!("The text is {} bytes, over the limit of {} bytes.", input.len(), limits.max_bytes),
        ));
    }
    std::str::from_utf8(input).map_err(|e| {
        Error::new(
            code,
            "invalid_utf8",
            "",
            format!("The text is not UTF-8: invalid byte sequence at byte {}.", e.valid_up_to()),
        )
    })
}

/// The reader's working memory, kept by a [`Reader`] from one text to the next.
struct Scratch {
    stack: Vec<Frame>,
    /// The member names of every open object, innermost last.
    names: Vec<Name>,
    /// Decoded text of member names that held escapes.
    decoded: String,
    /// The decoded text of the last string read that held escapes.
    unescaped: String,
    /// Per depth: the item counts of the last object and the last array closed there.
    sizes: Vec<(u32, u32)>,
    /// The sets of name hashes of the open objects past [`SCAN_MEMBERS`], innermost last.
    sets: Vec<HashSet<u64, BuildHasherDefault<Prehashed>>>,
    /// Keys for hashing member names of large objects, made on first use.
    hasher: Option<RandomState>,
}

impl Scratch {
    /// Whether keeping this scratch for the next text holds on to little memory (one deep or
    /// wide text should not pin its buffers for the life of the thread).
    fn is_small(&self) -> bool {
        const KEEP: usize = 1024;
        self.stack.capacity() <= KEEP
            && self.names.capacity() <= KEEP
            && self.sizes.capacity() <= KEEP
            && self.sets.capacity() <= KEEP
            && self.decoded.capacity() <= 16 * KEEP
            && self.unescaped.capacity() <= 16 * KEEP
    }

    fn new() -> Self {
        // Room for typical nesting up front, so a one-off read does not regrow its stack.
        Scratch {
            stack: Vec::with_capacity(8),
            names: Vec::with_capacity(8),
            decoded: String::new(),
            unescaped: String::new(),
            sizes: Vec::new(),
            sets: Vec::new(),
            hasher: None,
        }
    }
}

/// A member name of an open object: where its text is (in the input, or in `Scratch::decoded`
/// when it held escapes) and its [`key_tag`].
struct Name {
    start: usize,
    end: usize,
    decoded: bool,
    tag: u64,
}

/// An open container. The member or element being read is its "current child": for an array the
/// index `len`, for an object its last name.
enum Frame {
    Array {
        len: usize,
    },
    Object {
        /// How many names this object has read; they start at `names_from` in `Scratch::names`.
        len: usize,
        names_from: usize,
        decoded_from: usize,
        /// Whether the object is past [`SCAN_MEMBERS`] and has its set of name hashes, the
        /// last of `Scratch::sets`.
        hashed: bool,
    },
}

/// A hasher for keys that already are uniform hashes.
#[derive(Default)]
struct Prehashed(u64);

impl Hasher for Prehashed {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// What went wrong inside a string; the caller knows which path to blame.
enum StrError {
    Syntax(String),
    LoneSurrogate(usize),
}

struct Parser<'t, 's, B> {
    text: &'t str,
    bytes: &'t [u8],
    pos: usize,
    max_depth: usize,
    code: Code,
    scratch: &'s mut Scratch,
    build: &'s mut B,
}

/// The text of a member name.
fn name_str<'a>(text: &'a str, decoded: &'a str, name: &Name) -> &'a str {
    let source = if name.decoded { decoded } else { text };
    source.get(name.start..name.end).unwrap_or_default()
}

impl<'t, 's, B: Build<'t>> Parser<'t, 's, B> {
    fn new(text: &'t str, limits: Limits, code: Code, scratch: &'s mut Scratch, build: &'s mut B) -> Self {
        // A text that failed leaves its open containers behind.
        scratch.stack.clear();
        scratch.names.clear();
        scratch.decoded.clear();
        scratch.sets.clear();
        Parser { text, bytes: text.as_bytes(), pos: 0, max_depth: limits.max_depth, code, scratch, build }
    }

    fn run(mut self) -> Result<(), Error> {
        if self.bytes.starts_with(b"\xEF\xBB\xBF") {
            return Err(self.syntax_at(0, "a byte-order mark is not allowed before JSON text".to_string()));
        }
        'value: loop {
            self.skip_ws();
            let start = self.pos;
            match self.bytes.get(self.pos) {
                Some(b'[') => {
                    self.check_depth()?;
                    let at = self.pos;
                    self.pos += 1;
                    let empty = self.next_token() == Some(b']');
                    self.build.open_array(if empty { 0 } else { self.size_hint().1 }, at);
                    self.skip_ws();
                    if empty {
                        self.build.close_array(0, self.pos);
                        self.pos += 1;
                    } else {
                        self.scratch.stack.push(Frame::Array { len: 0 });
                        continue 'value;
                    }
                }
                Some(b'{') => {
                    self.check_depth()?;
                    let at = self.pos;
                    self.pos += 1;
                    let empty = self.next_token() == Some(b'}');
                    self.build.open_object(if empty { 0 } else { self.size_hint().0 }, at);
                    self.skip_ws();
                    if empty {
                        self.build.close_object(0, self.pos);
                        self.pos += 1;
                    } else {
                        let s = &mut *self.scratch;
                        s.stack.push(Frame::Object {
                            len: 0,
                            names_from: s.names.len(),
                            decoded_from: s.decoded.len(),
                            hashed: false,
                        });
                        self.read_key()?;
                        continue 'value;
                    }
                }
                Some(b'"') => match self.read_string() {
                    Ok(Some(s)) => self.build.leaf(Leaf::String(Text::Borrowed(s)), start, self.pos),
                    Ok(None) => self.build.leaf(Leaf::String(Text::Scratch(&self.scratch.unescaped)), start, self.pos),
                    Err(StrError::Syntax(msg)) => return Err(self.syntax_at(self.pos, msg)),
                    Err(StrError::LoneSurrogate(at)) => return Err(self.lone_surrogate(self.child_path(), at)),
                },
                Some(b'-' | b'0'..=b'9') => {
                    let n = self.read_number()?;
                    self.build.leaf(Leaf::Number(n), start, self.pos);
                }
                Some(b't') => self.literal("true", Leaf::Bool(true))?,
                Some(b'f') => self.literal("false", Leaf::Bool(false))?,
                Some(b'n') => self.literal("null", Leaf::Null)?,
                Some(_) => return Err(self.unexpected("a value")),
                None => return Err(self.syntax_at(self.pos, "the text ends where a value was expected".to_string())),
            }
            // A value is finished: count it in its container; closing a container finishes another.
            loop {
                let in_array = match self.scratch.stack.last_mut() {
                    None => {
                        self.skip_ws();
                        if self.pos < self.bytes.len() {
                            return Err(self.syntax_at(self.pos, "unexpected text after the JSON value".to_string()));
                        }
                        return Ok(());
                    }
                    Some(Frame::Array { len }) => {
                        *len += 1;
                        true
                    }
                    Some(Frame::Object { .. }) => false,
                };
                self.skip_ws();
                match (self.bytes.get(self.pos), in_array) {
                    (Some(b','), true) => {
                        self.pos += 1;
                        continue 'value;
                    }
                    (Some(b','), false) => {
                        self.pos += 1;
                        self.skip_ws();
                        self.read_key()?;
                        continue 'value;
                    }
                    (Some(b']'), true) | (Some(b'}'), false) => {
                        let at = self.pos;
                        self.pos += 1;
                        let depth = self.scratch.stack.len().saturating_sub(1);
                        // Fields copied out one by one, then the frame dropped: cheaper than
                        // moving the whole frame out with `pop`.
                        match self.scratch.stack.last() {
                            Some(&Frame::Array { len }) => {
                                self.scratch.stack.truncate(depth);
                                self.record_size(depth, |s| &mut s.1, len);
                                self.build.close_array(len, at);
                            }
                            Some(&Frame::Object { len, names_from, decoded_from, hashed }) => {
                                let s = &mut *self.scratch;
                                s.stack.truncate(depth);
                                s.names.truncate(names_from);
                                s.decoded.truncate(decoded_from);
                                if hashed {
                                    s.sets.pop();
                                }
                                self.record_size(depth, |s| &mut s.0, len);
                                self.build.close_object(len, at);
                            }
                            None => return Err(self.syntax_at(self.pos, "unbalanced brackets".to_string())),
                        }
                    }
                    (_, true) => return Err(self.unexpected("',' or ']'")),
                    (_, false) => return Err(self.unexpected("',' or '}'")),
                }
            }
        }
    }

    #[inline(always)]
    fn skip_ws(&mut self) {
        // Most tokens follow one another directly: one test, and the loop only for a run.
        if let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.pos) {
            self.skip_ws_run();
        }
    }

    #[inline(never)]
    fn skip_ws_run(&mut self) {
        let start = self.pos;
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
        self.build.space(start, self.pos);
    }

    /// The first byte at or after `pos` that is not whitespace, without moving.
    fn next_token(&self) -> Option<u8> {
        let rest = self.bytes.get(self.pos..).unwrap_or_default();
        rest.iter().copied().find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
    }

    /// How many (members, items) to reserve for a container opened at the current depth.
    fn size_hint(&self) -> (usize, usize) {
        let (o, a) = self.scratch.sizes.get(self.scratch.stack.len()).copied().unwrap_or((0, 0));
        ((o as usize).min(MAX_RESERVE), (a as usize).min(MAX_RESERVE))
    }

    fn record_size(&mut self, depth: usize, field: impl Fn(&mut (u32, u32)) -> &mut u32, len: usize) {
        if !B::HINTS {
            return;
        }
        let sizes = &mut self.scratch.sizes;
        if sizes.len() <= depth {
            sizes.resize(depth + 1, (0, 0));
        }
        if let Some(slot) = sizes.get_mut(depth) {
            *field(slot) = u32::try_from(len).unwrap_or(u32::MAX);
        }
    }

    /// Refuses to open a container past the depth limit; the error names the container itself.
    fn check_depth(&self) -> Result<(), Error> {
        if self.scratch.stack.len() >= self.max_depth {
            return Err(Error::new(
                self.code,
                "depth_limit",
                self.child_path(),
                format!("Nesting is deeper than {} arrays/objects (at byte {}).", self.max_depth, self.pos),
            ));
        }
        Ok(())
    }

    /// Reads `"key"` and `:` for the object on top of the stack and makes it the pending key.
    fn read_key(&mut self) -> Result<(), Error> {
        if self.bytes.get(self.pos) != Some(&b'"') {
            return Err(self.unexpected("a member name in double quotes"));
        }
        let start = self.pos + 1;
        let read = match self.read_string() {
            Ok(k) => k,
            Err(StrError::Syntax(msg)) => return Err(self.syntax_at(self.pos, msg)),
            Err(StrError::LoneSurrogate(at)) => return Err(self.lone_surrogate(self.container_path(), at)),
        };
        let s = &mut *self.scratch;
        let mut name = match read {
            // A name without escapes is the text between the quotes.
            Some(_) => Name { start, end: self.pos - 1, decoded: false, tag: 0 },
            None => {
                let from = s.decoded.len();
                s.decoded.push_str(&s.unescaped);
                Name { start: from, end: s.decoded.len(), decoded: true, tag: 0 }
            }
        };
        let text = self.text;
        let key = name_str(text, &s.decoded, &name);
        name.tag = key_tag(key);
        let duplicate = match s.stack.last_mut() {
            Some(Frame::Object { len, names_from, hashed, .. }) => {
                let mine = s.names.get(*names_from..).unwrap_or_default();
                let same = |n: &Name| name_str(text, &s.decoded, n) == key;
                let dup = match s.sets.last_mut() {
                    Some(set) if *hashed => {
                        let hasher = s.hasher.get_or_insert_with(RandomState::new);
                        // A repeated hash is a duplicate unless two names collide; the scan decides.
                        !set.insert(hasher.hash_one(key)) && mine.iter().any(same)
                    }
                    // The common case, no tag in common, is one tight pass over a few words.
                    _ if *len < SCAN_MEMBERS => mine.iter().any(|n| n.tag == name.tag && same(n)),
                    _ => {
                        let hasher = s.hasher.get_or_insert_with(RandomState::new);
                        let mut set: HashSet<u64, BuildHasherDefault<Prehashed>> =
                            HashSet::with_capacity_and_hasher(mine.len() * 2, BuildHasherDefault::default());
                        set.extend(mine.iter().map(|n| hasher.hash_one(name_str(text, &s.decoded, n))));
                        let dup = !set.insert(hasher.hash_one(key)) && mine.iter().any(same);
                        s.sets.push(set);
                        *hashed = true;
                        dup
                    }
                };
                *len += 1;
                dup
            }
            _ => false,
        };
        if duplicate {
            let key = name_str(text, &s.decoded, &name).to_string();
            return Err(Error::new(
                self.code,
                "duplicate_key",
                push_path(&self.container_path(), &key),
                format!("The object names member '{}' twice (second time at byte {}).", key, self.pos),
            ));
        }
        let name_text = match read {
            Some(plain) => Text::Borrowed(plain),
            None => Text::Scratch(name_str(text, &s.decoded, &name)),
        };
        self.build.name(name_text, start - 1, self.pos);
        s.names.push(name);
        self.skip_ws();
        if self.bytes.get(self.pos) != Some(&b':') {
            return Err(self.unexpected("':'"));
        }
        self.pos += 1;
        Ok(())
    }

    /// Reads the string starting at the opening quote at `self.pos`: the string when it held no
    /// escapes; otherwise `None`, and its decoded text is in `Scratch::unescaped`. On error
    /// `self.pos` is the offending byte.
    #[inline(always)]
    fn read_string(&mut self) -> Result<Option<&'t str>, StrError> {
        let start = self.pos + 1;
        let end = scan_plain(self.bytes, start);
        if self.bytes.get(end) == Some(&b'"') {
            self.pos = end + 1;
            // Both ends are ASCII quotes, so the slice is on char boundaries.
            return Ok(Some(self.text.get(start..end).unwrap_or_default()));
        }
        self.read_escaped_string(start, end)
    }

    /// [`Parser::read_string`] past the plain start `start..i` of the string.
    #[inline(never)]
    fn read_escaped_string(&mut self, start: usize, mut i: usize) -> Result<Option<&'t str>, StrError> {
        match self.bytes.get(i) {
            Some(b'\\') => {}
            Some(&c) => {
                self.pos = i;
                return Err(control_char(c, i));
            }
            None => {
                self.pos = i;
                return Err(StrError::Syntax("the text ends inside a string".to_string()));
            }
        }
        let mut out = std::mem::take(&mut self.scratch.unescaped);
        out.clear();
        out.push_str(self.text.get(start..i).unwrap_or_default());
        loop {
            match self.bytes.get(i) {
                Some(b'"') => {
                    self.pos = i + 1;
                    self.scratch.unescaped = out;
                    return Ok(None);
                }
                Some(b'\\') => {
                    i = self.read_escape(i, &mut out)?;
                }
                Some(&c) if c < 0x20 => {
                    self.pos = i;
                    return Err(control_char(c, i));
                }
                Some(_) => {
                    let end = scan_plain(self.bytes, i);
                    out.push_str(self.text.get(i..end).unwrap_or_default());
                    i = end;
                }
                None => {
                    self.pos = i;
                    return Err(StrError::Syntax("the text ends inside a string".to_string()));
                }
            }
        }
    }

    /// Decodes the escape at `i` (a backslash) into `out`; returns the index after it.
    fn read_escape(&mut self, i: usize, out: &mut String) -> Result<usize, StrError> {
        let c = match self.bytes.get(i + 1) {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => {
                let unit = self.hex4(i)?;
                if (0xDC00..0xE000).contains(&unit) {
                    self.pos = i;
                    return Err(StrError::LoneSurrogate(i));
                }
                if (0xD800..0xDC00).contains(&unit) {
                    let low = if self.bytes.get(i + 6) == Some(&b'\\') && self.bytes.get(i + 7) == Some(&b'u') {
                        self.hex4(i + 6)?
                    } else {
                        0
                    };
                    if !(0xDC00..0xE000).contains(&low) {
                        self.pos = i;
                        return Err(StrError::LoneSurrogate(i));
                    }
                    let code = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
                    out.push(char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER));
                    return Ok(i + 12);
                }
                out.push(char::from_u32(unit).unwrap_or(char::REPLACEMENT_CHARACTER));
                return Ok(i + 6);
            }
            Some(_) => {
                self.pos = i;
                return Err(StrError::Syntax(format!("invalid escape sequence in a string at byte {i}")));
            }
            None => {
                self.pos = i;
                return Err(StrError::Syntax("the text ends inside a string".to_string()));
            }
        };
        out.push(c);
        Ok(i + 2)
    }

    /// The four hex digits of the `\u` escape whose backslash is at `i`.
    fn hex4(&mut self, i: usize) -> Result<u32, StrError> {
        let mut unit = 0u32;
        for k in 0..4 {
            let digit = self.bytes.get(i + 2 + k).and_then(|&b| (b as char).to_digit(16));
            match digit {
                Some(d) => unit = unit * 16 + d,
                None => {
                    self.pos = i;
                    return Err(StrError::Syntax(format!("\\u must be followed by four hex digits (at byte {i})")));
                }
            }
        }
        Ok(unit)
    }

    fn read_number(&mut self) -> Result<f64, Error> {
        let start = self.pos;
        let mut i = start;
        let negative = self.bytes.get(i) == Some(&b'-');
        if negative {
            i += 1;
        }
        let int_start = i;
        match self.bytes.get(i) {
            Some(b'0') => {
                i += 1;
                if matches!(self.bytes.get(i), Some(b'0'..=b'9')) {
                    return Err(self.syntax_at(start, "a number must not have leading zeros".to_string()));
                }
            }
            Some(b'1'..=b'9') => i = self.digits(i),
            Some(b'I') => {
                return Err(self.syntax_at(start, "-Infinity is not JSON; numbers must be finite".to_string()));
            }
            _ => return Err(self.syntax_at(i, "a digit must follow '-'".to_string())),
        }
        let int_end = i;
        let mut integer = true;
        let mut exponent = false;
        if self.bytes.get(i) == Some(&b'.') {
            integer = false;
            if !matches!(self.bytes.get(i + 1), Some(b'0'..=b'9')) {
                return Err(self.syntax_at(i + 1, "a digit must follow the decimal point".to_string()));
            }
            i = self.digits(i + 1);
        }
        if let Some(b'e' | b'E') = self.bytes.get(i) {
            integer = false;
            exponent = true;
            i += 1;
            if let Some(b'+' | b'-') = self.bytes.get(i) {
                i += 1;
            }
            if !matches!(self.bytes.get(i), Some(b'0'..=b'9')) {
                return Err(self.syntax_at(i, "a digit must follow the exponent marker".to_string()));
            }
            i = self.digits(i);
        }
        self.pos = i;
        let literal = self.text.get(start..i).unwrap_or_default();
        if integer {
            let digits = self.text.get(int_start..int_end).unwrap_or_default();
            let magnitude = match integer_value(digits) {
                Exactness::Exact(m) => m,
                Exactness::Overflow => return Err(self.non_finite(literal)),
                Exactness::Rounded(nearest) => {
                    let sign = if negative { "-" } else { "" };
                    return Err(Error::new(
                        self.code,
                        "integer_precision",
                        self.child_path(),
                        format!(
                            "The integer {} cannot be represented exactly as a double (the nearest is {sign}{nearest}).",
                            abbreviate(literal)
                        ),
                    )
                    .with_help(
                        "Send it as a string, or as a number with a fraction or exponent if rounding is acceptable.",
                    ));
                }
            };
            // Adding 0.0 turns -0 into 0.
            return Ok(if negative { -magnitude + 0.0 } else { magnitude });
        }
        let plain = if exponent {
            None
        } else {
            // `int.frac`, the digits after the point from `int_end + 1`.
            let int = self.text.get(int_start..int_end).unwrap_or_default();
            plain_decimal(int, self.text.get(int_end + 1..i).unwrap_or_default())
        };
        if let Some(magnitude) = plain {
            return Ok(if negative { -magnitude + 0.0 } else { magnitude });
        }
        match literal.parse::<f64>() {
            Ok(n) if n.is_finite() => Ok(n + 0.0),
            _ => Err(self.non_finite(literal)),
        }
    }

    fn non_finite(&self, literal: &str) -> Error {
        Error::new(
            self.code,
            "non_finite_number",
            self.child_path(),
            format!("The number {} overflows a double.", abbreviate(literal)),
        )
    }

    fn digits(&self, mut i: usize) -> usize {
        while let Some(b'0'..=b'9') = self.bytes.get(i) {
            i += 1;
        }
        i
    }

    fn literal(&mut self, word: &str, leaf: Leaf<'t, 'static>) -> Result<(), Error> {
        if self.bytes.get(self.pos..self.pos + word.len()) == Some(word.as_bytes()) {
            self.pos += word.len();
            self.build.leaf(leaf, self.pos - word.len(), self.pos);
            Ok(())
        } else {
            Err(self.unexpected("a value"))
        }
    }

    /// Pointer to the value being read (the current child of every open container).
    fn child_path(&self) -> String {
        self.path_through(self.scratch.stack.len())
    }

    /// Pointer to the innermost open container.
    fn container_path(&self) -> String {
        self.path_through(self.scratch.stack.len().saturating_sub(1))
    }

    /// Pointer to the current child of the `open`-th open container.
    fn path_through(&self, open: usize) -> String {
        let s = &*self.scratch;
        let mut path = String::new();
        for frame in s.stack.iter().take(open) {
            path = match frame {
                Frame::Array { len, .. } => push_index(&path, *len),
                Frame::Object { len, names_from, .. } => {
                    let name = s.names.get((names_from + len).saturating_sub(1));
                    push_path(&path, name.map(|n| name_str(self.text, &s.decoded, n)).unwrap_or_default())
                }
            };
        }
        path
    }

    fn syntax_at(&self, at: usize, what: String) -> Error {
        let what = if what.contains(" at byte ") { what } else { format!("{what} at byte {at}") };
        Error::new(self.code, "json_syntax", self.container_path(), format!("Not JSON: {what}."))
    }

    fn unexpected(&self, expected: &str) -> Error {
        let rest = self.text.get(self.pos..).unwrap_or_default();
        let what = match rest.chars().next() {
            None => format!("the text ends where {expected} was expected"),
            Some(_) if rest.starts_with("NaN") || rest.starts_with("Infinity") => {
                "NaN and Infinity are not JSON; numbers must be finite".to_string()
            }
            Some('/') => "comments are not allowed".to_string(),
            Some('\'') => "strings must use double quotes".to_string(),
            Some(c) if c.is_control() => format!("unexpected character U+{:04X}, expected {expected}", c as u32),
            Some(c) => format!("unexpected character '{c}', expected {expected}"),
        };
        self.syntax_at(self.pos, what)
    }

    fn lone_surrogate(&self, path: String, at: usize) -> Error {
        Error::new(
            self.code,
            "lone_surrogate",
            path,
            format!("The string escape at byte {at} is a UTF-16 surrogate that is not part of a valid pair."),
        )
    }
}

/// How an integer literal's magnitude (its digits, no sign, no leading zeros) fits a double.
enum Exactness {
    Exact(f64),
    /// The literal would be silently rounded; the nearest double's exact value, in decimal.
    Rounded(String),
    Overflow,
}

/// The double an integer literal's `digits` stand for, if it stands for one without loss (spec §1,
/// `integer_precision`): the nearest double must equal the literal exactly (2^54, 10^20), or be
/// what the canonical writer prints back as the same text (`123456789012345680000`, the JCS form
/// of 1.2345678901234568e20), so canonical text always reads back as itself. 2^53 + 1 is neither.
fn integer_value(digits: &str) -> Exactness {
    let f = if digits.len() <= 19 {
        // Fits a u64, whose conversion to f64 rounds to nearest exactly like a decimal parse.
        let m = digits.bytes().fold(0u64, |acc, d| acc * 10 + u64::from(d - b'0'));
        let f = m as f64;
        // Below 2^53 every integer is exact; a u128 holds any such double (up to 2^64) exactly.
        if m <= 1 << 53 || f as u128 == u128::from(m) {
            return Exactness::Exact(f);
        }
        f
    } else {
        match digits.parse::<f64>() {
            Ok(f) if f.is_finite() => f,
            _ => return Exactness::Overflow,
        }
    };
    // `{:.0}` prints a double's exact decimal expansion, so equal text means equal value.
    let exact = format!("{f:.0}");
    if exact == digits || ryu_js::Buffer::new().format_finite(f) == digits {
        Exactness::Exact(f)
    } else {
        Exactness::Rounded(exact)
    }
}

/// The value of `int.frac` (digits; no sign, no exponent) when it has at most 15 digits: then the
/// digits as an integer and the power of ten are both exact doubles, so one correctly rounded
/// division gives the nearest double, as a full decimal parse would.
fn plain_decimal(int: &str, frac: &str) -> Option<f64> {
    const POW10: [f64; 16] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];
    let int = if int == "0" { "" } else { int };
    if int.len() + frac.len() > 15 {
        return None;
    }
    let mantissa = int.bytes().chain(frac.bytes()).fold(0u64, |m, d| m * 10 + u64::from(d.wrapping_sub(b'0')));
    Some(mantissa as f64 / POW10.get(frac.len())?)
}

/// A literal short enough for a one-sentence message (an integer literal may be a megabyte long).
fn abbreviate(literal: &str) -> Cow<'_, str> {
    const KEEP: usize = 40;
    // Number literals are ASCII, so any byte index is a char boundary.
    match literal.get(..KEEP) {
        Some(head) if literal.len() > KEEP => Cow::Owned(format!("{head}… ({} characters)", literal.len())),
        _ => Cow::Borrowed(literal),
    }
}

/// A cheap summary of a member name: equal names have equal tags, and names of one object
/// rarely share one, so the duplicate scan compares strings only on a tag match. The length, the
/// first four bytes and the last three (names of up to seven bytes are the tag, exactly).
fn key_tag(key: &str) -> u64 {
    let b = key.as_bytes();
    let body = match (b.first_chunk::<4>(), b.last_chunk::<4>()) {
        (Some(head), Some(tail)) if b.len() >= 8 => {
            u64::from(u32::from_le_bytes(*head)) | (u64::from(u32::from_le_bytes(*tail) >> 8) << 32)
        }
        _ => {
            let mut word = [0u8; 8];
            if let Some(dst) = word.get_mut(..b.len()) {
                dst.copy_from_slice(b);
            }
            u64::from_le_bytes(word)
        }
    };
    (body & 0x00FF_FFFF_FFFF_FFFF) | ((b.len().min(255) as u64) << 56)
}

fn control_char(c: u8, at: usize) -> StrError {
    StrError::Syntax(format!("control character U+{c:04X} must be escaped in a string at byte {at}"))
}

/// Index of the first byte at or after `i` that ends a run of plain string bytes: a quote, a
/// backslash, a control character, or the end. Eight bytes at a time.
#[inline]
pub(crate) fn scan_plain(bytes: &[u8], mut i: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    while let Some(chunk) = bytes.get(i..i + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let w = u64::from_le_bytes(word);
        let quote = w ^ (ONES * u64::from(b'"'));
        let slash = w ^ (ONES * u64::from(b'\\'));
        // Classic "has zero byte" / "has byte below n" tests.
        let special = ((quote.wrapping_sub(ONES) & !quote)
            | (slash.wrapping_sub(ONES) & !slash)
            | (w.wrapping_sub(ONES * 0x20) & !w))
            & HIGHS;
        if special != 0 {
            // A borrow flags only bytes above a byte that really matches, so the lowest
            // flagged byte is the first special one.
            return i + (special.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while let Some(&b) = bytes.get(i) {
        if b == b'"' || b == b'\\' || b < 0x20 {
            break;
        }
        i += 1;
    }
    i
}

/// Resolves a JSON Pointer (RFC 6901) against `value`; `None` when it names nothing.
pub fn pointer_get<'v>(value: &'v Value, pointer: &str) -> Option<&'v Value> {
    if pointer.is_empty() {
        return Some(value);
    }
    let mut current = value;
    for raw in pointer.strip_prefix('/')?.split('/') {
        let token = unescape_token(raw)?;
        current = match current {
            Value::Array(items) => {
                let canonical_index = token == "0" || (!token.starts_with('0') && !token.is_empty());
                if !canonical_index || !token.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                items.get(token.parse::<usize>().ok()?)?
            }
            Value::Object(members) => members.iter().find(|(k, _)| *k == token).map(|(_, v)| v)?,
            _ => return None,
        };
    }
    Some(current)
}

fn unescape_token(raw: &str) -> Option<std::borrow::Cow<'_, str>> {
    if !raw.contains('~') {
        return Some(std::borrow::Cow::Borrowed(raw));
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c == '~' {
            match chars.next() {
                Some('0') => out.push('~'),
                Some('1') => out.push('/'),
                _ => return None,
            }
        } else {
            out.push(c);
        }
    }
    Some(std::borrow::Cow::Owned(out))
}

/// Checks that `value` nests no deeper than `max_depth` arrays/objects, as the reader would have
/// (for values that did not come straight from [`parse`] with the same limits). Iterative.
pub fn check_depth(value: &Value, max_depth: usize, code: Code) -> Result<(), Error> {
    enum Open<'v> {
        Array(&'v [Value], usize),
        Object(&'v [(String, Value)], usize),
    }
    fn open(value: &Value) -> Option<Open<'_>> {
        match value {
            Value::Array(items) => Some(Open::Array(items, 0)),
            Value::Object(members) => Some(Open::Object(members, 0)),
            _ => None,
        }
    }
    let too_deep = |stack: &[Open<'_>]| {
        let mut path = String::new();
        for frame in stack {
            path = match frame {
                Open::Array(_, next) => push_index(&path, next.saturating_sub(1)),
                Open::Object(members, next) => {
                    let key = members.get(next.saturating_sub(1)).map(|(k, _)| k.as_str()).unwrap_or_default();
                    push_path(&path, key)
                }
            };
        }
        Error::new(code, "depth_limit", path, format!("Nesting is deeper than {max_depth} arrays/objects."))
    };
    let Some(root) = open(value) else { return Ok(()) };
    if max_depth == 0 {
        return Err(too_deep(&[]));
    }
    let mut stack = vec![root];
    while let Some(top) = stack.last_mut() {
        let child = match top {
            Open::Array(items, next) => {
                *next += 1;
                items.get(*next - 1)
            }
            Open::Object(members, next) => {
                *next += 1;
                members.get(*next - 1).map(|(_, v)| v)
            }
        };
        match child {
            None => {
                stack.pop();
            }
            Some(child) => {
                if let Some(frame) = open(child) {
                    if stack.len() >= max_depth {
                        return Err(too_deep(&stack));
                    }
                    stack.push(frame);
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    const BIG: Limits = Limits { max_bytes: 64 << 20, max_depth: 128 };

    fn read(text: &str) -> Value {
        parse(text.as_bytes(), BIG, Code::InvalidRequest).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn reject(bytes: &[u8], limits: Limits) -> Error {
        match parse(bytes, limits, Code::InvalidPolicy) {
            Ok(v) => panic!("accepted {:?} as {v:?}", String::from_utf8_lossy(bytes)),
            Err(e) => {
                assert_eq!(e.code, Code::InvalidPolicy);
                e
            }
        }
    }

    /// (rule, path) of the rejection of `text` under request limits.
    fn rule_path(text: &str) -> (&'static str, String) {
        let e = reject(text.as_bytes(), BIG);
        (e.rule, e.path)
    }

    fn num(n: f64) -> Value {
        Value::Number(n)
    }

    #[test]
    fn reads_every_json_type() {
        let v = read(r#" {"a": [1, -2.5, 3e2, true, false, null, "s"], "b": {}, "c": []} "#);
        assert_eq!(
            v,
            Value::Object(vec![
                (
                    "a".into(),
                    Value::Array(vec![
                        num(1.0),
                        num(-2.5),
                        num(300.0),
                        Value::Bool(true),
                        Value::Bool(false),
                        Value::Null,
                        Value::String("s".into()),
                    ])
                ),
                ("b".into(), Value::Object(vec![])),
                ("c".into(), Value::Array(vec![])),
            ])
        );
        assert_eq!(read("\t\r\n 7 \n"), num(7.0));
    }

    #[test]
    fn decodes_escapes_and_surrogate_pairs() {
        let v = read(r#""a\"b\\c\/d\b\f\n\r\t\u0041\u00e9\u20AC\ud83d\ude02""#);
        assert_eq!(v, Value::String("a\"b\\c/d\u{8}\u{c}\n\r\tAé€😂".into()));
        // A long plain run exercises the eight-bytes-at-a-time scan, escapes after it the slow path.
        let long = format!("\"{}\\n{}\"", "x".repeat(1000), "é".repeat(100));
        assert_eq!(read(&long), Value::String(format!("{}\n{}", "x".repeat(1000), "é".repeat(100))));
        assert_eq!(read("\"\\u0000\""), Value::String("\0".into()));
    }

    #[test]
    fn numbers() {
        assert_eq!(read("0"), num(0.0));
        assert_eq!(read("-0"), num(0.0));
        assert!(read("-0").as_f64().unwrap().is_sign_positive(), "-0 reads as 0");
        assert!(read("-0.0").as_f64().unwrap().is_sign_positive());
        assert_eq!(read("1.0"), num(1.0));
        assert_eq!(read("1E+2"), num(100.0));
        assert_eq!(read("1e-2"), num(0.01));
        assert_eq!(read("9007199254740992"), num(9007199254740992.0));
        assert_eq!(read("-9007199254740992"), num(-9007199254740992.0));
        // With a fraction or exponent a number is the nearest double, as every reader does.
        assert_eq!(read("9007199254740993.0"), num(9007199254740992.0));
        assert_eq!(read("1e-400"), num(0.0));
        assert_eq!(read("5e-324"), num(5e-324));
        assert_eq!(read("1.7976931348623157e308"), num(f64::MAX));
    }

    #[test]
    fn syntax_errors_name_the_container_and_the_byte() {
        for (text, path) in [
            ("", ""),
            ("   ", ""),
            ("[1,]", ""),
            ("[1 2]", ""),
            ("{\"a\" 1}", ""),
            ("{\"a\": [1,]}", "/a"),
            ("{\"a\": {\"b\": tru}}", "/a"),
            ("[[], [0, [01]]]", "/1/1"),
            ("[1.]", ""),
            ("[.5]", ""),
            ("[+1]", ""),
            ("[1e]", ""),
            ("[-]", ""),
            ("[NaN]", ""),
            ("[Infinity]", ""),
            ("[-Infinity]", ""),
            ("{\"a\": NaN}", ""),
            ("[1] x", ""),
            ("[1] [2]", ""),
            ("// c\n[1]", ""),
            ("[1 /* c */]", ""),
            ("['a']", ""),
            ("{a: 1}", ""),
            ("[\"a\tb\"]", ""),
            ("[\"\\x\"]", ""),
            ("[\"\\u12\"]", ""),
            ("[\"abc", ""),
            ("[\"abc\\", ""),
            ("{\"a\":1,}", ""),
            ("{,}", ""),
            ("[", ""),
            ("{\"k\": [true, {\"x\": [nul]}]}", "/k/1/x"),
            ("\u{feff}[1]", ""),
        ] {
            let e = reject(text.as_bytes(), BIG);
            assert_eq!((e.rule, e.path.as_str()), ("json_syntax", path), "{text:?}: {e}");
            assert!(e.message.contains("at byte"), "{text:?}: {}", e.message);
        }
        let bom = reject(b"\xEF\xBB\xBF[1]", BIG);
        assert_eq!(bom.rule, "json_syntax");
        assert!(bom.message.contains("byte-order mark"), "{}", bom.message);
        assert!(reject(b"[NaN]", BIG).message.contains("NaN"));
        assert!(reject(b"[1, 2 x]", BIG).message.contains("byte 6"), "{}", reject(b"[1, 2 x]", BIG).message);
    }

    #[test]
    fn invalid_utf8_anywhere() {
        for bytes in [&b"[\"\xff\"]"[..], b"[1, \xc3]", b"\"\xed\xa0\x80\"", b"\xc0\xaf", b"[\"ok\"]\xfe"] {
            let e = reject(bytes, BIG);
            assert_eq!((e.rule, e.path.as_str()), ("invalid_utf8", ""), "{bytes:?}");
        }
    }

    #[test]
    fn lone_surrogates() {
        assert_eq!(rule_path(r#"["\ud800"]"#), ("lone_surrogate", "/0".into()));
        assert_eq!(rule_path(r#"["\uDC00"]"#), ("lone_surrogate", "/0".into()));
        assert_eq!(rule_path(r#"[1, "x\ud83dy"]"#), ("lone_surrogate", "/1".into()));
        assert_eq!(rule_path(r#"{"a": "\ud83d\u0041"}"#), ("lone_surrogate", "/a".into()));
        assert_eq!(rule_path(r#"{"a": "\ud83d\ud83d"}"#), ("lone_surrogate", "/a".into()));
        assert_eq!(rule_path(r#"{"a": "\ude02\ud83d"}"#), ("lone_surrogate", "/a".into()));
        assert_eq!(rule_path(r#"{"a": "\ud83d"}"#), ("lone_surrogate", "/a".into()));
        // A bad key has no value of its own: the object is blamed.
        assert_eq!(rule_path(r#"{"o": {"\udfff": 1}}"#), ("lone_surrogate", "/o".into()));
    }

    #[test]
    fn duplicate_keys_after_unescaping() {
        assert_eq!(rule_path(r#"{"a": 1, "a": 2}"#), ("duplicate_key", "/a".into()));
        assert_eq!(rule_path(r#"{"a": 1, "\u0061": 2}"#), ("duplicate_key", "/a".into()));
        assert_eq!(rule_path(r#"[{"x": {"a/b": 1, "a\/b": 2}}]"#), ("duplicate_key", "/0/x/a~1b".into()));
        // The duplicate is found before its value is read.
        assert_eq!(rule_path(r#"{"a": 1, "a": [1,]}"#), ("duplicate_key", "/a".into()));
        // Large objects use a set.
        let mut members: Vec<String> = (0..40).map(|i| format!("\"k{i}\": {i}")).collect();
        members.push("\"k7\": 0".into());
        assert_eq!(rule_path(&format!("{{{}}}", members.join(","))), ("duplicate_key", "/k7".into()));
        members.pop();
        let ok = read(&format!("{{{}}}", members.join(",")));
        assert_eq!(ok.as_object().unwrap().len(), 40);
        // Same names in different objects are fine.
        read(r#"{"a": {"a": 1}, "b": {"a": 2}}"#);
    }

    #[test]
    fn duplicate_scan_compares_names_not_tags() {
        // Same length, same first four and last three bytes: equal tags, different names.
        read(r#"{"abcdXXefg": 1, "abcdYYefg": 2, "abcdefg": 3, "abcdefgh": 4}"#);
        assert_eq!(
            rule_path(r#"{"abcdXXefg": 1, "abcdYYefg": 2, "abcdYYefg": 3}"#),
            ("duplicate_key", "/abcdYYefg".into())
        );
        // Empty and one-byte names, and a NUL that must not read as padding.
        assert_eq!(rule_path(r#"{"": 1, "a": 2, "": 3}"#), ("duplicate_key", "/".into()));
        read(r#"{"a": 1, "a\u0000": 2, "\u0000a": 3}"#);
    }

    #[test]
    fn duplicates_in_objects_of_every_size() {
        // Around the switch from the tag scan to the hash set, the duplicate of every earlier name
        // is found, and none is reported where there is none.
        for n in [1usize, 2, 31, 32, 33, 34, 64, 200] {
            let members: Vec<String> = (0..n).map(|i| format!("\"m{i}\": {i}")).collect();
            let ok = read(&format!("{{{}}}", members.join(",")));
            assert_eq!(ok.as_object().unwrap().len(), n);
            for repeat in [0, n / 2, n - 1] {
                let mut with = members.clone();
                with.push(format!("\"m{repeat}\": true"));
                with.push("\"after\": 0".to_string());
                let e = reject(format!("{{{}}}", with.join(",")).as_bytes(), BIG);
                assert_eq!((e.rule, e.path), ("duplicate_key", format!("/m{repeat}")), "n={n}");
            }
        }
    }

    #[test]
    fn nested_objects_keep_their_own_names() {
        // A child object reuses its parent's names, then the parent goes on: only the parent's
        // own repeat is a duplicate, at every size of either.
        for (outer, inner) in [(3usize, 3usize), (20, 40), (40, 20), (40, 40)] {
            let names = |n: usize| (0..n).map(|i| format!("\"k{i}\": 0")).collect::<Vec<_>>().join(",");
            let child = format!("{{{}}}", names(inner));
            let ok = format!("{{{}, \"child\": {child}, \"tail\": [{child}]}}", names(outer));
            read(&ok);
            let bad = format!("{{{}, \"child\": {child}, \"k1\": 1}}", names(outer));
            assert_eq!(rule_path(&bad), ("duplicate_key", "/k1".into()), "outer={outer} inner={inner}");
            // Names read after the child line up with the parent's own.
            let later = format!("{{{}, \"child\": {child}, \"x\": 1, \"y\": 2, \"x\": 3}}", names(outer));
            assert_eq!(rule_path(&later), ("duplicate_key", "/x".into()), "outer={outer} inner={inner}");
            let bad_inner = format!("{{{}, \"child\": {{{}, \"k0\": 1}}}}", names(outer), names(inner));
            assert_eq!(rule_path(&bad_inner), ("duplicate_key", "/child/k0".into()));
        }
    }

    #[test]
    fn a_reused_reader_reads_each_text_alone() {
        let mut reader = Reader::new(BIG, Code::InvalidCatalog);
        let model = r#"{"id": "a", "caps": ["x", "y", "z"], "meta": {"k": 1}}"#;
        for _ in 0..3 {
            assert_eq!(reader.read(model.as_bytes()).unwrap(), read(model));
        }
        // A failure mid-object leaves nothing behind for the next text.
        let e = reader.read(br#"{"id": "a", "caps": ["x", {"q": 1, "q": 2}]"#).unwrap_err();
        assert_eq!((e.code, e.rule, e.path.as_str()), (Code::InvalidCatalog, "duplicate_key", "/caps/1/q"));
        assert_eq!(reader.read(br#"{"q": 1, "id": "b"}"#).unwrap(), read(r#"{"q": 1, "id": "b"}"#));
        assert_eq!(reader.read(b"[1, [2, 3], {}]").unwrap(), read("[1, [2, 3], {}]"));
        assert_eq!(reader.read(b"[1,]").unwrap_err().rule, "json_syntax");
        assert_eq!(reader.read(b"7").unwrap(), num(7.0));
    }

    #[test]
    fn non_finite_and_imprecise_numbers() {
        assert_eq!(rule_path("[1e400]"), ("non_finite_number", "/0".into()));
        assert_eq!(rule_path(r#"{"x": -1.5e309}"#), ("non_finite_number", "/x".into()));
        assert_eq!(rule_path("[9007199254740993]"), ("integer_precision", "/0".into()));
        assert_eq!(rule_path("[-9007199254740993]"), ("integer_precision", "/0".into()));
        assert_eq!(rule_path(r#"{"n": [0, 123456789012345678901234567890]}"#), ("integer_precision", "/n/1".into()));
        assert_eq!(rule_path("18446744073709551615"), ("integer_precision", "".into()));
        assert_eq!(rule_path("[18014398509481985]"), ("integer_precision", "/0".into()));
        assert_eq!(rule_path("[1152921504606847001]"), ("integer_precision", "/0".into()));
        assert_eq!(rule_path("[123456789012345680001]"), ("integer_precision", "/0".into()));
        // 20 digits, one past a double: the slow path.
        assert_eq!(rule_path("[100000000000000000001]"), ("integer_precision", "/0".into()));
        let e = reject(b"[-9007199254740993]", BIG);
        assert!(
            e.message.contains("-9007199254740993") && e.message.contains("nearest is -9007199254740992"),
            "{}",
            e.message
        );
        // An integer literal too large for any double overflows, whatever its length.
        assert_eq!(rule_path(&format!("[1{}]", "0".repeat(400))), ("non_finite_number", "/0".into()));
        assert_eq!(rule_path(&format!("[-1{}]", "0".repeat(400))), ("non_finite_number", "/0".into()));
        let e = reject(format!("[1{}]", "0".repeat(100_000)).as_bytes(), BIG);
        assert!(e.message.len() < 200, "a huge literal is abbreviated: {}", e.message);
    }

    #[test]
    fn integers_a_double_holds_exactly_are_read() {
        // The rule is exactness, not magnitude: what the canonical writer prints in full reads back.
        for (text, want) in [
            ("9007199254740992", 9007199254740992.0),
            ("18014398509481984", 18014398509481984.0),
            ("-18014398509481984", -18014398509481984.0),
            ("18446744073709551616", 18446744073709551616.0),
            ("100000000000000000000", 1e20),
            ("-100000000000000000000", -1e20),
            ("999999999999999", 999999999999999.0),
            ("1152921504606846976", 1152921504606846976.0),
            // Not 2^60 exactly, but what the canonical writer prints for it: reads back as 2^60.
            ("1152921504606847000", 1152921504606846976.0),
            ("123456789012345680000", 1.2345678901234568e20),
        ] {
            assert_eq!(read(text), num(want), "{text}");
        }
        // 2^1023 exactly (308 digits), and the largest double (309 digits).
        let two_1023 = format!("{:.0}", 2f64.powi(1023));
        assert_eq!(read(&two_1023), num(2f64.powi(1023)));
        assert_eq!(read(&format!("{:.0}", f64::MAX)), num(f64::MAX));
        let mut just_past = format!("{:.0}", f64::MAX);
        just_past.push('0');
        assert_eq!(rule_path(&just_past), ("non_finite_number", "".into()));
    }

    #[test]
    fn integer_rule_agrees_with_a_slow_check() {
        // Near powers of two (where rounding starts) and at random magnitudes: a literal is read
        // exactly when its nearest double prints back in full as the literal, or as the literal's
        // ECMAScript form; otherwise it is integer_precision.
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = || {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        let mut texts: Vec<String> = Vec::new();
        for p in 50u32..128 {
            let base = 1u128 << p;
            for d in [-3i128, -2, -1, 0, 1, 2, 3, 4, 5, 8] {
                texts.extend(base.checked_add_signed(d).map(|x| x.to_string()));
            }
        }
        for _ in 0..3000 {
            let x = (u128::from(next()) << (next() % 64)) | u128::from(next() % 1024);
            texts.push(x.to_string());
            // The ECMAScript form of a random integral double: always readable.
            let f = (next() >> 11) as f64 * 2f64.powi((next() % 60) as i32);
            texts.push(ryu_js::Buffer::new().format_finite(f).to_string());
        }
        let (mut accepted, mut refused) = (0, 0);
        for text in texts.iter().filter(|t| !t.contains('e')) {
            let f: f64 = text.parse().unwrap();
            let ok = format!("{f:.0}") == *text || ryu_js::Buffer::new().format_finite(f) == text;
            match parse(text.as_bytes(), BIG, Code::InvalidRequest) {
                Ok(v) => {
                    assert!(ok, "{text} accepted but the nearest double is {f:.0}");
                    assert_eq!(v, num(f), "{text}");
                    accepted += 1;
                }
                Err(e) => {
                    assert!(!ok, "{text} refused ({}) though it reads back", e.rule);
                    assert_eq!(e.rule, "integer_precision");
                    refused += 1;
                }
            }
        }
        assert!(accepted > 1000 && refused > 1000, "{accepted} accepted, {refused} refused");
    }

    #[test]
    fn depth_limit_without_stack_overflow() {
        let policy = Limits::POLICY;
        let ok = format!("{}{}", "[".repeat(64), "]".repeat(64));
        assert!(parse(ok.as_bytes(), policy, Code::InvalidPolicy).is_ok());
        let deep = format!("{}{}", "[".repeat(65), "]".repeat(65));
        let e = reject(deep.as_bytes(), policy);
        assert_eq!(e.rule, "depth_limit");
        assert_eq!(e.path, "/0".repeat(64));
        let e = reject(r#"{"a": {"b": [[]]}}"#.as_bytes(), Limits { max_bytes: 100, max_depth: 3 });
        assert_eq!((e.rule, e.path.as_str()), ("depth_limit", "/a/b/0"));
        // 100k open brackets: an error, not a crash.
        let abusive = "[".repeat(100_000);
        let e = reject(abusive.as_bytes(), policy);
        assert_eq!(e.rule, "depth_limit");
        let abusive = "{\"a\":".repeat(100_000);
        assert_eq!(reject(abusive.as_bytes(), BIG).rule, "depth_limit");
    }

    #[test]
    fn size_limit_before_anything_else() {
        let limits = Limits { max_bytes: 10, max_depth: 64 };
        assert!(parse(b"[1,2,3,4]", limits, Code::InvalidPolicy).is_ok());
        let e = reject(b"[1,2,3,4,5]", limits);
        assert_eq!((e.rule, e.path.as_str()), ("size_limit", ""));
        // Even when the text is also broken.
        assert_eq!(reject(b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", limits).rule, "size_limit");
        let big = format!("[{}]", "0,".repeat(600_000) + "0");
        assert_eq!(reject(big.as_bytes(), Limits::POLICY).rule, "size_limit");
    }

    #[test]
    fn large_inputs_are_read() {
        let n = 2_000_000;
        let text = format!("[{}0]", "0,".repeat(n - 1));
        let v = parse(text.as_bytes(), Limits::REQUEST, Code::InvalidRequest).unwrap();
        assert_eq!(v.as_array().unwrap().len(), n);
        let huge = format!("[\"{}\"]", "y".repeat(5 << 20));
        let v = parse(huge.as_bytes(), Limits::REQUEST, Code::InvalidRequest).unwrap();
        assert_eq!(v.as_array().unwrap()[0].as_str().unwrap().len(), 5 << 20);
    }

    #[test]
    fn pointers() {
        let v = read(r#"{"a": [10, {"b/c": 1, "d~e": 2, "": 3}], "0": "zero"}"#);
        assert_eq!(pointer_get(&v, ""), Some(&v));
        assert_eq!(pointer_get(&v, "/a/0"), Some(&num(10.0)));
        assert_eq!(pointer_get(&v, "/a/1/b~1c"), Some(&num(1.0)));
        assert_eq!(pointer_get(&v, "/a/1/d~0e"), Some(&num(2.0)));
        assert_eq!(pointer_get(&v, "/a/1/"), Some(&num(3.0)));
        assert_eq!(pointer_get(&v, "/0"), Some(&Value::String("zero".into())));
        assert_eq!(pointer_get(&v, "/a/01"), None);
        assert_eq!(pointer_get(&v, "/a/-"), None);
        assert_eq!(pointer_get(&v, "/a/2"), None);
        assert_eq!(pointer_get(&v, "/a/0/x"), None);
        assert_eq!(pointer_get(&v, "/a/1/d~2e"), None);
        assert_eq!(pointer_get(&v, "a"), None);
    }

    #[test]
    fn check_depth_matches_the_reader() {
        let ok = read(&format!("{}{}", "[".repeat(64), "]".repeat(64)));
        assert!(check_depth(&ok, 64, Code::InvalidPolicy).is_ok());
        let deep = read(r#"[1, {"a": [[2]]}]"#);
        assert!(check_depth(&deep, 4, Code::InvalidPolicy).is_ok());
        let e = check_depth(&deep, 3, Code::InvalidFlow).unwrap_err();
        assert_eq!((e.code, e.rule, e.path.as_str()), (Code::InvalidFlow, "depth_limit", "/1/a/0"));
        let mut v = Value::Null;
        for _ in 0..200_000 {
            v = Value::Array(vec![v]);
        }
        assert_eq!(check_depth(&v, 128, Code::InvalidPolicy).unwrap_err().path, "/0".repeat(128));
        // Dropping 200k nested vectors recurses in Drop; unwind it by hand.
        let mut cur = v;
        while let Value::Array(mut items) = cur {
            cur = items.pop().unwrap_or(Value::Null);
        }
    }

    /// A document as a value, to compare with what [`parse`] reads.
    fn doc_value(doc: &Doc<'_>, node: &Node<'_>) -> Value {
        match node {
            Node::Null => Value::Null,
            Node::Bool(b) => Value::Bool(*b),
            Node::Number(n) => Value::Number(*n),
            Node::String(s) => Value::String(doc.text(s).to_string()),
            Node::Array { items, .. } => Value::Array(doc.items(*items).map(|n| doc_value(doc, n)).collect()),
            Node::Object { members, .. } => {
                Value::Object(doc.members(*members).map(|(k, v)| (k.to_string(), doc_value(doc, v))).collect())
            }
        }
    }

    fn same_error(a: &Error, b: &Error) -> bool {
        (a.code, a.rule, &a.path, &a.message) == (b.code, b.rule, &b.path, &b.message)
    }

    #[test]
    fn a_document_holds_what_parse_reads() {
        let mut texts = samples::texts(1, 2000);
        texts.extend(["7", "\"s\"", "[]", "{}", r#"{"a": [1, {"b": [[], {}]}], "c": "\u00e9"}"#].map(String::from));
        for text in &texts {
            let value = read(text);
            let doc = parse_doc(text.as_bytes(), BIG, Code::InvalidRequest).unwrap();
            assert_eq!(doc_value(&doc, doc.root()), value, "{text}");
            // And a value viewed as a document is the value.
            let viewed = Doc::from_value(&value);
            assert_eq!(doc_value(&viewed, viewed.root()), value, "{text}");
        }
    }

    #[test]
    fn a_document_is_refused_exactly_as_parse_refuses() {
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        let many: String =
            format!("{{{}, \"k3\": 0}}", (0..40).map(|i| format!("\"k{i}\": {i}")).collect::<Vec<_>>().join(","));
        let bad = [
            "",
            "[1,]",
            "{\"a\" 1}",
            "{\"a\": {\"b\": tru}}",
            "[[], [0, [01]]]",
            "[1.]",
            "[-]",
            "[NaN]",
            "[1] x",
            "['a']",
            "[\"a\tb\"]",
            "[\"\\x\"]",
            "[\"abc",
            "{\"k\": [true, {\"x\": [nul]}]}",
            "\u{feff}[1]",
            r#"["\ud800"]"#,
            r#"{"o": {"\udfff": 1}}"#,
            r#"{"a": 1, "\u0061": 2}"#,
            r#"[{"x": {"a/b": 1, "a\/b": 2}}]"#,
            "[9007199254740993]",
            "[1e400]",
            r#"{"n": [0, 123456789012345678901234567890]}"#,
            &deep,
            &many,
        ];
        for text in bad {
            let want = parse(text.as_bytes(), BIG, Code::InvalidPolicy).unwrap_err();
            let got = parse_doc(text.as_bytes(), BIG, Code::InvalidPolicy).unwrap_err();
            assert!(same_error(&got, &want), "{text:?}: {got} / {want}");
            let got = crate::canonical::canonicalize(text.as_bytes(), BIG, Code::InvalidPolicy).unwrap_err();
            assert!(same_error(&got, &want), "{text:?}: {got} / {want}");
        }
        // A text refused half-way leaves nothing behind for the next one read on the thread.
        assert!(parse_doc(br#"{"a": [1, {"b": 2, "b": 3}]}"#, BIG, Code::InvalidRequest).is_err());
        let doc = parse_doc(br#"{"b": [2]}"#, BIG, Code::InvalidRequest).unwrap();
        assert_eq!(doc_value(&doc, doc.root()), read(r#"{"b": [2]}"#));
    }

    #[test]
    fn scan_plain_stops_at_the_first_special_byte() {
        let mut rng = samples::Rng(42);
        for _ in 0..20_000 {
            let len = rng.below(24);
            let bytes: Vec<u8> = (0..len)
                .map(|_| match rng.below(10) {
                    0 => b'"',
                    1 => b'\\',
                    2 => rng.below(0x20) as u8,
                    3 => 0x80 | rng.below(0x80) as u8,
                    _ => 0x20 + rng.below(0x5f) as u8,
                })
                .collect();
            for start in 0..=len {
                let naive = (start..len).find(|&i| matches!(bytes[i], b'"' | b'\\' | 0..=0x1f)).unwrap_or(len);
                assert_eq!(scan_plain(&bytes, start), naive, "{bytes:?} from {start}");
            }
        }
    }

    #[test]
    fn short_decimals_read_as_a_full_parse_does() {
        let mut rng = samples::Rng(7);
        for _ in 0..50_000 {
            let int_digits = rng.below(9);
            let int = if int_digits == 0 {
                "0".to_string()
            } else {
                let first = (b'1' + rng.below(9) as u8) as char;
                first.to_string() + &(1..int_digits).map(|_| (b'0' + rng.below(10) as u8) as char).collect::<String>()
            };
            let frac: String = (0..1 + rng.below(16)).map(|_| (b'0' + rng.below(10) as u8) as char).collect();
            for sign in ["", "-"] {
                let text = format!("{sign}{int}.{frac}");
                let want: f64 = text.parse().unwrap();
                assert_eq!(read(&text), num(want + 0.0), "{text}");
            }
        }
    }
}
