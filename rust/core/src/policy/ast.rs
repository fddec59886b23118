//! The admitted policy as a tree. Every node keeps an index into `Policy::nodes`, which holds its
//! JSON Pointer and its canonical text, so a verdict can name the sub-term that dropped a model
//! with a `u32` instead of a string per model.

pub use super::nodes::{NodeInfo, NodeTable};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Ge,
    Le,
    Gt,
    Lt,
    Eq,
    Ne,
}

impl CmpOp {
    pub fn parse(s: &str) -> Option<CmpOp> {
        match s {
            "ge" => Some(CmpOp::Ge),
            "le" => Some(CmpOp::Le),
            "gt" => Some(CmpOp::Gt),
            "lt" => Some(CmpOp::Lt),
            "eq" => Some(CmpOp::Eq),
            "ne" => Some(CmpOp::Ne),
            _ => None,
        }
    }
    pub const NAMES: &'static [&'static str] = &["ge", "le", "gt", "lt", "eq", "ne"];

    pub fn name(self) -> &'static str {
        match self {
            CmpOp::Ge => "ge",
            CmpOp::Le => "le",
            CmpOp::Gt => "gt",
            CmpOp::Lt => "lt",
            CmpOp::Eq => "eq",
            CmpOp::Ne => "ne",
        }
    }
}

/// Index into `Policy::nodes`.
pub type NodeId = u32;

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Number(f64),
    String(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    And { id: NodeId, items: Vec<Filter> },
    Or { id: NodeId, items: Vec<Filter> },
    Not { id: NodeId, item: Box<Filter> },
    HasCap { id: NodeId, cap: String },
    Is { id: NodeId, field: String },
    Cmp { id: NodeId, field: String, op: CmpOp, value: Literal },
    MeetsReq { id: NodeId },
    FamilyEq { id: NodeId, family: String },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Rank {
    Field { id: NodeId, field: String },
    Normalize { id: NodeId, inner: Box<Rank> },
    Neg { id: NodeId, inner: Box<Rank> },
    Scale { id: NodeId, weight: f64, inner: Box<Rank> },
    Add { id: NodeId, items: Vec<Rank> },
    Zero { id: NodeId },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Select {
    Argmax { id: NodeId },
    TopK { id: NodeId, n: usize, inner: Box<Select> },
    Sample { id: NodeId, temperature: f64 },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Mutate {
    Id,
    ClampParam { param: String, min: f64, max: f64 },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub filter: Filter,
    pub rank: Rank,
    pub select: Select,
    pub mutate: Mutate,
    pub nodes: NodeTable,
}

impl Policy {
    /// Op node `id`: its path and canonical text.
    pub fn node(&self, id: NodeId) -> Option<NodeInfo<'_>> {
        self.nodes.get(self, id)
    }

    /// Every op node in id order (document order).
    pub fn node_infos(&self) -> impl Iterator<Item = NodeInfo<'_>> + '_ {
        (0..self.nodes.len()).filter_map(|id| self.node(NodeId::try_from(id).ok()?))
    }
}
