//! Random JSON texts for tests: values of every kind, spelled with random whitespace, escapes and
//! number forms, objects with names in no particular order.
#![allow(clippy::indexing_slicing)]

use super::Value;

/// SplitMix64: deterministic, so a failure names a reproducible case.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const NAMES: &[&str] = &["a", "b", "", "ab", "B", "é", "\u{1F602}", "\u{FB33}", "a\"b", "k\\", "\n", "zz", "a/b"];
const STRINGS: &[&str] = &["", "plain", "x\u{1}y", "tab\tand\nline", "q\"uote", "é€😂", "\u{7f}\u{2028}", "/"];
const NUMBERS: &[f64] = &[
    0.0,
    -0.5,
    0.5,
    5.0,
    -17.0,
    1e21,
    1e20,
    1e-7,
    0.000001,
    123.456,
    9007199254740992.0,
    5e-324,
    1.7976931348623157e308,
    0.1,
    1.5e-10,
    333333333.3333333,
    100.0,
    2.5e15,
];

pub(crate) fn value(rng: &mut Rng, depth: usize) -> Value {
    match rng.below(if depth > 3 { 4 } else { 7 }) {
        0 => Value::Null,
        1 => Value::Bool(rng.below(2) == 0),
        2 => Value::Number(match rng.below(3) {
            0 => NUMBERS[rng.below(NUMBERS.len())],
            1 => rng.below(1 << 20) as f64 - 1000.0,
            _ => loop {
                let x = f64::from_bits(rng.next());
                if x.is_finite() {
                    break x + 0.0;
                }
            },
        }),
        3 => Value::String(STRINGS[rng.below(STRINGS.len())].to_string()),
        4 | 5 => Value::Array((0..rng.below(5)).map(|_| value(rng, depth + 1)).collect()),
        _ => {
            let mut members: Vec<(String, Value)> = Vec::new();
            for _ in 0..rng.below(6) {
                let name = NAMES[rng.below(NAMES.len())].to_string();
                if !members.iter().any(|(k, _)| *k == name) {
                    members.push((name, value(rng, depth + 1)));
                }
            }
            Value::Object(members)
        }
    }
}

/// JSON text of `v` with random whitespace, escapes and number spellings.
pub(crate) fn spell(rng: &mut Rng, v: &Value, out: &mut String) {
    let ws = |rng: &mut Rng, out: &mut String| {
        if rng.below(4) == 0 {
            out.push_str([" ", "\n", "\t ", "\r\n  "][rng.below(4)]);
        }
    };
    ws(rng, out);
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(x) => match rng.below(3) {
            0 => out.push_str(&format!("{x:e}")),
            1 => out.push_str(&format!("{x:?}")),
            _ => out.push_str(ryu_js::Buffer::new().format_finite(*x)),
        },
        Value::String(s) => {
            out.push('"');
            for c in s.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '/' if rng.below(2) == 0 => out.push_str("\\/"),
                    c if (c as u32) < 0x20 || rng.below(8) == 0 => {
                        let mut units = [0u16; 2];
                        for unit in c.encode_utf16(&mut units) {
                            out.push_str(&format!("\\u{unit:04x}"));
                        }
                    }
                    c => out.push(c),
                }
            }
            out.push('"');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                spell(rng, item, out);
            }
            ws(rng, out);
            out.push(']');
        }
        Value::Object(members) => {
            out.push('{');
            for (i, (k, item)) in members.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                spell(rng, &Value::String(k.clone()), out);
                ws(rng, out);
                out.push(':');
                spell(rng, item, out);
            }
            ws(rng, out);
            out.push('}');
        }
    }
    ws(rng, out);
}

/// `count` random texts.
pub(crate) fn texts(seed: u64, count: usize) -> Vec<String> {
    let mut rng = Rng(seed);
    (0..count)
        .map(|_| {
            let v = value(&mut rng, 0);
            let mut text = String::new();
            spell(&mut rng, &v, &mut text);
            text
        })
        .collect()
}
