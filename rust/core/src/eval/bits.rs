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

/// Packs a per-model predicate over a column into bits. The predicate runs into a byte per model
/// (a loop the compiler vectorises), and each 8 bytes of 0/1 fold into 8 bits with one multiply.
pub(super) fn pack<T: Copy>(column: &[T], n: usize, test: impl Fn(T) -> bool) -> Bits {
    let mut out = Vec::with_capacity(words(n));
    let mut flags = [0u8; 64];
    let mut chunks = column.chunks_exact(64);
    for chunk in &mut chunks {
        for (f, &x) in flags.iter_mut().zip(chunk) {
            *f = u8::from(test(x));
        }
        out.push(fold(&flags));
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        flags = [0u8; 64];
        for (f, &x) in flags.iter_mut().zip(rest) {
            *f = u8::from(test(x));
        }
        out.push(fold(&flags));
    }
    // A short column (never for a well-built catalog) reads as false past its end.
    out.resize(words(n), 0);
    out
}

/// 64 bytes, each 0 or 1, to one word with bit `j` = byte `j`.
fn fold(flags: &[u8; 64]) -> u64 {
    let mut word = 0u64;
    for (k, group) in flags.chunks_exact(8).enumerate() {
        let mut eight = [0u8; 8];
        eight.copy_from_slice(group);
        // Byte i of x (0 or 1) lands on bit 56 + i of the product; no two partial products
        // share a bit, so nothing carries into the top byte.
        let x = u64::from_le_bytes(eight);
        word |= (x.wrapping_mul(0x0102_0408_1020_4080) >> 56) << (8 * k);
    }
    word
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pack_sets_bit_j_for_element_j() {
        for n in [0usize, 1, 7, 63, 64, 65, 130, 200] {
            let column: Vec<u32> = (0..n as u32).collect();
            for modulus in [1u32, 2, 3, 5, 7, 64] {
                let bits = pack(&column, n, |x| x % modulus == 0);
                assert_eq!(bits.len(), words(n));
                let mut seen = Vec::new();
                for_each(&bits, |i| seen.push(i as u32));
                let want: Vec<u32> = column.iter().copied().filter(|x| x % modulus == 0).collect();
                assert_eq!(seen, want, "n={n} modulus={modulus}");
            }
        }
    }

    #[test]
    fn complement_stays_within_n() {
        let n = 70;
        let none_set = none(n);
        assert_eq!(count(&not(&none_set, n)), n);
        assert_eq!(count(&all(n)), n);
    }
}
