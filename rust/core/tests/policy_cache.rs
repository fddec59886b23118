//! The admission cache answers exactly what admission would: per term and per vocabulary.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::sync::Arc;

use unhardcoded_core::catalog::Catalog;
use unhardcoded_core::error::Code;
use unhardcoded_core::json::{parse, Limits, Value};
use unhardcoded_core::policy::admit_value;
use unhardcoded_core::policy::cache::admit_cached;
use unhardcoded_core::vocab::Vocabulary;

fn term(text: &str) -> Value {
    parse(text.as_bytes(), Limits::POLICY, Code::InvalidPolicy).unwrap()
}

/// A one-model catalog, declaring the extension field `house_score` or not.
fn catalog(declares: bool) -> Arc<Catalog> {
    let (fields, extra) = if declares {
        (r#"[{"name": "house_score", "kind": "number", "description": "House score."}]"#, r#", "house_score": 0.5"#)
    } else {
        ("[]", "")
    };
    let doc = format!(
        r#"{{"format": "unhardcoded-catalog/v1", "fields": {fields},
            "models": [{{"id": "m", "provider": "openai", "price_out": 1{extra}}}]}}"#
    );
    Arc::new(Catalog::from_json(doc.as_bytes()).unwrap())
}

const USES_EXTENSION: &str = r#"["policy", ["ev_zero"], ["cmp", "house_score", "ge", 0.4],
    ["neg", ["field", "price_out"]], ["argmax"], ["id"], ["always", {"action": "next_candidate"}]]"#;

#[test]
fn a_repeated_term_is_admitted_once_and_equals_fresh_admission() {
    let core = Vocabulary::core();
    let text = r#"["policy", ["ev_zero"], ["cmp", "price_out", "le", 2.5], ["neg", ["field", "price_out"]],
        ["argmax"], ["id"], ["always", {"action": "next_candidate"}]]"#;
    let first = admit_cached(term(text), None, &core).unwrap();
    let second = admit_cached(term(text), None, &core).unwrap();
    assert!(Arc::ptr_eq(&first, &second));
    assert_eq!(*first, admit_value(term(text), &core).unwrap());
}

#[test]
fn a_term_is_cached_per_vocabulary() {
    let core = Vocabulary::core();
    let declares = catalog(true);
    let lacks = catalog(false);
    let admitted = admit_cached(term(USES_EXTENSION), Some(&declares), &core).unwrap();
    // The same term against a vocabulary without the field is refused, cache or not.
    let refused = admit_cached(term(USES_EXTENSION), Some(&lacks), &core).unwrap_err();
    assert_eq!(refused.code, Code::InvalidPolicy);
    assert!(admit_cached(term(USES_EXTENSION), None, &core).is_err());
    let again = admit_cached(term(USES_EXTENSION), Some(&declares), &core).unwrap();
    assert!(Arc::ptr_eq(&admitted, &again));
    // A catalog built anew is another vocabulary: admitted again, to an equal policy.
    let rebuilt = catalog(true);
    let fresh = admit_cached(term(USES_EXTENSION), Some(&rebuilt), &core).unwrap();
    assert!(!Arc::ptr_eq(&admitted, &fresh));
    assert_eq!(*admitted, *fresh);
}

#[test]
fn zero_and_negative_zero_are_one_term() {
    let core = Vocabulary::core();
    let a = admit_cached(term(r#"["policy", ["ev_zero"], ["cmp", "price_out", "ge", 0], ["neg", ["field", "price_out"]],
        ["argmax"], ["id"], ["always", {"action": "next_candidate"}]]"#), None, &core).unwrap();
    let b = admit_cached(term(r#"["policy", ["ev_zero"], ["cmp", "price_out", "ge", -0.0], ["neg", ["field", "price_out"]],
        ["argmax"], ["id"], ["always", {"action": "next_candidate"}]]"#), None, &core).unwrap();
    assert_eq!(a.fingerprint, b.fingerprint);
}
