//! The node table of an admitted policy: every op node's JSON Pointer and canonical text, by
//! [`NodeId`]. Both follow from the AST (admission keeps every op and argument, and canonical text
//! is a function of them), so the table is written out the first time a node is asked for, not
//! during admission: a policy that is only evaluated never spells it.

use std::ops::Range;
use std::sync::OnceLock;

use super::ast::{Filter, Literal, Mutate, NodeId, Policy, Rank, Select};
use crate::canonical::{decimal, write_number, write_string};

/// Where a node sits in the term the caller sent, and what it says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeInfo<'p> {
    /// JSON Pointer relative to the policy term.
    pub path: &'p str,
    /// Canonical (JCS) text of the sub-term.
    pub term: &'p str,
}

/// The node table: how many op nodes the policy has, and their paths and terms once written.
#[derive(Debug, Clone, Default)]
pub struct NodeTable {
    len: usize,
    written: OnceLock<Written>,
}

/// A cache of what the AST says, so any two tables of equal policies are equal.
impl PartialEq for NodeTable {
    fn eq(&self, other: &NodeTable) -> bool {
        self.len == other.len
    }
}

#[derive(Debug, Clone, Default)]
struct Written {
    /// The policy's canonical text: every term is a range of it.
    text: String,
    /// All paths back to back ('/' and digits only).
    paths: String,
    /// By id: the node's path in `paths` and term in `text`.
    nodes: Vec<(Range<usize>, Range<usize>)>,
}

impl NodeTable {
    /// The table of a policy with `len` op nodes.
    pub(crate) fn new(len: usize) -> NodeTable {
        NodeTable { len, written: OnceLock::new() }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Node `id` of `policy`, the policy that holds this table.
    pub(crate) fn get<'p>(&'p self, policy: &Policy, id: NodeId) -> Option<NodeInfo<'p>> {
        let written = self.written.get_or_init(|| Writer::policy(policy, self.len));
        let (path, term) = written.nodes.get(id as usize)?;
        Some(NodeInfo {
            path: written.paths.get(path.clone()).unwrap_or_default(),
            term: written.text.get(term.clone()).unwrap_or_default(),
        })
    }
}

/// Writes a policy's canonical text from its AST, noting each node's path and term on the way.
/// Ids are those admission gave: evidence first, then the filter, rank and select nodes (each
/// carries its id), then mutate and the fallback, the last two.
struct Writer {
    text: String,
    paths: Vec<u8>,
    nodes: Vec<(Range<usize>, Range<usize>)>,
}

/// The path of the policy term itself (empty).
const TERM: Range<usize> = 0..0;

impl Writer {
    fn policy(policy: &Policy, len: usize) -> Written {
        let mut w = Writer {
            text: String::with_capacity(256),
            paths: Vec::with_capacity(8 * len),
            nodes: vec![(TERM, TERM); len],
        };
        let last = NodeId::try_from(len).unwrap_or(NodeId::MAX);
        w.text.push_str(r#"["policy","#);
        let at = w.open(0, &TERM, 1, "ev_zero");
        w.close(0, at);
        w.text.push(',');
        w.filter(&policy.filter, &TERM, 2);
        w.text.push(',');
        w.rank(&policy.rank, &TERM, 3);
        w.text.push(',');
        w.select(&policy.select, &TERM, 4);
        w.text.push(',');
        let mutate = last.saturating_sub(2);
        match &policy.mutate {
            Mutate::Id => {
                let at = w.open(mutate, &TERM, 5, "id");
                w.close(mutate, at);
            }
            Mutate::ClampParam { param, min, max } => {
                let at = w.open(mutate, &TERM, 5, "clamp_param");
                w.string(param);
                w.number(*min);
                w.number(*max);
                w.close(mutate, at);
            }
        }
        w.text.push(',');
        let fallback = last.saturating_sub(1);
        let at = w.open(fallback, &TERM, 6, "always");
        w.text.push_str(r#",{"action":"next_candidate"}"#);
        w.close(fallback, at);
        w.text.push(']');
        // Paths are '/' and digits only.
        Written { text: w.text, paths: String::from_utf8(w.paths).unwrap_or_default(), nodes: w.nodes }
    }

    /// Starts node `id`, the `index`-th element of the node at `parent`: its path, and where its
    /// text starts.
    fn open(&mut self, id: NodeId, parent: &Range<usize>, index: usize, op: &str) -> (Range<usize>, usize) {
        let start = self.paths.len();
        if parent.end <= start {
            self.paths.extend_from_within(parent.clone());
        }
        self.paths.push(b'/');
        self.paths.extend_from_slice(decimal(index as u64, &mut [0; 20]));
        let path = start..self.paths.len();
        let at = self.text.len();
        self.text.push('[');
        write_string(op, &mut self.text);
        if let Some(node) = self.nodes.get_mut(id as usize) {
            node.0 = path.clone();
        }
        (path, at)
    }

    fn close(&mut self, id: NodeId, (_, at): (Range<usize>, usize)) {
        self.text.push(']');
        let end = self.text.len();
        if let Some(node) = self.nodes.get_mut(id as usize) {
            node.1 = at..end;
        }
    }

    fn string(&mut self, s: &str) {
        self.text.push(',');
        write_string(s, &mut self.text);
    }

    fn number(&mut self, n: f64) {
        self.text.push(',');
        write_number(n, &mut self.text);
    }

    fn filter(&mut self, filter: &Filter, parent: &Range<usize>, index: usize) {
        match filter {
            Filter::And { id, items } | Filter::Or { id, items } => {
                let op = if matches!(filter, Filter::And { .. }) { "and" } else { "or" };
                let at = self.open(*id, parent, index, op);
                for (i, item) in items.iter().enumerate() {
                    self.text.push(',');
                    self.filter(item, &at.0, i + 1);
                }
                self.close(*id, at);
            }
            Filter::Not { id, item } => {
                let at = self.open(*id, parent, index, "not");
                self.text.push(',');
                self.filter(item, &at.0, 1);
                self.close(*id, at);
            }
            Filter::HasCap { id, cap } => self.leaf(*id, parent, index, "has_cap", |w| w.string(cap)),
            Filter::Is { id, field } => self.leaf(*id, parent, index, "is", |w| w.string(field)),
            Filter::Cmp { id, field, op, value } => self.leaf(*id, parent, index, "cmp", |w| {
                w.string(field);
                w.string(op.name());
                match value {
                    Literal::Number(n) => w.number(*n),
                    Literal::String(s) => w.string(s),
                }
            }),
            Filter::MeetsReq { id } => self.leaf(*id, parent, index, "meets_req", |_| {}),
            Filter::FamilyEq { id, family } => self.leaf(*id, parent, index, "family_eq", |w| w.string(family)),
        }
    }

    fn rank(&mut self, rank: &Rank, parent: &Range<usize>, index: usize) {
        match rank {
            Rank::Field { id, field } => self.leaf(*id, parent, index, "field", |w| w.string(field)),
            Rank::Normalize { id, inner } | Rank::Neg { id, inner } => {
                let op = if matches!(rank, Rank::Neg { .. }) { "neg" } else { "normalize" };
                let at = self.open(*id, parent, index, op);
                self.text.push(',');
                self.rank(inner, &at.0, 1);
                self.close(*id, at);
            }
            Rank::Scale { id, weight, inner } => {
                let at = self.open(*id, parent, index, "scale");
                self.number(*weight);
                self.text.push(',');
                self.rank(inner, &at.0, 2);
                self.close(*id, at);
            }
            Rank::Add { id, items } => {
                let at = self.open(*id, parent, index, "add");
                for (i, item) in items.iter().enumerate() {
                    self.text.push(',');
                    self.rank(item, &at.0, i + 1);
                }
                self.close(*id, at);
            }
            Rank::Zero { id } => self.leaf(*id, parent, index, "zero", |_| {}),
        }
    }

    fn select(&mut self, select: &Select, parent: &Range<usize>, index: usize) {
        match select {
            Select::Argmax { id } => self.leaf(*id, parent, index, "argmax", |_| {}),
            Select::TopK { id, n, inner } => {
                let at = self.open(*id, parent, index, "top_k");
                self.number(*n as f64);
                self.text.push(',');
                self.select(inner, &at.0, 2);
                self.close(*id, at);
            }
            Select::Sample { id, temperature } => self.leaf(*id, parent, index, "sample", |w| w.number(*temperature)),
        }
    }

    /// A node without sub-terms: its op, then what `args` writes.
    fn leaf(&mut self, id: NodeId, parent: &Range<usize>, index: usize, op: &str, args: impl FnOnce(&mut Writer)) {
        let at = self.open(id, parent, index, op);
        args(self);
        self.close(id, at);
    }
}
