//! Where the time of admitting the quickstart policy goes: strict read, JCS, admission, BLAKE3.
//!
//! `cargo run --release -p unhardcoded-core --example admit_timing [policy.json]`
//! (default: the quickstart policy). Prints the best-of-batches mean per call of each step.
//! `ADMIT_TIMING_ONLY=<prefix>` runs only the steps whose name starts with it (for `perf record`);
//! `ADMIT_TIMING_BATCH=<n>` sets the calls per batch (nine batches; small for `valgrind`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::hint::black_box;
use std::time::Instant;

use unhardcoded_core::canonical::{canonicalize, to_jcs};
use unhardcoded_core::error::Code;
use unhardcoded_core::fingerprint::fingerprint;
use unhardcoded_core::json::{parse, parse_doc, Limits};
use unhardcoded_core::policy::{admit, admit_text};
use unhardcoded_core::vocab::Vocabulary;

const QUICKSTART: &str = r#"[ "policy", ["ev_zero"], ["and", ["meets_req"], ["not",["is","disabled"]], ["has_cap","supports_tools"], ["cmp","bench_intelligence","ge",0.5], ["cmp","price_out","le",5]], ["neg",["normalize",["field","price_out"]]], ["argmax"], ["id"], ["always",{"action":"next_candidate"}] ]"#;

/// CPU time of this thread in nanoseconds (scheduler accounting): on a shared machine other
/// processes inflate it far less than wall time.
fn cpu_ns() -> f64 {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    text.split_whitespace().next().and_then(|ns| ns.parse::<f64>().ok()).unwrap_or(0.0)
}

/// Best over batches of the mean nanoseconds per call of `f`, wall and CPU.
fn time<R>(name: &str, mut f: impl FnMut() -> R) {
    let batch: u32 = std::env::var("ADMIT_TIMING_BATCH").ok().and_then(|b| b.parse().ok()).unwrap_or(20_000);
    if !name.starts_with(std::env::var("ADMIT_TIMING_ONLY").unwrap_or_default().as_str()) {
        return;
    }
    let (mut wall, mut cpu) = (f64::INFINITY, f64::INFINITY);
    for _ in 0..9 {
        let (t, c) = (Instant::now(), cpu_ns());
        for _ in 0..batch {
            black_box(f());
        }
        cpu = cpu.min((cpu_ns() - c) / f64::from(batch));
        wall = wall.min(t.elapsed().as_secs_f64() * 1e9 / f64::from(batch));
    }
    println!("{name:<28} {wall:>8.0} ns wall {cpu:>8.0} ns cpu");
}

fn main() {
    let text =
        std::env::args().nth(1).map(|p| std::fs::read(p).unwrap()).unwrap_or_else(|| QUICKSTART.as_bytes().to_vec());
    let vocab = Vocabulary::core();
    let value = parse(&text, Limits::POLICY, Code::InvalidPolicy).unwrap();
    let canonical = to_jcs(&value);
    println!("{} bytes in, {} canonical", text.len(), canonical.len());
    time("parse (Value)", || parse(black_box(&text), Limits::POLICY, Code::InvalidPolicy).unwrap());
    time("parse_doc", || parse_doc(black_box(&text), Limits::POLICY, Code::InvalidPolicy).unwrap());
    time("to_jcs (Value)", || to_jcs(black_box(&value)));
    time("canonicalize (read + JCS)", || canonicalize(black_box(&text), Limits::POLICY, Code::InvalidPolicy).unwrap());
    time("admit (Value to AST)", || admit(black_box(&value), &vocab).unwrap());
    time("fingerprint", || fingerprint("pol_", black_box(canonical.as_bytes())));
    time("admit_text (all)", || admit_text(black_box(&text), &vocab).unwrap());
}
