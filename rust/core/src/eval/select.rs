//! Ordering survivors and selecting the cascade (spec §5.3).
//!
//! Survivors are handled as their positions in `Outcome::survivors` (which ascend by model index,
//! and so by id) beside their scores. A survivor's order is the pair (score key, position), where
//! the key is a 64-bit integer whose ascending order is descending score with nulls last;
//! ascending pairs are then exactly the ranked list — score descending, nulls last, ties by id.
//! Ranking a whole list spreads it into buckets by score (see [`sort`]); `top_k` is a partial
//! selection.

use super::rng::SplitMix64;
use crate::policy::ast::{NodeId, Select};

/// The key of a null score: after every real score.
const NULL_KEY: u64 = u64::MAX;

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

fn score(scores: &[f64], position: u32) -> f64 {
    scores.get(position as usize).copied().unwrap_or(f64::NAN)
}

/// The survivor at `position` as one integer: ascending order of these is the ranked order.
fn order(scores: &[f64], position: u32) -> u128 {
    (u128::from(key(score(scores, position))) << 32) | u128::from(position)
}

pub(super) struct Selected {
    /// Survivor positions in cascade order.
    pub cascade: Vec<u32>,
    /// Survivor positions a `top_k` cut, with that node.
    pub dropped: Vec<(u32, NodeId)>,
}

/// Selects the cascade from the survivors with these `scores` (`NaN` = null).
pub(super) fn select(sel: &Select, scores: &[f64], rng: Option<&mut SplitMix64>) -> Selected {
    let mut dropped = Vec::new();
    let all = (0..scores.len()).map(|p| p as u32).collect();
    let cascade = apply(sel, scores, all, false, &mut dropped, rng);
    Selected { cascade, dropped }
}

fn apply(
    sel: &Select,
    scores: &[f64],
    mut list: Vec<u32>,
    sorted: bool,
    dropped: &mut Vec<(u32, NodeId)>,
    rng: Option<&mut SplitMix64>,
) -> Vec<u32> {
    match sel {
        Select::Argmax { .. } => {
            if !sorted {
                sort(scores, &mut list);
            }
            list
        }
        Select::TopK { id, n, inner } => {
            if list.len() > *n {
                if !sorted {
                    // Partition only: the inner selector orders what is kept.
                    list.select_nth_unstable_by_key(*n, |&p| order(scores, p));
                }
                let cut = list.split_off(*n);
                dropped.extend(cut.into_iter().map(|p| (p, *id)));
            }
            // A kept prefix of a sorted list is still sorted.
            apply(inner, scores, list, sorted, dropped, rng)
        }
        Select::Sample { temperature, .. } => {
            if !sorted {
                sort(scores, &mut list);
            }
            if let Some(rng) = rng {
                let head = draw(scores, &list, *temperature, rng);
                if let Some(prefix) = list.get_mut(..=head) {
                    prefix.rotate_right(1);
                }
            }
            list
        }
    }
}

/// Below this, a comparison sort beats the bucket pass's fixed cost.
const SPREAD_MIN: usize = 256;
/// Unsorted buckets of at least this many survivors are spread again, or radix sorted.
const BIG_BUCKET: usize = 1024;
/// How often a big bucket is spread again before the radix sort takes it.
const SPREAD_DEPTH: u32 = 2;

/// Sorts survivor positions into ranked order.
///
/// The list is first spread into about `len / 2` buckets by score, linearly between the lowest
/// and highest score, so a bucket holds a narrow range of scores and every survivor of a bucket
/// ranks before every survivor of the next (the bucket is a non-decreasing function of the
/// score). The spread is stable, so a bucket of tied scores — the usual case with prices in
/// cents — keeps its positions ascending and is already sorted, and the rest are a few survivors
/// each. That is a few light linear passes where a radix sort of 64-bit keys takes up to eight
/// heavy ones.
fn sort(scores: &[f64], list: &mut Vec<u32>) {
    if is_sorted(scores, list) {
        return;
    }
    if list.len() < SPREAD_MIN {
        list.sort_unstable_by_key(|&p| order(scores, p));
        return;
    }
    let mut out = vec![0u32; list.len()];
    if spread(scores, list, &mut out, SPREAD_DEPTH) {
        *list = out;
    }
}

/// Sorts `list`, spreading it into `out`: true when the sorted list is in `out`, false when it
/// was sorted in place (`out`, of the same length, is then scratch).
fn spread(scores: &[f64], list: &mut [u32], out: &mut [u32], depth: u32) -> bool {
    // The scores in list order, so the two passes over them read in sequence (and vectorise).
    let vals: Vec<f64> = list.iter().map(|&p| score(scores, p)).collect();
    let Some(range) = Range::of(&vals, list.len() / 2) else {
        sort_by_radix(scores, list);
        return false;
    };
    let buckets: Vec<u32> = vals.iter().map(|&s| range.bucket(s)).collect();
    drop(vals);
    // One count per bucket plus the null bucket, turned into bucket starts, then (by the scatter)
    // into bucket ends.
    let mut next = vec![0u32; range.buckets as usize + 1];
    for &b in &buckets {
        if let Some(c) = next.get_mut(b as usize) {
            *c += 1;
        }
    }
    let mut total = 0u32;
    for c in next.iter_mut() {
        let count = *c;
        *c = total;
        total += count;
    }
    for (&p, &b) in list.iter().zip(&buckets) {
        if let Some(at) = next.get_mut(b as usize) {
            if let Some(slot) = out.get_mut(*at as usize) {
                *slot = p;
            }
            *at += 1;
        }
    }
    let mut begin = 0usize;
    for &end in &next {
        let end = end as usize;
        if end > begin + 1 {
            let (Some(bucket), Some(scratch)) = (out.get_mut(begin..end), list.get_mut(begin..end)) else { break };
            sort_bucket(scores, bucket, scratch, depth);
        }
        begin = end;
    }
    true
}

fn sort_bucket(scores: &[f64], bucket: &mut [u32], scratch: &mut [u32], depth: u32) {
    if is_sorted(scores, bucket) {
        return;
    }
    if bucket.len() < BIG_BUCKET {
        bucket.sort_unstable_by_key(|&p| order(scores, p));
    } else if depth == 0 {
        sort_by_radix(scores, bucket);
    } else if spread(scores, bucket, scratch, depth - 1) {
        bucket.copy_from_slice(scratch);
    }
}

fn is_sorted(scores: &[f64], list: &[u32]) -> bool {
    list.windows(2).all(|w| matches!(w, [a, b] if before(scores, *a, *b)))
}

/// Whether survivor `a` ranks before survivor `b`: `order(a) < order(b)`, on the scores directly.
fn before(scores: &[f64], a: u32, b: u32) -> bool {
    let (x, y) = (score(scores, a), score(scores, b));
    // A higher score, or a tie (-0 ties +0) broken by position; any score before a null, and
    // nulls by position.
    x > y || (x == y && a < b) || (y.is_nan() && (!x.is_nan() || a < b))
}

/// The linear map from a score to its bucket.
struct Range {
    hi: f64,
    scale: f64,
    /// The last bucket of real scores, as a float.
    last: f64,
    /// Buckets of real scores; nulls go to one more after them.
    buckets: u32,
}

impl Range {
    /// None when the scores do not spread: none or one distinct value, or a range too wide for
    /// `f64`.
    fn of(vals: &[f64], buckets: usize) -> Option<Range> {
        let (lo, hi) = super::rank::bounds(vals);
        let buckets = u32::try_from(buckets).ok()?.max(1);
        let width = hi - lo;
        let scale = f64::from(buckets - 1) / width;
        (width > 0.0 && width.is_finite() && scale.is_finite() && scale > 0.0).then_some(Range {
            hi,
            scale,
            last: f64::from(buckets - 1),
            buckets,
        })
    }

    /// Higher scores get lower buckets; nulls get the last one. Rounding cannot break the order:
    /// subtraction, multiplication, clamping and rounding are each monotone. The rounding adds
    /// 2^52, which leaves an integer below 2^32 in the low bits of the sum — cheaper than a
    /// checked conversion.
    fn bucket(&self, s: f64) -> u32 {
        let x = ((self.hi - s) * self.scale).clamp(0.0, self.last);
        let b = (x + 4_503_599_627_370_496.0).to_bits() as u32;
        if s.is_nan() {
            self.buckets
        } else {
            b
        }
    }
}

/// Sorts positions by their order through a radix sort of the order integers.
fn sort_by_radix(scores: &[f64], list: &mut [u32]) {
    let mut entries: Vec<u128> = list.iter().map(|&p| order(scores, p)).collect();
    radix_sort(&mut entries, &mut vec![0; list.len()]);
    for (p, e) in list.iter_mut().zip(&entries) {
        *p = (e & u128::from(u32::MAX)) as u32;
    }
}

/// An LSD radix sort of order integers on their 64-bit key, skipping any byte all keys share.
/// Entries in position order are stably sorted by key alone, which is the full order; others
/// take a comparison sort. `scratch` is as long as `list`.
fn radix_sort(list: &mut [u128], scratch: &mut [u128]) {
    let n = list.len();
    if n < SPREAD_MIN || scratch.len() != n || !list.windows(2).all(|w| matches!(w, [a, b] if a & 0xFFFF_FFFF < b & 0xFFFF_FFFF)) {
        list.sort_unstable();
        return;
    }
    let mut counts = [[0usize; 256]; 8];
    for &e in list.iter() {
        let key = (e >> 32) as u64;
        for (d, hist) in counts.iter_mut().enumerate() {
            if let Some(c) = hist.get_mut(((key >> (8 * d)) & 0xFF) as usize) {
                *c += 1;
            }
        }
    }
    let (mut src, mut dst) = (list, scratch);
    let mut swapped = false;
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
        for &e in src.iter() {
            if let Some(o) = offsets.get_mut(((e >> shift) & 0xFF) as usize) {
                if let Some(slot) = dst.get_mut(*o) {
                    *slot = e;
                }
                *o += 1;
            }
        }
        std::mem::swap(&mut src, &mut dst);
        swapped = !swapped;
    }
    if swapped {
        // The sorted entries are in the scratch buffer.
        dst.copy_from_slice(src);
    }
}

/// The position (in ranked order) of the sampled head: the first scored survivor whose cumulative
/// weight exp((s − s_max) / t) exceeds u × total. Position 0 when nothing has a score.
fn draw(scores: &[f64], list: &[u32], t: f64, rng: &mut SplitMix64) -> usize {
    let scored = list.iter().take_while(|&&p| !score(scores, p).is_nan()).count();
    let u = rng.next_f64();
    let Some(&first) = list.first() else { return 0 };
    if scored == 0 {
        return 0;
    }
    let s_max = score(scores, first);
    let weights: Vec<f64> = list.iter().take(scored).map(|&p| ((score(scores, p) - s_max) / t).exp()).collect();
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
        let mut list: Vec<u32> = (0..scores.len() as u32).collect();
        list.sort_unstable_by_key(|&p| order(&scores, p));
        let got: Vec<f64> = list.iter().map(|&p| scores[p as usize]).collect();
        let mut want: Vec<f64> = scores.iter().copied().filter(|s| !s.is_nan()).collect();
        want.sort_by(|a, b| b.total_cmp(a));
        for (g, w) in got.iter().zip(&want) {
            assert_eq!(g, w);
        }
        assert!(got.last().is_some_and(|s| s.is_nan()));
        // -0 and +0 tie, so the lower position (3, holding -0) comes first.
        let zeros: Vec<u32> = list.iter().copied().filter(|&p| p == 3 || p == 4).collect();
        assert_eq!(zeros, vec![3, 4]);
    }

    /// Scores drawn from distributions that stress the bucket spread: distinct, tied, skewed,
    /// with outliers, null-heavy, all null, all equal, and as wide as `f64` goes.
    fn scores(kind: u32, n: usize, state: &mut SplitMix64) -> Vec<f64> {
        (0..n)
            .map(|i| {
                let u = state.next_f64();
                let r = state.next_u64();
                let (r2, r3) = (r % 2, r % 3);
                match kind {
                    0 => u * 2.0 - 1.0,
                    1 => (r % 7) as f64 / 7.0 - 0.5,
                    2 => (u * 40.0).exp(),
                    3 if i % 997 == 0 => 1e300,
                    3 => u * 1e-6,
                    4 if r3 == 0 => f64::NAN,
                    4 => (r % 1000) as f64,
                    5 => -((u * 5.0).exp() * 100.0).round() / 100.0,
                    6 => f64::NAN,
                    7 => 0.25,
                    8 if r2 == 0 => -0.0,
                    8 => 0.0,
                    _ if i % 2 == 0 => f64::MAX,
                    _ => -f64::MAX,
                }
            })
            .collect()
    }

    #[test]
    fn sort_matches_a_comparison_sort() {
        let mut state = SplitMix64::new(99);
        for n in [0usize, 1, 2, 255, 256, 600, 5000, 40_000] {
            for kind in 0..10 {
                let scores = scores(kind, n, &mut state);
                for shuffled in [false, true] {
                    let mut list: Vec<u32> = (0..n as u32).collect();
                    if shuffled {
                        for i in (1..list.len()).rev() {
                            let j = (state.next_u64() % (i as u64 + 1)) as usize;
                            list.swap(i, j);
                        }
                    }
                    let mut fast = list.clone();
                    sort(&scores, &mut fast);
                    let mut slow = list;
                    // Nulls last, then score descending (-0 = +0), then position.
                    let rank = |p: u32| match scores[p as usize] {
                        x if x.is_nan() => (1, 0.0),
                        x => (0, -x),
                    };
                    slow.sort_unstable_by(|&a, &b| {
                        let ((na, xa), (nb, xb)) = (rank(a), rank(b));
                        na.cmp(&nb).then(xa.partial_cmp(&xb).unwrap()).then(a.cmp(&b))
                    });
                    assert!(fast == slow, "n={n} kind={kind} shuffled={shuffled}");
                }
            }
        }
    }

    #[test]
    fn radix_sort_matches_a_comparison_sort() {
        let mut state = SplitMix64::new(7);
        for n in [0usize, 300, 5000] {
            for kind in 0..10 {
                let scores = scores(kind, n, &mut state);
                let entries: Vec<u128> = (0..n as u32).map(|p| order(&scores, p)).collect();
                let mut fast = entries.clone();
                radix_sort(&mut fast, &mut vec![0; n]);
                let mut slow = entries;
                slow.sort_unstable();
                assert!(fast == slow, "n={n} kind={kind}");
            }
        }
    }
}
