//! Ordering survivors and selecting the cascade (spec §5.3).
//!
//! Each survivor is one `u128`: a 64-bit order key for its score in the high half and its
//! position among the survivors (which ascend by model index) in the low half. Ascending `u128`
//! order is then exactly the ranked list — score descending, nulls last, ties by model index,
//! which is id order because the catalog is sorted — so ordering is a plain integer sort, and
//! `top_k` a partial one.

use super::rng::SplitMix64;
use crate::policy::ast::{NodeId, Select};

/// The key of a null score: after every real score.
const NULL_KEY: u64 = u64::MAX;

/// The ordering entry of the survivor at `position` (see `Outcome::survivors`).
pub(super) fn entry(score: f64, position: u32) -> u128 {
    (u128::from(key(score)) << 32) | u128::from(position)
}

pub(super) fn position(entry: u128) -> u32 {
    (entry & u128::from(u32::MAX)) as u32
}

/// Maps a score to a key whose ascending order is descending score. IEEE bits ordered as
/// integers after flipping (all bits for negatives, the sign bit for positives) ascend with the
/// value; inverting them descends. `-0` is folded into `+0`, which it equals.
fn key(score: f64) -> u64 {
    if score.is_nan() {
        return NULL_KEY;
    }
    let b = (score + 0.0).to_bits();
    let ascending = if b >> 63 == 1 { !b } else { b | (1 << 63) };
    !ascending
}

fn score_of(entry: u128) -> f64 {
    let k = (entry >> 32) as u64;
    if k == NULL_KEY {
        return f64::NAN;
    }
    let ascending = !k;
    let b = if ascending >> 63 == 1 { ascending & !(1 << 63) } else { !ascending };
    f64::from_bits(b)
}

pub(super) struct Selected {
    /// Survivors in cascade order.
    pub cascade: Vec<u128>,
    /// Survivor positions a `top_k` cut, with that node.
    pub dropped: Vec<(u32, NodeId)>,
}

pub(super) fn select(sel: &Select, survivors: Vec<u128>, rng: Option<&mut SplitMix64>) -> Selected {
    let mut dropped = Vec::new();
    let cascade = apply(sel, survivors, false, &mut dropped, rng);
    Selected { cascade, dropped }
}

fn apply(
    sel: &Select,
    mut list: Vec<u128>,
    sorted: bool,
    dropped: &mut Vec<(u32, NodeId)>,
    rng: Option<&mut SplitMix64>,
) -> Vec<u128> {
    match sel {
        Select::Argmax { .. } => {
            if !sorted {
                sort(&mut list);
            }
            list
        }
        Select::TopK { id, n, inner } => {
            if list.len() > *n {
                if !sorted {
                    // Partition only: the inner selector orders what is kept.
                    list.select_nth_unstable(*n);
                }
                let cut = list.split_off(*n);
                dropped.extend(cut.into_iter().map(|e| (position(e), *id)));
            }
            // A kept prefix of a sorted list is still sorted.
            apply(inner, list, sorted, dropped, rng)
        }
        Select::Sample { temperature, .. } => {
            if !sorted {
                sort(&mut list);
            }
            if let Some(rng) = rng {
                let head = draw(&list, *temperature, rng);
                if let Some(prefix) = list.get_mut(..=head) {
                    prefix.rotate_right(1);
                }
            }
            list
        }
    }
}

/// Below this, a comparison sort beats the radix passes' fixed cost.
const RADIX_MIN: usize = 512;

/// Sorts entries ascending. Entries arrive in position order and positions are unique, so a
/// stable sort on the 64-bit key alone gives the full order; an LSD radix sort does that in a few
/// linear passes instead of n log n comparisons, skipping any byte all keys share (scores of one
/// policy often agree in sign and exponent bytes).
fn sort(list: &mut Vec<u128>) {
    if list.len() < RADIX_MIN || !list.windows(2).all(|w| matches!(w, [a, b] if a & 0xFFFF_FFFF < b & 0xFFFF_FFFF)) {
        list.sort_unstable();
        return;
    }
    let n = list.len();
    let mut counts = [[0usize; 256]; 8];
    for &e in list.iter() {
        let key = (e >> 32) as u64;
        for (d, hist) in counts.iter_mut().enumerate() {
            if let Some(c) = hist.get_mut(((key >> (8 * d)) & 0xFF) as usize) {
                *c += 1;
            }
        }
    }
    let mut src = std::mem::take(list);
    let mut dst = vec![0u128; n];
    for (d, hist) in counts.iter().enumerate() {
        if hist.contains(&n) {
            continue;
        }
        let mut offsets = [0usize; 256];
        let mut total = 0;
        for (o, &c) in offsets.iter_mut().zip(hist.iter()) {
            *o = total;
            total += c;
        }
        let shift = 32 + 8 * d;
        for &e in &src {
            if let Some(o) = offsets.get_mut(((e >> shift) & 0xFF) as usize) {
                if let Some(slot) = dst.get_mut(*o) {
                    *slot = e;
                }
                *o += 1;
            }
        }
        std::mem::swap(&mut src, &mut dst);
    }
    *list = src;
}

/// The position (in ranked order) of the sampled head: the first scored model whose cumulative
/// weight exp((s − s_max) / t) exceeds u × total. Position 0 when nothing has a score.
fn draw(list: &[u128], t: f64, rng: &mut SplitMix64) -> usize {
    let scored = list.iter().take_while(|&&e| (e >> 32) as u64 != NULL_KEY).count();
    let u = rng.next_f64();
    let Some(&first) = list.first() else { return 0 };
    if scored == 0 {
        return 0;
    }
    let s_max = score_of(first);
    let weights: Vec<f64> = list.iter().take(scored).map(|&e| ((score_of(e) - s_max) / t).exp()).collect();
    let total: f64 = weights.iter().sum();
    let target = u * total;
    let mut cumulative = 0.0;
    for (k, w) in weights.iter().enumerate() {
        cumulative += w;
        if cumulative > target {
            return k;
        }
    }
    // Only reachable through rounding when u × total lands on total itself.
    scored - 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_order_scores_descending_with_nulls_last() {
        let scores = [f64::NAN, -1e300, -1.0, -0.0, 0.0, 1e-300, 0.5, 1.0, 1e300, f64::MIN_POSITIVE];
        let mut entries: Vec<u128> = scores.iter().enumerate().map(|(i, &s)| entry(s, i as u32)).collect();
        entries.sort_unstable();
        let got: Vec<f64> = entries.iter().map(|&e| score_of(e)).collect();
        let mut want: Vec<f64> = scores.iter().copied().filter(|s| !s.is_nan()).collect();
        want.sort_by(|a, b| b.total_cmp(a));
        for (g, w) in got.iter().zip(&want) {
            assert_eq!(g, w);
        }
        assert!(got.last().is_some_and(|s| s.is_nan()));
        // -0 and +0 tie, so the lower position (3, holding -0) comes first.
        let zeros: Vec<u32> = entries.iter().map(|&e| position(e)).filter(|&m| m == 3 || m == 4).collect();
        assert_eq!(zeros, vec![3, 4]);
    }

    #[test]
    fn radix_sort_matches_a_comparison_sort() {
        let mut state = SplitMix64::new(99);
        for n in [0usize, 1, 600, 5000] {
            for distinct in [1u64, 3, 1000, u64::MAX] {
                let entries: Vec<u128> = (0..n)
                    .map(|pos| {
                        let r = state.next_u64() % distinct.max(1);
                        let s = if r % 17 == 3 { f64::NAN } else { (r as f64) / 7.0 - 50.0 };
                        entry(s, pos as u32)
                    })
                    .collect();
                let mut fast = entries.clone();
                sort(&mut fast);
                let mut slow = entries;
                slow.sort_unstable();
                assert_eq!(fast, slow, "n={n} distinct={distinct}");
            }
        }
    }

    #[test]
    fn score_round_trips_through_the_key() {
        for s in [0.0, 1.0, -1.0, 123.456, -7e-12, f64::MAX, f64::MIN] {
            assert_eq!(score_of(entry(s, 7)), s);
        }
    }
}
