//! Did-you-mean suggestions for names (spec §2): ops, fields, capabilities, comparators, clamp
//! parameters, flow members.
//!
//! The rule, so other interpreters can match it exactly: compare ASCII-lowercased names by
//! optimal-string-alignment distance (Levenshtein plus adjacent transposition). A candidate
//! qualifies when that distance is at most 2 (at most 1 when `name` has 3 characters or fewer),
//! or when it starts with `name`. The best candidate has the smallest distance; ties go to the
//! candidate that sorts first by bytes. An empty name suggests nothing.

/// The best candidate for a mistyped `name`, or `None`. Candidates may be `&str`, `&&str`,
/// `&String` or `String`.
pub fn suggest<S: AsRef<str>>(name: &str, candidates: impl IntoIterator<Item = S>) -> Option<String> {
    let needle: Vec<char> = name.chars().map(|c| c.to_ascii_lowercase()).collect();
    if needle.is_empty() {
        return None;
    }
    let limit = if needle.len() <= 3 { 1 } else { 2 };
    let lowered = name.to_ascii_lowercase();
    let mut best: Option<(usize, String)> = None;
    let mut scratch = Scratch::default();
    for candidate in candidates {
        let candidate = candidate.as_ref();
        let folded = candidate.to_ascii_lowercase();
        let is_prefix = folded.starts_with(&lowered);
        // The distance is at least the length difference; skip hopeless candidates cheaply.
        let len_gap = folded.chars().count().abs_diff(needle.len());
        if !is_prefix && len_gap > limit {
            continue;
        }
        let distance = scratch.osa(&needle, &folded);
        if distance > limit && !is_prefix {
            continue;
        }
        let better = match &best {
            None => true,
            Some((d, c)) => distance < *d || (distance == *d && candidate.as_bytes() < c.as_bytes()),
        };
        if better {
            best = Some((distance, candidate.to_string()));
        }
    }
    best.map(|(_, c)| c)
}

/// Reused rows for the distance table.
#[derive(Default)]
struct Scratch {
    two_back: Vec<usize>,
    prev: Vec<usize>,
    cur: Vec<usize>,
    other: Vec<char>,
}

impl Scratch {
    /// Optimal string alignment distance between `a` and `b`.
    fn osa(&mut self, a: &[char], b: &str) -> usize {
        self.other.clear();
        self.other.extend(b.chars());
        let b = &self.other;
        let width = b.len() + 1;
        self.two_back.clear();
        self.two_back.resize(width, 0);
        self.prev.clear();
        self.prev.extend(0..width);
        self.cur.clear();
        self.cur.resize(width, 0);
        let mut prev_a: Option<char> = None;
        for (i, &ca) in a.iter().enumerate() {
            if let Some(first) = self.cur.first_mut() {
                *first = i + 1;
            }
            let mut prev_b: Option<char> = None;
            for (j, &cb) in b.iter().enumerate() {
                let cost = usize::from(ca != cb);
                let deletion = self.prev.get(j + 1).copied().unwrap_or(usize::MAX).saturating_add(1);
                let insertion = self.cur.get(j).copied().unwrap_or(usize::MAX).saturating_add(1);
                let substitution = self.prev.get(j).copied().unwrap_or(usize::MAX).saturating_add(cost);
                let mut d = deletion.min(insertion).min(substitution);
                if prev_a == Some(cb) && prev_b == Some(ca) && ca != cb {
                    let transposition = self.two_back.get(j.wrapping_sub(1)).copied().unwrap_or(usize::MAX);
                    d = d.min(transposition.saturating_add(1));
                }
                if let Some(slot) = self.cur.get_mut(j + 1) {
                    *slot = d;
                }
                prev_b = Some(cb);
            }
            std::mem::swap(&mut self.two_back, &mut self.prev);
            std::mem::swap(&mut self.prev, &mut self.cur);
            prev_a = Some(ca);
        }
        self.prev.last().copied().unwrap_or(0)
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used)]
mod tests {
    use super::suggest;

    const FIELDS: &[&str] = &["price_in", "price_out", "context", "max_output", "cap_tools", "latency_ms"];

    #[test]
    fn typos_within_two_edits() {
        assert_eq!(suggest("pirce_out", FIELDS).as_deref(), Some("price_out"));
        assert_eq!(suggest("contxet", FIELDS.iter().copied()).as_deref(), Some("context"));
        assert_eq!(suggest("cap_tool", FIELDS.iter().copied()).as_deref(), Some("cap_tools"));
        assert_eq!(suggest("Price_Out", FIELDS.iter().copied()).as_deref(), Some("price_out"));
    }

    #[test]
    fn prefix_matches_even_when_far() {
        // "price" is 3 edits from price_in and 4 from price_out: the closer one wins.
        assert_eq!(suggest("price", FIELDS.iter().copied()).as_deref(), Some("price_in"));
        assert_eq!(suggest("lat", FIELDS.iter().copied()).as_deref(), Some("latency_ms"));
    }

    #[test]
    fn short_names_allow_one_edit() {
        let cmp = ["ge", "le", "gt", "lt", "eq", "ne"];
        assert_eq!(suggest("lte", cmp).as_deref(), Some("le"));
        assert_eq!(suggest("gq", cmp).as_deref(), Some("eq"));
        assert_eq!(suggest("xy", cmp), None);
        assert_eq!(suggest("", cmp), None);
    }

    #[test]
    fn ties_go_to_the_first_by_bytes() {
        assert_eq!(suggest("ab", ["ac", "aa"]).as_deref(), Some("aa"));
        assert_eq!(suggest("ab", ["aa", "ac"]).as_deref(), Some("aa"));
    }

    #[test]
    fn transposition_counts_once() {
        assert_eq!(suggest("pirce_in", ["price_in"]).as_deref(), Some("price_in"));
        assert_eq!(suggest("argamx", ["argmax", "sample"]).as_deref(), Some("argmax"));
        assert_eq!(suggest("totally_else", FIELDS.iter().copied()), None);
    }
}
