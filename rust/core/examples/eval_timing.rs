//! Rough timings of catalog build and evaluation of the quickstart policy.
//!
//! `cargo run --release -p unhardcoded-core --example eval_timing -- cat_1000.json cat_100000.json …`
//! (catalog files from `unhardcoded.bench.synth.catalog_json`). Runs on the main thread, as the
//! Python binding does.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::time::Instant;

use unhardcoded_core::catalog::Catalog;
use unhardcoded_core::eval::evaluate;
use unhardcoded_core::json::{parse, Limits};
use unhardcoded_core::error::Code;
use unhardcoded_core::policy::admit_text;
use unhardcoded_core::requirements::Requirements;

const QUICKSTART: &str = r#"["policy", ["ev_zero"], ["and", ["meets_req"], ["not", ["is", "disabled"]],
  ["has_cap", "supports_tools"], ["cmp", "bench_intelligence", "ge", 0.5], ["cmp", "price_out", "le", 5]],
  ["neg", ["normalize", ["field", "price_out"]]], ["argmax"], ["id"], ["always", {"action": "next_candidate"}]]"#;

/// CPU time of this thread in seconds (from the scheduler's accounting): other processes on a
/// shared machine then inflate the numbers far less than wall time.
fn cpu() -> f64 {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    text.split_whitespace().next().and_then(|ns| ns.parse::<f64>().ok()).unwrap_or(0.0) / 1e9
}

struct Clock(Instant, f64);

impl Clock {
    fn start() -> Clock {
        Clock(Instant::now(), cpu())
    }
    /// (wall, cpu) seconds since start.
    fn lap(&self) -> (f64, f64) {
        (self.0.elapsed().as_secs_f64(), cpu() - self.1)
    }
}

fn main() {
    let req = Requirements { prompt_tokens: 23, max_tokens: Some(1024), ..Requirements::default() };
    for path in std::env::args().skip(1) {
        let text = std::fs::read(&path).unwrap();
        let c = Clock::start();
        let cat = Catalog::from_json(&text).unwrap();
        let from_json = c.lap();
        println!("{path}: {}", cat.fingerprint());
        if let Some(times) = std::env::var("ONLY_FROM_JSON").ok().and_then(|t| t.parse::<usize>().ok()) {
            let mut best = from_json;
            for _ in 1..times {
                let c = Clock::start();
                let again = Catalog::from_json(&text).unwrap();
                let lap = c.lap();
                drop(again);
                best = (best.0.min(lap.0), best.1.min(lap.1));
            }
            let from_json = best;
            println!("n={} from_json best {:.0}/{:.0} ms", cat.len(), from_json.0 * 1e3, from_json.1 * 1e3);
            continue;
        }
        // EVAL_ONLY skips the build-path timings, which take seconds at a million models.
        let (parsed, built, canon, cat) = if std::env::var_os("EVAL_ONLY").is_some() {
            ((0.0, 0.0), (0.0, 0.0), (0.0, 0.0), cat)
        } else {
            drop(cat);
            let c = Clock::start();
            let value = parse(&text, Limits::CATALOG, Code::InvalidCatalog).unwrap();
            let parsed = c.lap();
            let c = Clock::start();
            let cat = Catalog::from_owned_value(value).unwrap();
            let built = c.lap();
            let c = Clock::start();
            let canonical = cat.to_canonical();
            let canon = c.lap();
            drop(canonical);
            (parsed, built, canon, cat)
        };
        // POLICY times another policy text (for a breakdown by filter node, say).
        let policy = std::env::var("POLICY").unwrap_or_else(|_| QUICKSTART.to_string());
        let p = admit_text(policy.as_bytes(), cat.vocab()).unwrap().ast;
        let n = cat.len();
        if let Ok(dump) = std::env::var("DUMP_RESULT") {
            // The full result, for comparing with another interpreter.
            let o = evaluate(&p, &cat, &req, None, None);
            std::fs::write(&dump, unhardcoded_core::canonical::to_jcs(&o.to_value(&p, &cat, 0, None, None))).unwrap();
        }
        let reps = std::env::var("EVAL_REPS").ok().and_then(|r| r.parse().ok()).unwrap_or((5_000_000 / n.max(1)).clamp(20, 500));
        // Wall time per evaluation (best of `reps`), and CPU time averaged over all of them (read
        // once around the loop: reading it costs microseconds).
        let (mut best_wall, mut cascade) = (f64::INFINITY, 0);
        let all = Clock::start();
        for _ in 0..reps {
            let t = Instant::now();
            let o = evaluate(&p, &cat, &req, None, None);
            best_wall = best_wall.min(t.elapsed().as_secs_f64());
            cascade = o.cascade.len();
        }
        let best_cpu = all.lap().1 / reps as f64;
        let ms = |x: f64| x * 1e3;
        println!(
            "n={n:>8} (wall/cpu ms) from_json {:.0}/{:.0} | whole-tree parse {:.0}/{:.0} + build {:.0}/{:.0} | canonical {:.0}/{:.0} | evaluate best wall {:.3} / mean cpu {:.3}  cascade {cascade}",
            ms(from_json.0), ms(from_json.1), ms(parsed.0), ms(parsed.1), ms(built.0), ms(built.1), ms(canon.0), ms(canon.1), ms(best_wall), ms(best_cpu)
        );
    }
}
