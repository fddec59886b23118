//! RFC 8785 (JCS): the published vectors of the reference implementation and ECMAScript number
//! serialization. The canonical form is what fingerprints hash, so any drift here changes every
//! fingerprint a user has stored.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::path::PathBuf;

use unhardcoded_core::canonical::{canonicalize, to_jcs, write_jcs};
use unhardcoded_core::error::Code;
use unhardcoded_core::json::{parse, Limits, Value};

fn data(kind: &str, name: &str) -> Vec<u8> {
    let path: PathBuf =
        [env!("CARGO_MANIFEST_DIR"), "tests", "data", "jcs", kind, &format!("{name}.json")].iter().collect();
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn read(text: &[u8]) -> Value {
    parse(text, Limits::REQUEST, Code::InvalidRequest).unwrap_or_else(|e| panic!("{e}"))
}

fn jcs_of(text: &str) -> String {
    to_jcs(&read(text.as_bytes()))
}

#[test]
fn published_vectors() {
    for name in ["arrays", "french", "simpleString", "structures", "unicode", "values", "weird"] {
        let input = data("input", name);
        let expected = String::from_utf8(data("output", name)).unwrap();
        let canonical = to_jcs(&read(&input));
        assert_eq!(canonical, expected, "vector {name}");
        // Written while reading, copying what is already canonical.
        assert_eq!(canonicalize(&input, Limits::REQUEST, Code::InvalidRequest).unwrap(), expected, "vector {name}");
        assert_eq!(canonicalize(expected.as_bytes(), Limits::REQUEST, Code::InvalidRequest).unwrap(), expected);
        // Canonical text is a fixed point.
        assert_eq!(to_jcs(&read(canonical.as_bytes())), expected, "vector {name} (re-read)");
    }
}

#[test]
fn write_jcs_appends() {
    let mut out = String::from("prefix:");
    write_jcs(&read(br#"{"b": 1, "a": [true]}"#), &mut out);
    assert_eq!(out, r#"prefix:{"a":[true],"b":1}"#);
}

#[test]
fn ecmascript_numbers() {
    for (text, expected) in [
        ("1e21", "1e+21"),
        ("1e20", "100000000000000000000"),
        ("1e-7", "1e-7"),
        ("0.000001", "0.000001"),
        ("0.0000001", "1e-7"),
        ("5e-324", "5e-324"),
        ("1.7976931348623157e308", "1.7976931348623157e+308"),
        ("9007199254740992", "9007199254740992"),
        ("-9007199254740992", "-9007199254740992"),
        ("333333333.3333333", "333333333.3333333"),
        ("333333333.33333329", "333333333.3333333"),
        ("-0", "0"),
        ("-0.0", "0"),
        ("0.0", "0"),
        ("1.0", "1"),
        ("4.50", "4.5"),
        ("2e-3", "0.002"),
        ("1E30", "1e+30"),
        ("123e-20", "1.23e-18"),
        ("0.1", "0.1"),
        ("-1.5", "-1.5"),
        ("100", "100"),
        ("1e2", "100"),
        ("1.2345678901234568e20", "123456789012345680000"),
        ("1.5e300", "1.5e+300"),
        ("2.2250738585072014e-308", "2.2250738585072014e-308"),
    ] {
        assert_eq!(jcs_of(text), expected, "{text}");
        // The writer that copies canonical literals as they are must agree.
        let wrapped = format!("[{text}, {{\"n\": {text}}}]");
        let streamed = canonicalize(wrapped.as_bytes(), Limits::REQUEST, Code::InvalidRequest).unwrap();
        assert_eq!(streamed, format!("[{expected},{{\"n\":{expected}}}]"), "{text}");
    }
    // The sample lines of the reference implementation's ES6 number test file (hex IEEE bits).
    for (bits, expected) in [
        (0x4340000000000001u64, "9007199254740994"),
        (0x4340000000000002, "9007199254740996"),
        (0x444b1ae4d6e2ef50, "1e+21"),
        (0x3eb0c6f7a0b5ed8d, "0.000001"),
        (0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"),
        (0x8000000000000000, "0"),
        (0x0, "0"),
    ] {
        assert_eq!(to_jcs(&Value::Number(f64::from_bits(bits))), expected, "{bits:x}");
    }
    assert_eq!(to_jcs(&Value::Number(0.1 + 0.2)), "0.30000000000000004");
}

#[test]
fn non_finite_values_built_by_hand_write_null() {
    assert_eq!(to_jcs(&Value::Array(vec![Value::Number(f64::NAN), Value::Number(f64::INFINITY)])), "[null,null]");
}

#[test]
fn string_escapes_are_minimal() {
    assert_eq!(jcs_of(r#""\u0000\u0001\u001f\u0008\u000c\u000a\u000d\u0009""#), r#""\u0000\u0001\u001f\b\f\n\r\t""#);
    assert_eq!(jcs_of(r#""\u007f\u0080\u2028\u2029\ufeff""#), "\"\u{7f}\u{80}\u{2028}\u{2029}\u{feff}\"");
    assert_eq!(jcs_of(r#""\/\"\\<>&'""#), r#""/\"\\<>&'""#);
    assert_eq!(jcs_of(r#""\u00E9\uD83D\uDE02""#), "\"é😂\"");
    assert_eq!(jcs_of(r#""\u001A""#), r#""\u001a""#);
}

#[test]
fn members_sort_by_utf16_code_units() {
    // U+1F602 (D83D DE02) sorts before U+FB33 although its code point is larger.
    assert_eq!(
        jcs_of(r#"{"\ufb33": 1, "\ud83d\ude02": 2, "\u00f6": 3, "a": 4, "": 5, "B": 6}"#),
        "{\"\":5,\"B\":6,\"a\":4,\"ö\":3,\"😂\":2,\"דּ\":1}"
    );
    // Nested objects are sorted too; arrays keep their order.
    assert_eq!(jcs_of(r#"[{"b": {"d": 1, "c": 2}, "a": [3, 1, 2]}]"#), r#"[{"a":[3,1,2],"b":{"c":2,"d":1}}]"#);
}

#[test]
fn deep_values_do_not_overflow_the_writer() {
    let mut v = Value::Null;
    for _ in 0..100_000 {
        v = Value::Array(vec![v]);
    }
    let text = to_jcs(&v);
    // Dropping 100k nested vectors recurses in Drop; unwind by hand before any assertion can panic.
    let mut cur = v;
    while let Value::Array(mut items) = cur {
        cur = items.pop().unwrap_or(Value::Null);
    }
    assert_eq!(text, format!("{}null{}", "[".repeat(100_000), "]".repeat(100_000)));
}
