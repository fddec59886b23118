//! Evaluation of an admitted policy over a catalog (spec §5): host floor, filter, rank, select.
//!
//! The filter runs one node at a time over every model into bitsets; scores are computed for the
//! survivors only, one scorer node at a time; ordering is an integer radix sort. The result is
//! columnar — flat arrays per model (blame) and per survivor (score, rank) — so a million-model
//! evaluation allocates a handful of arrays, not a million verdict objects. Verdicts are built on
//! demand by [`Outcome::verdict_value`] / [`Outcome::to_value`].

mod bits;
mod filter;
mod rank;
mod rng;
mod select;
mod verdict;

pub use filter::REASONS;
pub use rng::{random_seed, SplitMix64, SEED_LIMIT};
pub use verdict::{Counts, Status};

use crate::catalog::Catalog;
use crate::policy::ast::{Policy, Select};
use crate::requirements::Requirements;

/// `blame` of a model nothing rejected.
pub const BLAME_NONE: u32 = u32::MAX;
/// `blame` of a model whose provider is outside the host floor.
pub const BLAME_HOST_FLOOR: u32 = u32::MAX - 1;
/// `rank` of a model outside the cascade.
pub const RANK_NONE: u32 = u32::MAX;

/// What an evaluation decided. Per-model facts are read through methods taking the model's
/// catalog index; storage is per model only where most models need an entry (blame), and per
/// filter survivor otherwise (score, rank), which keeps a million-model evaluation to a few
/// megabytes of fresh memory.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// Per model: the node id (into `Policy::nodes`) that rejected it, [`BLAME_HOST_FLOOR`], or
    /// [`BLAME_NONE`].
    blame: Vec<u32>,
    /// Per model: for one blamed on a `meets_req` node, its first unmet requirement (an index
    /// into [`REASONS`]); 0 otherwise.
    reason: Vec<u8>,
    /// Model indices that passed the host floor and the filter, ascending.
    survivors: Vec<u32>,
    /// Per survivor: the rank score, `NaN` for none.
    scores: Vec<f64>,
    /// Per survivor: the cascade position, or [`RANK_NONE`] when a `top_k` cut it.
    ranks: Vec<u32>,
    /// Model indices in cascade order: the winner first, then failover order.
    pub cascade: Vec<u32>,
    /// Set whenever the select term contains `sample`: the given seed or a drawn one.
    pub seed: Option<u64>,
}

/// Evaluates `policy` over `catalog`. `floor`, when given, is the set of providers the host has
/// configured; models of any other provider are rejected before the filter.
pub fn evaluate(
    policy: &Policy,
    catalog: &Catalog,
    req: &Requirements,
    seed: Option<u64>,
    floor: Option<&[String]>,
) -> Outcome {
    let n = catalog.len();
    let mut blame = vec![BLAME_NONE; n];
    let mut reason = vec![0u8; n];
    let candidates = host_floor(catalog, floor, &mut blame);
    let pass = filter::run(&policy.filter, catalog, req, &candidates, &mut blame, &mut reason);

    let mut survivors = Vec::with_capacity(bits::count(&pass));
    bits::for_each(&pass, |i| survivors.push(i as u32));
    let mut scores = rank::scores(&policy.rank, catalog, &survivors);
    // The entry of a survivor carries its position in `survivors`, which orders like the model
    // index (and so like the id) because `survivors` is ascending.
    let entries = scores
        .iter_mut()
        .enumerate()
        .map(|(pos, s)| {
            // + 0.0 turns -0 into 0: they are the same score and print the same.
            *s += 0.0;
            select::entry(*s, pos as u32)
        })
        .collect();

    let seed = contains_sample(&policy.select).then(|| seed.unwrap_or_else(random_seed));
    let mut rng = seed.map(SplitMix64::new);
    let selected = select::select(&policy.select, entries, rng.as_mut());
    let model = |pos: u32| survivors.get(pos as usize).copied().unwrap_or(u32::MAX);
    for (pos, node) in selected.dropped {
        if let Some(b) = blame.get_mut(model(pos) as usize) {
            *b = node;
        }
    }
    let mut ranks = vec![RANK_NONE; survivors.len()];
    let mut cascade = Vec::with_capacity(selected.cascade.len());
    for (position, &e) in selected.cascade.iter().enumerate() {
        let pos = select::position(e);
        if let Some(r) = ranks.get_mut(pos as usize) {
            *r = position as u32;
        }
        cascade.push(model(pos));
    }
    Outcome { blame, reason, survivors, scores, ranks, cascade, seed }
}

fn contains_sample(select: &Select) -> bool {
    match select {
        Select::Argmax { .. } => false,
        Select::Sample { .. } => true,
        Select::TopK { inner, .. } => contains_sample(inner),
    }
}

/// Models whose provider the host serves; the others are blamed on the floor.
fn host_floor(catalog: &Catalog, floor: Option<&[String]>, blame: &mut [u32]) -> bits::Bits {
    let n = catalog.len();
    let Some(allowed) = floor else { return bits::all(n) };
    let allowed: Vec<u32> = allowed.iter().filter_map(|p| catalog.string_index(p)).collect();
    let inside = match catalog.strs("provider") {
        Some(col) => bits::pack(col, n, |p| allowed.contains(&p)),
        None => bits::none(n),
    };
    bits::for_each(&bits::not(&inside, n), |i| {
        if let Some(b) = blame.get_mut(i) {
            *b = BLAME_HOST_FLOOR;
        }
    });
    inside
}
