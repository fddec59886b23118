//! Content fingerprints (spec §3): a prefix naming the kind of term plus the BLAKE3 hash of its
//! canonical bytes.

/// `prefix` followed by the 64 lowercase hex digits of BLAKE3(`bytes`).
pub fn fingerprint(prefix: &str, bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let hash = blake3::hash(bytes);
    // Into a buffer and then appended once: `Hash::to_hex` pushes one character at a time.
    let mut hex = [0u8; 64];
    for (pair, byte) in hex.chunks_exact_mut(2).zip(hash.as_bytes()) {
        if let [hi, lo] = pair {
            *hi = DIGITS.get(usize::from(byte >> 4)).copied().unwrap_or(b'0');
            *lo = DIGITS.get(usize::from(byte & 0xf)).copied().unwrap_or(b'0');
        }
    }
    let mut out = String::with_capacity(prefix.len() + 64);
    out.push_str(prefix);
    out.push_str(std::str::from_utf8(&hex).unwrap_or_default());
    out
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used)]
mod tests {
    use super::fingerprint;

    #[test]
    fn is_prefix_plus_blake3_hex() {
        // BLAKE3 of the empty input, from the BLAKE3 reference test vectors.
        assert_eq!(fingerprint("pol_", b""), "pol_af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262");
        let f = fingerprint("flow_", b"[1]");
        assert_eq!(f.len(), 5 + 64);
        assert!(f[5..].bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
        assert_ne!(f, fingerprint("flow_", b"[2]"));
        assert_eq!(&f[5..], blake3::hash(b"[1]").to_hex().as_str());
    }
}
