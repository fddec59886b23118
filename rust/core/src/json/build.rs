//! What the reader does with the values it reads ([`Build`]): build owned [`Value`]s, a
//! [`super::Doc`], or canonical text; and the same calls made from a [`Value`] already in memory.

use std::borrow::Cow;

use super::Value;

/// A string handed to a builder: borrowed for the life of the text (or value) being read, or
/// decoded into the reader's scratch space (it held escapes) and valid only for the call.
#[derive(Clone, Copy)]
pub(crate) enum Text<'t, 's> {
    Borrowed(&'t str),
    Scratch(&'s str),
}

impl<'t> Text<'t, '_> {
    pub(crate) fn as_str(&self) -> &str {
        match *self {
            Text::Borrowed(s) | Text::Scratch(s) => s,
        }
    }

    /// The text, kept: borrowed when it may be, copied when it must be.
    pub(crate) fn to_cow(self) -> Cow<'t, str> {
        match self {
            Text::Borrowed(s) => Cow::Borrowed(s),
            Text::Scratch(s) => Cow::Owned(s.to_string()),
        }
    }
}

/// A scalar, handed to a builder.
#[derive(Clone, Copy)]
pub(crate) enum Leaf<'t, 's> {
    Null,
    Bool(bool),
    Number(f64),
    String(Text<'t, 's>),
}

/// What the reader does with the values it reads: the parser does every check and keeps the
/// paths; a builder assembles a tree or writes text, keeping its own record of the open
/// containers. Calls come in document order: a container is opened, its children arrive (each
/// member of an object as `name`, then the value's calls), and it is closed; a leaf or a closed
/// container goes to the innermost open container, or is the root.
///
/// Positions are byte offsets in the text read: `start..end` of a token, `at` of a bracket or
/// brace. A replayed [`Value`] has no text and reports 0.
pub(crate) trait Build<'t> {
    /// Whether `open_*` hints (sizes of the last container closed at the same depth) are used.
    const HINTS: bool = false;
    fn leaf(&mut self, leaf: Leaf<'t, '_>, start: usize, end: usize);
    /// `hint`: how many children to make room for.
    fn open_array(&mut self, hint: usize, at: usize);
    /// `len`: how many items the array has.
    fn close_array(&mut self, len: usize, at: usize);
    fn open_object(&mut self, hint: usize, at: usize);
    /// The name of the member whose value comes next.
    fn name(&mut self, name: Text<'t, '_>, start: usize, end: usize);
    /// `len`: how many members the object has.
    fn close_object(&mut self, len: usize, at: usize);
    /// Whitespace between tokens.
    fn space(&mut self, _start: usize, _end: usize) {}
}

/// Builds nothing: a read that only checks.
impl<'t> Build<'t> for () {
    fn leaf(&mut self, _leaf: Leaf<'t, '_>, _start: usize, _end: usize) {}
    fn open_array(&mut self, _hint: usize, _at: usize) {}
    fn close_array(&mut self, _len: usize, _at: usize) {}
    fn open_object(&mut self, _hint: usize, _at: usize) {}
    fn name(&mut self, _name: Text<'t, '_>, _start: usize, _end: usize) {}
    fn close_object(&mut self, _len: usize, _at: usize) {}
}

/// Two builders fed the same calls.
pub(crate) struct Both<'a, A, B>(pub &'a mut A, pub &'a mut B);

impl<'t, A: Build<'t>, B: Build<'t>> Build<'t> for Both<'_, A, B> {
    const HINTS: bool = A::HINTS || B::HINTS;
    #[inline(always)]
    fn leaf(&mut self, leaf: Leaf<'t, '_>, start: usize, end: usize) {
        self.0.leaf(leaf, start, end);
        self.1.leaf(leaf, start, end);
    }
    #[inline(always)]
    fn open_array(&mut self, hint: usize, at: usize) {
        self.0.open_array(hint, at);
        self.1.open_array(hint, at);
    }
    #[inline(always)]
    fn close_array(&mut self, len: usize, at: usize) {
        self.0.close_array(len, at);
        self.1.close_array(len, at);
    }
    #[inline(always)]
    fn open_object(&mut self, hint: usize, at: usize) {
        self.0.open_object(hint, at);
        self.1.open_object(hint, at);
    }
    #[inline(always)]
    fn name(&mut self, name: Text<'t, '_>, start: usize, end: usize) {
        self.0.name(name, start, end);
        self.1.name(name, start, end);
    }
    #[inline(always)]
    fn close_object(&mut self, len: usize, at: usize) {
        self.0.close_object(len, at);
        self.1.close_object(len, at);
    }
    #[inline(always)]
    fn space(&mut self, start: usize, end: usize) {
        self.0.space(start, end);
        self.1.space(start, end);
    }
}

/// Feeds `value` to `build` as if it were being read, without recursion.
pub(crate) fn replay<'v, B: Build<'v>>(value: &'v Value, build: &mut B) {
    /// An open container: its children not yet replayed, and how many it has.
    enum Open<'v> {
        Array(std::slice::Iter<'v, Value>, usize),
        Object(std::slice::Iter<'v, (String, Value)>, usize),
    }
    let mut stack: Vec<Open<'v>> = Vec::new();
    let mut next = Some(value);
    loop {
        match next.take() {
            Some(Value::Array(items)) => {
                build.open_array(items.len(), 0);
                stack.push(Open::Array(items.iter(), items.len()));
            }
            Some(Value::Object(members)) => {
                build.open_object(members.len(), 0);
                stack.push(Open::Object(members.iter(), members.len()));
            }
            Some(Value::Null) => build.leaf(Leaf::Null, 0, 0),
            Some(Value::Bool(b)) => build.leaf(Leaf::Bool(*b), 0, 0),
            Some(Value::Number(n)) => build.leaf(Leaf::Number(*n), 0, 0),
            Some(Value::String(s)) => build.leaf(Leaf::String(Text::Borrowed(s)), 0, 0),
            None => {}
        }
        // The next child of the innermost open container, closing the finished ones.
        while next.is_none() {
            match stack.last_mut() {
                None => return,
                Some(Open::Array(items, _)) => next = items.next(),
                Some(Open::Object(members, _)) => {
                    if let Some((name, value)) = members.next() {
                        build.name(Text::Borrowed(name), 0, 0);
                        next = Some(value);
                    }
                }
            }
            if next.is_none() {
                match stack.pop() {
                    Some(Open::Array(_, len)) => build.close_array(len, 0),
                    Some(Open::Object(_, len)) => build.close_object(len, 0),
                    None => return,
                }
            }
        }
    }
}

/// Builds owned [`Value`]s.
#[derive(Default)]
pub(super) struct ValueBuilder {
    /// The open containers, innermost last.
    open: Vec<Open>,
    root: Option<Value>,
}

enum Open {
    Array(Vec<Value>),
    Object(Vec<(String, Value)>),
}

impl ValueBuilder {
    pub(super) fn reset(&mut self) {
        // A text that failed leaves its open containers behind.
        self.open.clear();
        self.root = None;
    }

    pub(super) fn take_root(&mut self) -> Value {
        self.root.take().unwrap_or(Value::Null)
    }

    fn add(&mut self, value: Value) {
        match self.open.last_mut() {
            Some(Open::Array(items)) => items.push(value),
            Some(Open::Object(members)) => {
                if let Some(last) = members.last_mut() {
                    last.1 = value;
                }
            }
            None => self.root = Some(value),
        }
    }
}

impl<'t> Build<'t> for ValueBuilder {
    const HINTS: bool = true;
    fn leaf(&mut self, leaf: Leaf<'t, '_>, _start: usize, _end: usize) {
        self.add(match leaf {
            Leaf::Null => Value::Null,
            Leaf::Bool(b) => Value::Bool(b),
            Leaf::Number(n) => Value::Number(n),
            Leaf::String(s) => Value::String(s.as_str().to_string()),
        });
    }
    fn open_array(&mut self, hint: usize, _at: usize) {
        self.open.push(Open::Array(Vec::with_capacity(hint)));
    }
    fn close_array(&mut self, _len: usize, _at: usize) {
        if let Some(Open::Array(items)) = self.open.pop() {
            self.add(Value::Array(items));
        }
    }
    fn open_object(&mut self, hint: usize, _at: usize) {
        self.open.push(Open::Object(Vec::with_capacity(hint)));
    }
    fn name(&mut self, name: Text<'t, '_>, _start: usize, _end: usize) {
        if let Some(Open::Object(members)) = self.open.last_mut() {
            members.push((name.as_str().to_string(), Value::Null));
        }
    }
    fn close_object(&mut self, _len: usize, _at: usize) {
        if let Some(Open::Object(members)) = self.open.pop() {
            self.add(Value::Object(members));
        }
    }
}
