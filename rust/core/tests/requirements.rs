//! Implied requirements (spec §4) and the mutate slot (spec §2.4).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use serde_json::json;
use unhardcoded_core::error::Code;
use unhardcoded_core::json::{parse, Limits, Value};
use unhardcoded_core::mutate::apply;
use unhardcoded_core::policy::ast::Mutate;
use unhardcoded_core::requirements::Requirements;

fn value(doc: serde_json::Value) -> Value {
    parse(doc.to_string().as_bytes(), Limits::REQUEST, Code::InvalidRequest).unwrap()
}

fn req(doc: serde_json::Value) -> Requirements {
    Requirements::from_request(&value(doc))
}

#[test]
fn plain_request_needs_only_its_prompt() {
    // "user" (4) + "hello world!" (12) = 16 bytes -> 4 tokens.
    let r = req(json!({"model": "x", "messages": [{"role": "user", "content": "hello world!"}]}));
    assert_eq!(r, Requirements { tools: false, vision: false, json: false, prompt_tokens: 4, max_tokens: None });
}

#[test]
fn prompt_estimate_rounds_bytes_up_and_counts_utf8_bytes() {
    // "user" (4) + "é" (2) = 6 bytes -> ceil(6 / 4) = 2.
    assert_eq!(req(json!({"messages": [{"role": "user", "content": "é"}]})).prompt_tokens, 2);
    assert_eq!(req(json!({"messages": []})).prompt_tokens, 0);
    assert_eq!(req(json!({})).prompt_tokens, 0);
}

#[test]
fn prompt_estimate_counts_string_values_under_messages_and_tools_only() {
    let r = req(json!({
        "model": "a-very-long-model-label-that-does-not-count",
        "messages": [{"role": "user", "content": [{"type": "text", "text": "abcd"}], "name": "ab"}],
        "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
        "metadata": {"note": "not counted"}
    }));
    // messages: user 4 + text 4 + abcd 4 + ab 2 = 14; tools: function 8 + f 1 + object 6 = 15. 29 -> 8.
    assert_eq!(r.prompt_tokens, 8);
    assert!(r.tools);
}

#[test]
fn image_parts_need_vision_and_cost_a_thousand_tokens_without_their_url() {
    let r = req(json!({"messages": [{"role": "user", "content": [
        {"type": "text", "text": "what is this"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAAAAAAAAAAAAAAAAAAAAAAAAAA", "detail": "low"}},
        {"type": "input_image", "image_url": "https://example.com/cat.png"}
    ]}]}));
    assert!(r.vision);
    // user 4 + text 4 + "what is this" 12 + image_url 9 + low 3 + input_image 11 = 43 -> 11; + 2 images.
    assert_eq!(r.prompt_tokens, 11 + 2_000);
}

#[test]
fn image_url_outside_message_content_is_not_vision() {
    let r = req(json!({"messages": [{"role": "user", "content": "see {\"type\":\"image_url\"}"}],
                       "tools": [{"type": "image_url"}]}));
    assert!(!r.vision);
}

#[test]
fn tools_need_a_non_empty_array() {
    assert!(req(json!({"tools": [{"type": "function"}]})).tools);
    assert!(req(json!({"functions": [{"name": "f"}]})).tools);
    assert!(!req(json!({"tools": []})).tools);
    assert!(!req(json!({"tools": null})).tools);
    assert!(!req(json!({"tools": {"type": "function"}})).tools);
}

#[test]
fn json_needs_a_structured_response_format() {
    assert!(req(json!({"response_format": {"type": "json_object"}})).json);
    assert!(req(json!({"response_format": {"type": "json_schema", "json_schema": {}}})).json);
    assert!(!req(json!({"response_format": {"type": "text"}})).json);
    assert!(!req(json!({"response_format": "json_object"})).json);
}

#[test]
fn max_tokens_prefers_max_completion_tokens() {
    assert_eq!(req(json!({"max_tokens": 100})).max_tokens, Some(100));
    assert_eq!(req(json!({"max_tokens": 100, "max_completion_tokens": 50})).max_tokens, Some(50));
    assert_eq!(req(json!({"max_tokens": 100, "max_completion_tokens": null})).max_tokens, Some(100));
    assert_eq!(req(json!({"max_tokens": "100"})).max_tokens, None);
    assert_eq!(req(json!({})).max_tokens, None);
}

#[test]
fn requirements_round_trip_as_data() {
    let r = Requirements { tools: true, vision: false, json: true, prompt_tokens: 1234, max_tokens: Some(99) };
    assert_eq!(Requirements::from_value(&r.to_value()).unwrap(), r);
    let none = Requirements { max_tokens: None, ..r };
    assert_eq!(none.to_value().get("max_tokens"), Some(&Value::Null));
    assert_eq!(Requirements::from_value(&none.to_value()).unwrap(), none);
}

#[test]
fn requirements_members_default_when_missing() {
    let r = Requirements::from_value(&value(json!({"tools": true}))).unwrap();
    assert_eq!(r, Requirements { tools: true, ..Requirements::default() });
    assert_eq!(Requirements::from_value(&value(json!({}))).unwrap(), Requirements::default());
}

#[test]
fn bad_requirements_are_invalid_request() {
    for (doc, rule, path) in [
        (json!({"tools": "yes"}), "type", "/tools"),
        (json!({"prompt_tokens": -1}), "type", "/prompt_tokens"),
        (json!({"prompt_tokens": 1.5}), "type", "/prompt_tokens"),
        (json!({"max_tokens": "9"}), "type", "/max_tokens"),
        (json!({"tool": true}), "unknown_field", "/tool"),
        (json!([]), "type", ""),
    ] {
        let e = Requirements::from_value(&value(doc)).unwrap_err();
        assert_eq!((e.code, e.rule, e.path.as_str()), (Code::InvalidRequest, rule, path));
    }
    let e = Requirements::from_value(&value(json!({"visio": true}))).unwrap_err();
    assert_eq!(e.did_you_mean.as_deref(), Some("vision"));
}

fn clamp(param: &str, min: f64, max: f64) -> Mutate {
    Mutate::ClampParam { param: param.to_string(), min, max }
}

fn mutated(m: &Mutate, doc: serde_json::Value) -> Value {
    let mut v = value(doc);
    apply(m, &mut v);
    v
}

#[test]
fn clamp_param_bounds_a_numeric_parameter() {
    let m = clamp("temperature", 0.2, 0.8);
    assert_eq!(mutated(&m, json!({"temperature": 1.5})).get("temperature"), Some(&Value::Number(0.8)));
    assert_eq!(mutated(&m, json!({"temperature": 0.0})).get("temperature"), Some(&Value::Number(0.2)));
    assert_eq!(mutated(&m, json!({"temperature": 0.5})).get("temperature"), Some(&Value::Number(0.5)));
}

#[test]
fn clamp_param_leaves_absent_or_non_numeric_parameters_alone() {
    let m = clamp("temperature", 0.2, 0.8);
    let doc = json!({"messages": [], "temperature": "hot"});
    assert_eq!(mutated(&m, doc.clone()), value(doc));
    let doc = json!({"messages": []});
    assert_eq!(mutated(&m, doc.clone()), value(doc));
    let mut not_object = Value::Array(vec![]);
    apply(&m, &mut not_object);
    assert_eq!(not_object, Value::Array(vec![]));
}

#[test]
fn integer_parameters_clamp_to_bounds_rounded_inward() {
    let m = clamp("max_tokens", 10.5, 100.7);
    assert_eq!(mutated(&m, json!({"max_tokens": 5})).get("max_tokens"), Some(&Value::Number(11.0)));
    assert_eq!(mutated(&m, json!({"max_tokens": 500})).get("max_tokens"), Some(&Value::Number(100.0)));
    assert_eq!(mutated(&m, json!({"max_tokens": 50})).get("max_tokens"), Some(&Value::Number(50.0)));
    let n = clamp("n", 1.2, 3.9);
    assert_eq!(mutated(&n, json!({"n": 9})).get("n"), Some(&Value::Number(3.0)));
    let t = clamp("top_p", 0.1, 0.9);
    assert_eq!(mutated(&t, json!({"top_p": 0.95})).get("top_p"), Some(&Value::Number(0.9)), "top_p is not an integer");
}

#[test]
fn identity_mutate_changes_nothing_and_mutation_feeds_requirements() {
    let doc = json!({"max_tokens": 5000, "messages": []});
    assert_eq!(mutated(&Mutate::Id, doc.clone()), value(doc.clone()));
    let r = Requirements::from_request(&mutated(&clamp("max_tokens", 1.0, 1024.0), doc));
    assert_eq!(r.max_tokens, Some(1024));
}
