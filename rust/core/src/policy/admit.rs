//! Admission of a sigma-pol/v1 term (spec §2): one depth-first, left-to-right walk that either
//! builds the AST or stops at the first error in document order.
//!
//! Check order at each op node (the order other interpreters must follow to report the same first
//! error): depth, JSON type (`not_a_term`), `array_limit`, op name (`not_a_term` when not a string,
//! `string_limit`, `unknown_op`), `arity`, then the arguments left to right, each checked fully
//! (a sub-term recursively) before the next.

// Errors are cold and carry a path, message and help; boxing them would only move the cost.
#![allow(clippy::result_large_err)]

use std::ops::Range;

use crate::canonical::to_jcs;
use crate::error::{Code, Error};
use crate::json::Value;
use crate::policy::ast::{CmpOp, Filter, Literal, Mutate, NodeId, NodeInfo, Policy, Rank, Select};
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
    let (canonical, spans) = crate::canonical::to_jcs_with_array_spans(term);
    admit_spanned(term, vocab, &canonical, &spans)
}

/// [`admit`] given the term's canonical text and the spans of its arrays (from
/// `canonical::to_jcs_with_array_spans`), so the caller's canonical form is computed once.
pub(crate) fn admit_spanned(
    term: &Value,
    vocab: &Vocabulary,
    canonical: &str,
    spans: &[Range<usize>],
) -> Result<Policy, Error> {
    // Every array but the root is a node of an admitted term: the spans count them up front.
    let expected = spans.len().saturating_sub(1);
    let mut walker = Walker { vocab, nodes: Vec::with_capacity(expected), values: Vec::with_capacity(expected) };
    let mut policy = walker.policy(term)?;
    // In an admitted term every array is an op node, so the arrays in document order are the
    // root followed by the nodes; anything else would be a bug, handled by re-serializing.
    let aligned = spans.len() == walker.nodes.len() + 1;
    for (i, node) in walker.nodes.iter_mut().enumerate() {
        let text = if aligned { spans.get(i + 1).and_then(|r| canonical.get(r.clone())) } else { None };
        node.term = match text {
            Some(t) => t.to_string(),
            None => walker.values.get(i).map(|v| to_jcs(v)).unwrap_or_default(),
        };
    }
    policy.nodes = walker.nodes;
    Ok(policy)
}

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

fn describe(value: &Value) -> String {
    match value {
        Value::String(s) if s.len() <= 40 => format!("the string '{s}'"),
        Value::String(_) => "a string".to_string(),
        Value::Number(n) => format!("the number {}", to_jcs(&Value::Number(*n))),
        Value::Bool(b) => format!("{b}"),
        Value::Null => "null".to_string(),
        Value::Array(_) => "an array".to_string(),
        Value::Object(_) => "an object".to_string(),
    }
}

struct Walker<'a, 'v> {
    vocab: &'a Vocabulary,
    nodes: Vec<NodeInfo>,
    values: Vec<&'v Value>,
}

/// An op node whose name passed the slot check.
struct Head<'v> {
    op: &'v str,
    args: &'v [Value],
    id: NodeId,
}

impl<'a, 'v> Walker<'a, 'v> {
    fn policy(&mut self, term: &'v Value) -> Result<Policy, Error> {
        let items = match term {
            Value::Array(items) => items,
            other => {
                return Err(error("not_a_term", "", format!("A policy must be a JSON array, got {}.", describe(other)))
                    .with_help(POLICY_SHAPE))
            }
        };
        if items.len() > MAX_ARRAY {
            return Err(array_limit("", items.len()));
        }
        let head = match items.first() {
            Some(Value::String(s)) => s,
            _ => {
                return Err(error("not_a_term", "", "A policy must be an array starting with the string \"policy\".")
                    .with_help(POLICY_SHAPE))
            }
        };
        if head.len() > MAX_STRING {
            return Err(string_limit("/0", head.len()));
        }
        if head != "policy" {
            return Err(error("unknown_op", "/0", format!("A policy starts with \"policy\", not '{head}'."))
                .with_help(POLICY_SHAPE)
                .with_suggestion(suggest(head, ["policy"])));
        }
        let [_, evidence, filter, rank, select, mutate, fallback] = items.as_slice() else {
            return Err(error("arity", "", format!("A policy has exactly 7 elements, got {}.", items.len()))
                .with_help(POLICY_SHAPE));
        };
        self.evidence(evidence)?;
        let filter = self.filter(filter, "/2", 2)?;
        let rank = self.rank(rank, "/3", 2)?;
        let select = self.select(select, "/4", 2)?;
        let mutate = self.mutate(mutate)?;
        self.fallback(fallback)?;
        Ok(Policy { filter, rank, select, mutate, nodes: Vec::new() })
    }

    /// Checks the op-node shape and the op name against `slot`; registers the node.
    fn head(&mut self, value: &'v Value, path: &str, depth: usize, slot: Slot) -> Result<Head<'v>, Error> {
        if depth > MAX_DEPTH {
            return Err(error("depth_limit", path, format!("Nesting is deeper than {MAX_DEPTH} arrays/objects.")));
        }
        let items = match value {
            Value::Array(items) => items,
            other => {
                return Err(error(
                    "not_a_term",
                    path,
                    format!("A {} term must be an array like [op, ...], got {}.", slot.name(), describe(other)),
                )
                .with_help(allowed_help(slot)))
            }
        };
        if items.len() > MAX_ARRAY {
            return Err(array_limit(path, items.len()));
        }
        let (op, args) = match items.split_first() {
            Some((Value::String(op), args)) => (op.as_str(), args),
            Some(_) => {
                return Err(error(
                    "not_a_term",
                    path,
                    format!("A {} term must start with an op name string.", slot.name()),
                )
                .with_help(allowed_help(slot)))
            }
            None => {
                return Err(error("not_a_term", path, format!("A {} term must not be an empty array.", slot.name()))
                    .with_help(allowed_help(slot)))
            }
        };
        if op.len() > MAX_STRING {
            return Err(string_limit(&child(path, 0), op.len()));
        }
        if !slot.ops().contains(&op) {
            let elsewhere = ALL_SLOTS.iter().find(|s| s.ops().contains(&op));
            let message = match elsewhere {
                Some(other) => {
                    format!("'{op}' is a {} op and cannot appear in the {} slot.", other.name(), slot.name())
                }
                None => format!("'{op}' is not a {} op.", slot.name()),
            };
            return Err(error("unknown_op", child(path, 0), message)
                .with_help(allowed_help(slot))
                .with_suggestion(suggest(op, slot.ops().iter().copied())));
        }
        let id = NodeId::try_from(self.nodes.len()).unwrap_or(NodeId::MAX);
        self.nodes.push(NodeInfo { path: path.to_string(), term: String::new() });
        self.values.push(value);
        Ok(Head { op, args, id })
    }

    fn evidence(&mut self, value: &'v Value) -> Result<(), Error> {
        let head = self.head(value, "/1", 2, Slot::Evidence)?;
        exact(&head, "/1", 0)
    }

    fn filter(&mut self, value: &'v Value, path: &str, depth: usize) -> Result<Filter, Error> {
        let head = self.head(value, path, depth, Slot::Filter)?;
        let id = head.id;
        let arg = |index: usize| Loc { node: path, index };
        Ok(match head.op {
            "and" | "or" => {
                at_least_one(&head, path)?;
                let mut items = Vec::with_capacity(head.args.len());
                for (i, item) in head.args.iter().enumerate() {
                    items.push(self.filter(item, &child(path, i + 1), depth + 1)?);
                }
                if head.op == "and" {
                    Filter::And { id, items }
                } else {
                    Filter::Or { id, items }
                }
            }
            "not" => {
                exact(&head, path, 1)?;
                let item = Box::new(self.filter(first(&head), &child(path, 1), depth + 1)?);
                Filter::Not { id, item }
            }
            "has_cap" => {
                exact(&head, path, 1)?;
                let cap = string_arg(first(&head), arg(1), "capability name")?;
                if !self.vocab.has_capability(cap) {
                    return Err(error(
                        "unknown_capability",
                        arg(1).path(),
                        format!("'{cap}' is not in the capability vocabulary."),
                    )
                    .with_help(format!("Known capabilities: {}.", self.vocab.capabilities().join(", ")))
                    .with_suggestion(suggest(cap, self.vocab.capabilities())));
                }
                Filter::HasCap { id, cap: cap.to_string() }
            }
            "is" => {
                exact(&head, path, 1)?;
                let field = self.field_arg(first(&head), arg(1), "is", &[FieldKind::Bool])?;
                Filter::Is { id, field }
            }
            "cmp" => self.cmp(&head, path)?,
            "meets_req" => {
                exact(&head, path, 0)?;
                Filter::MeetsReq { id }
            }
            _ => {
                // family_eq: the only filter op left.
                exact(&head, path, 1)?;
                let family = string_arg(first(&head), arg(1), "family name")?;
                if family.is_empty() {
                    return Err(error("type", arg(1).path(), "The family name of family_eq must not be empty."));
                }
                Filter::FamilyEq { id, family: family.to_string() }
            }
        })
    }

    fn cmp(&mut self, head: &Head<'v>, path: &str) -> Result<Filter, Error> {
        let [field_v, op_v, value_v] = head.args else {
            return Err(arity(head, path, "3 arguments"));
        };
        let field =
            self.field_arg(field_v, Loc { node: path, index: 1 }, "cmp", &[FieldKind::Number, FieldKind::String])?;
        let kind = self.vocab.field(&field).map(|f| f.kind).unwrap_or(FieldKind::Number);
        let op_loc = Loc { node: path, index: 2 };
        let op_name = string_arg(op_v, op_loc, "comparator")?;
        let Some(op) = CmpOp::parse(op_name) else {
            return Err(error("unknown_op", op_loc.path(), format!("'{op_name}' is not a comparator."))
                .with_help("Comparators: ge, le, gt, lt, eq, ne.")
                .with_suggestion(suggest(op_name, CmpOp::NAMES)));
        };
        let value_loc = Loc { node: path, index: 3 };
        let value = if kind == FieldKind::String {
            if !matches!(op, CmpOp::Eq | CmpOp::Ne) {
                return Err(error(
                    "field_kind",
                    op_loc.path(),
                    format!("'{field}' is a string field; strings compare only with eq or ne, not {op_name}."),
                )
                .with_help("Use eq or ne with a string value."));
            }
            Literal::String(string_arg(value_v, value_loc, "value of a string field")?.to_string())
        } else {
            match value_v {
                Value::Number(n) if n.is_finite() => Literal::Number(*n),
                other => {
                    return Err(error(
                        "type",
                        value_loc.path(),
                        format!(
                            "'{field}' is a number field, so the value must be a finite number, not {}.",
                            describe(other)
                        ),
                    ))
                }
            }
        };
        Ok(Filter::Cmp { id: head.id, field, op, value })
    }

    /// A field-name argument that must name a known field of one of `kinds`.
    fn field_arg(&self, value: &Value, loc: Loc<'_>, op: &str, kinds: &[FieldKind]) -> Result<String, Error> {
        let name = string_arg(value, loc, "field name")?;
        let Some(def) = self.vocab.field(name) else {
            let candidates = self.vocab.fields().iter().filter(|f| kinds.contains(&f.kind)).map(|f| f.name.as_str());
            return Err(error("unknown_field", loc.path(), format!("'{name}' is not a known field."))
                .with_help("GET /x/fields lists the fields this host serves.")
                .with_suggestion(suggest(name, candidates)));
        };
        if !kinds.contains(&def.kind) {
            let help = match def.kind {
                FieldKind::Bool => format!(r#"Test a bool field with ["is", "{name}"]."#),
                FieldKind::Caps => r#"Test capabilities with ["has_cap", capability]."#.to_string(),
                FieldKind::Number => format!(r#"Compare a number field with ["cmp", "{name}", "le", 5]."#),
                FieldKind::String => format!(r#"Compare a string field with ["cmp", "{name}", "eq", "..."]."#),
            };
            return Err(error(
                "field_kind",
                loc.path(),
                format!("'{name}' is a {} field and cannot be used with {op}.", def.kind.as_str()),
            )
            .with_help(help));
        }
        Ok(name.to_string())
    }

    fn rank(&mut self, value: &'v Value, path: &str, depth: usize) -> Result<Rank, Error> {
        let head = self.head(value, path, depth, Slot::Rank)?;
        let id = head.id;
        let arg = |index: usize| Loc { node: path, index };
        Ok(match head.op {
            "field" => {
                exact(&head, path, 1)?;
                let field = self.field_arg(first(&head), arg(1), "field", &[FieldKind::Number])?;
                Rank::Field { id, field }
            }
            "normalize" | "neg" => {
                exact(&head, path, 1)?;
                let inner = Box::new(self.rank(first(&head), &child(path, 1), depth + 1)?);
                if head.op == "neg" {
                    Rank::Neg { id, inner }
                } else {
                    Rank::Normalize { id, inner }
                }
            }
            "scale" => {
                let [weight, scorer] = head.args else {
                    return Err(arity(&head, path, "2 arguments"));
                };
                let weight = finite_arg(weight, arg(1), "weight of scale")?;
                let inner = Box::new(self.rank(scorer, &child(path, 2), depth + 1)?);
                Rank::Scale { id, weight, inner }
            }
            "add" => {
                at_least_one(&head, path)?;
                let mut items = Vec::with_capacity(head.args.len());
                for (i, item) in head.args.iter().enumerate() {
                    items.push(self.rank(item, &child(path, i + 1), depth + 1)?);
                }
                Rank::Add { id, items }
            }
            _ => {
                exact(&head, path, 0)?;
                Rank::Zero { id }
            }
        })
    }

    fn select(&mut self, value: &'v Value, path: &str, depth: usize) -> Result<Select, Error> {
        let head = self.head(value, path, depth, Slot::Select)?;
        let id = head.id;
        Ok(match head.op {
            "argmax" => {
                exact(&head, path, 0)?;
                Select::Argmax { id }
            }
            "top_k" => {
                let [n, inner] = head.args else {
                    return Err(arity(&head, path, "2 arguments"));
                };
                let n = match n {
                    Value::Number(x) if x.fract() == 0.0 && *x >= 1.0 && *x <= MAX_TOP_K as f64 => *x as usize,
                    other => {
                        return Err(error(
                            "type",
                            child(path, 1),
                            format!("n of top_k must be an integer from 1 to {MAX_TOP_K}, not {}.", describe(other)),
                        ))
                    }
                };
                let inner = Box::new(self.select(inner, &child(path, 2), depth + 1)?);
                Select::TopK { id, n, inner }
            }
            _ => {
                exact(&head, path, 1)?;
                let t = match first(&head) {
                    Value::Number(t) if t.is_finite() && *t > 0.0 => *t,
                    other => {
                        return Err(error(
                            "type",
                            child(path, 1),
                            format!(
                                "The temperature of sample must be a finite number above 0, not {}.",
                                describe(other)
                            ),
                        ))
                    }
                };
                Select::Sample { id, temperature: t }
            }
        })
    }

    fn mutate(&mut self, value: &'v Value) -> Result<Mutate, Error> {
        let path = "/5";
        let head = self.head(value, path, 2, Slot::Mutate)?;
        if head.op == "id" {
            exact(&head, path, 0)?;
            return Ok(Mutate::Id);
        }
        let [param, min, max] = head.args else {
            return Err(arity(&head, path, "3 arguments"));
        };
        let param_loc = Loc { node: path, index: 1 };
        let param = string_arg(param, param_loc, "parameter name")?;
        if !CLAMP_PARAMS.contains(&param) {
            return Err(error(
                "type",
                param_loc.path(),
                format!("'{param}' is not a parameter clamp_param can bound."),
            )
            .with_help(format!("Parameters: {}.", CLAMP_PARAMS.join(", ")))
            .with_suggestion(suggest(param, CLAMP_PARAMS)));
        }
        let min = finite_arg(min, Loc { node: path, index: 2 }, "min of clamp_param")?;
        let max_loc = Loc { node: path, index: 3 };
        let max = finite_arg(max, max_loc, "max of clamp_param")?;
        if max < min {
            return Err(error(
                "type",
                max_loc.path(),
                format!(
                    "The max of clamp_param ({}) is below its min ({}).",
                    to_jcs(&Value::Number(max)),
                    to_jcs(&Value::Number(min))
                ),
            ));
        }
        Ok(Mutate::ClampParam { param: param.to_string(), min, max })
    }

    fn fallback(&mut self, value: &'v Value) -> Result<(), Error> {
        let path = "/6";
        let head = self.head(value, path, 2, Slot::Fallback)?;
        exact(&head, path, 1)?;
        let ok = match first(&head) {
            Value::Object(members) => {
                matches!(members.as_slice(), [(k, Value::String(v))] if k == "action" && v == "next_candidate")
            }
            _ => false,
        };
        if !ok {
            return Err(error("bad_fallback", "/6/1", r#"The fallback must be exactly {"action": "next_candidate"}."#)
                .with_help(r#"The only fallback in sigma-pol/v1 is ["always", {"action": "next_candidate"}]."#));
        }
        Ok(())
    }
}

const POLICY_SHAPE: &str = r#"A policy is ["policy", evidence, filter, rank, select, mutate, fallback], e.g. ["policy", ["ev_zero"], ["meets_req"], ["neg", ["field", "price_out"]], ["argmax"], ["id"], ["always", {"action": "next_candidate"}]]."#;

fn allowed_help(slot: Slot) -> String {
    format!("Allowed in the {} slot: {}.", slot.name(), slot.ops().join(", "))
}

/// The first argument of a node whose arity was checked to be at least 1.
fn first<'v>(head: &Head<'v>) -> &'v Value {
    head.args.first().unwrap_or(&Value::Null)
}

fn exact(head: &Head<'_>, path: &str, n: usize) -> Result<(), Error> {
    if head.args.len() == n {
        Ok(())
    } else {
        Err(arity(head, path, &args_text(n)))
    }
}

fn at_least_one(head: &Head<'_>, path: &str) -> Result<(), Error> {
    if head.args.is_empty() {
        Err(arity(head, path, "at least 1 argument"))
    } else {
        Ok(())
    }
}

/// `expected` is how many arguments `head.op` takes, in words ("2 arguments").
fn arity(head: &Head<'_>, path: &str, expected: &str) -> Error {
    error("arity", path, format!("'{}' takes {expected}, got {}.", head.op, args_text(head.args.len())))
        .with_help(format!("Write it as {}.", usage(head.op)))
}

fn string_arg<'v>(value: &'v Value, loc: Loc<'_>, what: &str) -> Result<&'v str, Error> {
    match value {
        Value::String(s) if s.len() > MAX_STRING => Err(string_limit(&loc.path(), s.len())),
        Value::String(s) => Ok(s),
        other => Err(error("type", loc.path(), format!("The {what} must be a string, not {}.", describe(other)))),
    }
}

fn finite_arg(value: &Value, loc: Loc<'_>, what: &str) -> Result<f64, Error> {
    match value {
        Value::Number(n) if n.is_finite() => Ok(*n),
        other => {
            Err(error("type", loc.path(), format!("The {what} must be a finite number, not {}.", describe(other))))
        }
    }
}

/// An argument position, turned into a JSON Pointer only when an error needs it.
#[derive(Clone, Copy)]
struct Loc<'p> {
    node: &'p str,
    index: usize,
}

impl Loc<'_> {
    fn path(self) -> String {
        child(self.node, self.index)
    }
}

/// `base` + "/" + `index`, without the formatting machinery (one per node on the hot path).
fn child(base: &str, index: usize) -> String {
    let mut digits = [0u8; 20];
    let mut n = index;
    let mut start = digits.len();
    loop {
        start -= 1;
        if let Some(d) = digits.get_mut(start) {
            *d = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 || start == 0 {
            break;
        }
    }
    let digits = std::str::from_utf8(digits.get(start..).unwrap_or_default()).unwrap_or_default();
    let mut out = String::with_capacity(base.len() + 1 + digits.len());
    out.push_str(base);
    out.push('/');
    out.push_str(digits);
    out
}

fn array_limit(path: &str, len: usize) -> Error {
    error("array_limit", path, format!("The array has {len} elements, over the limit of {MAX_ARRAY}."))
}

fn string_limit(path: &str, len: usize) -> Error {
    error("string_limit", path, format!("The string is {len} bytes, over the limit of {MAX_STRING} bytes."))
}
