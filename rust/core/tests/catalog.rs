//! Catalog loading, validation, columns, canonical form and fingerprint (spec §7).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use serde_json::json;
use unhardcoded_core::catalog::{Catalog, ColumnRef, BOOL_FALSE, BOOL_MISSING, BOOL_TRUE, NO_STRING};
use unhardcoded_core::error::{Code, Error};
use unhardcoded_core::fingerprint::fingerprint;
use unhardcoded_core::json::Value;

fn load(doc: serde_json::Value) -> Result<Catalog, Error> {
    Catalog::from_json(doc.to_string().as_bytes())
}

fn reject(doc: serde_json::Value) -> Error {
    match load(doc) {
        Ok(_) => panic!("catalog was accepted"),
        Err(e) => {
            assert_eq!(e.code, Code::InvalidCatalog);
            e
        }
    }
}

fn sample() -> serde_json::Value {
    json!({
        "format": "unhardcoded-catalog/v1",
        "fields": [{"name": "eu_resident", "kind": "bool", "description": "Served from the EU."},
                   {"name": "tier", "kind": "string", "description": "Plan tier."},
                   {"name": "quality", "kind": "number", "description": "House score."}],
        "capabilities_extra": ["supports_video"],
        "models": [
            {"id": "zeta", "provider": "openai", "family": "z", "price_out": 10, "cap_tools": true,
             "capabilities": ["supports_video", "supports_tools"], "meta": {"upstream": "zeta-1"}},
            {"id": "alpha", "provider": "anthropic", "price_out": 1.5, "cap_tools": false, "eu_resident": true,
             "tier": "pro", "quality": 0.25, "region": null},
            {"id": "mid", "provider": "openai", "family": "z", "capabilities": []}
        ]
    })
}

#[test]
fn models_are_sorted_by_id_and_found_by_binary_search() {
    let c = load(sample()).unwrap();
    assert_eq!(c.len(), 3);
    assert!(!c.is_empty());
    assert_eq!(c.ids(), &["alpha".to_string(), "mid".to_string(), "zeta".to_string()]);
    assert_eq!(c.index_of("mid"), Some(1));
    assert_eq!(c.index_of("nope"), None);
}

#[test]
fn ids_sort_by_utf8_bytes() {
    let c = load(json!({"models": [
        {"id": "b", "provider": "p"}, {"id": "B", "provider": "p"}, {"id": "é", "provider": "p"}, {"id": "a-1", "provider": "p"}
    ]}))
    .unwrap();
    assert_eq!(c.ids(), &["B", "a-1", "b", "é"]);
}

#[test]
fn columns_keep_values_and_mark_missing_ones() {
    let c = load(sample()).unwrap();
    let price = c.numbers("price_out").unwrap();
    assert_eq!(price[0], 1.5);
    assert!(price[1].is_nan(), "mid has no price");
    assert_eq!(price[2], 10.0);
    assert_eq!(c.bools("cap_tools").unwrap(), &[BOOL_FALSE, BOOL_MISSING, BOOL_TRUE]);
    assert_eq!(c.bools("eu_resident").unwrap(), &[BOOL_TRUE, BOOL_MISSING, BOOL_MISSING]);
    assert_eq!(c.numbers("quality").unwrap()[0], 0.25);
    let family = c.strs("family").unwrap();
    assert_eq!(family[0], NO_STRING);
    assert_eq!(c.string(family[1]), Some("z"));
    assert_eq!(family[1], family[2], "equal strings are interned once");
    assert_eq!(c.strs("region").unwrap(), &[NO_STRING; 3], "null reads as missing");
    assert_eq!(c.str_value("tier", 0), Some("pro"));
    assert_eq!(c.str_value("id", 2), Some("zeta"));
    assert_eq!(c.provider(0), Some("anthropic"));
    assert!(matches!(c.column("id"), Some(ColumnRef::Id)));
    assert!(matches!(c.column("capabilities"), Some(ColumnRef::Caps)));
    assert!(c.column("price").is_none());
    assert!(c.numbers("cap_tools").is_none(), "a bool field is not a number column");
}

#[test]
fn capabilities_are_bitsets_over_the_vocabulary() {
    let c = load(sample()).unwrap();
    let tools = c.capability_index("supports_tools").unwrap();
    let video = c.capability_index("supports_video").unwrap();
    let vision = c.capability_index("supports_vision").unwrap();
    assert!(c.has_cap(2, tools) && c.has_cap(2, video) && !c.has_cap(2, vision));
    assert!(!c.has_cap(0, tools) && !c.has_cap(1, tools));
    assert!(c.vocab().has_capability("supports_video"));
    assert!(c.capability_index("supports_teleport").is_none());
}

#[test]
fn vocabulary_holds_core_and_declared_fields() {
    let c = load(sample()).unwrap();
    let v = c.vocab();
    assert!(v.field("price_out").is_some_and(|f| f.core));
    let ext = v.field("eu_resident").unwrap();
    assert!(!ext.core);
    assert_eq!(ext.description, "Served from the EU.");
    assert!(v.field("tier").is_some());
}

#[test]
fn fingerprint_hashes_the_canonical_document() {
    let c = load(sample()).unwrap();
    let canonical = c.to_canonical();
    assert_eq!(c.fingerprint(), fingerprint("cat_", canonical.as_bytes()));
    assert!(c.fingerprint().starts_with("cat_") && c.fingerprint().len() == 4 + 64);
}

#[test]
fn canonical_form_is_pinned() {
    let c = load(json!({
        "models": [
            {"provider": "openai", "id": "m2", "price_in": 1.0, "meta": {"z": 1, "a": [true, null]}, "family": null},
            {"id": "m1", "provider": "x", "capabilities": ["supports_tools", "supports_json_mode", "supports_tools"],
             "context": 1e21, "no_log": false, "latency_ms": 0.000001}
        ]
    }))
    .unwrap();
    assert_eq!(
        c.to_canonical(),
        concat!(
            r#"{"capabilities_extra":[],"fields":[],"format":"unhardcoded-catalog/v1","models":["#,
            r#"{"capabilities":["supports_tools","supports_json_mode","supports_tools"],"context":1e+21,"id":"m1","latency_ms":0.000001,"no_log":false,"provider":"x"},"#,
            r#"{"id":"m2","meta":{"a":[true,null],"z":1},"price_in":1,"provider":"openai"}]}"#
        )
    );
}

#[test]
fn fingerprint_ignores_member_and_model_order_and_nulls() {
    let a = load(sample()).unwrap();
    let b = load(json!({
        "models": [
            {"capabilities": [], "family": "z", "provider": "openai", "id": "mid", "price_in": null},
            {"meta": {"upstream": "zeta-1"}, "capabilities": ["supports_video", "supports_tools"], "cap_tools": true,
             "price_out": 10.0, "family": "z", "provider": "openai", "id": "zeta"},
            {"quality": 0.25, "tier": "pro", "eu_resident": true, "cap_tools": false, "price_out": 1.5,
             "provider": "anthropic", "id": "alpha"}
        ],
        "capabilities_extra": ["supports_video"],
        "fields": [{"description": "Served from the EU.", "kind": "bool", "name": "eu_resident"},
                   {"kind": "string", "name": "tier", "description": "Plan tier."},
                   {"name": "quality", "description": "House score.", "kind": "number"}],
        "format": "unhardcoded-catalog/v1"
    }))
    .unwrap();
    assert_eq!(a.to_canonical(), b.to_canonical());
    assert_eq!(a.fingerprint(), b.fingerprint());
}

#[test]
fn fingerprint_changes_with_any_value() {
    let base = load(sample()).unwrap();
    let mut doc = sample();
    doc["models"][1]["price_out"] = json!(1.25);
    assert_ne!(load(doc).unwrap().fingerprint(), base.fingerprint());
    let mut doc = sample();
    doc["models"][0]["meta"]["upstream"] = json!("zeta-2");
    assert_ne!(load(doc).unwrap().fingerprint(), base.fingerprint(), "meta decides the upstream call");
    let mut doc = sample();
    doc["models"][2]["capabilities"] = serde_json::Value::Null;
    assert_ne!(load(doc).unwrap().fingerprint(), base.fingerprint(), "[] and absent differ");
}

#[test]
fn canonical_document_reloads_to_the_same_catalog() {
    let a = load(sample()).unwrap();
    let b = Catalog::from_json(a.to_canonical().as_bytes()).unwrap();
    assert_eq!(a.fingerprint(), b.fingerprint());
    assert_eq!(a.ids(), b.ids());
}

#[test]
fn model_value_gives_back_present_members() {
    let c = load(sample()).unwrap();
    let zeta = c.model_value(c.index_of("zeta").unwrap()).unwrap();
    assert_eq!(zeta.get("id").and_then(Value::as_str), Some("zeta"));
    assert_eq!(zeta.get("price_out").and_then(Value::as_f64), Some(10.0));
    assert_eq!(zeta.get("cap_tools"), Some(&Value::Bool(true)));
    assert_eq!(
        zeta.get("capabilities"),
        Some(&Value::Array(vec![Value::String("supports_video".into()), Value::String("supports_tools".into())])),
        "capabilities keep the order they were listed in"
    );
    assert_eq!(zeta.get("meta").and_then(|m| m.get("upstream")).and_then(Value::as_str), Some("zeta-1"));
    assert!(zeta.get("region").is_none());
    let alpha = c.model_value(0).unwrap();
    assert_eq!(alpha.get("eu_resident"), Some(&Value::Bool(true)));
    assert!(alpha.get("region").is_none(), "null is not kept");
    assert!(c.model_value(3).is_none());
    assert_eq!(c.meta(2).and_then(|m| m.get("upstream")).and_then(Value::as_str), Some("zeta-1"));
}

#[test]
fn from_value_matches_from_json() {
    let text = sample().to_string();
    let v = unhardcoded_core::json::parse(text.as_bytes(), unhardcoded_core::json::Limits::CATALOG, Code::InvalidCatalog)
        .unwrap();
    let a = Catalog::from_value(&v).unwrap();
    let b = Catalog::from_json(text.as_bytes()).unwrap();
    assert_eq!(a.fingerprint(), b.fingerprint());
}

#[test]
fn empty_catalog_is_valid() {
    let c = load(json!({"models": []})).unwrap();
    assert!(c.is_empty());
    assert_eq!(
        c.to_canonical(),
        r#"{"capabilities_extra":[],"fields":[],"format":"unhardcoded-catalog/v1","models":[]}"#
    );
}

#[test]
fn undeclared_model_member_is_unknown_field_with_suggestion() {
    let e = reject(json!({"models": [{"id": "a", "provider": "p"}, {"id": "b", "provider": "p", "price_ou": 1}]}));
    assert_eq!((e.rule, e.path.as_str()), ("unknown_field", "/models/1/price_ou"));
    assert_eq!(e.did_you_mean.as_deref(), Some("price_out"));
}

#[test]
fn unknown_top_level_member_is_unknown_field() {
    let e = reject(json!({"models": [], "feilds": []}));
    assert_eq!((e.rule, e.path.as_str()), ("unknown_field", "/feilds"));
    assert_eq!(e.did_you_mean.as_deref(), Some("fields"));
}

#[test]
fn wrong_json_type_is_type_with_path() {
    let e = reject(json!({"models": [{"id": "a", "provider": "p", "price_out": "5"}]}));
    assert_eq!((e.rule, e.path.as_str()), ("type", "/models/0/price_out"));
    let e = reject(json!({"models": [{"id": "a", "provider": "p", "disabled": 0}]}));
    assert_eq!((e.rule, e.path.as_str()), ("type", "/models/0/disabled"));
    let e = reject(json!({"models": [{"id": "a", "provider": "p", "family": 3}]}));
    assert_eq!((e.rule, e.path.as_str()), ("type", "/models/0/family"));
    let e = reject(json!({"models": [{"id": 7, "provider": "p"}]}));
    assert_eq!((e.rule, e.path.as_str()), ("type", "/models/0/id"));
    let e = reject(json!({"models": [{"id": "a", "provider": "p", "capabilities": "supports_tools"}]}));
    assert_eq!((e.rule, e.path.as_str()), ("type", "/models/0/capabilities"));
    let e = reject(json!({"models": [{"id": "a", "provider": "p", "capabilities": ["supports_tools", 1]}]}));
    assert_eq!((e.rule, e.path.as_str()), ("type", "/models/0/capabilities/1"));
    let e = reject(json!({"models": [3]}));
    assert_eq!((e.rule, e.path.as_str()), ("type", "/models/0"));
    let e = reject(json!({"models": {}}));
    assert_eq!((e.rule, e.path.as_str()), ("type", "/models"));
    let e = reject(json!([]));
    assert_eq!((e.rule, e.path.as_str()), ("type", ""));
}

#[test]
fn extension_fields_are_typed_by_their_kind() {
    let fields = json!([{"name": "eu_resident", "kind": "bool"}, {"name": "score2", "kind": "number"}]);
    let e = reject(json!({"fields": fields, "models": [{"id": "a", "provider": "p", "eu_resident": "yes"}]}));
    assert_eq!((e.rule, e.path.as_str()), ("type", "/models/0/eu_resident"));
    let e = reject(json!({"fields": fields, "models": [{"id": "a", "provider": "p", "score2": true}]}));
    assert_eq!((e.rule, e.path.as_str()), ("type", "/models/0/score2"));
    let e = reject(json!({"fields": [{"name": "x", "kind": "caps"}], "models": []}));
    assert_eq!((e.rule, e.path.as_str()), ("type", "/fields/0/kind"));
    let e = reject(json!({"fields": [{"name": "x", "kind": "number", "unit": "ms"}], "models": []}));
    assert_eq!((e.rule, e.path.as_str()), ("unknown_field", "/fields/0/unit"));
    let e = reject(json!({"fields": [{"kind": "number"}], "models": []}));
    assert_eq!((e.rule, e.path.as_str()), ("type", "/fields/0/name"));
    let e = reject(json!({"fields": [{"name": "x"}], "models": []}));
    assert_eq!((e.rule, e.path.as_str()), ("type", "/fields/0/kind"));
    let e = reject(json!({"fields": [{"name": "x", "kind": "bool", "description": null}], "models": []}));
    assert_eq!((e.rule, e.path.as_str()), ("type", "/fields/0/description"));
    let e = reject(json!({"fields": null, "models": []}));
    assert_eq!((e.rule, e.path.as_str()), ("type", "/fields"));
    // Declarations are checked name, then kind: a shadowing name is reported first.
    let e = reject(json!({"fields": [{"kind": "caps", "name": "price_out"}], "models": []}));
    assert_eq!((e.rule, e.path.as_str()), ("shadowed_field", "/fields/0/name"));
}

#[test]
fn duplicate_model_is_reported_at_the_later_occurrence() {
    let e = reject(json!({"models": [
        {"id": "b", "provider": "p"}, {"id": "a", "provider": "p"}, {"id": "c", "provider": "p"},
        {"id": "a", "provider": "q"}, {"id": "b", "provider": "q"}
    ]}));
    assert_eq!((e.rule, e.path.as_str()), ("duplicate_model", "/models/3/id"));
    assert!(e.message.contains("/models/1"), "{}", e.message);
}

#[test]
fn extension_may_not_shadow_a_core_field() {
    let e = reject(json!({"fields": [{"name": "price_out", "kind": "number"}], "models": []}));
    assert_eq!((e.rule, e.path.as_str()), ("shadowed_field", "/fields/0/name"));
    let e = reject(json!({"fields": [{"name": "meta", "kind": "string"}], "models": []}));
    assert_eq!(e.rule, "shadowed_field");
    let e = reject(json!({"fields": [{"name": "x", "kind": "string"}, {"name": "x", "kind": "bool"}], "models": []}));
    assert_eq!((e.rule, e.path.as_str()), ("shadowed_field", "/fields/1/name"));
}

#[test]
fn a_model_needs_id_and_provider() {
    let e = reject(json!({"models": [{"provider": "p"}]}));
    assert_eq!((e.rule, e.path.as_str()), ("missing_member", "/models/0"));
    let e = reject(json!({"models": [{"id": "a", "provider": "p"}, {"id": "b"}]}));
    assert_eq!((e.rule, e.path.as_str()), ("missing_member", "/models/1"));
    let e = reject(json!({"models": [{"id": "a", "provider": null}]}));
    assert_eq!((e.rule, e.path.as_str()), ("missing_member", "/models/0"));
    let e = reject(json!({"models": [{"id": "", "provider": "p"}]}));
    assert_eq!((e.rule, e.path.as_str()), ("type", "/models/0/id"));
    let e = reject(json!({"format": "unhardcoded-catalog/v1"}));
    assert_eq!((e.rule, e.path.as_str()), ("missing_member", ""));
}

#[test]
fn capability_outside_the_vocabulary_is_rejected() {
    let e = reject(json!({"models": [{"id": "a", "provider": "p", "capabilities": ["supports_tool"]}]}));
    assert_eq!((e.rule, e.path.as_str()), ("unknown_capability", "/models/0/capabilities/0"));
    assert_eq!(e.did_you_mean.as_deref(), Some("supports_tools"));
    let ok = load(json!({"capabilities_extra": ["supports_tool"],
                          "models": [{"id": "a", "provider": "p", "capabilities": ["supports_tool"]}]}));
    assert!(ok.is_ok());
    let e = reject(json!({"capabilities_extra": [1], "models": []}));
    assert_eq!((e.rule, e.path.as_str()), ("type", "/capabilities_extra/0"));
}

#[test]
fn format_must_be_the_v1_format() {
    let e = reject(json!({"format": "unhardcoded-catalog/v2", "models": []}));
    assert_eq!((e.rule, e.path.as_str()), ("type", "/format"));
}

#[test]
fn strict_reader_errors_carry_the_catalog_code() {
    let e = Catalog::from_json(b"{\"models\": [],}").unwrap_err();
    assert_eq!((e.code, e.rule), (Code::InvalidCatalog, "json_syntax"));
    let e = Catalog::from_json(b"{\"models\": [], \"models\": []}").unwrap_err();
    assert_eq!((e.code, e.rule), (Code::InvalidCatalog, "duplicate_key"));
}

#[test]
fn many_capabilities_span_several_words() {
    let extra: Vec<String> = (0..80).map(|i| format!("cap_{i:02}")).collect();
    let c = load(json!({"capabilities_extra": extra, "models": [
        {"id": "a", "provider": "p", "capabilities": ["cap_79", "supports_tools"]},
        {"id": "b", "provider": "p", "capabilities": ["cap_00"]}
    ]}))
    .unwrap();
    assert!(c.caps_words() >= 2);
    let hi = c.capability_index("cap_79").unwrap();
    assert!(hi >= 64);
    assert!(c.has_cap(0, hi) && !c.has_cap(1, hi));
    assert!(c.has_cap(1, c.capability_index("cap_00").unwrap()));
    let reloaded = Catalog::from_json(c.to_canonical().as_bytes()).unwrap();
    assert_eq!(reloaded.fingerprint(), c.fingerprint());
}

#[test]
fn canonical_text_is_a_fixed_point_of_the_canonical_writer() {
    // The catalog writes its canonical form itself (for speed); re-canonicalising it with the
    // general JCS writer must change nothing, whatever the numbers and strings.
    let c = load(json!({
        "fields": [{"name": "note", "kind": "string", "description": "tab\there \"quoted\" \\ back"}],
        "models": [
            {"id": "quote\"d", "provider": "p\u{1}", "note": "line\nbreak é 😀 \u{7f} \u{2028}",
             "price_in": 0.1, "price_out": 1e-7, "context": 9007199254740992.0, "max_output": 123456789012.0,
             "latency_ms": -0.0, "throughput_tps": 5e-324, "bench_intelligence": 1.7976931348623157e308,
             "meta": {"b": [1.5, "x\u{0}"], "a": {"z": null, "é": 2}}},
            {"id": "plain", "provider": "p", "price_in": 100, "price_out": 1e21, "context": 4e15, "latency_ms": 0.000001}
        ]
    }))
    .unwrap();
    let text = c.to_canonical();
    let reparsed = unhardcoded_core::json::parse(text.as_bytes(), unhardcoded_core::json::Limits::CATALOG, Code::InvalidCatalog)
        .unwrap();
    assert_eq!(unhardcoded_core::canonical::to_jcs(&reparsed), text);
    assert!(text.contains(r#""latency_ms":0,"#), "{text}");
}

#[test]
fn read_errors_take_precedence_as_in_a_whole_document_read() {
    // Model 0 has an unknown field, model 1 is not JSON: the reader's error comes first.
    let e = Catalog::from_json(br#"{"models": [{"id": "a", "provider": "p", "bogus": 1}, {"id": }]}"#).unwrap_err();
    assert_eq!((e.code, e.rule), (Code::InvalidCatalog, "json_syntax"));
    let e = Catalog::from_json(b"\xEF\xBB\xBF{\"models\": []}").unwrap_err();
    assert_eq!(e.rule, "json_syntax");
    let e = Catalog::from_json(br#"{"models": [], "models": []}"#).unwrap_err();
    assert_eq!(e.rule, "duplicate_key");
    let e = Catalog::from_json(br#"{"models": [{"id": "a", "provider": "p", "id": "b"}]}"#).unwrap_err();
    assert_eq!((e.rule, e.path.as_str()), ("duplicate_key", "/models/0/id"));
    let e = Catalog::from_json(b"{\"models\": [{\"id\": \"a\xff\", \"provider\": \"p\"}]}").unwrap_err();
    assert_eq!(e.rule, "invalid_utf8");
    let e = Catalog::from_json(br#"{"models": [{"id": "a", "provider": "p", "price_in": 1e400}]}"#).unwrap_err();
    assert_eq!(e.rule, "non_finite_number");
}

#[test]
fn nesting_is_limited_across_the_whole_document() {
    let meta = |depth: usize| format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
    // The document object, the models array, the model object and `meta`'s arrays: 32 in all is
    // the catalog limit.
    let ok = format!(r#"{{"models": [{{"id": "a", "provider": "p", "meta": {}}}]}}"#, meta(29));
    assert!(Catalog::from_json(ok.as_bytes()).is_ok());
    let deep = format!(r#"{{"models": [{{"id": "a", "provider": "p", "meta": {}}}]}}"#, meta(30));
    let e = Catalog::from_json(deep.as_bytes()).unwrap_err();
    assert_eq!((e.code, e.rule), (Code::InvalidCatalog, "depth_limit"));
}

#[test]
fn unusual_but_valid_documents_read_the_same() {
    let plain = load(sample()).unwrap();
    // An escaped member name and a models array first: not the usual shape, same catalog.
    let text = sample().to_string().replace("\"models\"", "\"\\u006dodels\"");
    assert_eq!(Catalog::from_json(text.as_bytes()).unwrap().fingerprint(), plain.fingerprint());
    let spaced = serde_json::to_string_pretty(&sample()).unwrap();
    assert_eq!(Catalog::from_json(spaced.as_bytes()).unwrap().fingerprint(), plain.fingerprint());
}

fn big_catalog_text(n: usize, bad_at: Option<usize>) -> String {
    // Written by hand rather than through serde: this test's cost is reading, not writing.
    let mut out = String::from(r#"{"format": "unhardcoded-catalog/v1", "models": ["#);
    for i in (0..n).rev() {
        if i + 1 < n {
            out.push(',');
        }
        let caps = if i % 5 == 0 { r#"["supports_tools"]"# } else { "[]" };
        let bad = if bad_at == Some(i) { r#""price_ot": 1, "# } else { "" };
        out.push_str(&format!(
            r#"{{"id": "m{i:06}", "provider": "{}", "family": "f{}", {bad}"price_out": {}, "cap_tools": {}, "capabilities": {caps}, "meta": {{"upstream": "u{i}"}}}}"#,
            ["a", "b", "c"][i % 3],
            i % 7,
            (i % 100) as f64 / 8.0,
            i % 2 == 0
        ));
    }
    out.push_str("]}");
    out
}

#[test]
fn large_catalogs_read_and_fingerprint_alike_on_every_path() {
    // Large enough for the model reading and the fingerprint to be shared among threads.
    let n = 33_000;
    let text = big_catalog_text(n, None);
    let fast = Catalog::from_json(text.as_bytes()).unwrap();
    let tree = unhardcoded_core::json::parse(text.as_bytes(), unhardcoded_core::json::Limits::CATALOG, Code::InvalidCatalog)
        .unwrap();
    let plain = Catalog::from_owned_value(tree).unwrap();
    assert_eq!(fast.len(), n);
    assert_eq!(fast.ids(), plain.ids());
    assert_eq!(fast.fingerprint(), plain.fingerprint());
    assert_eq!(fast.fingerprint(), fingerprint("cat_", fast.to_canonical().as_bytes()));
    for i in [0, 1, 16_499, 16_500, 32_999] {
        assert_eq!(fast.model_value(i), plain.model_value(i));
    }
    assert_eq!(fast.str_value("family", 32_999), Some("f1"), "32999 % 7 == 1");
    // An error deep in a later share is the error a whole read reports.
    let bad = big_catalog_text(n, Some(123));
    let e = Catalog::from_json(bad.as_bytes()).unwrap_err();
    assert_eq!((e.rule, e.path.as_str()), ("unknown_field", format!("/models/{}/price_ot", n - 1 - 123).as_str()));
    assert_eq!(e.did_you_mean.as_deref(), Some("price_out"));
}

#[test]
fn checks_run_in_document_order_names_format_models_declarations() {
    let e = reject(json!({"fields": 5, "format": "v0", "nope": 1}));
    assert_eq!((e.rule, e.path.as_str()), ("unknown_field", "/nope"));
    let e = reject(json!({"fields": 5, "format": "v0"}));
    assert_eq!((e.rule, e.path.as_str()), ("type", "/format"));
    let e = reject(json!({"fields": 5}));
    assert_eq!((e.rule, e.path.as_str()), ("missing_member", ""));
    let e = reject(json!({"fields": 5, "models": 5}));
    assert_eq!((e.rule, e.path.as_str()), ("type", "/fields"));
    // A repeated id is reported where it repeats, before a later model's own error.
    let e = reject(json!({"models": [{"id": "b", "provider": "p"}, {"id": "a", "provider": "p"},
                                     {"id": "b", "provider": "p"}, {"id": "c", "provider": "p", "bogus": 1}]}));
    assert_eq!((e.rule, e.path.as_str()), ("duplicate_model", "/models/2/id"));
}

#[test]
fn capability_lists_are_kept_as_sent() {
    let c = load(json!({"models": [{"id": "a", "provider": "p", "capabilities": ["supports_vision", "supports_tools", "supports_vision"]}]}))
        .unwrap();
    let listed: Vec<&str> = c
        .caps_listed(0)
        .unwrap()
        .iter()
        .map(|&b| c.vocab().capabilities()[b as usize].as_str())
        .collect();
    assert_eq!(listed, vec!["supports_vision", "supports_tools", "supports_vision"]);
    let reordered = load(json!({"models": [{"id": "a", "provider": "p", "capabilities": ["supports_tools", "supports_vision"]}]}))
        .unwrap();
    assert_ne!(c.fingerprint(), reordered.fingerprint(), "the canonical form is the document as sent");
    assert!(reordered.has_cap(0, reordered.capability_index("supports_vision").unwrap()));
    let empty = load(json!({"models": [{"id": "a", "provider": "p", "capabilities": []}, {"id": "b", "provider": "p"}]})).unwrap();
    assert_eq!(empty.caps_listed(0), Some(&[][..]));
    assert_eq!(empty.caps_listed(1), None);
}

#[test]
fn meta_of_any_shape_is_written_canonically() {
    // Raw text: member order matters here, and serde's maps would sort it.
    for meta in [
        r#"{"source": "x", "upstream": "y"}"#,
        r#"{"upstream": "y", "source": "x"}"#,
        r#"{"b": 1.0, "a": [1, {"z": true, "y": null}], "\u00e9": "\u0001"}"#,
        r#"{"n": 1e21, "t": true, "z": null, "q\"": "\\"}"#,
        r#"{"\ud83d\ude00": 1, "\ufb33": 2}"#,
        r#""just a string""#,
        "[3, 2, 1]",
        "{}",
    ] {
        let doc = format!(r#"{{"models": [{{"id": "a", "provider": "p", "meta": {meta}}}]}}"#);
        let c = Catalog::from_json(doc.as_bytes()).unwrap();
        let text = c.to_canonical();
        let value = unhardcoded_core::json::parse(text.as_bytes(), unhardcoded_core::json::Limits::CATALOG, Code::InvalidCatalog)
            .unwrap();
        assert_eq!(unhardcoded_core::canonical::to_jcs(&value), text, "{meta}");
        let original = unhardcoded_core::json::parse(meta.as_bytes(), unhardcoded_core::json::Limits::CATALOG, Code::InvalidCatalog)
            .unwrap();
        assert!(text.contains(&unhardcoded_core::canonical::to_jcs(&original)), "{meta}");
    }
}
