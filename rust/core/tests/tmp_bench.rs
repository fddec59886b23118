#![allow(clippy::unwrap_used)]
use std::time::Instant;
use unhardcoded_core::{canonical::to_jcs, json::{parse, Limits}, error::Code, policy::admit_text, vocab::Vocabulary};
#[test]
fn bench() {
    let msg = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. \\\"quoted\\\" and unicode é ü 日本".repeat(20);
    let mut body = String::from("{\"model\":\"x\",\"messages\":[");
    for i in 0..1000 { if i>0 {body.push(',');} body.push_str(&format!("{{\"role\":\"user\",\"content\":\"{msg}\",\"n\":{i},\"t\":0.{i}}}")); }
    body.push_str("]}");
    let b = body.as_bytes();
    let t = Instant::now(); let n = 20;
    for _ in 0..n { let v = parse(b, Limits::REQUEST, Code::InvalidRequest).unwrap(); std::hint::black_box(v); }
    let el = t.elapsed().as_secs_f64() / n as f64;
    eprintln!("ours: {:.1} MB/s ({} bytes)", b.len() as f64 / el / 1e6, b.len());
    let t = Instant::now();
    for _ in 0..n { let v: serde_json::Value = serde_json::from_slice(b).unwrap(); std::hint::black_box(v); }
    let el = t.elapsed().as_secs_f64() / n as f64;
    eprintln!("serde: {:.1} MB/s", b.len() as f64 / el / 1e6);
    let v = parse(b, Limits::REQUEST, Code::InvalidRequest).unwrap();
    let t = Instant::now();
    for _ in 0..n { std::hint::black_box(to_jcs(&v)); }
    eprintln!("jcs: {:.1} MB/s", b.len() as f64 / (t.elapsed().as_secs_f64() / n as f64) / 1e6);
    let q = br#"["policy",["ev_zero"],["and",["meets_req"],["not",["is","disabled"]],["has_cap","supports_tools"],["cmp","bench_intelligence","ge",0.5],["cmp","price_out","le",5]],["neg",["normalize",["field","price_out"]]],["argmax"],["id"],["always",{"action":"next_candidate"}]]"#;
    let voc = Vocabulary::core();
    let t = Instant::now(); let m = 100000;
    for _ in 0..m { std::hint::black_box(admit_text(q, &voc).unwrap()); }
    let t = Instant::now();
    for _ in 0..m { std::hint::black_box(parse(q, Limits::POLICY, Code::InvalidPolicy).unwrap()); }
    eprintln!("parse quickstart: {:.2} us", t.elapsed().as_secs_f64() / m as f64 * 1e6);
    let v = parse(q, Limits::POLICY, Code::InvalidPolicy).unwrap();
    let t = Instant::now();
    for _ in 0..m { std::hint::black_box(unhardcoded_core::canonical::to_jcs_with_array_spans(&v)); }
    eprintln!("jcs quickstart: {:.2} us", t.elapsed().as_secs_f64() / m as f64 * 1e6);
    let t = Instant::now();
    for _ in 0..m { std::hint::black_box(unhardcoded_core::policy::admit(&v, &voc).unwrap()); }
    eprintln!("admit(value) quickstart: {:.2} us", t.elapsed().as_secs_f64() / m as f64 * 1e6);
    let t = Instant::now();
    for _ in 0..m { std::hint::black_box(unhardcoded_core::fingerprint::fingerprint("pol_", q)); }
    eprintln!("fp quickstart: {:.2} us", t.elapsed().as_secs_f64() / m as f64 * 1e6);
    eprintln!("admit quickstart: {:.2} us", t.elapsed().as_secs_f64() / m as f64 * 1e6);
}
