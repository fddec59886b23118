//! Evaluation (spec §5): filter and blame, missing values, rank, order, select, host floor, result.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use serde_json::{json, Value as Json};
use unhardcoded_core::canonical::to_jcs;
use unhardcoded_core::catalog::Catalog;
use unhardcoded_core::error::Code;
use unhardcoded_core::eval::{evaluate, Outcome, SplitMix64, Status, SEED_LIMIT};
use unhardcoded_core::policy::{admit_text, ast::Policy};
use unhardcoded_core::requirements::Requirements;

const QUICKSTART_FILTER: &str = r#"["and", ["meets_req"], ["not", ["is", "disabled"]], ["has_cap", "supports_tools"],
    ["cmp", "bench_intelligence", "ge", 0.5], ["cmp", "price_out", "le", 5]]"#;
const CHEAPEST: &str = r#"["neg", ["normalize", ["field", "price_out"]]]"#;

fn catalog(models: Json) -> Catalog {
    Catalog::from_json(json!({"models": models}).to_string().as_bytes()).unwrap()
}

fn policy_text(filter: &str, rank: &str, select: &str) -> String {
    format!(r#"["policy", ["ev_zero"], {filter}, {rank}, {select}, ["id"], ["always", {{"action": "next_candidate"}}]]"#)
}

fn admit(text: &str, cat: &Catalog) -> Policy {
    admit_text(text.as_bytes(), cat.vocab()).unwrap().ast
}

struct Run {
    outcome: Outcome,
    result: Json,
}

impl Run {
    fn verdict(&self, model: &str) -> &Json {
        self.result["verdicts"].as_array().unwrap().iter().find(|v| v["model"] == model).unwrap()
    }
    fn dropped_by(&self, model: &str) -> &Json {
        &self.verdict(model)["dropped_by"]
    }
    fn cascade(&self) -> Vec<&str> {
        self.result["cascade"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect()
    }
}

fn run_with(
    cat: &Catalog,
    filter: &str,
    rank: &str,
    select: &str,
    req: Requirements,
    seed: Option<u64>,
    floor: Option<&[String]>,
) -> Run {
    let p = admit(&policy_text(filter, rank, select), cat);
    let outcome = evaluate(&p, cat, &req, seed, floor);
    let result = serde_json::from_str(&to_jcs(&outcome.to_value(&p, cat, 0, None, None))).unwrap();
    Run { outcome, result }
}

fn run(cat: &Catalog, filter: &str, rank: &str, select: &str) -> Run {
    run_with(cat, filter, rank, select, Requirements::default(), None, None)
}

fn shop() -> Catalog {
    catalog(json!([
        {"id": "a-cheap", "provider": "openai", "family": "f1", "price_out": 1, "bench_intelligence": 0.6,
         "cap_tools": true, "context": 128000, "max_output": 4096, "capabilities": ["supports_tools"], "disabled": false},
        {"id": "b-mid", "provider": "anthropic", "family": "f2", "price_out": 3, "bench_intelligence": 0.7,
         "cap_tools": true, "cap_json": true, "in_image": true, "context": 200000, "max_output": 8192,
         "capabilities": ["supports_tools", "supports_vision"]},
        {"id": "c-pricey", "provider": "openai", "family": "f1", "price_out": 10, "bench_intelligence": 0.9,
         "cap_tools": true, "context": 128000, "max_output": 4096, "capabilities": ["supports_tools"]},
        {"id": "d-dumb", "provider": "gemini", "price_out": 0.5, "bench_intelligence": 0.3, "cap_tools": true,
         "context": 1000000, "max_output": 8192, "capabilities": ["supports_tools"]},
        {"id": "e-disabled", "provider": "openai", "price_out": 0.2, "bench_intelligence": 0.8, "cap_tools": true,
         "context": 128000, "max_output": 4096, "capabilities": ["supports_tools"], "disabled": true},
        {"id": "f-notools", "provider": "gemini", "price_out": 0.1, "bench_intelligence": 0.8,
         "context": 128000, "max_output": 4096, "capabilities": []},
        {"id": "g-noprice", "provider": "anthropic", "bench_intelligence": 0.8, "cap_tools": true,
         "context": 128000, "max_output": 4096, "capabilities": ["supports_tools"]},
        {"id": "h-smallctx", "provider": "openai", "price_out": 0.3, "bench_intelligence": 0.8, "cap_tools": true,
         "context": 1000, "max_output": 4096, "capabilities": ["supports_tools"]}
    ]))
}

fn req_tokens(prompt_tokens: u64, max_tokens: Option<u64>) -> Requirements {
    Requirements { prompt_tokens, max_tokens, ..Requirements::default() }
}

#[test]
fn quickstart_picks_the_cheapest_survivor_and_blames_each_rejection() {
    let cat = shop();
    let r = run_with(&cat, QUICKSTART_FILTER, CHEAPEST, r#"["argmax"]"#, req_tokens(500, Some(1024)), None, None);
    assert_eq!(r.result["winner"], "a-cheap");
    assert_eq!(r.cascade(), vec!["a-cheap", "b-mid"]);
    assert_eq!(r.result["seed"], Json::Null);
    assert_eq!(r.verdict("a-cheap"), &json!({"model": "a-cheap", "status": "winner", "dropped_by": null, "score": 0, "rank": 0}));
    assert_eq!(r.verdict("b-mid"), &json!({"model": "b-mid", "status": "passed", "dropped_by": null, "score": -1, "rank": 1}));
    assert_eq!(
        r.verdict("c-pricey"),
        &json!({"model": "c-pricey", "status": "rejected", "score": null, "rank": null,
                "dropped_by": {"path": "/2/5", "term": ["cmp", "price_out", "le", 5]}})
    );
    assert_eq!(r.dropped_by("d-dumb"), &json!({"path": "/2/4", "term": ["cmp", "bench_intelligence", "ge", 0.5]}));
    assert_eq!(r.dropped_by("e-disabled"), &json!({"path": "/2/2", "term": ["not", ["is", "disabled"]]}));
    assert_eq!(r.dropped_by("f-notools"), &json!({"path": "/2/3", "term": ["has_cap", "supports_tools"]}));
    assert_eq!(r.dropped_by("g-noprice"), &json!({"path": "/2/5", "term": ["cmp", "price_out", "le", 5]}));
    assert_eq!(
        r.dropped_by("h-smallctx"),
        &json!({"path": "/2/1", "term": ["meets_req"], "reason": "context"})
    );
    assert_eq!(r.result["verdicts"].as_array().unwrap().len(), cat.len());
    let counts = r.outcome.counts();
    assert_eq!((counts.winner, counts.passed, counts.rejected), (1, 1, 6));
    assert_eq!(r.outcome.winner(), cat.index_of("a-cheap"));
}

#[test]
fn and_blames_its_first_false_child_even_when_nested() {
    let cat = shop();
    let r = run(&cat, r#"["and", ["cmp", "price_out", "lt", 100], ["and", ["is", "cap_tools"], ["cmp", "price_out", "le", 2]]]"#,
                r#"["zero"]"#, r#"["argmax"]"#);
    assert_eq!(r.dropped_by("f-notools"), &json!({"path": "/2/2/1", "term": ["is", "cap_tools"]}));
    assert_eq!(r.dropped_by("b-mid"), &json!({"path": "/2/2/2", "term": ["cmp", "price_out", "le", 2]}));
    assert_eq!(r.dropped_by("g-noprice"), &json!({"path": "/2/1", "term": ["cmp", "price_out", "lt", 100]}));
}

#[test]
fn or_blames_itself_when_every_child_is_false() {
    let cat = shop();
    let or = r#"["or", ["family_eq", "f2"], ["cmp", "price_out", "lt", 0.4]]"#;
    let r = run(&cat, or, r#"["zero"]"#, r#"["argmax"]"#);
    assert_eq!(r.cascade(), vec!["b-mid", "e-disabled", "f-notools", "h-smallctx"]);
    assert_eq!(
        r.dropped_by("a-cheap"),
        &json!({"path": "/2", "term": ["or", ["family_eq", "f2"], ["cmp", "price_out", "lt", 0.4]]})
    );
}

#[test]
fn not_blames_itself_when_its_child_is_true() {
    let cat = shop();
    let r = run(&cat, r#"["and", ["is", "cap_tools"], ["not", ["family_eq", "f1"]]]"#, r#"["zero"]"#, r#"["argmax"]"#);
    assert_eq!(r.dropped_by("a-cheap"), &json!({"path": "/2/2", "term": ["not", ["family_eq", "f1"]]}));
    assert_eq!(r.verdict("d-dumb")["status"], "passed");
    // not(not(x)) keeps x's models and blames the outer not.
    let r = run(&cat, r#"["not", ["not", ["family_eq", "f1"]]]"#, r#"["zero"]"#, r#"["argmax"]"#);
    assert_eq!(r.cascade(), vec!["a-cheap", "c-pricey"]);
    assert_eq!(r.dropped_by("b-mid")["path"], "/2");
}

#[test]
fn meets_req_reports_the_first_unmet_requirement_in_order() {
    let cat = catalog(json!([
        {"id": "all", "provider": "p", "cap_tools": true, "in_image": true, "cap_json": true, "context": 10000, "max_output": 1000},
        {"id": "no-tools", "provider": "p", "in_image": false, "cap_json": false, "context": 10},
        {"id": "no-vision", "provider": "p", "cap_tools": true, "cap_json": false, "context": 10},
        {"id": "no-json", "provider": "p", "cap_tools": true, "in_image": true, "context": 10},
        {"id": "no-context", "provider": "p", "cap_tools": true, "in_image": true, "cap_json": true, "max_output": 10},
        {"id": "no-output", "provider": "p", "cap_tools": true, "in_image": true, "cap_json": true, "context": 10000, "max_output": 999},
        {"id": "unknown-output", "provider": "p", "cap_tools": true, "in_image": true, "cap_json": true, "context": 10000}
    ]));
    let req = Requirements { tools: true, vision: true, json: true, prompt_tokens: 9000, max_tokens: Some(1000) };
    let r = run_with(&cat, r#"["meets_req"]"#, r#"["zero"]"#, r#"["argmax"]"#, req, None, None);
    assert_eq!(r.cascade(), vec!["all"]);
    for (model, reason) in [("no-tools", "tools"), ("no-vision", "vision"), ("no-json", "json"),
                            ("no-context", "context"), ("no-output", "max_tokens"), ("unknown-output", "max_tokens")] {
        assert_eq!(r.dropped_by(model), &json!({"path": "/2", "term": ["meets_req"], "reason": reason}), "{model}");
    }
    // Without max_tokens, a missing max_output is fine and the context need is the prompt alone.
    let r = run_with(&cat, r#"["meets_req"]"#, r#"["zero"]"#, r#"["argmax"]"#, req_tokens(9000, None), None, None);
    assert_eq!(r.cascade(), vec!["all", "no-output", "unknown-output"]);
    assert_eq!(r.dropped_by("no-context")["reason"], "context");
    // Inside `not`, the reason is not the blame: the not node is.
    let r = run_with(&cat, r#"["not", ["meets_req"]]"#, r#"["zero"]"#, r#"["argmax"]"#, req_tokens(0, None), None, None);
    assert_eq!(r.dropped_by("all"), &json!({"path": "/2", "term": ["not", ["meets_req"]]}));
}

#[test]
fn missing_values_make_leaves_false_without_raising() {
    let cat = catalog(json!([
        {"id": "bare", "provider": "p"},
        {"id": "full", "provider": "p", "price_out": 5, "family": "x", "region": "eu", "disabled": false, "capabilities": ["supports_tools"]}
    ]));
    for (filter, want) in [
        (r#"["cmp", "price_out", "ge", 0]"#, vec!["full"]),
        (r#"["cmp", "price_out", "le", 1e9]"#, vec!["full"]),
        (r#"["cmp", "price_out", "eq", 5]"#, vec!["full"]),
        (r#"["cmp", "price_out", "ne", 4]"#, vec!["full"]),
        (r#"["cmp", "region", "ne", "us"]"#, vec!["full"]),
        (r#"["cmp", "region", "eq", "eu"]"#, vec!["full"]),
        (r#"["is", "disabled"]"#, vec![]),
        (r#"["not", ["is", "disabled"]]"#, vec!["bare", "full"]),
        (r#"["has_cap", "supports_tools"]"#, vec!["full"]),
        (r#"["not", ["has_cap", "supports_vision"]]"#, vec!["bare", "full"]),
        (r#"["family_eq", "x"]"#, vec!["full"]),
        // Two-valued logic: the model with no price survives the negated bound.
        (r#"["not", ["cmp", "price_out", "gt", 5]]"#, vec!["bare", "full"]),
    ] {
        let r = run(&cat, filter, r#"["zero"]"#, r#"["argmax"]"#);
        assert_eq!(r.cascade(), want, "{filter}");
    }
}

#[test]
fn comparisons_are_exact_and_cover_every_operator() {
    let cat = catalog(json!([
        {"id": "m1", "provider": "p", "latency_ms": 0.1},
        {"id": "m2", "provider": "p", "latency_ms": 0.30000000000000004},
        {"id": "m3", "provider": "p", "latency_ms": 0.3},
        {"id": "m4", "provider": "q", "latency_ms": 7}
    ]));
    for (op, value, want) in [
        ("eq", "0.3", vec!["m3"]),
        ("ne", "0.3", vec!["m1", "m2", "m4"]),
        ("gt", "0.3", vec!["m2", "m4"]),
        ("ge", "0.3", vec!["m2", "m3", "m4"]),
        ("lt", "0.3", vec!["m1"]),
        ("le", "0.3", vec!["m1", "m3"]),
    ] {
        let filter = format!(r#"["cmp", "latency_ms", "{op}", {value}]"#);
        assert_eq!(run(&cat, &filter, r#"["zero"]"#, r#"["argmax"]"#).cascade(), want, "{op}");
    }
    for (filter, want) in [
        (r#"["cmp", "id", "eq", "m2"]"#, vec!["m2"]),
        (r#"["cmp", "id", "ne", "m2"]"#, vec!["m1", "m3", "m4"]),
        (r#"["cmp", "id", "eq", "zz"]"#, vec![]),
        (r#"["cmp", "id", "ne", "zz"]"#, vec!["m1", "m2", "m3", "m4"]),
        (r#"["cmp", "provider", "eq", "q"]"#, vec!["m4"]),
        (r#"["cmp", "provider", "ne", "q"]"#, vec!["m1", "m2", "m3"]),
        (r#"["cmp", "provider", "eq", "nobody"]"#, vec![]),
        (r#"["cmp", "provider", "ne", "nobody"]"#, vec!["m1", "m2", "m3", "m4"]),
    ] {
        assert_eq!(run(&cat, filter, r#"["zero"]"#, r#"["argmax"]"#).cascade(), want, "{filter}");
    }
}

#[test]
fn extension_fields_filter_and_rank() {
    let cat = Catalog::from_json(
        json!({"fields": [{"name": "eu_resident", "kind": "bool"}, {"name": "house", "kind": "number"},
                          {"name": "tier", "kind": "string"}],
               "models": [{"id": "a", "provider": "p", "eu_resident": true, "house": 2, "tier": "gold"},
                          {"id": "b", "provider": "p", "eu_resident": true, "house": 9},
                          {"id": "c", "provider": "p", "house": 50, "tier": "gold"}]})
        .to_string()
        .as_bytes(),
    )
    .unwrap();
    let r = run(&cat, r#"["is", "eu_resident"]"#, r#"["field", "house"]"#, r#"["argmax"]"#);
    assert_eq!(r.cascade(), vec!["b", "a"]);
    let r = run(&cat, r#"["cmp", "tier", "eq", "gold"]"#, r#"["field", "house"]"#, r#"["argmax"]"#);
    assert_eq!(r.cascade(), vec!["c", "a"]);
}

fn prices() -> Catalog {
    catalog(json!([
        {"id": "p1", "provider": "p", "price_out": 4, "latency_ms": 100},
        {"id": "p2", "provider": "p", "price_out": 2, "latency_ms": 300},
        {"id": "p3", "provider": "p", "latency_ms": 200},
        {"id": "p4", "provider": "p", "price_out": 2},
        {"id": "p5", "provider": "p", "price_out": 8, "latency_ms": 100}
    ]))
}

fn scores(r: &Run) -> Vec<(String, Json)> {
    r.cascade().iter().map(|m| (m.to_string(), r.verdict(m)["score"].clone())).collect()
}

#[test]
fn ranked_list_is_score_descending_then_id_with_nulls_last() {
    let r = run(&prices(), r#"["cmp", "id", "ne", ""]"#, r#"["field", "price_out"]"#, r#"["argmax"]"#);
    assert_eq!(r.cascade(), vec!["p5", "p1", "p2", "p4", "p3"]);
    assert_eq!(r.verdict("p3")["score"], Json::Null);
    assert_eq!(r.verdict("p3")["rank"], 4);
    let r = run(&prices(), r#"["cmp", "id", "ne", ""]"#, r#"["neg", ["field", "price_out"]]"#, r#"["argmax"]"#);
    assert_eq!(r.cascade(), vec!["p2", "p4", "p1", "p5", "p3"]);
}

#[test]
fn normalize_maps_to_unit_range_and_all_equal_to_zero() {
    let cat = prices();
    let r = run(&cat, r#"["cmp", "id", "ne", ""]"#, r#"["normalize", ["field", "price_out"]]"#, r#"["argmax"]"#);
    assert_eq!(
        scores(&r),
        vec![("p5".into(), json!(1)), ("p1".into(), json!(1.0 / 3.0)), ("p2".into(), json!(0)), ("p4".into(), json!(0)),
             ("p3".into(), Json::Null)]
    );
    let r = run(&cat, r#"["cmp", "price_out", "eq", 2]"#, r#"["normalize", ["field", "price_out"]]"#, r#"["argmax"]"#);
    assert_eq!(scores(&r), vec![("p2".into(), json!(0)), ("p4".into(), json!(0))]);
    let r = run(&cat, r#"["cmp", "id", "eq", "p5"]"#, r#"["normalize", ["field", "price_out"]]"#, r#"["argmax"]"#);
    assert_eq!(scores(&r), vec![("p5".into(), json!(0))], "one survivor normalises to 0");
    let r = run(&cat, r#"["cmp", "id", "eq", "p3"]"#, r#"["normalize", ["field", "price_out"]]"#, r#"["argmax"]"#);
    assert_eq!(scores(&r), vec![("p3".into(), Json::Null)], "no score stays no score");
}

#[test]
fn normalize_ranges_over_survivors_only() {
    let r = run(&prices(), r#"["cmp", "price_out", "le", 4]"#, r#"["normalize", ["field", "price_out"]]"#, r#"["argmax"]"#);
    assert_eq!(scores(&r), vec![("p1".into(), json!(1)), ("p2".into(), json!(0)), ("p4".into(), json!(0))]);
}

#[test]
fn scale_add_and_zero_combine_scores() {
    let cat = prices();
    let rank = r#"["add", ["scale", 2, ["field", "price_out"]], ["neg", ["scale", 0.01, ["field", "latency_ms"]]]]"#;
    let r = run(&cat, r#"["cmp", "id", "ne", ""]"#, rank, r#"["argmax"]"#);
    // p5: 16 - 1 = 15; p1: 8 - 1 = 7; p2: 4 - 3 = 1; p3, p4: a null operand nulls the sum.
    assert_eq!(
        scores(&r),
        vec![("p5".into(), json!(15)), ("p1".into(), json!(7)), ("p2".into(), json!(1)), ("p3".into(), Json::Null),
             ("p4".into(), Json::Null)]
    );
    let r = run(&cat, r#"["cmp", "id", "ne", ""]"#, r#"["zero"]"#, r#"["argmax"]"#);
    assert_eq!(r.cascade(), vec!["p1", "p2", "p3", "p4", "p5"], "all tie: id order");
    assert!(r.result["verdicts"].as_array().unwrap().iter().all(|v| v["score"] == 0));
}

#[test]
fn overflow_becomes_no_score() {
    let cat = catalog(json!([
        {"id": "big", "provider": "p", "price_out": 1e308},
        {"id": "small", "provider": "p", "price_out": 1}
    ]));
    let r = run(&cat, r#"["cmp", "id", "ne", ""]"#, r#"["scale", 10, ["field", "price_out"]]"#, r#"["argmax"]"#);
    assert_eq!(scores(&r), vec![("small".into(), json!(10)), ("big".into(), Json::Null)]);
    let r = run(&cat, r#"["cmp", "id", "ne", ""]"#, r#"["add", ["field", "price_out"], ["field", "price_out"]]"#, r#"["argmax"]"#);
    assert_eq!(scores(&r), vec![("small".into(), json!(2)), ("big".into(), Json::Null)]);
}

#[test]
fn top_k_keeps_the_first_n_and_rejects_the_rest() {
    let cat = prices();
    let r = run(&cat, r#"["cmp", "id", "ne", ""]"#, r#"["neg", ["field", "price_out"]]"#, r#"["top_k", 2, ["argmax"]]"#);
    assert_eq!(r.cascade(), vec!["p2", "p4"]);
    for model in ["p1", "p5", "p3"] {
        let v = r.verdict(model);
        assert_eq!(v["status"], "rejected");
        assert_eq!(v["dropped_by"], json!({"path": "/4", "term": ["top_k", 2, ["argmax"]]}));
        assert_eq!(v["rank"], Json::Null);
    }
    assert_eq!(r.verdict("p1")["score"], -4, "a model past n keeps its score");
    let r = run(&cat, r#"["cmp", "id", "ne", ""]"#, r#"["neg", ["field", "price_out"]]"#, r#"["top_k", 3, ["top_k", 1, ["argmax"]]]"#);
    assert_eq!(r.cascade(), vec!["p2"]);
    assert_eq!(r.dropped_by("p4")["path"], "/4/2");
    assert_eq!(r.dropped_by("p1")["path"], "/4/2");
    assert_eq!(r.dropped_by("p5")["path"], "/4");
    let r = run(&cat, r#"["cmp", "id", "ne", ""]"#, r#"["zero"]"#, r#"["top_k", 50, ["argmax"]]"#);
    assert_eq!(r.cascade().len(), 5);
}

#[test]
fn splitmix64_matches_the_reference_sequence() {
    let mut rng = SplitMix64::new(0);
    assert_eq!(rng.next_u64(), 0xE220_A839_7B1D_CDAF);
    assert_eq!(rng.next_u64(), 0x6E78_9E6A_A1B9_65F4);
    let mut rng = SplitMix64::new(1234567);
    assert_eq!(rng.next_u64(), 6457827717110365317);
    assert_eq!(rng.next_u64(), 3203168211198807973);
    let mut rng = SplitMix64::new(42);
    let u = rng.next_f64();
    assert!((0.0..1.0).contains(&u));
}

fn sample_cat() -> Catalog {
    catalog(json!([
        {"id": "s1", "provider": "p", "bench_intelligence": 1.0},
        {"id": "s2", "provider": "p", "bench_intelligence": 0.5},
        {"id": "s3", "provider": "p", "bench_intelligence": 0.0},
        {"id": "s4", "provider": "p"}
    ]))
}

#[test]
fn sample_is_reproducible_from_its_seed_and_reports_it() {
    let cat = sample_cat();
    let a = run_with(&cat, r#"["cmp", "id", "ne", ""]"#, r#"["field", "bench_intelligence"]"#, r#"["sample", 0.5]"#,
                     Requirements::default(), Some(7), None);
    let b = run_with(&cat, r#"["cmp", "id", "ne", ""]"#, r#"["field", "bench_intelligence"]"#, r#"["sample", 0.5]"#,
                     Requirements::default(), Some(7), None);
    assert_eq!(a.result, b.result);
    assert_eq!(a.result["seed"], 7);
    let cascade = a.cascade();
    // The head is drawn; the rest keep ranked order.
    let rest: Vec<&str> = ["s1", "s2", "s3", "s4"].into_iter().filter(|m| *m != cascade[0]).collect();
    assert_eq!(&cascade[1..], rest.as_slice());
    assert_ne!(cascade[0], "s4", "an unscored model is never drawn");
}

#[test]
fn sample_draw_follows_the_specified_rule() {
    let cat = sample_cat();
    let p = admit(&policy_text(r#"["cmp", "id", "ne", ""]"#, r#"["field", "bench_intelligence"]"#, r#"["sample", 0.5]"#), &cat);
    // Weights exp((s - 1) / 0.5) in ranked order s1, s2, s3.
    let w = [1.0f64, (-1.0f64).exp(), (-2.0f64).exp()];
    let total: f64 = w.iter().sum();
    for seed in 0..200u64 {
        let target = SplitMix64::new(seed).next_f64() * total;
        let mut cumulative = 0.0;
        let expected = w.iter().position(|x| {
            cumulative += x;
            cumulative > target
        });
        let outcome = evaluate(&p, &cat, &Requirements::default(), Some(seed), None);
        assert_eq!(outcome.winner(), expected, "seed {seed}");
        assert_eq!(outcome.seed, Some(seed));
    }
}

#[test]
fn sample_frequencies_follow_the_softmax_weights() {
    let cat = sample_cat();
    let p = admit(&policy_text(r#"["cmp", "id", "ne", ""]"#, r#"["field", "bench_intelligence"]"#, r#"["sample", 0.5]"#), &cat);
    let mut wins = [0usize; 3];
    let draws = 20_000u64;
    for seed in 0..draws {
        let o = evaluate(&p, &cat, &Requirements::default(), Some(seed * 7919 + 13), None);
        wins[o.winner().unwrap()] += 1;
    }
    let w = [1.0f64, (-1.0f64).exp(), (-2.0f64).exp()];
    let total: f64 = w.iter().sum();
    for k in 0..3 {
        let expected = w[k] / total;
        let got = wins[k] as f64 / draws as f64;
        assert!((got - expected).abs() < 0.015, "model {k}: {got} vs {expected}");
    }
}

#[test]
fn sample_with_no_scores_takes_the_ranked_head_and_draws_a_seed_when_none_given() {
    let cat = sample_cat();
    let r = run_with(&cat, r#"["cmp", "id", "eq", "s4"]"#, r#"["field", "bench_intelligence"]"#, r#"["sample", 1]"#,
                     Requirements::default(), None, None);
    assert_eq!(r.cascade(), vec!["s4"]);
    let seed = r.outcome.seed.unwrap();
    assert!(seed < SEED_LIMIT);
    assert_eq!(r.result["seed"].as_u64(), Some(seed));
    let other = run_with(&cat, r#"["cmp", "id", "eq", "s4"]"#, r#"["zero"]"#, r#"["top_k", 1, ["sample", 1]]"#,
                         Requirements::default(), None, None);
    assert_ne!(other.outcome.seed, Some(seed), "each evaluation draws its own seed");
}

#[test]
fn seed_is_null_unless_the_select_samples() {
    let cat = sample_cat();
    let r = run_with(&cat, r#"["cmp", "id", "ne", ""]"#, r#"["zero"]"#, r#"["argmax"]"#, Requirements::default(), Some(9), None);
    assert_eq!(r.result["seed"], Json::Null);
    assert_eq!(r.outcome.seed, None);
    let r = run_with(&cat, r#"["cmp", "id", "ne", ""]"#, r#"["zero"]"#, r#"["top_k", 2, ["sample", 2]]"#,
                     Requirements::default(), Some(9), None);
    assert_eq!(r.result["seed"], 9);
    assert_eq!(r.cascade().len(), 2);
}

#[test]
fn host_floor_rejects_unconfigured_providers_before_the_filter() {
    let cat = shop();
    let floor = vec!["openai".to_string(), "gemini".to_string(), "not-in-catalog".to_string()];
    let r = run_with(&cat, QUICKSTART_FILTER, CHEAPEST, r#"["argmax"]"#, req_tokens(500, Some(1024)), None, Some(&floor));
    assert_eq!(r.cascade(), vec!["a-cheap"]);
    assert_eq!(
        r.dropped_by("b-mid"),
        &json!({"path": "", "term": "host_floor", "reason": "provider anthropic is not configured"})
    );
    assert_eq!(r.dropped_by("g-noprice")["term"], "host_floor", "the floor comes before the filter's blame");
    assert_eq!(r.dropped_by("c-pricey")["path"], "/2/5");
    let none: Vec<String> = vec![];
    let r = run_with(&cat, r#"["cmp", "id", "ne", ""]"#, r#"["zero"]"#, r#"["argmax"]"#, Requirements::default(), None, Some(&none));
    assert!(r.cascade().is_empty());
    assert!(r.result["verdicts"].as_array().unwrap().iter().all(|v| v["dropped_by"]["term"] == "host_floor"));
}

#[test]
fn empty_cascade_is_no_candidates_with_every_verdict() {
    let cat = shop();
    let r = run(&cat, r#"["cmp", "price_out", "lt", 0]"#, CHEAPEST, r#"["argmax"]"#);
    assert_eq!(r.result["winner"], Json::Null);
    assert!(r.cascade().is_empty());
    assert_eq!(r.outcome.winner(), None);
    let e = r.outcome.no_candidates().unwrap();
    assert_eq!((e.code, e.rule), (Code::NoCandidates, "empty_cascade"));
    assert_eq!(r.result["verdicts"].as_array().unwrap().len(), cat.len());
    let ok = run(&cat, r#"["cmp", "price_out", "ge", 0]"#, CHEAPEST, r#"["argmax"]"#);
    assert!(ok.outcome.no_candidates().is_none());
}

#[test]
fn empty_catalog_evaluates_to_an_empty_outcome() {
    let cat = catalog(json!([]));
    let r = run(&cat, r#"["meets_req"]"#, CHEAPEST, r#"["sample", 1]"#);
    assert!(r.outcome.is_empty());
    assert!(r.outcome.no_candidates().is_some());
    assert_eq!(r.result["verdicts"], json!([]));
}

#[test]
fn verdicts_page_and_filter_by_status() {
    let cat = shop();
    let p = admit(&policy_text(QUICKSTART_FILTER, CHEAPEST, r#"["argmax"]"#), &cat);
    let o = evaluate(&p, &cat, &req_tokens(500, Some(1024)), None, None);
    let page = |offset, limit, status| {
        let v: Json = serde_json::from_str(&to_jcs(&o.verdicts_value(&p, &cat, offset, limit, status))).unwrap();
        v.as_array().unwrap().iter().map(|v| v["model"].as_str().unwrap().to_string()).collect::<Vec<_>>()
    };
    assert_eq!(page(0, None, Some(Status::Winner)), vec!["a-cheap"]);
    assert_eq!(page(0, None, Some(Status::Passed)), vec!["b-mid"]);
    assert_eq!(page(1, Some(2), Some(Status::Rejected)), vec!["d-dumb", "e-disabled"]);
    assert_eq!(page(6, Some(5), None), vec!["g-noprice", "h-smallctx"]);
    assert!(page(100, None, None).is_empty());
    assert_eq!(Status::parse("passed"), Some(Status::Passed));
    assert_eq!(Status::parse("nope"), None);
    let single: Json = serde_json::from_str(&to_jcs(&o.verdict_value(0, &p, &cat))).unwrap();
    assert_eq!(single["status"], "winner");
    assert_eq!(o.status(1), Some(Status::Passed));
}

#[test]
fn result_object_has_the_spec_members_in_order() {
    let cat = shop();
    let p = admit(&policy_text(QUICKSTART_FILTER, CHEAPEST, r#"["argmax"]"#), &cat);
    let o = evaluate(&p, &cat, &req_tokens(500, Some(1024)), None, None);
    let v = o.to_value(&p, &cat, 0, Some(1), None);
    let keys: Vec<&str> = v.as_object().unwrap().iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, vec!["winner", "cascade", "seed", "verdicts"]);
    let verdict = &v.get("verdicts").unwrap().as_array().unwrap()[0];
    let keys: Vec<&str> = verdict.as_object().unwrap().iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, vec!["model", "status", "dropped_by", "score", "rank"]);
}

// ---------------------------------------------------------------------------------------------
// Differential check: the columnar evaluator against a direct per-model reading of spec §5.1,
// on catalogs large enough to span many bitset words and with every value sometimes missing.

struct Lcg(SplitMix64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0.next_u64() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

fn random_catalog(n: usize, seed: u64) -> Catalog {
    let mut g = Lcg(SplitMix64::new(seed));
    let caps = ["supports_tools", "supports_vision", "supports_json_mode"];
    let mut models = Vec::new();
    for i in 0..n {
        let mut m = serde_json::Map::new();
        m.insert("id".into(), json!(format!("m{:04}", (i * 7919) % n)));
        m.insert("provider".into(), json!(["p", "q", "r"][g.below(3) as usize]));
        if g.chance(80) {
            m.insert("family".into(), json!(["f1", "f2"][g.below(2) as usize]));
        }
        for f in ["price_out", "bench_intelligence", "context", "max_output"] {
            if g.chance(85) {
                m.insert(f.into(), json!(g.below(10) as f64 / 2.0));
            }
        }
        for f in ["cap_tools", "disabled", "in_image", "cap_json"] {
            if g.chance(85) {
                m.insert(f.into(), json!(g.chance(50)));
            }
        }
        if g.chance(90) {
            let set: Vec<&str> = caps.iter().copied().filter(|_| g.chance(50)).collect();
            m.insert("capabilities".into(), json!(set));
        }
        models.push(Json::Object(m));
    }
    catalog(Json::Array(models))
}

/// Spec §5.1 read literally, one model at a time: Some(path) of the blamed node when rejected.
fn blame_of(term: &Json, path: &str, model: &Json, req: &Requirements) -> Option<String> {
    let op = term[0].as_str().unwrap();
    let args = &term.as_array().unwrap()[1..];
    let child = |i: usize| format!("{path}/{}", i + 1);
    match op {
        "and" => args.iter().enumerate().find_map(|(i, a)| blame_of(a, &child(i), model, req)),
        "or" => {
            if args.iter().enumerate().any(|(i, a)| blame_of(a, &child(i), model, req).is_none()) {
                None
            } else {
                Some(path.to_string())
            }
        }
        "not" => blame_of(&args[0], &child(0), model, req).is_none().then(|| path.to_string()),
        _ => {
            let pass = match op {
                "is" => model.get(args[0].as_str().unwrap()) == Some(&json!(true)),
                "has_cap" => model
                    .get("capabilities")
                    .and_then(|c| c.as_array())
                    .is_some_and(|c| c.contains(&args[0])),
                "family_eq" => model.get("family") == Some(&args[0]),
                "meets_req" => first_unmet(model, req).is_none(),
                "cmp" => {
                    let v = model.get(args[0].as_str().unwrap());
                    match (v.and_then(Json::as_f64), args[2].as_f64()) {
                        (Some(x), Some(lit)) => match args[1].as_str().unwrap() {
                            "ge" => x >= lit,
                            "le" => x <= lit,
                            "gt" => x > lit,
                            "lt" => x < lit,
                            "eq" => x == lit,
                            _ => x != lit,
                        },
                        _ => match (v.and_then(Json::as_str), args[2].as_str()) {
                            (Some(s), Some(lit)) => (args[1] == "eq") == (s == lit),
                            _ => false,
                        },
                    }
                }
                other => panic!("op {other}"),
            };
            (!pass).then(|| path.to_string())
        }
    }
}

/// Spec §4 read literally: the first requirement, in check order, that the model misses.
fn first_unmet(model: &Json, req: &Requirements) -> Option<&'static str> {
    let flag = |f: &str| model.get(f) == Some(&json!(true));
    let at_least = |f: &str, need: f64| model.get(f).and_then(Json::as_f64).is_some_and(|x| x >= need);
    let need_context = (req.prompt_tokens + req.max_tokens.unwrap_or(0)) as f64;
    if req.tools && !flag("cap_tools") {
        Some("tools")
    } else if req.vision && !flag("in_image") {
        Some("vision")
    } else if req.json && !flag("cap_json") {
        Some("json")
    } else if !at_least("context", need_context) {
        Some("context")
    } else if req.max_tokens.is_some_and(|m| !at_least("max_output", m as f64)) {
        Some("max_tokens")
    } else {
        None
    }
}

#[test]
fn columnar_filter_agrees_with_a_per_model_reading_of_the_spec() {
    let filters = [
        QUICKSTART_FILTER,
        r#"["or", ["and", ["is", "cap_tools"], ["cmp", "price_out", "lt", 2]], ["not", ["has_cap", "supports_vision"]]]"#,
        r#"["and", ["or", ["family_eq", "f1"], ["cmp", "provider", "eq", "q"]], ["not", ["or", ["is", "disabled"], ["cmp", "context", "ne", 2]]]]"#,
        r#"["not", ["and", ["meets_req"], ["cmp", "bench_intelligence", "gt", 1.5], ["cmp", "family", "ne", "f2"]]]"#,
        r#"["and", ["not", ["not", ["is", "in_image"]]], ["or", ["cmp", "price_out", "eq", 1.5], ["cmp", "price_out", "ge", 3]]]"#,
    ];
    let req = Requirements { tools: true, prompt_tokens: 2, ..Requirements::default() };
    for (k, seed) in [(130usize, 1u64), (64, 2), (1000, 3), (1, 4)] {
        let cat = random_catalog(k, seed);
        for filter in filters {
            let p = admit(&policy_text(filter, r#"["field", "price_out"]"#, r#"["argmax"]"#), &cat);
            let o = evaluate(&p, &cat, &req, None, None);
            let result: Json = serde_json::from_str(&to_jcs(&o.to_value(&p, &cat, 0, None, None))).unwrap();
            let term: Json = serde_json::from_str(filter).unwrap();
            let mut passed = 0;
            for (i, verdict) in result["verdicts"].as_array().unwrap().iter().enumerate() {
                let model: Json = serde_json::from_str(&to_jcs(&cat.model_value(i).unwrap())).unwrap();
                let want = blame_of(&term, "/2", &model, &req);
                let got = verdict["dropped_by"]["path"].as_str().map(str::to_string);
                assert_eq!(got, want, "{filter} on {}", model["id"]);
                passed += usize::from(want.is_none());
            }
            assert_eq!(result["cascade"].as_array().unwrap().len(), passed);
            // Ranked: price descending, nulls last, ties by id.
            let ids: Vec<&str> = result["cascade"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
            let key = |id: &str| {
                let i = cat.index_of(id).unwrap();
                let s = o.score(i);
                (s.is_none(), -s.unwrap_or(0.0), id.to_string())
            };
            for pair in ids.windows(2) {
                assert!(key(pair[0]).partial_cmp(&key(pair[1])) == Some(std::cmp::Ordering::Less), "{pair:?}");
            }
        }
    }
}

#[test]
fn per_model_accessors_agree_with_the_verdicts() {
    let cat = shop();
    let p = admit(&policy_text(QUICKSTART_FILTER, CHEAPEST, r#"["top_k", 1, ["argmax"]]"#), &cat);
    let o = evaluate(&p, &cat, &req_tokens(500, Some(1024)), None, None);
    let a = cat.index_of("a-cheap").unwrap();
    let b = cat.index_of("b-mid").unwrap();
    let h = cat.index_of("h-smallctx").unwrap();
    assert_eq!((o.status(a), o.rank(a), o.score(a), o.blame(a)), (Some(Status::Winner), Some(0), Some(0.0), None));
    // Cut by top_k: rejected, no rank, but scored, and blamed on the top_k node.
    assert_eq!((o.status(b), o.rank(b), o.score(b)), (Some(Status::Rejected), None, Some(-1.0)));
    assert_eq!(p.node(o.blame(b).unwrap()).unwrap().path, "/4");
    assert_eq!(o.reason(h), Some("context"));
    assert_eq!(p.node(o.blame(h).unwrap()).unwrap().path, "/2/1");
    assert_eq!(o.reason(b), None);
    assert_eq!(o.survivors(), &[a as u32, b as u32]);
    assert_eq!(o.status(cat.len()), None);
    let counts = o.counts();
    assert_eq!((counts.winner, counts.passed, counts.rejected), (1, 0, cat.len() - 1));
}

/// Blame is kept as one bitset per blamed node, reasons as one bitset per requirement, and ranks
/// are derived from the cascade when first read; with a host floor, every requirement, a `top_k`
/// cut and catalogs spanning many bitset words, each model's verdict and accessors must still
/// match a per-model reading of the spec.
#[test]
fn compact_blame_agrees_with_a_per_model_reading_under_floor_requirements_and_top_k() {
    use unhardcoded_core::eval::BLAME_HOST_FLOOR;
    let filter = r#"["and", ["not", ["is", "disabled"]], ["meets_req"], ["cmp", "price_out", "le", 3]]"#;
    let term: Json = serde_json::from_str(filter).unwrap();
    let floor = vec!["p".to_string(), "q".to_string()];
    let reqs = [
        Requirements { tools: true, vision: true, json: true, prompt_tokens: 1, max_tokens: Some(2) },
        Requirements { prompt_tokens: 3, ..Requirements::default() },
        Requirements { json: true, max_tokens: Some(4), ..Requirements::default() },
    ];
    for (n, seed) in [(1000usize, 11u64), (200, 12), (65, 13)] {
        let cat = random_catalog(n, seed);
        for req in &reqs {
            let p = admit(&policy_text(filter, r#"["field", "price_out"]"#, r#"["top_k", 7, ["argmax"]]"#), &cat);
            let o = evaluate(&p, &cat, req, None, Some(&floor));
            let result: Json = serde_json::from_str(&to_jcs(&o.to_value(&p, &cat, 0, None, None))).unwrap();
            let verdicts = result["verdicts"].as_array().unwrap();
            let path_of = |i: usize| o.blame(i).filter(|&b| b != BLAME_HOST_FLOOR).map(|b| p.node(b).unwrap().path.to_string());
            let mut survivors = Vec::new();
            for (i, verdict) in verdicts.iter().enumerate() {
                let model: Json = serde_json::from_str(&to_jcs(&cat.model_value(i).unwrap())).unwrap();
                let inside = floor.iter().any(|f| model["provider"] == f.as_str());
                let blamed = if inside { blame_of(&term, "/2", &model, req) } else { None };
                let reason = blamed.as_deref().filter(|&b| b == "/2/2").and_then(|_| first_unmet(&model, req));
                let dropped = &verdict["dropped_by"];
                if !inside {
                    assert_eq!(dropped["term"], "host_floor");
                    assert_eq!(o.blame(i), Some(BLAME_HOST_FLOOR));
                } else if let Some(path) = &blamed {
                    assert_eq!(dropped["path"].as_str(), Some(path.as_str()), "{}", model["id"]);
                    assert_eq!(path_of(i).as_deref(), Some(path.as_str()));
                    assert_eq!(dropped["reason"].as_str(), reason);
                    assert_eq!(o.reason(i), reason);
                } else {
                    survivors.push((i, model.get("price_out").and_then(Json::as_f64)));
                }
                if !inside || blamed.is_some() {
                    assert_eq!((verdict["status"].as_str(), o.status(i), o.rank(i)), (Some("rejected"), Some(Status::Rejected), None));
                }
            }
            // Ranked: price descending, nulls last, ties by id (= index); the first 7 stay.
            survivors.sort_by(|a, b| (a.1.is_none(), -a.1.unwrap_or(0.0), a.0).partial_cmp(&(b.1.is_none(), -b.1.unwrap_or(0.0), b.0)).unwrap());
            for (k, &(i, score)) in survivors.iter().enumerate() {
                assert_eq!(o.score(i), score);
                if k < 7 {
                    let status = if k == 0 { Status::Winner } else { Status::Passed };
                    assert_eq!((o.status(i), o.rank(i), o.blame(i), o.reason(i)), (Some(status), Some(k as u32), None, None));
                    assert_eq!(verdicts[i]["rank"], json!(k));
                } else {
                    assert_eq!((o.status(i), o.rank(i), path_of(i).as_deref()), (Some(Status::Rejected), None, Some("/4")));
                    assert_eq!(verdicts[i]["dropped_by"]["path"], "/4");
                }
            }
            let cascade: Vec<usize> = survivors.iter().take(7).map(|s| s.0).collect();
            assert_eq!(o.cascade.iter().map(|&m| m as usize).collect::<Vec<_>>(), cascade);
            let counts = o.counts();
            assert_eq!(counts.rejected, n - cascade.len());
        }
    }
}

#[test]
fn outcomes_compare_equal_whether_or_not_ranks_were_read() {
    let cat = random_catalog(300, 21);
    let p = admit(&policy_text(QUICKSTART_FILTER, CHEAPEST, r#"["argmax"]"#), &cat);
    let req = Requirements { prompt_tokens: 1, ..Requirements::default() };
    let (a, b) = (evaluate(&p, &cat, &req, None, None), evaluate(&p, &cat, &req, None, None));
    let winner = a.winner().unwrap();
    assert_eq!(a.rank(winner), Some(0));
    assert_eq!(a, b);
    assert_eq!(a.clone(), b);
}
