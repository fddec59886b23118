//! The filter (spec §5.1), evaluated one node at a time over every model into bitsets, then blame
//! assigned to the rejected models in a second pass over the same bitsets.

use super::bits::{self, Bits};
use crate::catalog::{Catalog, ColumnRef, BOOL_TRUE, NO_STRING};
use crate::policy::ast::{CmpOp, Filter, Literal, NodeId};
use crate::requirements::Requirements;

/// `meets_req` reasons, in the order they are checked; 0 means every requirement is met.
pub const REASONS: &[&str] = &["", "tools", "vision", "json", "context", "max_tokens"];

/// The models one filter node is blamed for. The sets of an evaluation are disjoint.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Blamed {
    pub node: NodeId,
    /// The node is a `meets_req`: its models' reasons come from [`Verdicts::unmet`].
    pub meets_req: bool,
    pub models: Bits,
}

/// What the filter decided: who passed, and who was blamed on which node.
pub(super) struct Verdicts {
    pub pass: Bits,
    pub blamed: Vec<Blamed>,
    /// Per checked requirement, in check order: its reason code and the models that miss it.
    /// Empty unless a `meets_req` node rejected someone.
    pub unmet: Vec<(u8, Bits)>,
}

struct Ctx<'a> {
    catalog: &'a Catalog,
    req: &'a Requirements,
    n: usize,
    /// Truth of each filter node, by node id, kept for the blame pass.
    truth: Vec<Option<Bits>>,
    /// `meets_req` misses per requirement, computed on first use.
    unmet: Option<Vec<(u8, Bits)>>,
    /// All false: what a node whose truth is somehow missing reads as.
    empty: Bits,
}

/// Evaluates `filter` over every model and keeps the `candidates` it passes. Each candidate it
/// rejects is blamed on one node (spec §5.1); blame is kept as one bitset per blamed node, which
/// is a few kilobytes per thousand models instead of a word per model.
pub(super) fn run(filter: &Filter, catalog: &Catalog, req: &Requirements, candidates: &Bits) -> Verdicts {
    let n = catalog.len();
    let mut ctx = Ctx { catalog, req, n, truth: Vec::new(), unmet: None, empty: bits::none(n) };
    let mut pass = ctx.truth(filter).clone();
    bits::and_in(&mut pass, candidates);
    let falsy = bits::and_not(candidates, &pass);
    let mut blamed = Vec::new();
    ctx.blame(filter, falsy, &mut blamed);
    let unmet = if blamed.iter().any(|b| b.meets_req) { ctx.unmet.take().unwrap_or_default() } else { Vec::new() };
    Verdicts { pass, blamed, unmet }
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
                let mut missed = bits::none(n);
                for (_, unmet) in self.unmet() {
                    bits::or_in(&mut missed, unmet);
                }
                bits::not(&missed, n)
            }
        }
    }

    fn has_cap(&self, cap: &str) -> Bits {
        let n = self.n;
        // A capability outside this catalog's vocabulary: no model has it.
        match self.catalog.capability_index(cap).and_then(|bit| self.catalog.cap_models(bit)) {
            Some(models) if models.len() == bits::words(n) => models.to_vec(),
            _ => bits::none(n),
        }
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

    fn unmet(&mut self) -> &[(u8, Bits)] {
        if self.unmet.is_none() {
            self.unmet = Some(meets_req(self.catalog, self.req));
        }
        self.unmet.as_deref().unwrap_or_default()
    }

    /// Records who `f` is blamed for among `falsy`, the models it rejects (spec §5.1).
    fn blame(&self, f: &Filter, falsy: Bits, out: &mut Vec<Blamed>) {
        if bits::is_empty(&falsy) {
            return;
        }
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
                    self.blame(item, child_false, out);
                }
            }
            other => out.push(Blamed {
                node: node_id(other),
                meets_req: matches!(other, Filter::MeetsReq { .. }),
                models: falsy,
            }),
        }
    }
}

/// Per requirement `meets_req` checks (spec §4), in check order: its reason code (an index into
/// [`REASONS`]) and the models that miss it. A model's reason is the first set it is in.
fn meets_req(catalog: &Catalog, req: &Requirements) -> Vec<(u8, Bits)> {
    let n = catalog.len();
    let flag = |name: &str| catalog.bools(name).filter(|c| c.len() == n);
    let number = |name: &str| catalog.numbers(name).filter(|c| c.len() == n);
    let need_context = req.prompt_tokens.saturating_add(req.max_tokens.unwrap_or(0)) as f64;
    let mut out = Vec::new();
    let gates = [(req.tools, "cap_tools", 1u8), (req.vision, "in_image", 2), (req.json, "cap_json", 3)];
    for (needed, name, code) in gates {
        if needed {
            let missed = match flag(name) {
                Some(col) => bits::pack(col, n, |b| b != BOOL_TRUE),
                None => bits::all(n),
            };
            out.push((code, missed));
        }
    }
    let missed = match number("context") {
        Some(col) => bits::pack(col, n, |x| x < need_context || x.is_nan()),
        None => bits::all(n),
    };
    out.push((4, missed));
    if let Some(m) = req.max_tokens.map(|m| m as f64) {
        let missed = match number("max_output") {
            Some(col) => bits::pack(col, n, |x| x < m || x.is_nan()),
            None => bits::all(n),
        };
        out.push((5, missed));
    }
    out
}
