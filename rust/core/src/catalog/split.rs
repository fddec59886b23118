//! Splitting a catalog document into its top-level members and model elements, so each model can
//! be read by the strict reader on its own and turned into columns while it is still in cache,
//! instead of first building one tree of every model (gigabytes for a million models).
//!
//! This is not a JSON reader: it only finds where values start and end. Every value is then read
//! by `json::parse`, which does all the strict checking. Anything the splitter does not expect —
//! a byte-order mark, a stray byte between values, a repeated top-level name — makes it give up,
//! and the caller reads the whole text with `json::parse` instead, so every error is the one the
//! strict reader reports for the document as a whole.

use std::ops::Range;

/// Where the parts of `{"name": value, …}` are, with `models` (when it is an array) split into
/// its elements.
pub(super) struct Skeleton {
    /// Each top-level member's name as written (still a JSON string literal, quotes included)
    /// and its value's byte range; `models` has an empty range when it was split.
    pub members: Vec<(Range<usize>, Range<usize>)>,
    /// The index in `members` of the split `models` array, and its elements' byte ranges.
    pub models: Option<(usize, Vec<Range<usize>>)>,
}

fn skip_ws(bytes: &[u8], mut pos: usize) -> usize {
    while let Some(b' ' | b'\t' | b'\n' | b'\r') = bytes.get(pos) {
        pos += 1;
    }
    pos
}

const LOW: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// High bit set in each byte of `word` equal to `byte`. A borrow can only mark bytes above a true
/// match, so the lowest marked byte is always exact.
fn matches(word: u64, byte: u8) -> u64 {
    let x = word ^ (LOW * u64::from(byte));
    x.wrapping_sub(LOW) & !x & HIGH
}

/// The first index at or after `from` whose byte is in `set`, eight bytes at a time.
fn find_any<const N: usize>(bytes: &[u8], from: usize, set: [u8; N]) -> Option<usize> {
    let mut i = from;
    while let Some(chunk) = bytes.get(i..i + 8) {
        let mut eight = [0u8; 8];
        eight.copy_from_slice(chunk);
        let word = u64::from_le_bytes(eight);
        let hits = set.iter().fold(0u64, |acc, &b| acc | matches(word, b));
        if hits != 0 {
            return Some(i + (hits.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    while let Some(b) = bytes.get(i) {
        if set.contains(b) {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// The end (exclusive) of the string literal opening at `pos`.
fn string_end(bytes: &[u8], pos: usize) -> Option<usize> {
    let mut i = pos + 1;
    loop {
        i = find_any(bytes, i, [b'"', b'\\'])?;
        match bytes.get(i)? {
            b'"' => return Some(i + 1),
            _ => i += 2,
        }
    }
}

/// The end (exclusive) of the value starting at `pos`: a string, a bracketed container (brackets
/// counted outside strings, their kinds left for the reader to check), or a scalar token.
fn value_end(bytes: &[u8], pos: usize) -> Option<usize> {
    match bytes.get(pos)? {
        b'"' => string_end(bytes, pos),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut i = pos;
            loop {
                i = find_any(bytes, i, [b'"', b'{', b'[', b'}', b']'])?;
                match bytes.get(i)? {
                    b'"' => {
                        i = string_end(bytes, i)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    _ => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(i + 1);
                        }
                    }
                }
                i += 1;
            }
        }
        _ => {
            let mut i = pos;
            while let Some(&b) = bytes.get(i) {
                if matches!(b, b',' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r') {
                    break;
                }
                i += 1;
            }
            (i > pos).then_some(i)
        }
    }
}

/// The skeleton of `bytes`, or None when anything is unusual (then read the whole text).
pub(super) fn split(bytes: &[u8]) -> Option<Skeleton> {
    let mut members = Vec::new();
    let mut models = None;
    let mut pos = skip_ws(bytes, 0);
    if bytes.get(pos) != Some(&b'{') {
        return None;
    }
    pos = skip_ws(bytes, pos + 1);
    if bytes.get(pos) == Some(&b'}') {
        pos += 1;
    } else {
        loop {
            if bytes.get(pos) != Some(&b'"') {
                return None;
            }
            let name_end = string_end(bytes, pos)?;
            let name = pos..name_end;
            pos = skip_ws(bytes, name_end);
            if bytes.get(pos) != Some(&b':') {
                return None;
            }
            pos = skip_ws(bytes, pos + 1);
            let start = pos;
            let plain_models = bytes.get(name.clone()) == Some(b"\"models\"".as_slice());
            if plain_models && bytes.get(pos) == Some(&b'[') && models.is_none() {
                models = Some((members.len(), split_array(bytes, &mut pos)?));
                members.push((name, start..start));
            } else {
                pos = value_end(bytes, pos)?;
                members.push((name, start..pos));
            }
            pos = skip_ws(bytes, pos);
            match bytes.get(pos) {
                Some(b',') => pos = skip_ws(bytes, pos + 1),
                Some(b'}') => {
                    pos += 1;
                    break;
                }
                _ => return None,
            }
        }
    }
    (skip_ws(bytes, pos) == bytes.len()).then_some(Skeleton { members, models })
}

/// The elements of the array opening at `*pos`; leaves `*pos` after its `]`.
fn split_array(bytes: &[u8], pos: &mut usize) -> Option<Vec<Range<usize>>> {
    let mut elements = Vec::new();
    let mut i = skip_ws(bytes, *pos + 1);
    if bytes.get(i) == Some(&b']') {
        *pos = i + 1;
        return Some(elements);
    }
    loop {
        let end = value_end(bytes, i)?;
        elements.push(i..end);
        i = skip_ws(bytes, end);
        match bytes.get(i) {
            Some(b',') => i = skip_ws(bytes, i + 1),
            Some(b']') => {
                *pos = i + 1;
                return Some(elements);
            }
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (name, value) texts of the members, and the model element texts.
    type Parts = (Vec<(String, String)>, Vec<String>);

    fn parts(text: &str) -> Option<Parts> {
        let sk = split(text.as_bytes())?;
        let s = |r: &Range<usize>| text.get(r.clone()).unwrap_or("?").to_string();
        let members = sk.members.iter().map(|(n, v)| (s(n), s(v))).collect();
        let models = sk.models.map(|(_, m)| m.iter().map(s).collect()).unwrap_or_default();
        Some((members, models))
    }

    #[test]
    fn finds_members_and_model_elements() {
        let (members, models) =
            parts(" {\"format\" : \"x\",\n\"models\":[ {\"id\":\"a]\\\"\"} , [1,{}] ,3, \"s\" ],\"fields\":[] } ").unwrap_or_default();
        let names: Vec<&str> = members.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, vec!["\"format\"", "\"models\"", "\"fields\""]);
        assert_eq!(members.first().map(|(_, v)| v.as_str()), Some("\"x\""));
        assert_eq!(models, vec!["{\"id\":\"a]\\\"\"}", "[1,{}]", "3", "\"s\""]);
        let (_, none) = parts("{\"models\": []}").unwrap_or_default();
        assert!(none.is_empty());
        assert!(parts("{}").is_some());
    }

    #[test]
    fn find_any_finds_the_first_byte_of_the_set() {
        let text = b"abcdefgh\\ijklmnop\"q{r";
        assert_eq!(find_any(text, 0, [b'"', b'\\']), Some(8));
        assert_eq!(find_any(text, 9, [b'"', b'\\']), Some(17));
        assert_eq!(find_any(text, 0, [b'{']), Some(19));
        assert_eq!(find_any(text, 0, [b'}']), None);
        // A byte one above a match (0x23 after 0x22) must not hide or fake one.
        assert_eq!(find_any(b"\x01\x23\x22zzzzzzzz", 0, [b'"']), Some(2));
        for start in 0..text.len() {
            let slow = text.iter().skip(start).position(|b| b"{\"\\".contains(b)).map(|p| p + start);
            assert_eq!(find_any(text, start, [b'{', b'"', b'\\']), slow);
        }
    }

    #[test]
    fn gives_up_on_anything_unusual() {
        for text in ["", "[]", "\u{feff}{}", "{} x", "{\"models\" [1]}", "{\"models\": [1 2]}", "{\"a\": 1,}", "{\"models\": [1,", "{\"a\": \"x}"] {
            assert!(split(text.as_bytes()).is_none(), "{text:?}");
        }
    }
}
