//! flow_ir admission (spec §6): every rule with its path and node, execution order, templates,
//! policies inside nodes, and fingerprints.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use unhardcoded_core::canonical::to_jcs;
use unhardcoded_core::error::{Code, Error, ERROR_RULES};
use unhardcoded_core::flow::{admit_flow_text, admit_flow_value, join_inputs, render_template, AdmittedFlow, NodeKind};
use unhardcoded_core::json::{parse, Limits, Value};
use unhardcoded_core::policy::admit_text;
use unhardcoded_core::vocab::Vocabulary;

const POLICY: &str = r#"["policy",["ev_zero"],["and",["meets_req"],["not",["is","disabled"]],["has_cap","supports_tools"],["cmp","bench_intelligence","ge",0.5],["cmp","price_out","le",5]],["neg",["normalize",["field","price_out"]]],["argmax"],["id"],["always",{"action":"next_candidate"}]]"#;

const STRONGEST: &str = r#"["policy",["ev_zero"],["meets_req"],["field","bench_intelligence"],["argmax"],["id"],["always",{"action":"next_candidate"}]]"#;

/// The draft / critique / revise workflow of the product page (seeds/003), policies filled in.
fn revise_flow() -> String {
    format!(
        r#"["flow", {{
  "u": {{ "kind": "input" }},
  "draft": {{ "kind": "llm", "system": "Draft an answer.", "policy": {POLICY}, "inputs": [ "u" ] }},
  "critique": {{ "kind": "llm", "system": "List the concrete flaws in the draft.", "policy": {STRONGEST}, "inputs": [ "draft" ] }},
  "revise": {{ "kind": "llm", "system": "Rewrite the answer, fixing every point.", "policy": {STRONGEST},
              "inputs": [ "u", "draft", "critique" ],
              "template": "Q:\n$1\n\nDraft:\n$2\n\nCritique:\n$3" }},
  "out": {{ "kind": "output", "inputs": [ "revise" ] }}
}}]"#
    )
}

fn llm(inputs: &[&str]) -> String {
    let inputs: Vec<String> = inputs.iter().map(|i| format!("\"{i}\"")).collect();
    format!(r#"{{"kind":"llm","system":"s","policy":{POLICY},"inputs":[{}]}}"#, inputs.join(","))
}

fn input() -> String {
    r#"{"kind":"input"}"#.to_string()
}

fn output(from: &str) -> String {
    format!(r#"{{"kind":"output","inputs":["{from}"]}}"#)
}

fn flow(nodes: &[(&str, String)]) -> String {
    let members: Vec<String> = nodes.iter().map(|(id, node)| format!("\"{id}\":{node}")).collect();
    format!(r#"["flow",{{{}}}]"#, members.join(","))
}

/// A valid chain u -> a -> out with one node replaced.
fn chain_with(id: &str, node: String) -> String {
    let mut nodes = vec![("u", input()), ("a", llm(&["u"])), ("out", output("a"))];
    for n in &mut nodes {
        if n.0 == id {
            n.1 = node.clone();
        }
    }
    flow(&nodes)
}

fn ok(text: &str) -> AdmittedFlow {
    admit_flow_text(text.as_bytes(), &Vocabulary::core()).unwrap_or_else(|e| panic!("{text}\n{e}"))
}

fn reject(text: &str) -> Error {
    match admit_flow_text(text.as_bytes(), &Vocabulary::core()) {
        Ok(_) => panic!("admitted {text}"),
        Err(e) => {
            assert!(ERROR_RULES.contains(&e.rule), "{e}");
            assert!(e.message.ends_with('.'), "{e}");
            e
        }
    }
}

/// Asserts an `invalid_flow` error's rule, path and node.
fn expect(text: &str, rule: &str, path: &str, node: Option<&str>) -> Error {
    let e = reject(text);
    assert_eq!(
        (e.code, e.rule, e.path.as_str(), e.node.as_deref()),
        (Code::InvalidFlow, rule, path, node),
        "{text}\n{e}"
    );
    e
}

#[test]
fn product_page_workflow_is_admitted() {
    let f = ok(&revise_flow());
    assert_eq!(f.order, vec!["u", "draft", "critique", "revise", "out"]);
    assert_eq!(f.nodes.iter().map(|n| n.id.as_str()).collect::<Vec<_>>(), f.order);
    assert!(f.fingerprint.starts_with("flow_") && f.fingerprint.len() == 5 + 64);
    let revise = &f.nodes[3];
    assert_eq!(revise.kind, NodeKind::Llm);
    assert_eq!(revise.inputs, vec!["u", "draft", "critique"]);
    assert_eq!(revise.system.as_deref(), Some("Rewrite the answer, fixing every point."));
    assert_eq!(revise.template.as_deref(), Some("Q:\n$1\n\nDraft:\n$2\n\nCritique:\n$3"));
    let draft_policy = f.nodes[1].policy.as_ref().unwrap();
    let standalone = admit_text(POLICY.as_bytes(), &Vocabulary::core()).unwrap();
    assert_eq!(draft_policy.fingerprint, standalone.fingerprint);
    assert_eq!(draft_policy.ast, standalone.ast);
    let input = &f.nodes[0];
    assert_eq!((input.kind, input.inputs.len(), input.policy.is_none()), (NodeKind::Input, 0, true));
    let out = f.node("out").unwrap();
    assert_eq!((out.kind, out.inputs.clone()), (NodeKind::Output, vec!["revise".to_string()]));
    assert_eq!(
        join_inputs(revise, &["What is 2+2?", "5", "Wrong sum."]),
        "Q:\nWhat is 2+2?\n\nDraft:\n5\n\nCritique:\nWrong sum."
    );
    assert_eq!(join_inputs(&f.nodes[1], &["only"]), "only");
    assert_eq!(f.canonical, to_jcs(&f.term));
}

#[test]
fn fingerprint_ignores_member_and_node_order_and_whitespace() {
    let a = ok(&flow(&[("u", input()), ("a", llm(&["u"])), ("out", output("a"))]));
    let reordered = format!(
        r#"["flow", {{ "out": {{"inputs": ["a"], "kind": "output"}},
            "a": {{"inputs": ["u"], "policy": {POLICY}, "system": "s", "kind": "llm"}},
            "u": {{"kind": "input"}} }}]"#
    );
    let b = ok(&reordered);
    assert_eq!(a.fingerprint, b.fingerprint);
    assert_eq!(a.canonical, b.canonical);
    assert_eq!(a.order, b.order);
    let c = ok(&flow(&[
        ("u", input()),
        ("a", llm(&["u"]).replace(r#""system":"s""#, r#""system":"t""#)),
        ("out", output("a")),
    ]));
    assert_ne!(a.fingerprint, c.fingerprint);
}

#[test]
fn execution_order_is_kahn_with_ascending_ids() {
    let f = ok(&flow(&[
        ("u", input()),
        ("x", llm(&["u"])),
        ("b", llm(&["x"])),
        ("c", llm(&["u"])),
        ("m", llm(&["b", "c"])),
        ("out", output("m")),
    ]));
    assert_eq!(f.order, vec!["u", "c", "x", "b", "m", "out"]);
    // Ids compare by bytes: "Z" < "_" < "a".
    let f = ok(&flow(&[
        ("in", input()),
        ("a", llm(&["in"])),
        ("_", llm(&["in"])),
        ("Z", llm(&["in"])),
        ("j", llm(&["a", "_", "Z"])),
        ("o", output("j")),
    ]));
    assert_eq!(f.order, vec!["in", "Z", "_", "a", "j", "o"]);
    // An echo flow: the output may read the input directly.
    let f = ok(&flow(&[("u", input()), ("out", output("u"))]));
    assert_eq!(f.order, vec!["u", "out"]);
}

#[test]
fn templates() {
    assert_eq!(render_template("$1 and $2, $$1 is $1", &["a", "b"]), "a and b, $1 is a");
    assert_eq!(render_template("cost: $5 $", &["a"]), "cost: $5 $");
    assert_eq!(render_template("$USD $1", &["x"]), "$USD x");
    assert_eq!(render_template("$12", &["1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "twelve"]), "twelve");
    let with_template = |t: &str, inputs: &[&str]| {
        let node = llm(inputs)
            .replace(r#""system":"s""#, &format!(r#""system":"s","template":{}"#, to_jcs(&Value::String(t.into()))));
        flow(&[("u", input()), ("v", llm(&["u"])), ("a", node), ("out", output("a"))])
    };
    ok(&with_template("$2 then $1 and $$ again $1", &["u", "v"]));
    let e = expect(&with_template("$1 $3", &["u", "v"]), "template", "/1/a/template", Some("a"));
    assert!(e.message.contains("$3"), "{}", e.message);
    expect(&with_template("$0 $1", &["u"]), "template", "/1/a/template", Some("a"));
    let e = expect(&with_template("only $1", &["u", "v"]), "template", "/1/a/template", Some("a"));
    assert!(e.message.contains("$2"), "{}", e.message);
    // `$$1` is a literal "$1", not a reference, so input 1 is never used.
    expect(&with_template("$$1", &["u"]), "template", "/1/a/template", Some("a"));
    expect(&with_template("$99999999999999999999999", &["u"]), "template", "/1/a/template", Some("a"));
}

#[test]
fn not_a_flow() {
    expect("{}", "not_a_flow", "", None);
    expect(r#"["flow"]"#, "not_a_flow", "", None);
    expect(r#"["flow", {}, {}]"#, "not_a_flow", "", None);
    let e = expect(r#"["flwo", {}]"#, "not_a_flow", "/0", None);
    assert_eq!(e.did_you_mean.as_deref(), Some("flow"));
    expect(r#"[1, {}]"#, "not_a_flow", "/0", None);
    expect(r#"["flow", []]"#, "not_a_flow", "/1", None);
    // A policy is not a flow.
    expect(POLICY, "not_a_flow", "", None);
}

#[test]
fn node_ids() {
    expect(&flow(&[("u", input()), ("1a", llm(&["u"]))]), "node_id", "/1/1a", Some("1a"));
    expect(&flow(&[("u", input()), ("a/b", llm(&["u"]))]), "node_id", "/1/a~1b", Some("a/b"));
    expect(&flow(&[("u", input()), ("", llm(&["u"]))]), "node_id", "/1/", Some(""));
    let long = "n".repeat(65);
    expect(&flow(&[("u", input()), (&long, llm(&["u"]))]), "node_id", &format!("/1/{long}"), Some(&long));
    let max = "n".repeat(64);
    ok(&flow(&[("u", input()), (&max, llm(&["u"])), ("out", output(&max))]));
}

#[test]
fn kinds_and_members() {
    expect(&chain_with("a", "5".into()), "type", "/1/a", Some("a"));
    expect(&chain_with("a", r#"{"system":"s"}"#.into()), "missing_member", "/1/a", Some("a"));
    expect(&chain_with("a", r#"{"kind":5}"#.into()), "type", "/1/a/kind", Some("a"));
    let e = expect(&chain_with("a", r#"{"kind":"lm"}"#.into()), "unknown_kind", "/1/a/kind", Some("a"));
    assert_eq!(e.did_you_mean.as_deref(), Some("llm"));
    // Unknown members come before missing ones: the typo is the useful report.
    let typo = llm(&["u"]).replace(r#""system""#, r#""sytem""#);
    let e = expect(&chain_with("a", typo), "unknown_member", "/1/a/sytem", Some("a"));
    assert_eq!(e.did_you_mean.as_deref(), Some("system"));
    assert!(e.help.unwrap().contains("kind, system, policy, inputs, template"));
    let e =
        expect(&chain_with("u", r#"{"kind":"input","inputs":[]}"#.into()), "unknown_member", "/1/u/inputs", Some("u"));
    assert_eq!(e.did_you_mean, None);
    let e = expect(
        &chain_with("out", r#"{"kind":"output","inputs":["a"],"template":"$1"}"#.into()),
        "unknown_member",
        "/1/out/template",
        Some("out"),
    );
    assert_eq!(e.did_you_mean, None);
    let e = expect(
        &chain_with("out", r#"{"kind":"output","input":["a"]}"#.into()),
        "unknown_member",
        "/1/out/input",
        Some("out"),
    );
    assert_eq!(e.did_you_mean.as_deref(), Some("inputs"));
    let e = expect(
        &chain_with("a", llm(&["u"]).replace(r#""policy":"#, r#""polcy":"#)),
        "unknown_member",
        "/1/a/polcy",
        Some("a"),
    );
    assert_eq!(e.did_you_mean.as_deref(), Some("policy"));
    for (member, replaced) in [("system", r#""system":"s","#), ("policy", &format!(r#""policy":{POLICY},"#)[..])] {
        let e = expect(&chain_with("a", llm(&["u"]).replace(replaced, "")), "missing_member", "/1/a", Some("a"));
        assert!(e.message.contains(&format!("'{member}'")), "{}", e.message);
    }
    let e =
        expect(&chain_with("a", llm(&["u"]).replace(r#","inputs":["u"]"#, "")), "missing_member", "/1/a", Some("a"));
    assert!(e.message.contains("'inputs'"), "{}", e.message);
    expect(&chain_with("out", r#"{"kind":"output"}"#.into()), "missing_member", "/1/out", Some("out"));
    expect(
        &chain_with("a", llm(&["u"]).replace(r#""system":"s""#, r#""system":["s"]"#)),
        "type",
        "/1/a/system",
        Some("a"),
    );
    expect(
        &chain_with("a", llm(&["u"]).replace(r#""system":"s""#, r#""system":"s","template":null"#)),
        "type",
        "/1/a/template",
        Some("a"),
    );
}

#[test]
fn inputs() {
    expect(
        &chain_with("a", llm(&["u"]).replace(r#""inputs":["u"]"#, r#""inputs":"u""#)),
        "type",
        "/1/a/inputs",
        Some("a"),
    );
    expect(
        &chain_with("a", llm(&["u"]).replace(r#""inputs":["u"]"#, r#""inputs":[1]"#)),
        "type",
        "/1/a/inputs/0",
        Some("a"),
    );
    expect(&chain_with("a", llm(&[])), "type", "/1/a/inputs", Some("a"));
    expect(&chain_with("out", r#"{"kind":"output","inputs":[]}"#.into()), "type", "/1/out/inputs", Some("out"));
    expect(&chain_with("out", r#"{"kind":"output","inputs":["a","u"]}"#.into()), "type", "/1/out/inputs", Some("out"));
    let e = expect(&chain_with("a", llm(&["uu"])), "unknown_input", "/1/a/inputs/0", Some("a"));
    assert_eq!(e.did_you_mean.as_deref(), Some("u"));
    expect(&chain_with("a", llm(&["u", "a"])), "unknown_input", "/1/a/inputs/1", Some("a"));
    expect(&chain_with("out", output("out")), "unknown_input", "/1/out/inputs/0", Some("out"));
    expect(&chain_with("a", llm(&["u", "u"])), "duplicate_input", "/1/a/inputs/1", Some("a"));
    // In-degree: 32 inputs pass, 33 do not.
    let mut nodes = vec![("u".to_string(), input())];
    let names: Vec<String> = (0..33).map(|i| format!("p{i}")).collect();
    for n in &names {
        nodes.push((n.clone(), llm(&["u"])));
    }
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let build = |fan_in: &[&str], rest: &[&str]| {
        let mut all: Vec<(&str, String)> = nodes.iter().map(|(i, n)| (i.as_str(), n.clone())).collect();
        all.push(("m", llm(fan_in)));
        let mut last = vec!["m"];
        last.extend_from_slice(rest);
        all.push(("j", llm(&last)));
        all.push(("out", output("j")));
        flow(&all)
    };
    ok(&build(&refs[..32], &refs[32..]));
    let e = expect(&build(&refs, &[]), "in_degree", "/1/m/inputs", Some("m"));
    assert!(e.message.contains("33"), "{}", e.message);
}

#[test]
fn input_and_output_counts() {
    expect(&flow(&[("a", llm(&["out"])), ("out", output("a"))]), "input_count", "/1", None);
    expect(
        &flow(&[("u", input()), ("v", input()), ("a", llm(&["u", "v"])), ("out", output("a"))]),
        "input_count",
        "/1/v",
        Some("v"),
    );
    expect(&flow(&[("u", input()), ("a", llm(&["u"]))]), "output_count", "/1", None);
    expect(
        &flow(&[("u", input()), ("a", llm(&["u"])), ("o1", output("a")), ("o2", output("a"))]),
        "output_count",
        "/1/o2",
        Some("o2"),
    );
    expect(r#"["flow", {}]"#, "input_count", "/1", None);
}

#[test]
fn node_limit() {
    let mut nodes = vec![("u".to_string(), input())];
    for i in 0..254 {
        nodes.push((format!("n{i}"), llm(&["u"])));
    }
    let build =
        |nodes: &[(String, String)]| flow(&nodes.iter().map(|(i, n)| (i.as_str(), n.clone())).collect::<Vec<_>>());
    // 256 nodes: admitted as far as the node limit goes (the graph rules still apply).
    let mut at_limit = nodes.clone();
    at_limit.push(("out".into(), output("n0")));
    let e = reject(&build(&at_limit));
    assert_eq!((e.rule, e.path.as_str()), ("unreachable", "/1/n1"));
    at_limit.push(("extra".into(), llm(&["u"])));
    expect(&build(&at_limit), "node_limit", "/1", None);
}

#[test]
fn cycles() {
    let e = expect(
        &flow(&[("u", input()), ("a", llm(&["u", "b"])), ("b", llm(&["a"])), ("out", output("b"))]),
        "cycle",
        "/1/a",
        Some("a"),
    );
    assert!(e.message.contains("a -> b -> a"), "{}", e.message);
    // "d" hangs below the cycle and comes first in document order, but is not on it.
    let e = expect(
        &flow(&[("u", input()), ("d", llm(&["c"])), ("c", llm(&["u", "e"])), ("e", llm(&["c"])), ("out", output("d"))]),
        "cycle",
        "/1/c",
        Some("c"),
    );
    assert!(e.message.contains("c -> e -> c"), "{}", e.message);
    // A longer cycle through the output is reported at its first node in document order.
    let e = expect(
        &flow(&[("u", input()), ("x", llm(&["u", "z"])), ("y", llm(&["x"])), ("z", llm(&["y"])), ("out", output("z"))]),
        "cycle",
        "/1/x",
        Some("x"),
    );
    assert!(e.message.contains("x -> y -> z -> x"), "{}", e.message);
}

#[test]
fn large_cycle_is_found_quickly() {
    // 250 nodes in one ring: found in linear time and reported at its first node.
    let mut nodes = vec![("u".to_string(), input())];
    for i in 0..250 {
        let prev = if i == 0 { "r249".to_string() } else { format!("r{}", i - 1) };
        nodes.push((format!("r{i}"), llm(&["u", &prev])));
    }
    nodes.push(("out".into(), output("r0")));
    let text = flow(&nodes.iter().map(|(i, n)| (i.as_str(), n.clone())).collect::<Vec<_>>());
    let e = expect(&text, "cycle", "/1/r0", Some("r0"));
    assert!(e.message.starts_with("Node 'r0' is on a cycle: r0 -> r1 -> r2"), "{}", &e.message[..80]);
}

#[test]
fn unreachable_llm_nodes() {
    let e = expect(
        &flow(&[("u", input()), ("a", llm(&["u"])), ("side", llm(&["u"])), ("out", output("a"))]),
        "unreachable",
        "/1/side",
        Some("side"),
    );
    assert!(e.message.contains("'side'"));
    // Consuming the output does not make a node reachable.
    expect(
        &flow(&[("u", input()), ("a", llm(&["u"])), ("after", llm(&["out"])), ("out", output("a"))]),
        "unreachable",
        "/1/after",
        Some("after"),
    );
}

#[test]
fn string_limits() {
    let long = "s".repeat(65_537);
    expect(
        &chain_with("a", llm(&["u"]).replace(r#""system":"s""#, &format!(r#""system":"{long}""#))),
        "string_limit",
        "/1/a/system",
        Some("a"),
    );
    expect(
        &chain_with("a", llm(&["u"]).replace(r#""system":"s""#, &format!(r#""system":"s","template":"$1{long}""#))),
        "string_limit",
        "/1/a/template",
        Some("a"),
    );
    let fits = "s".repeat(65_536);
    ok(&chain_with("a", llm(&["u"]).replace(r#""system":"s""#, &format!(r#""system":"{fits}""#))));
}

#[test]
fn policy_errors_keep_their_code_with_the_full_path() {
    let bad = llm(&["u"]).replace(r#"["cmp","price_out","le",5]"#, r#"["cmp","price","le",5]"#);
    let e = reject(&chain_with("a", bad));
    assert_eq!(
        (e.code, e.rule, e.path.as_str(), e.node.as_deref(), e.did_you_mean.as_deref()),
        (Code::InvalidPolicy, "unknown_field", "/1/a/policy/2/5/1", Some("a"), Some("price_in"))
    );
    let e = reject(&chain_with("a", llm(&["u"]).replace(POLICY, r#"["policy"]"#)));
    assert_eq!((e.code, e.rule, e.path.as_str()), (Code::InvalidPolicy, "arity", "/1/a/policy"));
    let e = reject(&chain_with("a", llm(&["u"]).replace(POLICY, r#""cheapest""#)));
    assert_eq!((e.code, e.rule, e.path.as_str()), (Code::InvalidPolicy, "not_a_term", "/1/a/policy"));
    // Depth is counted from the policy: 63 nested nots are too deep for it, not for the flow.
    let deep = format!(r#"{}["meets_req"]{}"#, r#"["not","#.repeat(63), "]".repeat(63));
    let deep_policy = POLICY.replacen(
        r#"["and",["meets_req"],["not",["is","disabled"]],["has_cap","supports_tools"],["cmp","bench_intelligence","ge",0.5],["cmp","price_out","le",5]]"#,
        &deep,
        1,
    );
    let e = reject(&chain_with("a", llm(&["u"]).replace(POLICY, &deep_policy)));
    assert_eq!(
        (e.code, e.rule, e.path.clone(), e.node.as_deref()),
        (Code::InvalidPolicy, "depth_limit", format!("/1/a/policy/2{}", "/1".repeat(63)), Some("a"))
    );
    // Policy errors come in document order with the node's other members.
    let e = reject(&chain_with("a", r#"{"kind":"llm","policy":["policy"],"system":5,"inputs":["u"]}"#.to_string()));
    assert_eq!((e.code, e.rule), (Code::InvalidPolicy, "arity"));
}

#[test]
fn reader_errors_carry_invalid_flow() {
    let e = reject(r#"["flow", {"u": }]"#);
    assert_eq!((e.code, e.rule, e.path.as_str()), (Code::InvalidFlow, "json_syntax", "/1"));
    let e = reject(r#"["flow", {"u": {"kind": "input"}, "u": {"kind": "input"}}]"#);
    assert_eq!((e.code, e.rule, e.path.as_str()), (Code::InvalidFlow, "duplicate_key", "/1/u"));
    let deep = format!("{}{}", "[".repeat(129), "]".repeat(129));
    let e = reject(&deep);
    assert_eq!((e.code, e.rule), (Code::InvalidFlow, "depth_limit"));
    let e = admit_flow_text(b"[\"flow\", {\"\xff\": 1}]", &Vocabulary::core()).unwrap_err();
    assert_eq!((e.code, e.rule), (Code::InvalidFlow, "invalid_utf8"));
}

#[test]
fn flow_size_limits() {
    // 130 nodes with 64 KB prompts are over 8 MiB: rejected as text and as a value.
    let big = "p".repeat(65_000);
    let mut nodes = vec![("u".to_string(), input())];
    for i in 0..130 {
        nodes.push((format!("n{i}"), llm(&["u"]).replace(r#""system":"s""#, &format!(r#""system":"{big}""#))));
    }
    let text = flow(&nodes.iter().map(|(i, n)| (i.as_str(), n.clone())).collect::<Vec<_>>());
    assert!(text.len() > Limits::FLOW.max_bytes);
    let e = reject(&text);
    assert_eq!((e.code, e.rule, e.path.as_str()), (Code::InvalidFlow, "size_limit", ""));
    let value = parse(text.as_bytes(), Limits::REQUEST, Code::InvalidRequest).unwrap();
    let e = admit_flow_value(value, &Vocabulary::core()).unwrap_err();
    assert_eq!((e.code, e.rule, e.path.as_str()), (Code::InvalidFlow, "size_limit", ""));
}

#[test]
fn admit_flow_value_matches_text() {
    let text = revise_flow();
    let value = parse(text.as_bytes(), Limits::FLOW, Code::InvalidFlow).unwrap();
    let a = admit_flow_value(value, &Vocabulary::core()).unwrap();
    let b = ok(&text);
    assert_eq!(a, b);
    // Hand-built values with a repeated node id (no reader to catch it) are rejected too.
    let dup = Value::Array(vec![
        Value::String("flow".into()),
        Value::Object(vec![
            ("u".into(), parse(br#"{"kind":"input"}"#, Limits::FLOW, Code::InvalidFlow).unwrap()),
            ("u".into(), parse(br#"{"kind":"input"}"#, Limits::FLOW, Code::InvalidFlow).unwrap()),
        ]),
    ]);
    let e = admit_flow_value(dup, &Vocabulary::core()).unwrap_err();
    assert_eq!(
        (e.code, e.rule, e.path.as_str(), e.node.as_deref()),
        (Code::InvalidFlow, "duplicate_key", "/1/u", Some("u"))
    );
}
