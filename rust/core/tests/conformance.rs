//! Runs every conformance vector (conformance/vectors/**.json) against the core API directly.
//!
//! The vector files are read with the core's own strict reader, which keeps object members in
//! document order: the order of flow nodes and members decides which error comes first, and a
//! reader that sorted keys (serde_json without `preserve_order`) would change the input.
//! `term` values are written back to JSON text (members in order) and fed to the `*_text`
//! entry points, so the depth and size limits apply exactly as they do to a caller's text.
//! The format is described in conformance/README.md.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
#![allow(clippy::result_large_err)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use unhardcoded_core::canonical::{to_jcs, write_string};
use unhardcoded_core::catalog::Catalog;
use unhardcoded_core::error::{Code, Error};
use unhardcoded_core::eval::{self, SEED_LIMIT};
use unhardcoded_core::flow::{self, FlowNode, NodeKind};
use unhardcoded_core::json::{self, Limits, Value};
use unhardcoded_core::mutate;
use unhardcoded_core::policy;
use unhardcoded_core::requirements::Requirements;
use unhardcoded_core::vocab::Vocabulary;
use unhardcoded_core::{FLOW_VERSION, VERSION};

const SCORE_REL_TOL: f64 = 1e-12;

fn conformance_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../conformance")
}

fn vector_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = fs::read_dir(dir).expect("read vectors dir").map(|e| e.unwrap().path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            vector_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
}

fn read_json(bytes: &[u8]) -> Value {
    let limits = Limits { max_bytes: usize::MAX, max_depth: 1024 };
    json::parse(bytes, limits, Code::InvalidRequest).unwrap_or_else(|e| panic!("vector file is not strict JSON: {e}"))
}

/// JSON text of `value` with members in their original order (JCS only for scalars).
fn write_json(value: &Value, out: &mut String) {
    match value {
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(item, out);
            }
            out.push(']');
        }
        Value::Object(members) => {
            out.push('{');
            for (i, (k, v)) in members.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(k, out);
                out.push(':');
                write_json(v, out);
            }
            out.push('}');
        }
        scalar => out.push_str(&to_jcs(scalar)),
    }
}

fn to_text(value: &Value) -> Vec<u8> {
    let mut s = String::new();
    write_json(value, &mut s);
    s.into_bytes()
}

fn hex_decode(hex: &str) -> Vec<u8> {
    (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex")).collect()
}

fn term_bytes(case: &Value) -> Vec<u8> {
    let mut raw = if let Some(h) = case.get("term_hex").and_then(Value::as_str) {
        hex_decode(h)
    } else if let Some(t) = case.get("term_text").and_then(Value::as_str) {
        t.as_bytes().to_vec()
    } else {
        to_text(case.get("term").expect("case has no term"))
    };
    if let Some(pad) = case.get("pad_to").and_then(Value::as_f64) {
        let pad = pad as usize;
        if pad > raw.len() {
            raw.resize(pad, b' ');
        }
    }
    raw
}

fn catalog_bytes(case: &Value) -> Option<Vec<u8>> {
    if let Some(name) = case.get("catalog_ref").and_then(Value::as_str) {
        let path = conformance_dir().join("catalogs").join(format!("{name}.json"));
        return Some(fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())));
    }
    case.get("catalog").map(to_text)
}

fn s(x: &str) -> Value {
    Value::String(x.to_string())
}

fn error_value(e: &Error) -> Value {
    let opt = |o: &Option<String>| o.as_deref().map_or(Value::Null, s);
    Value::Object(vec![
        ("code".into(), s(e.code.as_str())),
        ("rule".into(), s(e.rule)),
        ("path".into(), s(&e.path)),
        ("node".into(), opt(&e.node)),
        ("did_you_mean".into(), opt(&e.did_you_mean)),
    ])
}

type Outcome = BTreeMap<&'static str, Value>;

fn run(case: &Value, seed_override: Option<u64>) -> Outcome {
    let mut out = Outcome::new();
    if let Err(e) = run_inner(case, seed_override, &mut out) {
        out.insert("error", error_value(&e));
    }
    out
}

fn run_inner(case: &Value, seed_override: Option<u64>, out: &mut Outcome) -> Result<(), Error> {
    let kind = case.get("kind").and_then(Value::as_str).unwrap_or_default();
    let core_vocab = Vocabulary::core();
    let catalog = match (kind, catalog_bytes(case)) {
        ("catalog_load", text) => {
            let cat = Catalog::from_json(&text.unwrap_or_else(|| term_bytes(case)))?;
            out.insert("canonical", s(&cat.to_canonical()));
            out.insert("fingerprint", s(cat.fingerprint()));
            out.insert("ids", Value::Array(cat.ids().iter().map(|i| s(i)).collect()));
            return Ok(());
        }
        (_, Some(text)) => Some(Catalog::from_json(&text)?),
        (_, None) => None,
    };
    let vocab = catalog.as_ref().map_or(&core_vocab, Catalog::vocab);
    match kind {
        "policy_normalize" => {
            let pol = policy::admit_text(&term_bytes(case), vocab)?;
            out.insert("canonical", s(&pol.canonical));
            out.insert("fingerprint", s(&pol.fingerprint));
            out.insert("version", s(VERSION));
        }
        "policy_eval" => {
            let catalog = catalog.expect("policy_eval needs a catalog");
            let pol = policy::admit_text(&term_bytes(case), catalog.vocab())?;
            let req = match case.get("requirements") {
                Some(r) => Requirements::from_value(r)?,
                None => Requirements::default(),
            };
            let seed = seed_override.or_else(|| case.get("seed").and_then(Value::as_f64).map(|x| x as u64));
            let floor: Option<Vec<String>> = case
                .get("providers")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect());
            let outcome = eval::evaluate(&pol.ast, &catalog, &req, seed, floor.as_deref());
            let result = outcome.to_value(&pol.ast, &catalog, 0, None, None);
            for key in ["winner", "cascade", "seed", "verdicts"] {
                out.insert(key, result.get(key).cloned().unwrap_or(Value::Null));
            }
            if let Some(e) = outcome.no_candidates() {
                return Err(e);
            }
        }
        "flow_normalize" => {
            let fl = flow::admit_flow_text(&term_bytes(case), vocab)?;
            out.insert("canonical", s(&fl.canonical));
            out.insert("fingerprint", s(&fl.fingerprint));
            out.insert("version", s(FLOW_VERSION));
            out.insert("order", Value::Array(fl.order.iter().map(|i| s(i)).collect()));
        }
        "canonicalize" => {
            let value = json::parse(&term_bytes(case), Limits::REQUEST, Code::InvalidRequest)?;
            out.insert("canonical", s(&to_jcs(&value)));
        }
        "requirements" => {
            let request = json::parse(&to_text(case.get("request").expect("request")), Limits::REQUEST, Code::InvalidRequest)?;
            out.insert("requirements", Requirements::from_request(&request).to_value());
        }
        "mutate" => {
            let pol = policy::admit_text(&term_bytes(case), vocab)?;
            let mut request = case.get("request").expect("request").clone();
            mutate::apply(&pol.ast.mutate, &mut request);
            out.insert("requirements", Requirements::from_request(&request).to_value());
            out.insert("request", request);
        }
        "flow_render" => {
            let inputs: Vec<&str> =
                case.get("inputs").and_then(Value::as_array).unwrap_or_default().iter().filter_map(Value::as_str).collect();
            let node = FlowNode {
                id: "n".into(),
                kind: NodeKind::Llm,
                inputs: (1..=inputs.len()).map(|i| format!("i{i}")).collect(),
                system: Some(String::new()),
                template: case.get("template").and_then(Value::as_str).map(str::to_string),
                policy: None,
            };
            out.insert("text", s(&flow::join_inputs(&node, &inputs)));
        }
        other => panic!("unknown vector kind {other:?}"),
    }
    Ok(())
}

// -- comparison ------------------------------------------------------------------------

fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y,
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_equal(p, q)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| b.get(k).is_some_and(|w| json_equal(v, w)))
        }
        _ => a == b,
    }
}

fn score_equal(want: &Value, got: &Value) -> bool {
    match (want, got) {
        (Value::Null, Value::Null) => true,
        (Value::Number(w), Value::Number(g)) => {
            w == g || (w - g).abs() <= SCORE_REL_TOL * w.abs().max(g.abs())
        }
        _ => false,
    }
}

fn show(v: &Value) -> String {
    String::from_utf8_lossy(&to_text(v)).into_owned()
}

fn verdict_problems(want: &Value, got: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let null = Value::Null;
    for key in ["model", "status", "rank", "dropped_by"] {
        let (w, g) = (want.get(key).unwrap_or(&null), got.get(key).unwrap_or(&null));
        if !json_equal(w, g) {
            problems.push(format!("{key}: want {}, got {}", show(w), show(g)));
        }
    }
    let (w, g) = (want.get("score").unwrap_or(&null), got.get("score").unwrap_or(&null));
    if !score_equal(w, g) {
        problems.push(format!("score: want {}, got {}", show(w), show(g)));
    }
    problems
}

fn check(case: &Value, out: &Outcome) -> Vec<String> {
    let mut problems = Vec::new();
    let null = Value::Null;
    let got = |k: &str| out.get(k).unwrap_or(&null);
    match (case.get("want_error"), out.get("error")) {
        (Some(want), Some(err)) => {
            for (k, w) in want.as_object().unwrap_or_default() {
                let g = err.get(k).unwrap_or(&null);
                if !json_equal(w, g) {
                    problems.push(format!("error.{k}: want {}, got {}", show(w), show(g)));
                }
            }
        }
        (Some(want), None) => problems.push(format!("want error {}, got success", show(want))),
        (None, Some(err)) => return vec![format!("unexpected error {}", show(err))],
        (None, None) => {}
    }
    for key in ["canonical", "fingerprint", "version", "order", "winner", "cascade", "ids", "text", "seed", "requirements", "request"] {
        if let Some(w) = case.get(&format!("want_{key}")) {
            if !json_equal(w, got(key)) {
                problems.push(format!("{key}: want {}, got {}", show(w), show(got(key))));
            }
        }
    }
    if case.get("want_seed_drawn") == Some(&Value::Bool(true)) {
        match got("seed").as_f64() {
            Some(x) if x >= 0.0 && x < SEED_LIMIT as f64 && x.fract() == 0.0 => {}
            _ => problems.push(format!("seed: want an integer in 0..2^53-1, got {}", show(got("seed")))),
        }
    }
    if let Some(want) = case.get("want_verdicts").and_then(Value::as_array) {
        let have = got("verdicts").as_array().unwrap_or_default();
        if have.len() != want.len() {
            problems.push(format!("verdicts: want {}, got {}", want.len(), have.len()));
        }
        for (w, g) in want.iter().zip(have) {
            let model = w.get("model").and_then(Value::as_str).unwrap_or_default();
            problems.extend(verdict_problems(w, g).into_iter().map(|p| format!("verdict {model}: {p}")));
        }
    }
    if let Some(subset) = case.get("want_verdicts_subset").and_then(Value::as_object) {
        let have = got("verdicts").as_array().unwrap_or_default();
        for (model, w) in subset {
            let mut w = w.clone();
            if let Value::Object(m) = &mut w {
                m.push(("model".into(), s(model)));
            }
            match have.iter().find(|v| v.get("model").and_then(Value::as_str) == Some(model)) {
                Some(g) => problems.extend(verdict_problems(&w, g).into_iter().map(|p| format!("verdict {model}: {p}"))),
                None => problems.push(format!("verdict {model}: missing")),
            }
        }
    }
    problems
}

/// A drawn seed must replay to the same cascade (spec §5.3).
fn replay_problems(case: &Value, out: &Outcome) -> Vec<String> {
    if case.get("want_seed_drawn") != Some(&Value::Bool(true)) || out.contains_key("error") {
        return Vec::new();
    }
    let Some(seed) = out.get("seed").and_then(Value::as_f64) else { return Vec::new() };
    let again = run(case, Some(seed as u64));
    if again.get("cascade") != out.get("cascade") || again.get("seed") != out.get("seed") {
        return vec![format!("replay with seed {seed} changed the cascade")];
    }
    Vec::new()
}

#[test]
fn conformance_vectors() {
    let mut files = Vec::new();
    vector_files(&conformance_dir().join("vectors"), &mut files);
    assert!(!files.is_empty(), "no vectors under conformance/vectors");
    let mut per_kind: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut failures = Vec::new();
    for path in &files {
        let doc = read_json(&fs::read(path).expect("read vector file"));
        let cases = doc.get("cases").and_then(Value::as_array).expect("a vector file has cases");
        let rel = path.strip_prefix(conformance_dir().join("vectors")).unwrap_or(path).display().to_string();
        for (i, case) in cases.iter().enumerate() {
            let kind = case.get("kind").and_then(Value::as_str).unwrap_or("?").to_string();
            let out = run(case, None);
            let mut problems = check(case, &out);
            problems.extend(replay_problems(case, &out));
            let tally = per_kind.entry(kind).or_default();
            tally.0 += 1;
            if !problems.is_empty() {
                tally.1 += 1;
                let note = case.get("note").and_then(Value::as_str).unwrap_or_default();
                failures.push(format!("{rel}#{i}: {note}\n    {}", problems.join("\n    ")));
            }
        }
    }
    for (kind, (total, failed)) in &per_kind {
        eprintln!("{kind:>18}: {total} vectors, {failed} failing");
    }
    assert!(failures.is_empty(), "{} vector(s) fail:\n{}", failures.len(), failures.join("\n"));
}
