//! Policy admission (spec §1 via the policy reader, §2, §3): every rule with its exact path, the
//! did-you-mean a user sees, the node table eval relies on, and fingerprint invariance.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use unhardcoded_core::error::{Code, Error, ERROR_RULES};
use unhardcoded_core::json::{parse, Limits, Value};
use unhardcoded_core::policy::ast::{CmpOp, Filter, Literal, Mutate, Rank, Select};
use unhardcoded_core::policy::{admit, admit_text, admit_value, AdmittedPolicy};
use unhardcoded_core::vocab::{FieldKind, Vocabulary};

/// The quickstart policy of the product page (seeds/003), as printed there.
const QUICKSTART: &str = r#"[ "policy",
  ["ev_zero"],
  ["and", ["meets_req"], ["not",["is","disabled"]], ["has_cap","supports_tools"],
          ["cmp","bench_intelligence","ge",0.5], ["cmp","price_out","le",5]],
  ["neg",["normalize",["field","price_out"]]],
  ["argmax"],
  ["id"],
  ["always",{"action":"next_candidate"}] ]"#;

const QUICKSTART_CANONICAL: &str = r#"["policy",["ev_zero"],["and",["meets_req"],["not",["is","disabled"]],["has_cap","supports_tools"],["cmp","bench_intelligence","ge",0.5],["cmp","price_out","le",5]],["neg",["normalize",["field","price_out"]]],["argmax"],["id"],["always",{"action":"next_candidate"}]]"#;

/// BLAKE3 of QUICKSTART_CANONICAL, computed independently (Python `rfc8785` + `blake3`).
const QUICKSTART_FINGERPRINT: &str = "pol_517648ac3ac50a7166211c0f4a4815a72a440990eecf30f4efbe5fbe7e4bc053";

fn policy(filter: &str, rank: &str, select: &str, mutate: &str) -> String {
    format!(r#"["policy",["ev_zero"],{filter},{rank},{select},{mutate},["always",{{"action":"next_candidate"}}]]"#)
}

fn with_filter(filter: &str) -> String {
    policy(filter, r#"["neg",["field","price_out"]]"#, r#"["argmax"]"#, r#"["id"]"#)
}

fn with_rank(rank: &str) -> String {
    policy(r#"["meets_req"]"#, rank, r#"["argmax"]"#, r#"["id"]"#)
}

fn with_select(select: &str) -> String {
    policy(r#"["meets_req"]"#, r#"["zero"]"#, select, r#"["id"]"#)
}

fn with_mutate(mutate: &str) -> String {
    policy(r#"["meets_req"]"#, r#"["zero"]"#, r#"["argmax"]"#, mutate)
}

fn ok(text: &str) -> AdmittedPolicy {
    admit_text(text.as_bytes(), &Vocabulary::core()).unwrap_or_else(|e| panic!("{text}\n{e}"))
}

fn reject(text: &str) -> Error {
    match admit_text(text.as_bytes(), &Vocabulary::core()) {
        Ok(_) => panic!("admitted {text}"),
        Err(e) => {
            assert_eq!(e.code, Code::InvalidPolicy, "{e}");
            assert!(ERROR_RULES.contains(&e.rule), "{e}");
            assert!(!e.message.is_empty() && e.message.ends_with('.'), "one sentence: {e}");
            assert_eq!(e.node, None);
            e
        }
    }
}

/// Asserts rule and path, returns the error for further checks.
fn expect(text: &str, rule: &str, path: &str) -> Error {
    let e = reject(text);
    assert_eq!((e.rule, e.path.as_str()), (rule, path), "{text}\n{e}");
    e
}

#[test]
fn quickstart_policy_is_admitted_and_fingerprinted() {
    let p = ok(QUICKSTART);
    assert_eq!(p.canonical, QUICKSTART_CANONICAL);
    assert_eq!(p.fingerprint, QUICKSTART_FINGERPRINT);
    assert_eq!(p.term(), parse(QUICKSTART.as_bytes(), Limits::POLICY, Code::InvalidPolicy).unwrap());
    match &p.ast.filter {
        Filter::And { id: 1, items } => {
            assert_eq!(items.len(), 5);
            assert_eq!(items[0], Filter::MeetsReq { id: 2 });
            assert_eq!(items[1], Filter::Not { id: 3, item: Box::new(Filter::Is { id: 4, field: "disabled".into() }) });
            assert_eq!(items[2], Filter::HasCap { id: 5, cap: "supports_tools".into() });
            assert_eq!(
                items[3],
                Filter::Cmp { id: 6, field: "bench_intelligence".into(), op: CmpOp::Ge, value: Literal::Number(0.5) }
            );
            assert_eq!(
                items[4],
                Filter::Cmp { id: 7, field: "price_out".into(), op: CmpOp::Le, value: Literal::Number(5.0) }
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        p.ast.rank,
        Rank::Neg {
            id: 8,
            inner: Box::new(Rank::Normalize {
                id: 9,
                inner: Box::new(Rank::Field { id: 10, field: "price_out".into() })
            })
        }
    );
    assert_eq!(p.ast.select, Select::Argmax { id: 11 });
    assert_eq!(p.ast.mutate, Mutate::Id);
}

#[test]
fn node_table_has_path_and_canonical_text_in_document_order() {
    let p = ok(QUICKSTART);
    let table: Vec<(&str, &str)> = p.ast.node_infos().map(|n| (n.path, n.term)).collect();
    assert_eq!(
        table,
        vec![
            ("/1", r#"["ev_zero"]"#),
            (
                "/2",
                r#"["and",["meets_req"],["not",["is","disabled"]],["has_cap","supports_tools"],["cmp","bench_intelligence","ge",0.5],["cmp","price_out","le",5]]"#
            ),
            ("/2/1", r#"["meets_req"]"#),
            ("/2/2", r#"["not",["is","disabled"]]"#),
            ("/2/2/1", r#"["is","disabled"]"#),
            ("/2/3", r#"["has_cap","supports_tools"]"#),
            ("/2/4", r#"["cmp","bench_intelligence","ge",0.5]"#),
            ("/2/5", r#"["cmp","price_out","le",5]"#),
            ("/3", r#"["neg",["normalize",["field","price_out"]]]"#),
            ("/3/1", r#"["normalize",["field","price_out"]]"#),
            ("/3/1/1", r#"["field","price_out"]"#),
            ("/4", r#"["argmax"]"#),
            ("/5", r#"["id"]"#),
            ("/6", r#"["always",{"action":"next_candidate"}]"#),
        ]
    );
    assert_eq!(p.ast.node(7).unwrap().path, "/2/5");
    assert_eq!(p.ast.node(14), None);
    // Paths are spelled on first use; a policy is equal to itself before and after.
    let fresh = ok(QUICKSTART);
    assert_eq!(fresh, p);
    assert_eq!(fresh.ast.node(10).unwrap().path, "/3/1/1");
    // Canonical node text, whatever the caller's spelling.
    let q = ok(&with_filter(r#"["cmp", "price_out", "le", 5.00]"#));
    assert_eq!(q.ast.node(1).unwrap().term, r#"["cmp","price_out","le",5]"#);
}

#[test]
fn admit_on_a_value_matches_admit_text() {
    let term = parse(QUICKSTART.as_bytes(), Limits::POLICY, Code::InvalidPolicy).unwrap();
    let ast = admit(&term, &Vocabulary::core()).unwrap();
    assert_eq!(ast, ok(QUICKSTART).ast);
    let v = admit_value(term, &Vocabulary::core()).unwrap();
    assert_eq!(v.fingerprint, QUICKSTART_FINGERPRINT);
}

#[test]
fn fingerprint_ignores_spelling_only() {
    let base = ok(&with_filter(r#"["cmp","price_out","le",5]"#)).fingerprint;
    for same in [
        with_filter(r#"["cmp", "price_out", "le", 5.0]"#),
        with_filter(r#"["cmp","price_out","le",5e0]"#),
        with_filter(r#"["cmp","price_out","le",500e-2]"#),
        with_filter(r#"["cmp","\u0070rice_out","le",5]"#),
        with_filter("[\"cmp\",\n\t\"price_out\" ,\r\n \"le\" , 5 ]"),
    ] {
        assert_eq!(ok(&same).fingerprint, base, "{same}");
    }
    assert_ne!(ok(&with_filter(r#"["cmp","price_out","le",5.5]"#)).fingerprint, base);
    assert_ne!(ok(&with_filter(r#"["cmp","price_out","lt",5]"#)).fingerprint, base);
    // Member order inside the fallback object cannot vary (it has one member), so key order is
    // covered where objects have several members: flows and canonical tests.
    let a = ok(&QUICKSTART.replace(r#"{"action":"next_candidate"}"#, r#"{ "action" : "next_candidate" }"#));
    assert_eq!(a.fingerprint, QUICKSTART_FINGERPRINT);
    assert!(ok(QUICKSTART).fingerprint.starts_with("pol_"));
}

// ---- spec §1 through the policy reader ----

#[test]
fn reader_rules_carry_invalid_policy() {
    expect(r#"["policy", ["ev_zero"],"#, "json_syntax", "");
    expect(r#"["policy", ["ev_zero" x]]"#, "json_syntax", "/1");
    expect("\u{feff}[\"policy\"]", "json_syntax", "");
    expect(r#"["policy", NaN]"#, "json_syntax", "");
    expect(r#"["policy", Infinity]"#, "json_syntax", "");
    expect(r#"["policy", [01]]"#, "json_syntax", "/1");
    expect(r#"["policy"] // trailing"#, "json_syntax", "");
    let e = admit_text(b"[\"policy\", \"\xff\"]", &Vocabulary::core()).unwrap_err();
    assert_eq!((e.code, e.rule, e.path.as_str()), (Code::InvalidPolicy, "invalid_utf8", ""));
    expect(r#"["policy", ["ev_zero"], ["family_eq", "\ud800"]]"#, "lone_surrogate", "/2/1");
    expect(r#"["policy", ["ev_zero"], ["family_eq", "\udc00x"]]"#, "lone_surrogate", "/2/1");
    expect(r#"["policy", {"action": 1, "\u0061ction": 2}]"#, "duplicate_key", "/1/action");
    expect(&with_filter(r#"["cmp","price_out","le",1e400]"#), "non_finite_number", "/2/3");
    expect(&with_filter(r#"["cmp","price_out","le",9007199254740993]"#), "integer_precision", "/2/3");
    ok(&with_filter(r#"["cmp","price_out","le",9007199254740992]"#));
    // The root is depth 1, the filter depth 2: 63 nested nots put meets_req at depth 65.
    let deep = format!(r#"["policy",["ev_zero"],{}["meets_req"]{}"#, r#"["not","#.repeat(63), "]".repeat(63));
    expect(&deep, "depth_limit", &format!("/2{}", "/1".repeat(63)));
    let deepest_ok = format!(
        r#"["policy",["ev_zero"],{}["meets_req"]{},["zero"],["argmax"],["id"],["always",{{"action":"next_candidate"}}]]"#,
        r#"["not","#.repeat(62),
        "]".repeat(62)
    );
    assert_eq!(ok(&deepest_ok).ast.nodes.len(), 1 + 62 + 1 + 4);
    let e = reject(&"[".repeat(100_000));
    assert_eq!(e.rule, "depth_limit");
    let padded = format!("{}{}", QUICKSTART, " ".repeat(1 << 20));
    expect(&padded, "size_limit", "");
}

// ---- spec §2 ----

#[test]
fn not_a_term() {
    expect("{}", "not_a_term", "");
    expect("[]", "not_a_term", "");
    expect("[1]", "not_a_term", "");
    expect(r#""policy""#, "not_a_term", "");
    expect(&with_filter(r#""meets_req""#), "not_a_term", "/2");
    expect(&with_filter("[]"), "not_a_term", "/2");
    expect(&with_filter("[5]"), "not_a_term", "/2");
    expect(&with_filter(r#"["and", ["meets_req"], 5]"#), "not_a_term", "/2/2");
    expect(&with_filter(r#"["not", {"op": "meets_req"}]"#), "not_a_term", "/2/1");
    expect(&with_rank(r#"["neg", "price_out"]"#), "not_a_term", "/3/1");
    expect(&with_select(r#"["top_k", 3, "argmax"]"#), "not_a_term", "/4/2");
    expect(&with_mutate("null"), "not_a_term", "/5");
}

#[test]
fn unknown_op() {
    let e = expect(&QUICKSTART.replace(r#""policy""#, r#""polcy""#), "unknown_op", "/0");
    assert_eq!(e.did_you_mean.as_deref(), Some("policy"));
    let e = expect(
        &with_filter(r#"["and", ["meets_req"], ["meets_req"], ["hascap", "supports_tools"]]"#),
        "unknown_op",
        "/2/3/0",
    );
    assert_eq!(e.did_you_mean.as_deref(), Some("has_cap"));
    assert!(e.message.contains("'hascap'"), "{}", e.message);
    let help = e.help.unwrap();
    assert!(help.contains("and, or, not, has_cap, is, cmp, meets_req, family_eq"), "{help}");
    // An op of another slot says where it belongs.
    let e = expect(&with_rank(r#"["argmax"]"#), "unknown_op", "/3/0");
    assert!(e.message.contains("select"), "{}", e.message);
    assert_eq!(e.did_you_mean, None);
    let e = expect(&with_select(r#"["argmx"]"#), "unknown_op", "/4/0");
    assert_eq!(e.did_you_mean.as_deref(), Some("argmax"));
    expect(&QUICKSTART.replace(r#"["ev_zero"]"#, r#"["ev_one"]"#), "unknown_op", "/1/0");
    let e = expect(&with_mutate(r#"["identity"]"#), "unknown_op", "/5/0");
    assert_eq!(e.did_you_mean, None);
    expect(&QUICKSTART.replace(r#"["always","#, r#"["never","#), "unknown_op", "/6/0");
    // A comparator is the op of cmp.
    let e = expect(&with_filter(r#"["cmp","price_out","lte",5]"#), "unknown_op", "/2/2");
    assert_eq!(e.did_you_mean.as_deref(), Some("le"));
    let e = expect(&with_filter(r#"["cmp","price_out","<=",5]"#), "unknown_op", "/2/2");
    assert_eq!(e.did_you_mean, None);
}

#[test]
fn arity() {
    expect(r#"["policy", ["ev_zero"]]"#, "arity", "");
    let eight = QUICKSTART.replacen(r#"["argmax"],"#, r#"["argmax"],["argmax"],"#, 1);
    expect(&eight, "arity", "");
    expect(&QUICKSTART.replace(r#"["ev_zero"]"#, r#"["ev_zero", 1]"#), "arity", "/1");
    let e = expect(&with_filter(r#"["and"]"#), "arity", "/2");
    assert!(e.message.contains("at least 1"), "{}", e.message);
    expect(&with_filter(r#"["or"]"#), "arity", "/2");
    expect(&with_filter(r#"["not"]"#), "arity", "/2");
    expect(&with_filter(r#"["not", ["meets_req"], ["meets_req"]]"#), "arity", "/2");
    let e = expect(&with_filter(r#"["cmp","price_out","le"]"#), "arity", "/2");
    assert!(e.help.unwrap().contains(r#"["cmp", field, comparator, value]"#));
    expect(&with_filter(r#"["meets_req", true]"#), "arity", "/2");
    expect(&with_filter(r#"["has_cap"]"#), "arity", "/2");
    expect(&with_filter(r#"["is"]"#), "arity", "/2");
    expect(&with_filter(r#"["family_eq", "a", "b"]"#), "arity", "/2");
    expect(&with_rank(r#"["add"]"#), "arity", "/3");
    expect(&with_rank(r#"["scale", 2]"#), "arity", "/3");
    expect(&with_rank(r#"["neg"]"#), "arity", "/3");
    expect(&with_rank(r#"["normalize", ["zero"], ["zero"]]"#), "arity", "/3");
    expect(&with_rank(r#"["zero", 0]"#), "arity", "/3");
    expect(&with_rank(r#"["field"]"#), "arity", "/3");
    expect(&with_select(r#"["argmax", 1]"#), "arity", "/4");
    expect(&with_select(r#"["top_k", 3]"#), "arity", "/4");
    expect(&with_select(r#"["sample"]"#), "arity", "/4");
    expect(&with_mutate(r#"["id", 1]"#), "arity", "/5");
    expect(&with_mutate(r#"["clamp_param", "temperature", 0]"#), "arity", "/5");
    expect(&QUICKSTART.replace(r#"["always",{"action":"next_candidate"}]"#, r#"["always"]"#), "arity", "/6");
    // Arity is checked before the arguments.
    expect(&with_filter(r#"["cmp","nope","le"]"#), "arity", "/2");
}

#[test]
fn argument_types_and_ranges() {
    expect(&with_filter(r#"["has_cap", 5]"#), "type", "/2/1");
    expect(&with_filter(r#"["is", true]"#), "type", "/2/1");
    expect(&with_filter(r#"["cmp", 1, "le", 5]"#), "type", "/2/1");
    expect(&with_filter(r#"["cmp", "price_out", 1, 5]"#), "type", "/2/2");
    let e = expect(&with_filter(r#"["cmp","price_out","le","5"]"#), "type", "/2/3");
    assert!(e.message.contains("finite number"), "{}", e.message);
    expect(&with_filter(r#"["cmp","price_out","le",null]"#), "type", "/2/3");
    expect(&with_filter(r#"["cmp","provider","eq",5]"#), "type", "/2/3");
    expect(&with_filter(r#"["family_eq", ""]"#), "type", "/2/1");
    expect(&with_filter(r#"["family_eq", 4]"#), "type", "/2/1");
    expect(&with_rank(r#"["scale", "2", ["zero"]]"#), "type", "/3/1");
    expect(&with_rank(r#"["field", ["price_out"]]"#), "type", "/3/1");
    for bad in ["0", "-1", "2.5", "1025", "\"3\"", "null"] {
        expect(&with_select(&format!(r#"["top_k", {bad}, ["argmax"]]"#)), "type", "/4/1");
    }
    ok(&with_select(r#"["top_k", 1, ["argmax"]]"#));
    ok(&with_select(r#"["top_k", 1024, ["argmax"]]"#));
    ok(&with_select(r#"["top_k", 3.0, ["argmax"]]"#));
    ok(&with_select(r#"["top_k", 5, ["top_k", 2, ["sample", 0.5]]]"#));
    expect(&with_select(r#"["top_k", 5, ["top_k", 0, ["argmax"]]]"#), "type", "/4/2/1");
    for bad in ["0", "-0.5", "\"1\"", "null"] {
        expect(&with_select(&format!(r#"["sample", {bad}]"#)), "type", "/4/1");
    }
    ok(&with_select(r#"["sample", 1e-9]"#));
    let e = expect(&with_mutate(r#"["clamp_param", "temprature", 0, 1]"#), "type", "/5/1");
    assert_eq!(e.did_you_mean.as_deref(), Some("temperature"));
    assert!(e.help.unwrap().contains("max_completion_tokens"));
    expect(&with_mutate(r#"["clamp_param", 7, 0, 1]"#), "type", "/5/1");
    expect(&with_mutate(r#"["clamp_param", "top_p", "0", 1]"#), "type", "/5/2");
    expect(&with_mutate(r#"["clamp_param", "top_p", 0, true]"#), "type", "/5/3");
    let e = expect(&with_mutate(r#"["clamp_param", "top_p", 0.9, 0.1]"#), "type", "/5/3");
    assert!(e.message.contains("below its min"), "{}", e.message);
    let p = ok(&with_mutate(r#"["clamp_param", "max_tokens", 1, 1]"#));
    assert_eq!(p.ast.mutate, Mutate::ClampParam { param: "max_tokens".into(), min: 1.0, max: 1.0 });
    for param in [
        "temperature",
        "top_p",
        "max_tokens",
        "max_completion_tokens",
        "presence_penalty",
        "frequency_penalty",
        "n",
        "top_logprobs",
    ] {
        ok(&with_mutate(&format!(r#"["clamp_param", "{param}", -1, 2]"#)));
    }
}

#[test]
fn unknown_field_with_suggestions_of_the_right_kind() {
    // The example of the product page: price is not a field.
    let e = expect(
        &with_filter(r#"["and", ["meets_req"], ["meets_req"], ["cmp", "price", "le", 5]]"#),
        "unknown_field",
        "/2/3/1",
    );
    assert_eq!(e.did_you_mean.as_deref(), Some("price_in"));
    assert!(e.message.contains("'price'"));
    let e = expect(&with_rank(r#"["neg", ["field", "pirce_out"]]"#), "unknown_field", "/3/1/1");
    assert_eq!(e.did_you_mean.as_deref(), Some("price_out"));
    let e = expect(&with_filter(r#"["is", "cap_tool"]"#), "unknown_field", "/2/1");
    assert_eq!(e.did_you_mean.as_deref(), Some("cap_tools"));
    // Suggestions only name fields of a kind the op accepts.
    let e = expect(&with_filter(r#"["is", "contxt"]"#), "unknown_field", "/2/1");
    assert_eq!(e.did_you_mean, None);
    let e = expect(&with_rank(r#"["field", "no_logs"]"#), "unknown_field", "/3/1");
    assert_eq!(e.did_you_mean, None);
    let e = expect(&with_filter(r#"["cmp", "providr", "eq", "openai"]"#), "unknown_field", "/2/1");
    assert_eq!(e.did_you_mean.as_deref(), Some("provider"));
    let e = expect(&with_filter(r#"["cmp", "", "eq", "openai"]"#), "unknown_field", "/2/1");
    assert_eq!(e.did_you_mean, None);
}

#[test]
fn field_kind() {
    let e = expect(&with_filter(r#"["cmp", "cap_tools", "eq", 1]"#), "field_kind", "/2/1");
    assert!(e.help.unwrap().contains(r#"["is", "cap_tools"]"#));
    let e = expect(&with_filter(r#"["cmp", "capabilities", "eq", "supports_tools"]"#), "field_kind", "/2/1");
    assert!(e.help.unwrap().contains("has_cap"));
    expect(&with_filter(r#"["is", "price_out"]"#), "field_kind", "/2/1");
    expect(&with_filter(r#"["is", "capabilities"]"#), "field_kind", "/2/1");
    expect(&with_rank(r#"["field", "provider"]"#), "field_kind", "/3/1");
    expect(&with_rank(r#"["field", "no_log"]"#), "field_kind", "/3/1");
    let e = expect(&with_filter(r#"["cmp", "provider", "le", "openai"]"#), "field_kind", "/2/2");
    assert!(e.message.contains("eq or ne"), "{}", e.message);
    let p = ok(&with_filter(r#"["cmp", "provider", "ne", "openai"]"#));
    assert_eq!(
        p.ast.filter,
        Filter::Cmp { id: 1, field: "provider".into(), op: CmpOp::Ne, value: Literal::String("openai".into()) }
    );
    for op in ["ge", "le", "gt", "lt", "eq", "ne"] {
        ok(&with_filter(&format!(r#"["cmp", "context", "{op}", 128000]"#)));
    }
}

#[test]
fn unknown_capability() {
    let e = expect(&with_filter(r#"["has_cap", "supports_tool"]"#), "unknown_capability", "/2/1");
    assert_eq!(e.did_you_mean.as_deref(), Some("supports_tools"));
    assert!(e.help.unwrap().contains("supports_vision"));
    let e = expect(&with_filter(r#"["has_cap", "teleportation"]"#), "unknown_capability", "/2/1");
    assert_eq!(e.did_you_mean, None);
}

#[test]
fn host_extensions_join_the_vocabulary() {
    let mut vocab = Vocabulary::core();
    assert!(vocab.add_field("eu_resident", FieldKind::Bool, "Data stays in the EU."));
    assert!(vocab.add_field("elo", FieldKind::Number, "Arena rating."));
    assert!(vocab.add_field("tier", FieldKind::String, "Service tier."));
    vocab.add_capability("supports_telepathy");
    let text = policy(
        r#"["and", ["is", "eu_resident"], ["cmp", "tier", "eq", "gold"], ["has_cap", "supports_telepathy"]]"#,
        r#"["field", "elo"]"#,
        r#"["argmax"]"#,
        r#"["id"]"#,
    );
    let p = admit_text(text.as_bytes(), &vocab).unwrap();
    assert_eq!(p.ast.rank, Rank::Field { id: 5, field: "elo".into() });
    // The core vocabulary alone does not know them.
    let e = reject(&text);
    assert_eq!((e.rule, e.path.as_str()), ("unknown_field", "/2/1/1"));
    let e = admit_text(with_filter(r#"["is", "eu_resdent"]"#).as_bytes(), &vocab).unwrap_err();
    assert_eq!(e.did_you_mean.as_deref(), Some("eu_resident"));
}

#[test]
fn array_limit() {
    let args = vec![r#"["meets_req"]"#; 1023].join(",");
    let p = ok(&with_filter(&format!(r#"["and",{args}]"#)));
    assert_eq!(p.ast.nodes.len(), 1 + 1 + 1023 + 5);
    let args = vec![r#"["meets_req"]"#; 1024].join(",");
    expect(&with_filter(&format!(r#"["and",{args}]"#)), "array_limit", "/2");
    let args = vec!["1"; 2000].join(",");
    expect(&with_rank(&format!(r#"["add",{args}]"#)), "array_limit", "/3");
    let big = format!(r#"[{}]"#, vec!["0"; 2000].join(","));
    expect(&big, "array_limit", "");
}

#[test]
fn string_limit() {
    let long = "f".repeat(4097);
    expect(&with_filter(&format!(r#"["family_eq", "{long}"]"#)), "string_limit", "/2/1");
    ok(&with_filter(&format!(r#"["family_eq", "{}"]"#, "f".repeat(4096))));
    // Bytes, not characters: 2049 two-byte characters are 4098 bytes.
    expect(&with_filter(&format!(r#"["family_eq", "{}"]"#, "é".repeat(2049))), "string_limit", "/2/1");
    expect(&with_filter(&format!(r#"["{long}"]"#)), "string_limit", "/2/0");
    expect(&with_filter(&format!(r#"["cmp", "provider", "eq", "{long}"]"#)), "string_limit", "/2/3");
    expect(&with_filter(&format!(r#"["has_cap", "{long}"]"#)), "string_limit", "/2/1");
}

#[test]
fn bad_fallback() {
    for fallback in [
        r#"{"action":"retry"}"#,
        r#"{}"#,
        r#"{"action":"next_candidate","then":"stop"}"#,
        r#""next_candidate""#,
        r#"{"Action":"next_candidate"}"#,
        r#"null"#,
    ] {
        let text = QUICKSTART.replace(r#"{"action":"next_candidate"}"#, fallback);
        expect(&text, "bad_fallback", "/6/1");
    }
}

#[test]
fn first_error_in_document_order() {
    // Two errors: the earlier one (in the filter) is reported, not the rank one.
    let text = policy(
        r#"["and", ["hascap", "x"], ["cmp", "pricee", "le", 5]]"#,
        r#"["field", "nope"]"#,
        r#"["argmax"]"#,
        r#"["id"]"#,
    );
    expect(&text, "unknown_op", "/2/1/0");
    // A sub-term is checked fully before the next argument.
    expect(&with_filter(r#"["and", ["not", ["is", 5]], ["hascap"]]"#), "type", "/2/1/1/1");
    // The field is checked before the comparator, the comparator before the value.
    expect(&with_filter(r#"["cmp", "pricee", "lte", "x"]"#), "unknown_field", "/2/1");
    expect(&with_filter(r#"["cmp", "price_out", "lte", "x"]"#), "unknown_op", "/2/2");
}

#[test]
fn admit_value_rechecks_limits_of_the_policy() {
    let vocab = Vocabulary::core();
    // A policy taken from a larger document (e.g. a flow at depth 3) is still held to depth 64.
    let mut filter = Value::Array(vec![Value::String("meets_req".into())]);
    for _ in 0..63 {
        filter = Value::Array(vec![Value::String("not".into()), filter]);
    }
    let term = |filter: Value| {
        let mut p = parse(QUICKSTART.as_bytes(), Limits::POLICY, Code::InvalidPolicy).unwrap();
        if let Value::Array(items) = &mut p {
            items[2] = filter;
        }
        p
    };
    let e = admit_value(term(filter.clone()), &vocab).unwrap_err();
    assert_eq!((e.code, e.rule), (Code::InvalidPolicy, "depth_limit"));
    assert_eq!(e.path, format!("/2{}", "/1".repeat(63)));
    // The walk itself guards depth when `admit` is called directly.
    let e = admit(&term(filter), &vocab).unwrap_err();
    assert_eq!((e.rule, e.path.as_str()), ("depth_limit", format!("/2{}", "/1".repeat(63)).as_str()));
    // Size is measured on the canonical text: 300 strings of 4000 bytes pass every other limit.
    let wide: Vec<Value> = (0..300)
        .map(|_| Value::Array(vec![Value::String("family_eq".into()), Value::String("x".repeat(4000))]))
        .collect();
    let mut items = vec![Value::String("or".into())];
    items.extend(wide);
    let e = admit_value(term(Value::Array(items)), &vocab).unwrap_err();
    assert_eq!((e.rule, e.path.as_str()), ("size_limit", ""));
    // Hand-built non-finite numbers are a type error, not a panic.
    let e = admit_value(
        term(Value::Array(vec![
            Value::String("cmp".into()),
            Value::String("price_out".into()),
            Value::String("le".into()),
            Value::Number(f64::NAN),
        ])),
        &vocab,
    )
    .unwrap_err();
    assert_eq!((e.rule, e.path.as_str()), ("type", "/2/3"));
}

#[test]
fn every_slot_accepts_its_ops() {
    let p = ok(&policy(
        r#"["or", ["family_eq", "gpt-4o"], ["not", ["meets_req"]], ["cmp", "region", "eq", "eu"]]"#,
        r#"["add", ["scale", 0.5, ["normalize", ["field", "bench_intelligence"]]], ["neg", ["field", "latency_ms"]], ["zero"]]"#,
        r#"["top_k", 3, ["sample", 0.7]]"#,
        r#"["clamp_param", "temperature", 0, 1.5]"#,
    ));
    assert!(matches!(&p.ast.filter, Filter::Or { id: 1, items } if items.len() == 3));
    match &p.ast.rank {
        Rank::Add { items, .. } => {
            assert!(matches!(&items[0], Rank::Scale { weight, .. } if *weight == 0.5));
            assert!(matches!(&items[2], Rank::Zero { .. }));
        }
        other => panic!("{other:?}"),
    }
    match &p.ast.select {
        Select::TopK { n: 3, inner, id } => {
            assert!(matches!(**inner, Select::Sample { temperature, .. } if temperature == 0.7));
            assert_eq!(p.ast.node(*id).unwrap().path, "/4");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(p.ast.mutate, Mutate::ClampParam { param: "temperature".into(), min: 0.0, max: 1.5 });
}

#[test]
fn paths_escape_json_pointer_characters() {
    // Paths point into what the caller sent: an object key with "/" or "~" is escaped (RFC 6901).
    expect(r#"["policy", {"a/b~c": 1}, 2, 3, 4, 5, 6]"#, "not_a_term", "/1");
    expect(r#"["policy", {"a/b": 1, "a/b": 2}]"#, "duplicate_key", "/1/a~1b");
    expect(r#"["policy", {"x~": [1e999]}]"#, "non_finite_number", "/1/x~0/0");
}
