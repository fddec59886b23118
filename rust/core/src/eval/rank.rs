//! Scores (spec §5.2), computed for filter survivors only, one scorer node at a time over the
//! whole survivor list. `NaN` is "no score" (null) throughout.

use crate::catalog::Catalog;
use crate::policy::ast::Rank;

/// Scores of `survivors` (model indices), in the same order.
pub(super) fn scores(rank: &Rank, catalog: &Catalog, survivors: &[u32]) -> Vec<f64> {
    match rank {
        Rank::Field { field, .. } => match catalog.numbers(field) {
            Some(col) => survivors.iter().map(|&i| col.get(i as usize).copied().unwrap_or(f64::NAN)).collect(),
            // Not a number field of this catalog: every value is missing.
            None => vec![f64::NAN; survivors.len()],
        },
        Rank::Normalize { inner, .. } => {
            let mut s = scores(inner, catalog, survivors);
            normalize(&mut s);
            s
        }
        Rank::Neg { inner, .. } => {
            let mut s = scores(inner, catalog, survivors);
            s.iter_mut().for_each(|x| *x = -*x);
            s
        }
        Rank::Scale { weight, inner, .. } => {
            let mut s = scores(inner, catalog, survivors);
            s.iter_mut().for_each(|x| *x = finite(*x * weight));
            s
        }
        Rank::Add { items, .. } => {
            let mut iter = items.iter();
            let mut acc = match iter.next() {
                Some(first) => scores(first, catalog, survivors),
                None => vec![0.0; survivors.len()],
            };
            for item in iter {
                let s = scores(item, catalog, survivors);
                // NaN + x is NaN: a null operand nulls the sum.
                acc.iter_mut().zip(&s).for_each(|(a, b)| *a = finite(*a + b));
            }
            acc
        }
        Rank::Zero { .. } => vec![0.0; survivors.len()],
    }
}

/// Overflow to ±∞ becomes null.
fn finite(x: f64) -> f64 {
    if x.is_finite() {
        x
    } else {
        f64::NAN
    }
}

/// (min, max) of the non-null scores; (∞, −∞) when there is none.
pub(super) fn bounds(vals: &[f64]) -> (f64, f64) {
    // Four running bounds, so the comparisons do not wait on one another.
    let (mut lows, mut highs) = ([f64::INFINITY; 4], [f64::NEG_INFINITY; 4]);
    let mut quads = vals.chunks_exact(4);
    for quad in &mut quads {
        for ((lo, hi), &x) in lows.iter_mut().zip(highs.iter_mut()).zip(quad) {
            // NaN fails both comparisons, so nulls never move the bounds.
            if x < *lo {
                *lo = x;
            }
            if x > *hi {
                *hi = x;
            }
        }
    }
    let rest = quads.remainder();
    // `f64::min`/`max` also skip NaN.
    let lo = lows.into_iter().chain(rest.iter().copied()).fold(f64::INFINITY, f64::min);
    let hi = highs.into_iter().chain(rest.iter().copied()).fold(f64::NEG_INFINITY, f64::max);
    (lo, hi)
}

/// (x − min) / (max − min) over the non-null scores; all equal (or one) → 0.
fn normalize(s: &mut [f64]) {
    let (lo, hi) = bounds(s);
    if lo > hi {
        return; // no score at all
    }
    if lo == hi {
        s.iter_mut().filter(|x| !x.is_nan()).for_each(|x| *x = 0.0);
        return;
    }
    // When the spread itself overflows, finite differences normalise to 0 and overflowing ones
    // to null, as the elementwise rule gives.
    let range = hi - lo;
    s.iter_mut().for_each(|x| *x = finite(finite(*x - lo) / range));
}
