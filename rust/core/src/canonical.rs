//! RFC 8785 (JCS) serialization: the canonical form every fingerprint hashes (spec §3).
//!
//! Iterative like the reader, so a value of any depth is written without recursion.

use std::cmp::Ordering;

use crate::error::{Code, Error};
use crate::json::{checked_text, read_into, scan_plain, Limits, Value};

mod stream;

pub(crate) use stream::TextJcs;

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
    write(value, out);
}

/// The JCS text of a strict JSON text, read as [`crate::json::parse`] reads it (same errors),
/// written while it is read: no tree is built, and what is already canonical is copied.
pub fn canonicalize(input: &[u8], limits: Limits, code: Code) -> Result<String, Error> {
    let text = checked_text(input, limits, code)?;
    let mut writer = TextJcs::new(text);
    read_into(text, limits, code, &mut writer)?;
    Ok(writer.finish())
}

/// Text capacity reserved up front: most terms are a few hundred bytes, and regrowing a string
/// from empty costs several reallocations.
const INITIAL_CAPACITY: usize = 256;
/// Most reserved up front on a caller's hint; larger texts grow as needed.
const MAX_RESERVE: usize = 1 << 16;

enum Frame<'a> {
    Array { items: std::slice::Iter<'a, Value>, first: bool },
    Object { members: Vec<&'a (String, Value)>, next: usize },
}

fn write(root: &Value, out: &mut String) {
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
                    out.push('[');
                    stack.push(Frame::Array { items: items.iter(), first: true });
                }
                Value::Object(members) => {
                    out.push('{');
                    stack.push(Frame::Object { members: sorted_members(members), next: 0 });
                }
            }
        }
        match stack.last_mut() {
            None => return,
            Some(Frame::Array { items, first }) => match items.next() {
                Some(item) => {
                    if !*first {
                        out.push(',');
                    }
                    *first = false;
                    pending = Some(item);
                }
                None => {
                    out.push(']');
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

pub(crate) fn write_number(n: f64, out: &mut String) {
    // ECMAScript prints an integer below 2^53 as its digits (and -0 as 0): no need for the
    // shortest-digits search.
    if n.fract() == 0.0 && n.abs() < 9_007_199_254_740_992.0 {
        if n < 0.0 {
            out.push('-');
        }
        push_decimal(n.abs() as u64, out);
    } else if n.is_finite() {
        let mut buf = ryu_js::Buffer::new();
        out.push_str(buf.format_finite(n));
    } else {
        out.push_str("null");
    }
}

/// Appends the decimal digits of `n`.
pub(crate) fn push_decimal(n: u64, out: &mut String) {
    out.extend(decimal(n, &mut [0; 20]).iter().map(|&d| char::from(d)));
}

/// The decimal digits of `n` (ASCII), written at the end of `buf`.
pub(crate) fn decimal(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut start = buf.len();
    loop {
        start -= 1;
        if let Some(d) = buf.get_mut(start) {
            *d = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 || start == 0 {
            break;
        }
    }
    buf.get(start..).unwrap_or_default()
}

/// A JCS string: only `"`, `\` and control characters are escaped, with the short forms where
/// JSON has them and lowercase `\u00xx` otherwise; everything else is written as UTF-8.
pub fn write_string(s: &str, out: &mut String) {
    let bytes = s.as_bytes();
    out.reserve(s.len() + 2);
    out.push('"');
    let mut start = 0;
    // Runs of plain bytes are found eight at a time and copied whole.
    loop {
        let i = scan_plain(bytes, start);
        out.push_str(s.get(start..i).unwrap_or_default());
        let Some(&b) = bytes.get(i) else { break };
        let short = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            0x08 => "\\b",
            0x0c => "\\f",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            _ => "",
        };
        // Escaped bytes are ASCII, so `i + 1` is a char boundary.
        start = i + 1;
        if short.is_empty() {
            out.push_str("\\u00");
            out.push(char::from_digit(u32::from(b >> 4), 16).unwrap_or('0'));
            out.push(char::from_digit(u32::from(b & 0xf), 16).unwrap_or('0'));
        } else {
            out.push_str(short);
        }
    }
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

    /// The streaming writer's text for `text`, checked against the tree writer.
    fn streamed(text: &str) -> String {
        let mut writer = TextJcs::new(text);
        read_into(text, Limits::REQUEST, Code::InvalidRequest, &mut writer).unwrap();
        let out = writer.finish();
        let value = crate::json::parse(text.as_bytes(), Limits::REQUEST, Code::InvalidRequest).unwrap();
        assert_eq!(out, to_jcs(&value), "{text}");
        assert_eq!(canonicalize(text.as_bytes(), Limits::REQUEST, Code::InvalidRequest).unwrap(), out, "{text}");
        out
    }

    #[test]
    fn streamed_text_equals_the_tree_writer() {
        for text in [
            "null",
            "[]",
            "{}",
            " [ ] ",
            r#"{"b": 1, "a": 2}"#,
            r#"[{"b": {}, "a": []}, {"\u00e9": 1, "e": 2, "\ud83d\ude02": 3, "\ufb33": 4}]"#,
            r#"{"a\"q": "x\n\u0001", "a": [1e21, 0.1, -0, 1E-7, 123456789012345680000]}"#,
            r#"[[[]], {"x": {"c": 3, "b": 2, "a": 1}}, "s"]"#,
            r#"{"z": [1], "a": [[2], {"y": [3], "b": [4, [5]]}], "m": 0}"#,
        ] {
            streamed(text);
        }
        assert_eq!(
            streamed(r#" { "z" : [ 1 ] , "a" : { "y" : 1.50 , "b" : "\u0041" } } "#),
            r#"{"a":{"b":"A","y":1.5},"z":[1]}"#
        );
        // Random values, spelled every which way.
        for text in crate::json::samples::texts(8785, 3000) {
            streamed(&text);
        }
    }

    #[test]
    fn integers_and_escapes_take_the_short_paths_correctly() {
        let mut out = String::new();
        for n in [
            0.0,
            -0.0,
            7.0,
            -42.0,
            9_007_199_254_740_991.0,
            -9_007_199_254_740_991.0,
            9_007_199_254_740_992.0,
            1e21,
            0.5,
        ] {
            out.clear();
            write_number(n, &mut out);
            assert_eq!(out, ryu_js::Buffer::new().format_finite(n), "{n}");
        }
        out.clear();
        write_string("plain run of more than eight bytes \"q\" \\ \u{1}\u{1f}\n\té\u{7f}", &mut out);
        assert_eq!(out, "\"plain run of more than eight bytes \\\"q\\\" \\\\ \\u0001\\u001f\\n\\té\u{7f}\"");
    }
}
