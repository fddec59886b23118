//! Admission of a sigma-pol/v1 term (spec §2): one depth-first, left-to-right walk that either
//! builds the AST or stops at the first error in document order.
//!
//! Check order at each op node (the order other interpreters must follow to report the same first
//! error): depth, JSON type (`not_a_term`), `array_limit`, op name (`not_a_term` when not a string,
//! `string_limit`, `unknown_op`), `arity`, then the arguments left to right, each checked fully
//! (a sub-term recursively) before the next.

// Errors are cold and carry a path, message and help; boxing them would only move the cost.
#![allow(clippy::result_large_err)]

use crate::canonical::{push_decimal, to_jcs};
use crate::error::{Code, Error};
use crate::json::{Doc, Items, Node, Value};
use crate::policy::ast::{CmpOp, Filter, Literal, Mutate, NodeId, NodeTable, Policy, Rank, Select};
use crate::suggest::suggest;
use crate::vocab::{FieldKind, Vocabulary};

/// Arrays longer than this are rejected (`array_limit`).
pub const MAX_ARRAY: usize = 1024;
/// Strings longer than this many bytes are rejected (`string_limit`).
pub const MAX_STRING: usize = 4096;
/// Nesting deeper than this many arrays/objects is rejected (`depth_limit`).
pub const MAX_DEPTH: usize = 64;
/// Largest `n` of `top_k`.
pub const MAX_TOP_K: usize = 1024;

/// Request parameters `clamp_param` may bound (spec §2.4).
pub const CLAMP_PARAMS: &[&str] = &[
    "temperature",
    "top_p",
    "max_tokens",
    "max_completion_tokens",
    "presence_penalty",
    "frequency_penalty",
    "n",
    "top_logprobs",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Evidence,
    Filter,
    Rank,
    Select,
    Mutate,
    Fallback,
}

const ALL_SLOTS: [Slot; 6] = [Slot::Evidence, Slot::Filter, Slot::Rank, Slot::Select, Slot::Mutate, Slot::Fallback];

impl Slot {
    fn name(self) -> &'static str {
        match self {
            Slot::Evidence => "evidence",
            Slot::Filter => "filter",
            Slot::Rank => "rank",
            Slot::Select => "select",
            Slot::Mutate => "mutate",
            Slot::Fallback => "fallback",
        }
    }

    fn ops(self) -> &'static [&'static str] {
        match self {
            Slot::Evidence => &["ev_zero"],
            Slot::Filter => &["and", "or", "not", "has_cap", "is", "cmp", "meets_req", "family_eq"],
            Slot::Rank => &["field", "normalize", "neg", "scale", "add", "zero"],
            Slot::Select => &["argmax", "top_k", "sample"],
            Slot::Mutate => &["id", "clamp_param"],
            Slot::Fallback => &["always"],
        }
    }
}

/// An op name, recognised once per node so the walk branches on it without comparing strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    EvZero,
    And,
    Or,
    Not,
    HasCap,
    Is,
    Cmp,
    MeetsReq,
    FamilyEq,
    Field,
    Normalize,
    Neg,
    Scale,
    Add,
    Zero,
    Argmax,
    TopK,
    Sample,
    Id,
    ClampParam,
    Always,
}

impl Op {
    fn parse(name: &str) -> Option<Op> {
        Some(match name {
            "ev_zero" => Op::EvZero,
            "and" => Op::And,
            "or" => Op::Or,
            "not" => Op::Not,
            "has_cap" => Op::HasCap,
            "is" => Op::Is,
            "cmp" => Op::Cmp,
            "meets_req" => Op::MeetsReq,
            "family_eq" => Op::FamilyEq,
            "field" => Op::Field,
            "normalize" => Op::Normalize,
            "neg" => Op::Neg,
            "scale" => Op::Scale,
            "add" => Op::Add,
            "zero" => Op::Zero,
            "argmax" => Op::Argmax,
            "top_k" => Op::TopK,
            "sample" => Op::Sample,
            "id" => Op::Id,
            "clamp_param" => Op::ClampParam,
            "always" => Op::Always,
            _ => return None,
        })
    }

    /// The one slot the op belongs to (as listed in [`Slot::ops`]).
    fn slot(self) -> Slot {
        match self {
            Op::EvZero => Slot::Evidence,
            Op::And | Op::Or | Op::Not | Op::HasCap | Op::Is | Op::Cmp | Op::MeetsReq | Op::FamilyEq => Slot::Filter,
            Op::Field | Op::Normalize | Op::Neg | Op::Scale | Op::Add | Op::Zero => Slot::Rank,
            Op::Argmax | Op::TopK | Op::Sample => Slot::Select,
            Op::Id | Op::ClampParam => Slot::Mutate,
            Op::Always => Slot::Fallback,
        }
    }
}

/// The ops allowed in each slot, in slot order (for `GET /x/fields`-style listings and help).
pub fn slot_ops() -> Vec<(&'static str, &'static [&'static str])> {
    ALL_SLOTS.iter().map(|s| (s.name(), s.ops())).collect()
}

/// How an op is written, for `arity` help.
fn usage(op: &str) -> &'static str {
    match op {
        "ev_zero" => r#"["ev_zero"]"#,
        "and" => r#"["and", filter, ...] (one or more filters)"#,
        "or" => r#"["or", filter, ...] (one or more filters)"#,
        "not" => r#"["not", filter]"#,
        "has_cap" => r#"["has_cap", capability]"#,
        "is" => r#"["is", bool_field]"#,
        "cmp" => r#"["cmp", field, comparator, value]"#,
        "meets_req" => r#"["meets_req"]"#,
        "family_eq" => r#"["family_eq", family]"#,
        "field" => r#"["field", number_field]"#,
        "normalize" => r#"["normalize", scorer]"#,
        "neg" => r#"["neg", scorer]"#,
        "scale" => r#"["scale", weight, scorer]"#,
        "add" => r#"["add", scorer, ...] (one or more scorers)"#,
        "zero" => r#"["zero"]"#,
        "argmax" => r#"["argmax"]"#,
        "top_k" => r#"["top_k", n, selector]"#,
        "sample" => r#"["sample", temperature]"#,
        "id" => r#"["id"]"#,
        "clamp_param" => r#"["clamp_param", parameter, min, max]"#,
        "always" => r#"["always", {"action": "next_candidate"}]"#,
        _ => "",
    }
}

/// Admits `term` against `vocab`: the AST, with every op node's path and canonical text in
/// `Policy::nodes` (ids in document order).
pub fn admit(term: &Value, vocab: &Vocabulary) -> Result<Policy, Error> {
    admit_doc(&Doc::from_value(term), vocab)
}

/// [`admit`] for a document.
pub(crate) fn admit_doc(doc: &Doc<'_>, vocab: &Vocabulary) -> Result<Policy, Error> {
    let mut walker = Walker { vocab, doc, count: 0 };
    let mut policy = Policy {
        filter: PLACEHOLDER,
        rank: Rank::Zero { id: 0 },
        select: Select::Argmax { id: 0 },
        mutate: Mutate::Id,
        nodes: NodeTable::default(),
    };
    walker.policy(&mut policy).map_err(|e| *e)?;
    policy.nodes = NodeTable::new(walker.count);
    Ok(policy)
}

/// The walk's result: errors are boxed so that results are small enough to pass in registers.
type Walk<T> = Result<T, Box<Error>>;

fn error(rule: &'static str, path: impl Into<String>, message: impl Into<String>) -> Error {
    Error::new(Code::InvalidPolicy, rule, path, message)
}

/// `no arguments` / `1 argument` / `3 arguments`.
fn args_text(n: usize) -> String {
    match n {
        0 => "no arguments".to_string(),
        1 => "1 argument".to_string(),
        n => format!("{n} arguments"),
    }
}

fn describe(doc: &Doc<'_>, node: &Node<'_>) -> String {
    match node {
        Node::String(s) if doc.text(s).len() <= 40 => format!("the string '{}'", doc.text(s)),
        Node::String(_) => "a string".to_string(),
        Node::Number(n) => format!("the number {}", number_text(*n)),
        Node::Bool(b) => format!("{b}"),
        Node::Null => "null".to_string(),
        Node::Array { .. } => "an array".to_string(),
        Node::Object { .. } => "an object".to_string(),
    }
}

fn number_text(n: f64) -> String {
    to_jcs(&Value::Number(n))
}

/// Where a node is: the `index`-th element of the node at `up`, or of the policy term itself. A
/// chain up the walk's own stack, turned into a JSON Pointer only when an error needs it.
#[derive(Clone, Copy)]
struct At<'a> {
    up: Option<&'a At<'a>>,
    index: usize,
}

/// The `index`-th element of the policy term itself.
fn top(index: usize) -> At<'static> {
    At { up: None, index }
}

impl<'a> At<'a> {
    /// The `index`-th element of the node here.
    fn child(&'a self, index: usize) -> At<'a> {
        At { up: Some(self), index }
    }

    fn path(&self) -> String {
        let mut indices = vec![self.index];
        let mut up = self.up;
        while let Some(at) = up {
            indices.push(at.index);
            up = at.up;
        }
        let mut out = String::new();
        for index in indices.iter().rev() {
            out.push('/');
            push_decimal(*index as u64, &mut out);
        }
        out
    }
}

/// An argument position: the index-th element of the node at `node`.
#[derive(Clone, Copy)]
struct Loc<'a> {
    node: At<'a>,
    index: usize,
}

impl Loc<'_> {
    fn path(&self) -> String {
        self.node.child(self.index).path()
    }
}

struct Walker<'a, 'd, 't> {
    vocab: &'a Vocabulary,
    doc: &'d Doc<'t>,
    /// How many op nodes so far: the id of the next.
    count: usize,
}

/// An op node whose name passed the slot check.
struct Head<'d, 't> {
    op: &'d str,
    kind: Op,
    args: Items<'d, 't>,
    id: NodeId,
}

impl<'a, 'd, 't> Walker<'a, 'd, 't> {
    /// Admits the term into `policy` (all but its node table), slot by slot.
    fn policy(&mut self, policy: &mut Policy) -> Walk<()> {
        let doc = self.doc;
        let items = match doc.root() {
            Node::Array { items, .. } => doc.items(*items),
            other => {
                return Err(Box::new(
                    error("not_a_term", "", format!("A policy must be a JSON array, got {}.", describe(doc, other)))
                        .with_help(POLICY_SHAPE),
                ))
            }
        };
        if items.len() > MAX_ARRAY {
            return Err(Box::new(array_limit("", items.len())));
        }
        let head = match items.clone().next() {
            Some(Node::String(s)) => doc.text(s),
            _ => {
                return Err(Box::new(
                    error("not_a_term", "", "A policy must be an array starting with the string \"policy\".")
                        .with_help(POLICY_SHAPE),
                ))
            }
        };
        if head.len() > MAX_STRING {
            return Err(Box::new(string_limit("/0", head.len())));
        }
        if head != "policy" {
            return Err(Box::new(
                error("unknown_op", "/0", format!("A policy starts with \"policy\", not '{head}'."))
                    .with_help(POLICY_SHAPE)
                    .with_suggestion(suggest(head, ["policy"])),
            ));
        }
        let Some([_, evidence, filter, rank, select, mutate, fallback]) = items.exactly() else {
            return Err(Box::new(
                error("arity", "", format!("A policy has exactly 7 elements, got {}.", items.len()))
                    .with_help(POLICY_SHAPE),
            ));
        };
        self.evidence(evidence)?;
        self.filter(filter, top(2), 2, &mut policy.filter)?;
        self.rank(rank, top(3), 2, &mut policy.rank)?;
        policy.select = self.select(select, top(4), 2)?;
        policy.mutate = self.mutate(mutate)?;
        self.fallback(fallback)
    }

    /// Checks the op-node shape and the op name against `slot`; registers the node.
    #[inline(always)]
    fn head(&mut self, value: &'d Node<'t>, at: At<'_>, depth: usize, slot: Slot) -> Walk<Head<'d, 't>> {
        if depth > MAX_DEPTH {
            return Err(Box::new(error(
                "depth_limit",
                at.path(),
                format!("Nesting is deeper than {MAX_DEPTH} arrays/objects."),
            )));
        }
        let doc = self.doc;
        let mut items = match value {
            Node::Array { items, .. } => doc.items(*items),
            other => {
                return Err(Box::new(
                    error(
                        "not_a_term",
                        at.path(),
                        format!(
                            "A {} term must be an array like [op, ...], got {}.",
                            slot.name(),
                            describe(self.doc, other)
                        ),
                    )
                    .with_help(allowed_help(slot)),
                ))
            }
        };
        if items.len() > MAX_ARRAY {
            return Err(Box::new(array_limit(&at.path(), items.len())));
        }
        let (op, args) = match items.next() {
            Some(Node::String(op)) => (doc.text(op), items),
            Some(_) => {
                return Err(Box::new(
                    error(
                        "not_a_term",
                        at.path(),
                        format!("A {} term must start with an op name string.", slot.name()),
                    )
                    .with_help(allowed_help(slot)),
                ))
            }
            None => {
                return Err(Box::new(
                    error("not_a_term", at.path(), format!("A {} term must not be an empty array.", slot.name()))
                        .with_help(allowed_help(slot)),
                ))
            }
        };
        let name_loc = Loc { node: at, index: 0 };
        if op.len() > MAX_STRING {
            return Err(Box::new(string_limit(&name_loc.path(), op.len())));
        }
        let kind = Op::parse(op);
        let Some(kind) = kind.filter(|k| k.slot() == slot) else {
            let elsewhere = kind.map(Op::slot);
            let message = match elsewhere {
                Some(other) => {
                    format!("'{op}' is a {} op and cannot appear in the {} slot.", other.name(), slot.name())
                }
                None => format!("'{op}' is not a {} op.", slot.name()),
            };
            return Err(Box::new(
                error("unknown_op", name_loc.path(), message)
                    .with_help(allowed_help(slot))
                    .with_suggestion(suggest(op, slot.ops().iter().copied())),
            ));
        };
        let id = NodeId::try_from(self.count).unwrap_or(NodeId::MAX);
        self.count += 1;
        Ok(Head { op, kind, args, id })
    }

    fn evidence(&mut self, value: &'d Node<'t>) -> Walk<()> {
        let at = top(1);
        let head = self.head(value, at, 2, Slot::Evidence)?;
        self.exact(&head, at, 0)
    }

    /// Admits a filter term into `slot`. The filter is written where it stays: returned, it
    /// would be copied just after its fields were written, which stalls the copy.
    fn filter(&mut self, value: &'d Node<'t>, at: At<'_>, depth: usize, slot: &mut Filter) -> Walk<()> {
        let head = self.head(value, at, depth, Slot::Filter)?;
        let id = head.id;
        let arg = |index: usize| Loc { node: at, index };
        *slot = match head.kind {
            Op::And | Op::Or => {
                self.at_least_one(&head, at)?;
                let mut items = vec![PLACEHOLDER; head.args.len()];
                for (slot, (i, item)) in items.iter_mut().zip(head.args.clone().enumerate()) {
                    self.filter(item, at.child(i + 1), depth + 1, slot)?;
                }
                if head.kind == Op::And {
                    Filter::And { id, items }
                } else {
                    Filter::Or { id, items }
                }
            }
            Op::Not => {
                self.exact(&head, at, 1)?;
                let mut item = Box::new(PLACEHOLDER);
                self.filter(first(&head), at.child(1), depth + 1, &mut item)?;
                Filter::Not { id, item }
            }
            Op::HasCap => {
                self.exact(&head, at, 1)?;
                let cap = self.string_arg(first(&head), arg(1), "capability name")?;
                if !self.vocab.has_capability(cap) {
                    return Err(Box::new(
                        error(
                            "unknown_capability",
                            arg(1).path(),
                            format!("'{cap}' is not in the capability vocabulary."),
                        )
                        .with_help(format!("Known capabilities: {}.", self.vocab.capabilities().join(", ")))
                        .with_suggestion(suggest(cap, self.vocab.capabilities())),
                    ));
                }
                Filter::HasCap { id, cap: cap.to_string() }
            }
            Op::Is => {
                self.exact(&head, at, 1)?;
                let (field, _) = self.field_arg(first(&head), arg(1), "is", &[FieldKind::Bool])?;
                Filter::Is { id, field }
            }
            Op::Cmp => self.cmp(&head, at)?,
            Op::MeetsReq => {
                self.exact(&head, at, 0)?;
                Filter::MeetsReq { id }
            }
            _ => {
                // family_eq: the only filter op left.
                self.exact(&head, at, 1)?;
                let family = self.string_arg(first(&head), arg(1), "family name")?;
                if family.is_empty() {
                    return Err(Box::new(error(
                        "type",
                        arg(1).path(),
                        "The family name of family_eq must not be empty.",
                    )));
                }
                Filter::FamilyEq { id, family: family.to_string() }
            }
        };
        Ok(())
    }

    fn cmp(&self, head: &Head<'d, 't>, at: At<'_>) -> Walk<Filter> {
        let Some([field_v, op_v, value_v]) = head.args.exactly() else {
            return Err(Box::new(self.arity(head, at, "3 arguments")));
        };
        let (field, kind) =
            self.field_arg(field_v, Loc { node: at, index: 1 }, "cmp", &[FieldKind::Number, FieldKind::String])?;
        let op_loc = Loc { node: at, index: 2 };
        let op_name = self.string_arg(op_v, op_loc, "comparator")?;
        let Some(op) = CmpOp::parse(op_name) else {
            return Err(Box::new(
                error("unknown_op", op_loc.path(), format!("'{op_name}' is not a comparator."))
                    .with_help("Comparators: ge, le, gt, lt, eq, ne.")
                    .with_suggestion(suggest(op_name, CmpOp::NAMES)),
            ));
        };
        let value_loc = Loc { node: at, index: 3 };
        let value = if kind == FieldKind::String {
            if !matches!(op, CmpOp::Eq | CmpOp::Ne) {
                return Err(Box::new(
                    error(
                        "field_kind",
                        op_loc.path(),
                        format!("'{field}' is a string field; strings compare only with eq or ne, not {op_name}."),
                    )
                    .with_help("Use eq or ne with a string value."),
                ));
            }
            Literal::String(self.string_arg(value_v, value_loc, "value of a string field")?.to_string())
        } else {
            match value_v {
                Node::Number(n) if n.is_finite() => Literal::Number(*n),
                other => {
                    return Err(Box::new(error(
                        "type",
                        value_loc.path(),
                        format!(
                            "'{field}' is a number field, so the value must be a finite number, not {}.",
                            describe(self.doc, other)
                        ),
                    )))
                }
            }
        };
        Ok(Filter::Cmp { id: head.id, field, op, value })
    }

    /// A field-name argument that must name a known field of one of `kinds`: the name and kind.
    fn field_arg(&self, value: &'d Node<'t>, loc: Loc<'_>, op: &str, kinds: &[FieldKind]) -> Walk<(String, FieldKind)> {
        let name = self.string_arg(value, loc, "field name")?;
        let Some(def) = self.vocab.field(name) else {
            let candidates = self.vocab.fields().iter().filter(|f| kinds.contains(&f.kind)).map(|f| f.name.as_str());
            return Err(Box::new(
                error("unknown_field", loc.path(), format!("'{name}' is not a known field."))
                    .with_help("GET /x/fields lists the fields this host serves.")
                    .with_suggestion(suggest(name, candidates)),
            ));
        };
        if !kinds.contains(&def.kind) {
            let help = match def.kind {
                FieldKind::Bool => format!(r#"Test a bool field with ["is", "{name}"]."#),
                FieldKind::Caps => r#"Test capabilities with ["has_cap", capability]."#.to_string(),
                FieldKind::Number => format!(r#"Compare a number field with ["cmp", "{name}", "le", 5]."#),
                FieldKind::String => format!(r#"Compare a string field with ["cmp", "{name}", "eq", "..."]."#),
            };
            return Err(Box::new(
                error(
                    "field_kind",
                    loc.path(),
                    format!("'{name}' is a {} field and cannot be used with {op}.", def.kind.as_str()),
                )
                .with_help(help),
            ));
        }
        Ok((name.to_string(), def.kind))
    }

    /// Admits a scorer into `slot`, written in place like [`Walker::filter`].
    fn rank(&mut self, value: &'d Node<'t>, at: At<'_>, depth: usize, slot: &mut Rank) -> Walk<()> {
        let head = self.head(value, at, depth, Slot::Rank)?;
        let id = head.id;
        let arg = |index: usize| Loc { node: at, index };
        *slot = match head.kind {
            Op::Field => {
                self.exact(&head, at, 1)?;
                let (field, _) = self.field_arg(first(&head), arg(1), "field", &[FieldKind::Number])?;
                Rank::Field { id, field }
            }
            Op::Normalize | Op::Neg => {
                self.exact(&head, at, 1)?;
                let mut inner = Box::new(Rank::Zero { id: 0 });
                self.rank(first(&head), at.child(1), depth + 1, &mut inner)?;
                if head.kind == Op::Neg {
                    Rank::Neg { id, inner }
                } else {
                    Rank::Normalize { id, inner }
                }
            }
            Op::Scale => {
                let Some([weight, scorer]) = head.args.exactly() else {
                    return Err(Box::new(self.arity(&head, at, "2 arguments")));
                };
                let weight = self.finite_arg(weight, arg(1), "weight of scale")?;
                let mut inner = Box::new(Rank::Zero { id: 0 });
                self.rank(scorer, at.child(2), depth + 1, &mut inner)?;
                Rank::Scale { id, weight, inner }
            }
            Op::Add => {
                self.at_least_one(&head, at)?;
                let mut items = vec![Rank::Zero { id: 0 }; head.args.len()];
                for (slot, (i, item)) in items.iter_mut().zip(head.args.clone().enumerate()) {
                    self.rank(item, at.child(i + 1), depth + 1, slot)?;
                }
                Rank::Add { id, items }
            }
            _ => {
                self.exact(&head, at, 0)?;
                Rank::Zero { id }
            }
        };
        Ok(())
    }

    fn select(&mut self, value: &'d Node<'t>, at: At<'_>, depth: usize) -> Walk<Select> {
        let head = self.head(value, at, depth, Slot::Select)?;
        let id = head.id;
        Ok(match head.kind {
            Op::Argmax => {
                self.exact(&head, at, 0)?;
                Select::Argmax { id }
            }
            Op::TopK => {
                let Some([n, inner]) = head.args.exactly() else {
                    return Err(Box::new(self.arity(&head, at, "2 arguments")));
                };
                let n = match n {
                    Node::Number(x) if x.fract() == 0.0 && *x >= 1.0 && *x <= MAX_TOP_K as f64 => *x as usize,
                    other => {
                        return Err(Box::new(error(
                            "type",
                            Loc { node: at, index: 1 }.path(),
                            format!(
                                "n of top_k must be an integer from 1 to {MAX_TOP_K}, not {}.",
                                describe(self.doc, other)
                            ),
                        )))
                    }
                };
                let inner = Box::new(self.select(inner, at.child(2), depth + 1)?);
                Select::TopK { id, n, inner }
            }
            _ => {
                self.exact(&head, at, 1)?;
                let t = match first(&head) {
                    Node::Number(t) if t.is_finite() && *t > 0.0 => *t,
                    other => {
                        return Err(Box::new(error(
                            "type",
                            Loc { node: at, index: 1 }.path(),
                            format!(
                                "The temperature of sample must be a finite number above 0, not {}.",
                                describe(self.doc, other)
                            ),
                        )))
                    }
                };
                Select::Sample { id, temperature: t }
            }
        })
    }

    fn mutate(&mut self, value: &'d Node<'t>) -> Walk<Mutate> {
        let at = top(5);
        let head = self.head(value, at, 2, Slot::Mutate)?;
        if head.kind == Op::Id {
            self.exact(&head, at, 0)?;
            return Ok(Mutate::Id);
        }
        let Some([param, min, max]) = head.args.exactly() else {
            return Err(Box::new(self.arity(&head, at, "3 arguments")));
        };
        let param_loc = Loc { node: at, index: 1 };
        let param = self.string_arg(param, param_loc, "parameter name")?;
        if !CLAMP_PARAMS.contains(&param) {
            return Err(Box::new(
                error("type", param_loc.path(), format!("'{param}' is not a parameter clamp_param can bound."))
                    .with_help(format!("Parameters: {}.", CLAMP_PARAMS.join(", ")))
                    .with_suggestion(suggest(param, CLAMP_PARAMS)),
            ));
        }
        let min = self.finite_arg(min, Loc { node: at, index: 2 }, "min of clamp_param")?;
        let max_loc = Loc { node: at, index: 3 };
        let max = self.finite_arg(max, max_loc, "max of clamp_param")?;
        if max < min {
            return Err(Box::new(error(
                "type",
                max_loc.path(),
                format!("The max of clamp_param ({}) is below its min ({}).", number_text(max), number_text(min)),
            )));
        }
        Ok(Mutate::ClampParam { param: param.to_string(), min, max })
    }

    fn fallback(&mut self, value: &'d Node<'t>) -> Walk<()> {
        let at = top(6);
        let head = self.head(value, at, 2, Slot::Fallback)?;
        self.exact(&head, at, 1)?;
        let ok = match first(&head) {
            Node::Object { members, .. } => {
                let mut members = self.doc.members(*members);
                match (members.next(), members.next()) {
                    (Some(("action", Node::String(v))), None) => self.doc.text(v) == "next_candidate",
                    _ => false,
                }
            }
            _ => false,
        };
        if !ok {
            return Err(Box::new(
                error("bad_fallback", "/6/1", r#"The fallback must be exactly {"action": "next_candidate"}."#)
                    .with_help(r#"The only fallback in sigma-pol/v1 is ["always", {"action": "next_candidate"}]."#),
            ));
        }
        Ok(())
    }

    #[inline(always)]
    fn exact(&self, head: &Head<'_, '_>, at: At<'_>, n: usize) -> Walk<()> {
        if head.args.len() == n {
            Ok(())
        } else {
            Err(Box::new(self.arity(head, at, &args_text(n))))
        }
    }

    fn at_least_one(&self, head: &Head<'_, '_>, at: At<'_>) -> Walk<()> {
        if head.args.len() == 0 {
            Err(Box::new(self.arity(head, at, "at least 1 argument")))
        } else {
            Ok(())
        }
    }

    /// `expected` is how many arguments `head.op` takes, in words ("2 arguments").
    fn arity(&self, head: &Head<'_, '_>, at: At<'_>, expected: &str) -> Error {
        error("arity", at.path(), format!("'{}' takes {expected}, got {}.", head.op, args_text(head.args.len())))
            .with_help(format!("Write it as {}.", usage(head.op)))
    }

    #[inline(always)]
    fn string_arg(&self, value: &'d Node<'t>, loc: Loc<'_>, what: &str) -> Walk<&'d str> {
        let doc = self.doc;
        match value {
            Node::String(s) if doc.text(s).len() > MAX_STRING => {
                Err(Box::new(string_limit(&loc.path(), doc.text(s).len())))
            }
            Node::String(s) => Ok(doc.text(s)),
            other => Err(Box::new(error(
                "type",
                loc.path(),
                format!("The {what} must be a string, not {}.", describe(self.doc, other)),
            ))),
        }
    }

    fn finite_arg(&self, value: &Node<'_>, loc: Loc<'_>, what: &str) -> Walk<f64> {
        match value {
            Node::Number(n) if n.is_finite() => Ok(*n),
            other => Err(Box::new(error(
                "type",
                loc.path(),
                format!("The {what} must be a finite number, not {}.", describe(self.doc, other)),
            ))),
        }
    }
}

const POLICY_SHAPE: &str = r#"A policy is ["policy", evidence, filter, rank, select, mutate, fallback], e.g. ["policy", ["ev_zero"], ["meets_req"], ["neg", ["field", "price_out"]], ["argmax"], ["id"], ["always", {"action": "next_candidate"}]]."#;

fn allowed_help(slot: Slot) -> String {
    format!("Allowed in the {} slot: {}.", slot.name(), slot.ops().join(", "))
}

/// What a filter slot holds until the walk writes it.
const PLACEHOLDER: Filter = Filter::MeetsReq { id: 0 };

/// The first argument of a node whose arity was checked to be at least 1.
fn first<'d, 't>(head: &Head<'d, 't>) -> &'d Node<'t> {
    head.args.first()
}

fn array_limit(path: &str, len: usize) -> Error {
    error("array_limit", path, format!("The array has {len} elements, over the limit of {MAX_ARRAY}."))
}

fn string_limit(path: &str, len: usize) -> Error {
    error("string_limit", path, format!("The string is {len} bytes, over the limit of {MAX_STRING} bytes."))
}
