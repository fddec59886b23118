//! Canonical form is a fixed point (spec §1, §3): for random admitted policies, written in many
//! different but equivalent ways, the canonical text admits again to itself with the same
//! fingerprint. Numbers are drawn to stress the integer rule: integral doubles past 2^53 print in
//! full below 1e21, and that text must read back.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use unhardcoded_core::canonical::to_jcs;
use unhardcoded_core::error::Code;
use unhardcoded_core::json::{parse, Limits, Value};
use unhardcoded_core::policy::{admit_text, AdmittedPolicy};
use unhardcoded_core::vocab::{FieldKind, Vocabulary, CORE_CAPABILITIES, CORE_FIELDS};

/// SplitMix64: deterministic, so a failure names a reproducible case number.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

fn fields(kind: FieldKind) -> Vec<&'static str> {
    CORE_FIELDS.iter().filter(|(_, k, _)| *k == kind).map(|(name, _, _)| *name).collect()
}

/// A finite double, biased to the values that are easy to get wrong.
fn number(rng: &mut Rng) -> f64 {
    match rng.below(9) {
        0 => (rng.below(2001) as f64 - 1000.0) / 8.0,
        // Integral doubles between 2^53 and 2^70: printed in full, mostly not exactly.
        1 => ((rng.next() >> 11) as f64) * 2f64.powi(rng.below(18) as i32),
        // Powers of ten around the 1e21 switch to exponent notation.
        2 => 10f64.powi(rng.below(30) as i32),
        3 => -(10f64.powi(rng.below(30) as i32)),
        4 => (rng.next() >> 11) as f64 / 2f64.powi(53) * 10f64.powi(rng.below(40) as i32 - 20),
        5 => (1u64 << 53) as f64 + (rng.below(4) as f64) * 2.0,
        // Any finite bit pattern.
        6 => loop {
            let f = f64::from_bits(rng.next());
            if f.is_finite() {
                break f;
            }
        },
        7 => 0.1 * rng.below(100) as f64,
        _ => rng.below(1 << 20) as f64,
    }
}

fn string(rng: &mut Rng) -> String {
    let pieces = ["a", "gpt-4o", "é", "中文", "\u{1F600}", "\"", "\\", "/", "\n", "\u{1}", "\u{7f}", "\u{2028}", " "];
    (0..rng.below(6)).map(|_| rng.pick(&pieces)).collect()
}

fn s(x: &str) -> Value {
    Value::String(x.to_string())
}

fn op(name: &str, args: Vec<Value>) -> Value {
    let mut items = vec![s(name)];
    items.extend(args);
    Value::Array(items)
}

fn filter(rng: &mut Rng, depth: usize) -> Value {
    let leaf = depth >= 4 || rng.chance(45);
    if !leaf {
        return match rng.below(3) {
            0 => op("and", (0..1 + rng.below(3)).map(|_| filter(rng, depth + 1)).collect()),
            1 => op("or", (0..1 + rng.below(3)).map(|_| filter(rng, depth + 1)).collect()),
            _ => op("not", vec![filter(rng, depth + 1)]),
        };
    }
    match rng.below(6) {
        0 => op("has_cap", vec![s(rng.pick(CORE_CAPABILITIES))]),
        1 => op("is", vec![s(rng.pick(&fields(FieldKind::Bool)))]),
        2 => {
            let cmp = ["ge", "le", "gt", "lt", "eq", "ne"];
            op("cmp", vec![s(rng.pick(&fields(FieldKind::Number))), s(rng.pick(&cmp)), Value::Number(number(rng))])
        }
        3 => {
            let cmp = ["eq", "ne"];
            op("cmp", vec![s(rng.pick(&fields(FieldKind::String))), s(rng.pick(&cmp)), Value::String(string(rng))])
        }
        4 => op("meets_req", vec![]),
        _ => {
            let mut family = string(rng);
            family.push('x');
            op("family_eq", vec![Value::String(family)])
        }
    }
}

fn rank(rng: &mut Rng, depth: usize) -> Value {
    if depth >= 4 || rng.chance(40) {
        return if rng.chance(80) {
            op("field", vec![s(rng.pick(&fields(FieldKind::Number)))])
        } else {
            op("zero", vec![])
        };
    }
    match rng.below(4) {
        0 => op("normalize", vec![rank(rng, depth + 1)]),
        1 => op("neg", vec![rank(rng, depth + 1)]),
        2 => op("scale", vec![Value::Number(number(rng)), rank(rng, depth + 1)]),
        _ => op("add", (0..1 + rng.below(3)).map(|_| rank(rng, depth + 1)).collect()),
    }
}

fn select(rng: &mut Rng, depth: usize) -> Value {
    match rng.below(if depth >= 3 { 2 } else { 3 }) {
        0 => op("argmax", vec![]),
        1 => {
            let t = number(rng).abs();
            op("sample", vec![Value::Number(if t > 0.0 { t } else { 0.5 })])
        }
        _ => op("top_k", vec![Value::Number((1 + rng.below(1024)) as f64), select(rng, depth + 1)]),
    }
}

fn mutate(rng: &mut Rng) -> Value {
    if rng.chance(50) {
        return op("id", vec![]);
    }
    let params = ["temperature", "top_p", "max_tokens", "n", "presence_penalty"];
    let (a, b) = (number(rng), number(rng));
    op("clamp_param", vec![s(rng.pick(&params)), Value::Number(a.min(b)), Value::Number(a.max(b))])
}

fn policy(rng: &mut Rng) -> Value {
    op(
        "policy",
        vec![
            op("ev_zero", vec![]),
            filter(rng, 0),
            rank(rng, 0),
            select(rng, 0),
            mutate(rng),
            op("always", vec![Value::Object(vec![("action".into(), s("next_candidate"))])]),
        ],
    )
}

/// Some spelling of `x` that reads as exactly `x`: shortest digits with an exponent, Rust's
/// debug form, or the ECMAScript form the canonical writer itself uses.
fn spell_number(rng: &mut Rng, x: f64) -> String {
    match rng.below(3) {
        0 => format!("{x:e}"),
        1 => format!("{x:?}"),
        _ => ryu_js::Buffer::new().format_finite(x).to_string(),
    }
}

/// JSON text of `v` with random whitespace, escapes and number spellings.
fn write(rng: &mut Rng, v: &Value, out: &mut String) {
    let ws = |rng: &mut Rng, out: &mut String| {
        if rng.chance(20) {
            out.push_str(rng.pick(&[" ", "\n", "\t ", "\r\n"]));
        }
    };
    ws(rng, out);
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(x) => out.push_str(&spell_number(rng, *x)),
        Value::String(text) => {
            out.push('"');
            for c in text.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    c if (c as u32) < 0x20 || rng.chance(10) => {
                        let mut units = [0u16; 2];
                        for unit in c.encode_utf16(&mut units) {
                            out.push_str(&format!("\\u{unit:04X}"));
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
                write(rng, item, out);
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
                write(rng, &Value::String(k.clone()), out);
                out.push(':');
                write(rng, item, out);
            }
            out.push('}');
        }
    }
}

/// Every array in `v` in document order: its JSON Pointer and canonical text.
fn arrays_in(v: &Value, path: String, out: &mut Vec<(String, String)>) {
    match v {
        Value::Array(items) => {
            out.push((path.clone(), to_jcs(v)));
            for (i, item) in items.iter().enumerate() {
                arrays_in(item, format!("{path}/{i}"), out);
            }
        }
        Value::Object(members) => {
            for (k, item) in members {
                arrays_in(item, format!("{path}/{k}"), out);
            }
        }
        _ => {}
    }
}

fn admit(text: &str, case: usize, vocab: &Vocabulary) -> AdmittedPolicy {
    admit_text(text.as_bytes(), vocab).unwrap_or_else(|e| panic!("case {case}: {e}\n{text}"))
}

#[test]
fn canonical_text_of_random_policies_admits_to_itself() {
    let vocab = Vocabulary::core();
    let mut rng = Rng(20_261_122);
    let mut big_integers = 0;
    for case in 0..3000 {
        let term = policy(&mut rng);
        let mut text = String::new();
        write(&mut rng, &term, &mut text);
        let first = admit(&text, case, &vocab);
        // The admitted term is what was written, number for number.
        assert_eq!(first.term(), term, "case {case}");
        assert_eq!(first.canonical, to_jcs(&term), "case {case}");
        let again = admit(&first.canonical, case, &vocab);
        assert_eq!(again.canonical, first.canonical, "case {case}: canonical form is not a fixed point");
        assert_eq!(again.fingerprint, first.fingerprint, "case {case}");
        assert_eq!(again.term(), first.term(), "case {case}: the canonical text reads as another term");
        // The node table: every array but the root is an op node, in document order, with its
        // pointer and its canonical text.
        let mut arrays = Vec::new();
        arrays_in(&term, String::new(), &mut arrays);
        let nodes: Vec<(String, String)> =
            first.ast.node_infos().map(|n| (n.path.to_string(), n.term.to_string())).collect();
        assert_eq!(nodes, arrays.split_off(1), "case {case}");
        // Count the cases whose canonical text holds an integer literal past 2^53 (the rule's edge):
        // a run of 17 or more digits not after a decimal point.
        let mut rest = first.canonical.as_str();
        while let Some(start) = rest.find(|c: char| c.is_ascii_digit()) {
            let run = &rest[start..];
            let len = run.find(|c: char| !c.is_ascii_digit()).unwrap_or(run.len());
            if len >= 17 && !rest[..start].ends_with('.') {
                big_integers += 1;
                break;
            }
            rest = &run[len..];
        }
    }
    assert!(big_integers >= 25, "only {big_integers} cases exercised integers past 2^53");
}

#[test]
fn canonical_text_of_random_values_reads_to_itself() {
    // The same fixed point for any JSON value: every finite double's canonical spelling reads
    // back as that double.
    let mut rng = Rng(8785);
    for case in 0..20_000 {
        let x = number(&mut rng);
        let canonical = to_jcs(&Value::Array(vec![Value::Number(x), Value::Number(-x)]));
        let back = parse(canonical.as_bytes(), Limits::POLICY, Code::InvalidRequest)
            .unwrap_or_else(|e| panic!("case {case}: {x:e} wrote {canonical}, which reads as {e}"));
        assert_eq!(to_jcs(&back), canonical, "case {case}");
        assert_eq!(back, Value::Array(vec![Value::Number(x + 0.0), Value::Number(-x + 0.0)]), "case {case}");
    }
}
