//! Bitsets over catalog models: one bit per model, 64 models per word, unused tail bits zero.

pub(super) type Bits = Vec<u64>;

pub(super) fn words(n: usize) -> usize {
    n.div_ceil(64)
}

/// The word holding the last models, with only their bits set.
fn tail_mask(n: usize) -> u64 {
    match n % 64 {
        0 => u64::MAX,
        r => (1u64 << r) - 1,
    }
}

pub(super) fn all(n: usize) -> Bits {
    let mut bits = vec![u64::MAX; words(n)];
    if let Some(last) = bits.last_mut() {
        *last &= tail_mask(n);
    }
    bits
}

pub(super) fn none(n: usize) -> Bits {
    vec![0; words(n)]
}

/// Packs a per-model predicate over a column into bits. Written as 64 iterations per word with
/// no early exit so the compiler can vectorise the common case.
pub(super) fn pack<T: Copy>(column: &[T], n: usize, test: impl Fn(T) -> bool) -> Bits {
    let mut out = Vec::with_capacity(words(n));
    let mut chunks = column.chunks_exact(64);
    for chunk in &mut chunks {
        let mut word = 0u64;
        for (j, &x) in chunk.iter().enumerate() {
            word |= u64::from(test(x)) << j;
        }
        out.push(word);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut word = 0u64;
        for (j, &x) in rest.iter().enumerate() {
            word |= u64::from(test(x)) << j;
        }
        out.push(word);
    }
    // A short column (never for a well-built catalog) reads as false past its end.
    out.resize(words(n), 0);
    out
}

pub(super) fn set(bits: &mut Bits, i: usize) {
    if let Some(w) = bits.get_mut(i / 64) {
        *w |= 1u64 << (i % 64);
    }
}

pub(super) fn clear(bits: &mut Bits, i: usize) {
    if let Some(w) = bits.get_mut(i / 64) {
        *w &= !(1u64 << (i % 64));
    }
}

pub(super) fn and_in(acc: &mut Bits, other: &Bits) {
    for (a, b) in acc.iter_mut().zip(other) {
        *a &= *b;
    }
}

pub(super) fn or_in(acc: &mut Bits, other: &Bits) {
    for (a, b) in acc.iter_mut().zip(other) {
        *a |= *b;
    }
}

/// `acc & !other`.
pub(super) fn and_not(acc: &Bits, other: &Bits) -> Bits {
    acc.iter().zip(other).map(|(a, b)| a & !b).collect()
}

/// The complement within the first `n` models.
pub(super) fn not(bits: &Bits, n: usize) -> Bits {
    let mut out: Bits = bits.iter().map(|w| !w).collect();
    if let Some(last) = out.last_mut() {
        *last &= tail_mask(n);
    }
    out
}

pub(super) fn is_empty(bits: &Bits) -> bool {
    bits.iter().all(|&w| w == 0)
}

pub(super) fn count(bits: &Bits) -> usize {
    bits.iter().map(|w| w.count_ones() as usize).sum()
}

/// Calls `f` with the index of every set bit, ascending.
pub(super) fn for_each(bits: &Bits, mut f: impl FnMut(usize)) {
    for (k, &word) in bits.iter().enumerate() {
        let mut w = word;
        while w != 0 {
            f(k * 64 + w.trailing_zeros() as usize);
            w &= w - 1;
        }
    }
}
