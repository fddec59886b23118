//! Evaluation of an admitted policy over a catalog (spec §5): host floor, filter, rank, select.
//!
//! The filter runs one node at a time over every model into bitsets, and blame is kept as those
//! bitsets (one per blamed node), never as a word per model; scores are computed for the
//! survivors only, one scorer node at a time; ordering spreads the survivors into buckets by score
//! (see `select`). A million-model evaluation thus allocates a few small arrays, not a million
//! verdict objects. Verdicts are built on demand by [`Outcome::verdict_value`] /
//! [`Outcome::to_value`].

mod bits;
mod filter;
mod rank;
mod rng;
mod select;
mod verdict;

pub use filter::REASONS;
pub use rng::{random_seed, SplitMix64, SEED_LIMIT};
pub use verdict::{Counts, Status};

use std::sync::OnceLock;

use bits::Bits;
use filter::Blamed;

use crate::catalog::Catalog;
use crate::policy::ast::{NodeId, Policy, Select};
use crate::requirements::Requirements;

/// `blame` of a model nothing rejected.
pub const BLAME_NONE: u32 = u32::MAX;
/// `blame` of a model whose provider is outside the host floor.
pub const BLAME_HOST_FLOOR: u32 = u32::MAX - 1;
/// `rank` of a model outside the cascade.
pub const RANK_NONE: u32 = u32::MAX;

/// What an evaluation decided. Per-model facts are read through methods taking the model's
/// catalog index. Nothing is stored per model: blame is a bitset per blamed node, and scores and
/// ranks are per filter survivor, which keeps a million-model evaluation to a few megabytes of
/// fresh memory.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The catalog size.
    n: usize,
    /// Models whose provider is outside the host floor (empty when no floor was given).
    floor: Bits,
    /// Filter rejections: disjoint sets of models, each blamed on one node.
    blamed: Vec<Blamed>,
    /// For models blamed on a `meets_req` node: per checked requirement, in check order, its
    /// reason code (an index into [`REASONS`]) and the models missing it.
    unmet: Vec<(u8, Bits)>,
    /// Survivors a `top_k` cut, with that node, ascending by model index.
    cut: Vec<(u32, NodeId)>,
    /// Model indices that passed the host floor and the filter, ascending.
    survivors: Vec<u32>,
    /// Per survivor: the rank score, `NaN` for none.
    scores: Vec<f64>,
    /// Per survivor: the cascade position, or [`RANK_NONE`] when a `top_k` cut it. Derived from
    /// `cascade` when first asked for, since the router itself only reads the cascade.
    ranks: OnceLock<Vec<u32>>,
    /// Model indices in cascade order: the winner first, then failover order.
    pub cascade: Vec<u32>,
    /// Set whenever the select term contains `sample`: the given seed or a drawn one.
    pub seed: Option<u64>,
}

impl PartialEq for Outcome {
    /// `ranks` is derived from the other fields, and built or not depending on what was read.
    fn eq(&self, other: &Outcome) -> bool {
        self.n == other.n
            && self.floor == other.floor
            && self.blamed == other.blamed
            && self.unmet == other.unmet
            && self.cut == other.cut
            && self.survivors == other.survivors
            && self.scores.iter().map(|s| s.to_bits()).eq(other.scores.iter().map(|s| s.to_bits()))
            && self.cascade == other.cascade
            && self.seed == other.seed
    }
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
    let (candidates, outside) = host_floor(catalog, floor);
    let filter::Verdicts { pass, blamed, unmet } = filter::run(&policy.filter, catalog, req, &candidates);
    drop(candidates);

    let mut survivors = Vec::with_capacity(bits::count(&pass));
    bits::for_each(&pass, |i| survivors.push(i as u32));
    drop(pass);
    let mut scores = rank::scores(&policy.rank, catalog, &survivors);
    // + 0.0 turns -0 into 0: they are the same score and print the same.
    scores.iter_mut().for_each(|s| *s += 0.0);

    let seed = contains_sample(&policy.select).then(|| seed.unwrap_or_else(random_seed));
    let mut rng = seed.map(SplitMix64::new);
    let selected = select::select(&policy.select, &scores, rng.as_mut());
    // Survivor positions to model indices.
    let model = |pos: u32| survivors.get(pos as usize).copied().unwrap_or(u32::MAX);
    let mut cut: Vec<(u32, NodeId)> = selected.dropped.iter().map(|&(pos, node)| (model(pos), node)).collect();
    cut.sort_unstable();
    let cascade = selected.cascade.iter().map(|&pos| model(pos)).collect();
    drop(selected);
    Outcome { n, floor: outside, blamed, unmet, cut, survivors, scores, ranks: OnceLock::new(), cascade, seed }
}

fn contains_sample(select: &Select) -> bool {
    match select {
        Select::Argmax { .. } => false,
        Select::Sample { .. } => true,
        Select::TopK { inner, .. } => contains_sample(inner),
    }
}

/// `(inside, outside)`: the models whose provider the host serves, and the others (none when no
/// floor is given).
fn host_floor(catalog: &Catalog, floor: Option<&[String]>) -> (Bits, Bits) {
    let n = catalog.len();
    let Some(allowed) = floor else { return (bits::all(n), Vec::new()) };
    let allowed: Vec<u32> = allowed.iter().filter_map(|p| catalog.string_index(p)).collect();
    let inside = match catalog.strs("provider") {
        Some(col) => bits::pack(col, n, |p| allowed.contains(&p)),
        None => bits::none(n),
    };
    let outside = bits::not(&inside, n);
    (inside, outside)
}

impl Outcome {
    /// The node blamed for rejecting model `index`: a filter node id, [`BLAME_HOST_FLOOR`], or
    /// [`BLAME_NONE`]; and, for a `meets_req` node, the reason code.
    fn blame_of(&self, index: usize) -> (u32, u8) {
        if bits::get(&self.floor, index) {
            return (BLAME_HOST_FLOOR, 0);
        }
        if let Some(b) = self.blamed.iter().find(|b| bits::get(&b.models, index)) {
            let reason = match b.meets_req {
                true => self.unmet.iter().find(|(_, m)| bits::get(m, index)).map_or(0, |&(code, _)| code),
                false => 0,
            };
            return (b.node, reason);
        }
        let cut = u32::try_from(index).ok().and_then(|m| self.cut.binary_search_by_key(&m, |&(c, _)| c).ok());
        match cut.and_then(|at| self.cut.get(at)) {
            Some(&(_, node)) => (node, 0),
            None => (BLAME_NONE, 0),
        }
    }

    /// Per survivor: its cascade position, or [`RANK_NONE`].
    fn ranks(&self) -> &[u32] {
        self.ranks.get_or_init(|| {
            // A survivor's position is the number of survivors before it: a popcount over a
            // bitset of the survivors, with a running count per word.
            let mut set = bits::none(self.n);
            for &m in &self.survivors {
                bits::set(&mut set, m as usize);
            }
            let mut before = Vec::with_capacity(set.len());
            let mut total = 0u32;
            for w in &set {
                before.push(total);
                total += w.count_ones();
            }
            let mut ranks = vec![RANK_NONE; self.survivors.len()];
            for (k, &m) in self.cascade.iter().enumerate() {
                let (word, bit) = (m as usize / 64, m % 64);
                let (Some(&w), Some(&b)) = (set.get(word), before.get(word)) else { continue };
                let pos = b + (w & ((1u64 << bit) - 1)).count_ones();
                if let Some(r) = ranks.get_mut(pos as usize) {
                    *r = k as u32;
                }
            }
            ranks
        })
    }
}
