//! JCS written while a text is read (the reader's [`Build`] calls), by copying the text and
//! rewriting only what JCS spells differently.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::ops::Range;

use super::{cmp_utf16, write_number, write_string, INITIAL_CAPACITY, MAX_RESERVE};
use crate::json::{Build, Leaf, Text};

/// The JCS form of a text, made by copying the text as the reader goes and changing only what
/// JCS writes differently: whitespace is dropped, strings that held escapes and numbers not in
/// shortest form are rewritten, and an object whose names are out of order is reordered when it
/// closes. A text already in JCS form is copied in one piece.
pub(crate) struct TextJcs<'t> {
    text: &'t str,
    /// The text before this offset is written out (or dropped).
    copied: usize,
    out: String,
    objects: Objects<'t>,
}

impl<'t> TextJcs<'t> {
    pub(crate) fn new(text: &'t str) -> TextJcs<'t> {
        TextJcs {
            text,
            copied: 0,
            out: String::with_capacity(text.len().clamp(INITIAL_CAPACITY, MAX_RESERVE)),
            objects: Objects::new(),
        }
    }

    /// The canonical text.
    pub(crate) fn finish(mut self) -> String {
        self.flush(self.text.len());
        self.out
    }

    /// Copies the text up to `to`.
    fn flush(&mut self, to: usize) {
        if to > self.copied {
            self.out.push_str(self.text.get(self.copied..to).unwrap_or_default());
            self.copied = to;
        }
    }

    /// Where the byte of the text at `at` (not yet copied) lands in the output.
    fn landing(&self, at: usize) -> usize {
        self.out.len() + at.saturating_sub(self.copied)
    }

    /// Writes `text[start..end]` as `write` does instead of copying it.
    fn replace(&mut self, start: usize, end: usize, write: impl FnOnce(&mut String)) {
        self.flush(start);
        write(&mut self.out);
        self.copied = end;
    }
}

impl<'t> Build<'t> for TextJcs<'t> {
    #[inline(always)]
    fn leaf(&mut self, leaf: Leaf<'t, '_>, start: usize, end: usize) {
        match leaf {
            Leaf::String(Text::Scratch(s)) => self.replace(start, end, |out| write_string(s, out)),
            Leaf::Number(n) if !is_jcs_number(self.text.get(start..end).unwrap_or_default()) => {
                self.replace(start, end, |out| write_number(n, out));
            }
            // A string without escapes needs none, and `true`, `false`, `null` are spelled alike.
            _ => {}
        }
    }
    #[inline(always)]
    fn open_array(&mut self, _hint: usize, _at: usize) {}
    #[inline(always)]
    fn close_array(&mut self, _len: usize, _at: usize) {}
    #[inline(always)]
    fn open_object(&mut self, _hint: usize, _at: usize) {
        self.objects.open();
    }
    #[inline(always)]
    fn name(&mut self, name: Text<'t, '_>, start: usize, end: usize) {
        let at = self.landing(start);
        self.objects.member(name, at);
        if let Text::Scratch(s) = name {
            self.replace(start, end, |out| write_string(s, out));
        }
    }
    #[inline(always)]
    fn close_object(&mut self, _len: usize, at: usize) {
        if self.objects.innermost_unsorted() {
            // Reordering works on written text: all of the object's members.
            self.flush(at);
        }
        self.objects.close(&mut self.out);
    }
    #[inline(always)]
    fn space(&mut self, start: usize, end: usize) {
        self.replace(start, end, |_| {});
    }
}

/// Whether a number literal the reader accepted is already in JCS form: an integer of at most 15
/// digits other than `-0`, or a plain decimal of at most 15 significant digits without a trailing
/// zero and, below 1, with at most five zeros after the point. Distinct decimals of at most 15
/// significant digits are further apart than a double's rounding interval, so such a literal is
/// the only one of its length that reads as its double: the shortest, which ECMAScript prints
/// without an exponent in that range (RFC 8785 §3.2.2.3).
fn is_jcs_number(literal: &str) -> bool {
    const DIGITS: usize = 15;
    let unsigned = literal.strip_prefix('-').unwrap_or(literal);
    let (int, frac) = match unsigned.split_once('.') {
        Some((int, frac)) => (int, Some(frac)),
        None => (unsigned, None),
    };
    // The reader has checked the syntax: `int` is 0 or starts with 1-9; only an exponent is left.
    if !int.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let Some(frac) = frac else {
        return int.len() <= DIGITS && literal != "-0";
    };
    if !frac.bytes().all(|b| b.is_ascii_digit()) || frac.ends_with('0') {
        return false;
    }
    if int == "0" {
        let significant = frac.trim_start_matches('0').len();
        frac.len() - significant <= 5 && significant <= DIGITS
    } else {
        int.len() + frac.len() <= DIGITS
    }
}

/// The open objects of a writer: every member's name and where its text starts in the output,
/// so that an object whose names arrive out of JCS order can be reordered when it closes.
struct Objects<'t> {
    open: Vec<OpenObject>,
    members: Vec<(Cow<'t, str>, usize)>,
}

struct OpenObject {
    /// Where its members start in `Objects::members`.
    members_from: usize,
    /// Whether the names so far arrived in JCS order.
    sorted: bool,
}

impl<'t> Objects<'t> {
    fn new() -> Objects<'t> {
        // Room up front: growing from empty costs more than these two allocations.
        Objects { open: Vec::with_capacity(4), members: Vec::with_capacity(8) }
    }

    fn open(&mut self) {
        self.open.push(OpenObject { members_from: self.members.len(), sorted: true });
    }

    /// A member of the innermost object, whose text starts at `start` in the output.
    fn member(&mut self, name: Text<'t, '_>, start: usize) {
        if let Some(open) = self.open.last_mut() {
            if open.sorted && self.members.len() > open.members_from {
                if let Some((last, _)) = self.members.last() {
                    open.sorted = cmp_utf16(last, name.as_str()) != Ordering::Greater;
                }
            }
        }
        self.members.push((name.to_cow(), start));
    }

    fn innermost_unsorted(&self) -> bool {
        self.open.last().is_some_and(|o| !o.sorted)
    }

    /// Closes the innermost object, whose members are the end of `out` (before its `}`).
    fn close(&mut self, out: &mut String) {
        let Some(open) = self.open.pop() else { return };
        if !open.sorted {
            reorder(out, self.members.get(open.members_from..).unwrap_or_default());
        }
        self.members.truncate(open.members_from);
    }
}

/// Rewrites the end of `out`, the text of `members` (comma-separated, each starting where
/// recorded), with the members in JCS order.
fn reorder(out: &mut String, members: &[(Cow<'_, str>, usize)]) {
    let Some(&(_, first)) = members.first() else { return };
    let region = out.get(first..).unwrap_or_default().to_string();
    // Member i's text runs from its start to the comma before the next member.
    let ends = members.iter().skip(1).map(|m| m.1 - 1).chain([out.len()]);
    let ranges: Vec<Range<usize>> = members.iter().zip(ends).map(|(m, end)| m.1 - first..end - first).collect();
    let mut order: Vec<usize> = (0..members.len()).collect();
    order.sort_by(|&a, &b| {
        let name = |i: usize| members.get(i).map(|m| m.0.as_ref()).unwrap_or_default();
        cmp_utf16(name(a), name(b))
    });
    out.truncate(first);
    for (k, &i) in order.iter().enumerate() {
        if k > 0 {
            out.push(',');
        }
        if let Some(range) = ranges.get(i) {
            out.push_str(region.get(range.clone()).unwrap_or_default());
        }
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn jcs_numbers_are_recognised_exactly() {
        for (literal, jcs) in [
            ("0", true),
            ("-0", false),
            ("5", true),
            ("-17", true),
            ("123456789012345", true),
            ("1234567890123456", false),
            ("0.5", true),
            ("-0.5", true),
            ("0.50", false),
            ("1.0", false),
            ("0.000001", true),
            ("0.0000001", false),
            ("0.000001234", true),
            ("12345.6789012345", true),
            ("12345.67890123456", false),
            ("0.123456789012345", true),
            ("0.1234567890123456", false),
            ("1e2", false),
            ("1E-7", false),
            ("1.5e3", false),
        ] {
            assert_eq!(is_jcs_number(literal), jcs, "{literal}");
            if jcs {
                let n: f64 = literal.parse().unwrap();
                let mut out = String::new();
                write_number(n + 0.0, &mut out);
                assert_eq!(out, literal, "a literal taken as JCS is what the writer prints");
            }
        }
    }
}
