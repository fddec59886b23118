//! RFC 8785 (JCS) serialization: the canonical form every fingerprint hashes (spec §3).
//!
//! Iterative like the reader, so a value of any depth is written without recursion.

use std::cmp::Ordering;
use std::ops::Range;

use crate::json::Value;

/// The JCS text of `value`.
pub fn to_jcs(value: &Value) -> String {
    let mut out = String::with_capacity(INITIAL_CAPACITY);
    write_jcs(value, &mut out);
    out
}

/// Appends the JCS text of `value` to `out`.
///
/// `Value` numbers are finite by construction (the reader rejects the rest); a non-finite number
/// built by hand is written as `null`, as ECMAScript `JSON.stringify` does.
pub fn write_jcs(value: &Value, out: &mut String) {
    write(value, out, None);
}

/// The JCS text of `value` plus the byte range, within it, of every array in document order
/// (pre-order, the root first when it is an array). Admission uses it to give each op node its
/// canonical text in one pass instead of re-serializing every sub-term.
pub fn to_jcs_with_array_spans(value: &Value) -> (String, Vec<Range<usize>>) {
    to_jcs_with_array_spans_sized(value, INITIAL_CAPACITY)
}

/// [`to_jcs_with_array_spans`] with room reserved for `size_hint` bytes of text (the length of
/// the text the value was read from is a close guess), so a small term is written without regrowth.
pub fn to_jcs_with_array_spans_sized(value: &Value, size_hint: usize) -> (String, Vec<Range<usize>>) {
    let mut out = String::with_capacity(size_hint.clamp(INITIAL_CAPACITY, MAX_RESERVE));
    let mut spans = Vec::with_capacity(32);
    write(value, &mut out, Some(&mut spans));
    (out, spans)
}

/// Text capacity reserved up front: most terms are a few hundred bytes, and regrowing a string
/// from empty costs several reallocations.
const INITIAL_CAPACITY: usize = 256;
/// Most reserved up front on a caller's hint; larger texts grow as needed.
const MAX_RESERVE: usize = 1 << 16;

enum Frame<'a> {
    Array { items: std::slice::Iter<'a, Value>, first: bool, span: Option<usize> },
    Object { members: Vec<&'a (String, Value)>, next: usize },
}

fn write(root: &Value, out: &mut String, mut spans: Option<&mut Vec<Range<usize>>>) {
    let mut stack: Vec<Frame<'_>> = Vec::with_capacity(16);
    let mut pending = Some(root);
    loop {
        if let Some(value) = pending.take() {
            match value {
                Value::Null => out.push_str("null"),
                Value::Bool(true) => out.push_str("true"),
                Value::Bool(false) => out.push_str("false"),
                Value::Number(n) => write_number(*n, out),
                Value::String(s) => write_string(s, out),
                Value::Array(items) => {
                    let span = spans.as_deref_mut().map(|s| {
                        s.push(out.len()..out.len());
                        s.len() - 1
                    });
                    out.push('[');
                    stack.push(Frame::Array { items: items.iter(), first: true, span });
                }
                Value::Object(members) => {
                    out.push('{');
                    stack.push(Frame::Object { members: sorted_members(members), next: 0 });
                }
            }
        }
        match stack.last_mut() {
            None => return,
            Some(Frame::Array { items, first, span }) => match items.next() {
                Some(item) => {
                    if !*first {
                        out.push(',');
                    }
                    *first = false;
                    pending = Some(item);
                }
                None => {
                    out.push(']');
                    if let (Some(i), Some(s)) = (*span, spans.as_deref_mut()) {
                        if let Some(range) = s.get_mut(i) {
                            range.end = out.len();
                        }
                    }
                    stack.pop();
                }
            },
            Some(Frame::Object { members, next }) => match members.get(*next) {
                Some((key, value)) => {
                    if *next > 0 {
                        out.push(',');
                    }
                    *next += 1;
                    write_string(key, out);
                    out.push(':');
                    pending = Some(value);
                }
                None => {
                    out.push('}');
                    stack.pop();
                }
            },
        }
    }
}

/// Members ordered by the UTF-16 code units of their names (RFC 8785 §3.2.3). Stable, so
/// hand-built values with repeated names keep their order.
fn sorted_members(members: &[(String, Value)]) -> Vec<&(String, Value)> {
    let mut refs: Vec<&(String, Value)> = members.iter().collect();
    let sorted = refs.windows(2).all(|w| match w {
        [a, b] => cmp_utf16(&a.0, &b.0) != Ordering::Greater,
        _ => true,
    });
    if !sorted {
        refs.sort_by(|a, b| cmp_utf16(&a.0, &b.0));
    }
    refs
}

/// Compares strings by UTF-16 code units. UTF-8 byte order equals code point order, which differs
/// from UTF-16 order only between a supplementary character and U+E000..U+FFFF; so bytes decide
/// unless the first differing characters straddle that case.
pub fn cmp_utf16(a: &str, b: &str) -> Ordering {
    if a.is_ascii() || b.is_ascii() {
        return a.as_bytes().cmp(b.as_bytes());
    }
    a.encode_utf16().cmp(b.encode_utf16())
}

fn write_number(n: f64, out: &mut String) {
    if n.is_finite() {
        let mut buf = ryu_js::Buffer::new();
        out.push_str(buf.format_finite(n));
    } else {
        out.push_str("null");
    }
}

/// A JCS string: only `"`, `\` and control characters are escaped, with the short forms where
/// JSON has them and lowercase `\u00xx` otherwise; everything else is written as UTF-8.
pub fn write_string(s: &str, out: &mut String) {
    out.reserve(s.len() + 2);
    out.push('"');
    let mut start = 0;
    for (i, &b) in s.as_bytes().iter().enumerate() {
        let short = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            0x08 => "\\b",
            0x0c => "\\f",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x00..=0x1f => "",
            _ => continue,
        };
        // Escaped bytes are ASCII, so `i` is a char boundary.
        out.push_str(s.get(start..i).unwrap_or_default());
        start = i + 1;
        if short.is_empty() {
            out.push_str("\\u00");
            out.push(char::from_digit(u32::from(b >> 4), 16).unwrap_or('0'));
            out.push(char::from_digit(u32::from(b & 0xf), 16).unwrap_or('0'));
        } else {
            out.push_str(short);
        }
    }
    out.push_str(s.get(start..).unwrap_or_default());
    out.push('"');
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn utf16_order_differs_from_code_points_for_astral_characters() {
        // U+1F602 is D83D DE02 in UTF-16, so it sorts before U+FB33 although its code point is larger.
        assert_eq!(cmp_utf16("\u{1F602}", "\u{FB33}"), Ordering::Less);
        assert_eq!(cmp_utf16("\u{FB33}", "\u{1F602}"), Ordering::Greater);
        assert_eq!(cmp_utf16("a", "\u{1F602}"), Ordering::Less);
        assert_eq!(cmp_utf16("ab", "a"), Ordering::Greater);
    }

    #[test]
    fn array_spans_cover_each_array_in_document_order() {
        let v = Value::Array(vec![
            Value::String("a".into()),
            Value::Array(vec![Value::Number(1.0)]),
            Value::Object(vec![("k".into(), Value::Array(vec![]))]),
        ]);
        let (text, spans) = to_jcs_with_array_spans(&v);
        assert_eq!(text, r#"["a",[1],{"k":[]}]"#);
        let parts: Vec<&str> = spans.iter().map(|r| &text[r.clone()]).collect();
        assert_eq!(parts, vec![text.as_str(), "[1]", "[]"]);
    }
}
