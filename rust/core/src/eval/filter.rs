//! The filter (spec §5.1), evaluated one node at a time over every model into bitsets, then blame
//! assigned to the rejected models in a second pass over the same bitsets.

use super::bits::{self, Bits};
use crate::catalog::{Catalog, ColumnRef, BOOL_TRUE, NO_STRING};
use crate::policy::ast::{CmpOp, Filter, Literal, NodeId};
use crate::requirements::Requirements;

/// `meets_req` reasons, in the order they are checked; 0 means every requirement is met.
pub const REASONS: &[&str] = &["", "tools", "vision", "json", "context", "max_tokens"];

struct Ctx<'a> {
    catalog: &'a Catalog,
    req: &'a Requirements,
    n: usize,
    /// Truth of each filter node, by node id, kept for the blame pass.
    truth: Vec<Option<Bits>>,
    /// `meets_req` reason per model, computed on first use.
    reasons: Option<Vec<u8>>,
    /// All false: what a node whose truth is somehow missing reads as.
    empty: Bits,
}

/// Evaluates `filter` over every model and returns the `candidates` it keeps. For each model in `candidates` the filter rejects,
/// `blame` receives the blamed node and, when it is a `meets_req`, `reason` its reason code.
pub(super) fn run(
    filter: &Filter,
    catalog: &Catalog,
    req: &Requirements,
    candidates: &Bits,
    blame: &mut [u32],
    reason: &mut [u8],
) -> Bits {
    let n = catalog.len();
    let mut ctx = Ctx { catalog, req, n, truth: Vec::new(), reasons: None, empty: bits::none(n) };
    let mut pass = ctx.truth(filter).clone();
    bits::and_in(&mut pass, candidates);
    let falsy = bits::and_not(candidates, &pass);
    ctx.blame(filter, falsy, blame, reason);
    pass
}

fn node_id(f: &Filter) -> NodeId {
    match f {
        Filter::And { id, .. }
        | Filter::Or { id, .. }
        | Filter::Not { id, .. }
        | Filter::HasCap { id, .. }
        | Filter::Is { id, .. }
        | Filter::Cmp { id, .. }
        | Filter::MeetsReq { id }
        | Filter::FamilyEq { id, .. } => *id,
    }
}

impl Ctx<'_> {
    /// The truth of `f` for every model, computed once per node and kept for the blame pass.
    fn truth(&mut self, f: &Filter) -> &Bits {
        let id = node_id(f) as usize;
        if self.truth.get(id).is_none_or(Option::is_none) {
            let bits = self.compute(f);
            if self.truth.len() <= id {
                self.truth.resize(id + 1, None);
            }
            if let Some(slot) = self.truth.get_mut(id) {
                *slot = Some(bits);
            }
        }
        self.truth.get(id).and_then(Option::as_ref).unwrap_or(&self.empty)
    }

    fn compute(&mut self, f: &Filter) -> Bits {
        let n = self.n;
        match f {
            Filter::And { items, .. } => {
                let mut acc = bits::all(n);
                for item in items {
                    bits::and_in(&mut acc, self.truth(item));
                }
                acc
            }
            Filter::Or { items, .. } => {
                let mut acc = bits::none(n);
                for item in items {
                    bits::or_in(&mut acc, self.truth(item));
                }
                acc
            }
            Filter::Not { item, .. } => bits::not(self.truth(item), n),
            Filter::HasCap { cap, .. } => self.has_cap(cap),
            Filter::Is { field, .. } => match self.catalog.bools(field) {
                Some(col) => bits::pack(col, n, |b| b == BOOL_TRUE),
                None => bits::none(n),
            },
            Filter::Cmp { field, op, value, .. } => self.cmp(field, *op, value),
            Filter::FamilyEq { family, .. } => self.str_eq("family", family, CmpOp::Eq),
            Filter::MeetsReq { .. } => {
                let reasons = self.reasons();
                bits::pack(reasons, n, |r| r == 0)
            }
        }
    }

    fn has_cap(&self, cap: &str) -> Bits {
        let n = self.n;
        // A capability outside this catalog's vocabulary: no model has it.
        let Some(bit) = self.catalog.capability_index(cap) else { return bits::none(n) };
        let stride = self.catalog.caps_words();
        let (word, shift) = (bit / 64, bit % 64);
        if stride == 1 {
            return bits::pack(self.catalog.caps(), n, |w| (w >> shift) & 1 == 1);
        }
        let column: Vec<u64> = self.catalog.caps().iter().skip(word).step_by(stride.max(1)).copied().collect();
        bits::pack(&column, n, |w| (w >> shift) & 1 == 1)
    }

    fn cmp(&self, field: &str, op: CmpOp, value: &Literal) -> Bits {
        let n = self.n;
        match (self.catalog.column(field), value) {
            (Some(ColumnRef::Number(col)), Literal::Number(v)) => {
                let v = *v;
                // NaN (missing) compares false under every IEEE comparison but `!=`.
                match op {
                    CmpOp::Ge => bits::pack(col, n, |x| x >= v),
                    CmpOp::Le => bits::pack(col, n, |x| x <= v),
                    CmpOp::Gt => bits::pack(col, n, |x| x > v),
                    CmpOp::Lt => bits::pack(col, n, |x| x < v),
                    CmpOp::Eq => bits::pack(col, n, |x| x == v),
                    CmpOp::Ne => bits::pack(col, n, |x| x != v && !x.is_nan()),
                }
            }
            (Some(ColumnRef::Id), Literal::String(s)) => {
                let mut out = if op == CmpOp::Ne { bits::all(n) } else { bits::none(n) };
                if let Some(i) = self.catalog.index_of(s) {
                    match op {
                        CmpOp::Eq => bits::set(&mut out, i),
                        CmpOp::Ne => bits::clear(&mut out, i),
                        _ => return bits::none(n),
                    }
                } else if !matches!(op, CmpOp::Eq | CmpOp::Ne) {
                    return bits::none(n);
                }
                out
            }
            (Some(ColumnRef::Str(_)), Literal::String(s)) => self.str_eq(field, s, op),
            // Admission rules these out; a policy admitted against another vocabulary reads the
            // field as missing everywhere.
            _ => bits::none(n),
        }
    }

    fn str_eq(&self, field: &str, s: &str, op: CmpOp) -> Bits {
        let n = self.n;
        let Some(col) = self.catalog.strs(field) else { return bits::none(n) };
        match (op, self.catalog.string_index(s)) {
            (CmpOp::Eq, Some(t)) => bits::pack(col, n, |x| x == t),
            (CmpOp::Ne, Some(t)) => bits::pack(col, n, |x| x != t && x != NO_STRING),
            // No model carries the string at all.
            (CmpOp::Ne, None) => bits::pack(col, n, |x| x != NO_STRING),
            _ => bits::none(n),
        }
    }

    fn reasons(&mut self) -> &[u8] {
        if self.reasons.is_none() {
            self.reasons = Some(meets_req(self.catalog, self.req));
        }
        self.reasons.as_deref().unwrap_or_default()
    }

    /// Assigns blame for the models in `falsy`, which `f` rejects (spec §5.1).
    fn blame(&self, f: &Filter, falsy: Bits, blame: &mut [u32], reason: &mut [u8]) {
        match f {
            Filter::And { items, .. } => {
                let mut remaining = falsy;
                for item in items {
                    if bits::is_empty(&remaining) {
                        break;
                    }
                    let Some(Some(t)) = self.truth.get(node_id(item) as usize) else { break };
                    let child_false = bits::and_not(&remaining, t);
                    bits::and_in(&mut remaining, t);
                    self.blame(item, child_false, blame, reason);
                }
            }
            Filter::MeetsReq { id } => {
                let reasons = self.reasons.as_deref().unwrap_or_default();
                bits::for_each(&falsy, |i| {
                    if let Some(b) = blame.get_mut(i) {
                        *b = *id;
                    }
                    if let (Some(r), Some(&why)) = (reason.get_mut(i), reasons.get(i)) {
                        *r = why;
                    }
                });
            }
            other => {
                let id = node_id(other);
                bits::for_each(&falsy, |i| {
                    if let Some(b) = blame.get_mut(i) {
                        *b = id;
                    }
                });
            }
        }
    }
}

/// The first unmet requirement of each model (index into [`REASONS`]), spec §4.
fn meets_req(catalog: &Catalog, req: &Requirements) -> Vec<u8> {
    let n = catalog.len();
    let flag = |name: &str| catalog.bools(name).filter(|c| c.len() == n);
    let number = |name: &str| catalog.numbers(name).filter(|c| c.len() == n);
    let need_context = req.prompt_tokens.saturating_add(req.max_tokens.unwrap_or(0)) as f64;
    let need_output = req.max_tokens.map(|m| m as f64);
    let mut out = vec![0u8; n];
    // Each requirement is applied as its own pass, last first, so the earliest unmet one is the
    // value left standing — the same answer as checking them in order, without a branch per model.
    if let Some(m) = need_output {
        match number("max_output") {
            Some(col) => assign(&mut out, col, 5, |x| x < m || x.is_nan()),
            None => out.fill(5),
        }
    }
    match number("context") {
        Some(col) => assign(&mut out, col, 4, |x| x < need_context || x.is_nan()),
        None => out.fill(4),
    }
    let gates = [(req.json, "cap_json", 3u8), (req.vision, "in_image", 2), (req.tools, "cap_tools", 1)];
    for (needed, name, code) in gates {
        if needed {
            match flag(name) {
                Some(col) => assign(&mut out, col, code, |b| b != BOOL_TRUE),
                None => out.fill(code),
            }
        }
    }
    out
}

fn assign<T: Copy>(out: &mut [u8], column: &[T], code: u8, unmet: impl Fn(T) -> bool) {
    // A select, not a branch, so the loop vectorises.
    for (r, &x) in out.iter_mut().zip(column) {
        let kept = *r;
        *r = if unmet(x) { code } else { kept };
    }
}
