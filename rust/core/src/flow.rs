//! flow_ir (spec §6): admission of a workflow graph, its execution order, and input joining.
//!
//! Check order (the order other interpreters must follow to report the same first error):
//! 1. shape: `["flow", {…}]` (`not_a_flow`), then `node_limit`;
//! 2. each node in document order: `node_id`, object (`type`), `kind` (`missing_member`, `type`,
//!    `unknown_kind`), members not allowed for the kind (`unknown_member`, in document order),
//!    required members (`missing_member`), then each member's value in document order (`type`,
//!    `string_limit`, `in_degree`, `unknown_input`, `duplicate_input`, policy errors), then the
//!    template against the inputs (`template`);
//! 3. the graph: `input_count`, `output_count`, `cycle`, `unreachable`.

// Errors are cold and carry a path, message and help; boxing them would only move the cost.
#![allow(clippy::result_large_err)]

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};

use crate::canonical::to_jcs;
use crate::error::{push_index, push_path, Code, Error};
use crate::fingerprint::fingerprint;
use crate::json::{self, Limits, Value};
use crate::policy::{self, AdmittedPolicy};
use crate::suggest::suggest;
use crate::vocab::Vocabulary;

/// Prefix of flow fingerprints.
pub const FINGERPRINT_PREFIX: &str = "flow_";
/// Most nodes a flow may have.
pub const MAX_NODES: usize = 256;
/// Most inputs an llm node may have.
pub const MAX_INPUTS: usize = 32;
/// Longest `system` or `template`, in bytes.
pub const MAX_TEXT: usize = 65_536;
/// Longest node id.
pub const MAX_ID: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    Input,
    Llm,
    Output,
}

const KINDS: &[&str] = &["input", "llm", "output"];

impl NodeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NodeKind::Input => "input",
            NodeKind::Llm => "llm",
            NodeKind::Output => "output",
        }
    }

    pub fn parse(s: &str) -> Option<NodeKind> {
        match s {
            "input" => Some(NodeKind::Input),
            "llm" => Some(NodeKind::Llm),
            "output" => Some(NodeKind::Output),
            _ => None,
        }
    }

    /// Members a node of this kind may have, in the order the spec lists them.
    pub fn members(self) -> &'static [&'static str] {
        match self {
            NodeKind::Input => &["kind"],
            NodeKind::Llm => &["kind", "system", "policy", "inputs", "template"],
            NodeKind::Output => &["kind", "inputs"],
        }
    }

    /// Members a node of this kind must have besides `kind`, in the order they are checked.
    fn required(self) -> &'static [&'static str] {
        match self {
            NodeKind::Input => &[],
            NodeKind::Llm => &["system", "policy", "inputs"],
            NodeKind::Output => &["inputs"],
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct FlowNode {
    pub id: String,
    pub kind: NodeKind,
    pub inputs: Vec<String>,
    pub system: Option<String>,
    pub template: Option<String>,
    pub policy: Option<AdmittedPolicy>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AdmittedFlow {
    pub term: Value,
    pub canonical: String,
    pub fingerprint: String,
    /// Node ids in execution order.
    pub order: Vec<String>,
    /// Nodes in execution order.
    pub nodes: Vec<FlowNode>,
}

impl AdmittedFlow {
    pub fn node(&self, id: &str) -> Option<&FlowNode> {
        self.nodes.iter().find(|n| n.id == id)
    }
}

/// Strict-reads `text` (flow limits, code `invalid_flow`) and admits it.
pub fn admit_flow_text(text: &[u8], vocab: &Vocabulary) -> Result<AdmittedFlow, Error> {
    let term = json::parse(text, Limits::FLOW, Code::InvalidFlow)?;
    finish(term, vocab, false)
}

/// Admits a flow term read as part of something larger or built in memory: the flow depth and
/// size limits are checked again, the size on the canonical text.
pub fn admit_flow_value(term: Value, vocab: &Vocabulary) -> Result<AdmittedFlow, Error> {
    json::check_depth(&term, Limits::FLOW.max_depth, Code::InvalidFlow)?;
    finish(term, vocab, true)
}

fn finish(term: Value, vocab: &Vocabulary, check_size: bool) -> Result<AdmittedFlow, Error> {
    let canonical = to_jcs(&term);
    if check_size && canonical.len() > Limits::FLOW.max_bytes {
        return Err(flow_error(
            "size_limit",
            "",
            format!(
                "The flow is {} bytes in canonical form, over the limit of {} bytes.",
                canonical.len(),
                Limits::FLOW.max_bytes
            ),
        ));
    }
    let (order, nodes) = admit_graph(&term, vocab)?;
    let fingerprint = fingerprint(FINGERPRINT_PREFIX, canonical.as_bytes());
    Ok(AdmittedFlow { term, canonical, fingerprint, order, nodes })
}

fn flow_error(rule: &'static str, path: impl Into<String>, message: impl Into<String>) -> Error {
    Error::new(Code::InvalidFlow, rule, path, message)
}

const FLOW_SHAPE: &str = r#"A flow is ["flow", {"<node id>": node, ...}] with one {"kind": "input"} node, llm nodes {"kind": "llm", "system": "...", "policy": [...], "inputs": ["..."]} and one {"kind": "output", "inputs": ["..."]} node."#;

fn admit_graph(term: &Value, vocab: &Vocabulary) -> Result<(Vec<String>, Vec<FlowNode>), Error> {
    let members = shape(term)?;
    if members.len() > MAX_NODES {
        return Err(flow_error(
            "node_limit",
            "/1",
            format!("The flow has {} nodes, over the limit of {MAX_NODES}.", members.len()),
        )
        .with_help("Split the workflow into smaller flows."));
    }
    let mut index: HashMap<&str, usize> = HashMap::with_capacity(members.len());
    for (pos, (id, _)) in members.iter().enumerate() {
        if index.insert(id.as_str(), pos).is_some() {
            return Err(flow_error("duplicate_key", push_path("/1", id), format!("Node id '{id}' appears twice."))
                .with_node(id.as_str()));
        }
    }
    let mut nodes = Vec::with_capacity(members.len());
    for (id, value) in members {
        nodes.push(admit_node(id, value, &index, vocab)?);
    }
    let graph = Graph::new(&nodes, &index);
    check_counts(&nodes)?;
    let order = graph.execution_order(&nodes).map_err(|()| graph.cycle_error(&nodes))?;
    graph.check_reachable(&nodes)?;
    let mut slots: Vec<Option<FlowNode>> = nodes.into_iter().map(Some).collect();
    let ordered: Vec<FlowNode> = order.iter().filter_map(|&i| slots.get_mut(i).and_then(Option::take)).collect();
    let ids = ordered.iter().map(|n| n.id.clone()).collect();
    Ok((ids, ordered))
}

fn shape(term: &Value) -> Result<&[(String, Value)], Error> {
    let Value::Array(items) = term else {
        return Err(
            flow_error("not_a_flow", "", "A flow must be a JSON array [\"flow\", {...}].").with_help(FLOW_SHAPE)
        );
    };
    let [head, body] = items.as_slice() else {
        return Err(flow_error("not_a_flow", "", format!("A flow has exactly 2 elements, got {}.", items.len()))
            .with_help(FLOW_SHAPE));
    };
    if head.as_str() != Some("flow") {
        let suggestion = head.as_str().and_then(|h| suggest(h, ["flow"]));
        return Err(flow_error("not_a_flow", "/0", "A flow starts with the string \"flow\".")
            .with_help(FLOW_SHAPE)
            .with_suggestion(suggestion));
    }
    match body {
        Value::Object(members) => Ok(members),
        _ => Err(flow_error("not_a_flow", "/1", "The second element of a flow must be an object of nodes.")
            .with_help(FLOW_SHAPE)),
    }
}

/// `^[A-Za-z_][A-Za-z0-9_-]{0,63}$`
fn valid_id(id: &str) -> bool {
    let bytes = id.as_bytes();
    match bytes.split_first() {
        Some((first, rest)) => {
            (first.is_ascii_alphabetic() || *first == b'_')
                && rest.len() < MAX_ID
                && rest.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'-')
        }
        None => false,
    }
}

fn admit_node(id: &str, value: &Value, index: &HashMap<&str, usize>, vocab: &Vocabulary) -> Result<FlowNode, Error> {
    let path = push_path("/1", id);
    let err = |rule: &'static str, at: String, message: String| flow_error(rule, at, message).with_node(id);
    if !valid_id(id) {
        return Err(err("node_id", path.clone(), format!("'{id}' is not a valid node id."))
            .with_help("A node id is a letter or _ followed by up to 63 letters, digits, _ or -."));
    }
    let Value::Object(members) = value else {
        return Err(err("type", path.clone(), format!("Node '{id}' must be an object, not {}.", value.type_name()))
            .with_help(FLOW_SHAPE));
    };
    let kind_path = push_path(&path, "kind");
    let kind = match value.get("kind") {
        None => {
            return Err(err("missing_member", path.clone(), format!("Node '{id}' has no 'kind'."))
                .with_help("kind is one of input, llm, output."))
        }
        Some(Value::String(k)) => match NodeKind::parse(k) {
            Some(kind) => kind,
            None => {
                return Err(err("unknown_kind", kind_path, format!("'{k}' is not a node kind."))
                    .with_help("kind is one of input, llm, output.")
                    .with_suggestion(suggest(k, KINDS)))
            }
        },
        Some(other) => {
            return Err(err(
                "type",
                kind_path,
                format!("The kind of node '{id}' must be a string, not {}.", other.type_name()),
            ))
        }
    };
    let allowed = kind.members();
    for (name, _) in members {
        if !allowed.contains(&name.as_str()) {
            return Err(err(
                "unknown_member",
                push_path(&path, name),
                format!("A {} node has no member '{name}'.", kind.as_str()),
            )
            .with_help(format!("Members of a {} node: {}.", kind.as_str(), allowed.join(", ")))
            .with_suggestion(suggest(name, allowed)));
        }
    }
    if let Some(missing) = kind.required().iter().find(|m| value.get(m).is_none()) {
        return Err(err(
            "missing_member",
            path.clone(),
            format!("The {} node '{id}' has no '{missing}'.", kind.as_str()),
        )
        .with_help(format!("Members of a {} node: {}.", kind.as_str(), allowed.join(", "))));
    }
    let mut node =
        FlowNode { id: id.to_string(), kind, inputs: Vec::new(), system: None, template: None, policy: None };
    for (name, member) in members {
        let at = push_path(&path, name);
        match name.as_str() {
            "system" => node.system = Some(text_member(member, &at, "system").map_err(|e| e.with_node(id))?),
            "template" => node.template = Some(text_member(member, &at, "template").map_err(|e| e.with_node(id))?),
            "inputs" => node.inputs = inputs_member(id, kind, member, &at, index).map_err(|e| e.with_node(id))?,
            "policy" => {
                let admitted = policy::admit_value(member.clone(), vocab).map_err(|e| e.prefixed(&at).with_node(id))?;
                node.policy = Some(admitted);
            }
            _ => {}
        }
    }
    if let Some(template) = &node.template {
        check_template(template, node.inputs.len()).map_err(|m| err("template", push_path(&path, "template"), m))?;
    }
    Ok(node)
}

fn text_member(value: &Value, path: &str, name: &str) -> Result<String, Error> {
    match value {
        Value::String(s) if s.len() > MAX_TEXT => Err(flow_error(
            "string_limit",
            path,
            format!("The {name} is {} bytes, over the limit of {MAX_TEXT} bytes.", s.len()),
        )),
        Value::String(s) => Ok(s.clone()),
        other => Err(flow_error("type", path, format!("The {name} must be a string, not {}.", other.type_name()))),
    }
}

fn inputs_member(
    id: &str,
    kind: NodeKind,
    value: &Value,
    path: &str,
    index: &HashMap<&str, usize>,
) -> Result<Vec<String>, Error> {
    let Value::Array(items) = value else {
        return Err(flow_error(
            "type",
            path,
            format!("inputs must be an array of node ids, not {}.", value.type_name()),
        ));
    };
    match kind {
        NodeKind::Output if items.len() != 1 => {
            return Err(flow_error(
                "type",
                path,
                format!("The output node takes exactly 1 input, got {}.", items.len()),
            ))
        }
        _ if items.is_empty() => {
            return Err(flow_error("type", path, "An llm node needs at least 1 input."));
        }
        _ if items.len() > MAX_INPUTS => {
            return Err(flow_error(
                "in_degree",
                path,
                format!("Node '{id}' has {} inputs, over the limit of {MAX_INPUTS}.", items.len()),
            )
            .with_help("Add an intermediate llm node to fan in fewer inputs at a time."))
        }
        _ => {}
    }
    let mut seen: HashSet<&str> = HashSet::with_capacity(items.len());
    let mut inputs = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let at = push_index(path, i);
        let Value::String(name) = item else {
            return Err(flow_error(
                "type",
                at,
                format!("An input must be a node id string, not {}.", item.type_name()),
            ));
        };
        if name == id || !index.contains_key(name.as_str()) {
            let message = if name == id {
                format!("Node '{id}' cannot take itself as an input.")
            } else {
                format!("Input '{name}' names no node of this flow.")
            };
            // suggest breaks ties by bytes, so the map's order does not matter.
            let others = index.keys().copied().filter(|k| *k != id);
            return Err(flow_error("unknown_input", at, message).with_suggestion(suggest(name, others)));
        }
        if !seen.insert(name.as_str()) {
            return Err(flow_error("duplicate_input", at, format!("Input '{name}' is listed twice.")));
        }
        inputs.push(name.clone());
    }
    Ok(inputs)
}

fn check_counts(nodes: &[FlowNode]) -> Result<(), Error> {
    for (kind, rule) in [(NodeKind::Input, "input_count"), (NodeKind::Output, "output_count")] {
        let mut of_kind = nodes.iter().filter(|n| n.kind == kind);
        match (of_kind.next(), of_kind.next()) {
            (Some(_), None) => {}
            (None, _) => {
                return Err(flow_error(
                    rule,
                    "/1",
                    format!("A flow needs exactly one {} node, found none.", kind.as_str()),
                ))
            }
            (Some(_), Some(second)) => {
                return Err(flow_error(
                    rule,
                    push_path("/1", &second.id),
                    format!("A flow needs exactly one {} node; '{}' is a second one.", kind.as_str(), second.id),
                )
                .with_node(second.id.as_str()))
            }
        }
    }
    Ok(())
}

/// Edges by node position (document order): `preds` are a node's inputs, `succs` its consumers.
struct Graph {
    preds: Vec<Vec<usize>>,
    succs: Vec<Vec<usize>>,
}

impl Graph {
    fn new(nodes: &[FlowNode], index: &HashMap<&str, usize>) -> Graph {
        let mut preds = vec![Vec::new(); nodes.len()];
        let mut succs = vec![Vec::new(); nodes.len()];
        for (v, node) in nodes.iter().enumerate() {
            for input in &node.inputs {
                if let Some(&u) = index.get(input.as_str()) {
                    if let Some(p) = preds.get_mut(v) {
                        p.push(u);
                    }
                    if let Some(s) = succs.get_mut(u) {
                        s.push(v);
                    }
                }
            }
        }
        Graph { preds, succs }
    }

    /// Kahn's algorithm taking ready nodes in ascending id order (bytes); `Err` on a cycle.
    fn execution_order(&self, nodes: &[FlowNode]) -> Result<Vec<usize>, ()> {
        let mut waiting: Vec<usize> = self.preds.iter().map(Vec::len).collect();
        let id = |i: usize| nodes.get(i).map(|n| n.id.as_str()).unwrap_or_default();
        let mut ready: BinaryHeap<Reverse<(&str, usize)>> =
            waiting.iter().enumerate().filter(|(_, w)| **w == 0).map(|(i, _)| Reverse((id(i), i))).collect();
        let mut order = Vec::with_capacity(nodes.len());
        while let Some(Reverse((_, u))) = ready.pop() {
            order.push(u);
            for &v in self.succs.get(u).map(Vec::as_slice).unwrap_or_default() {
                if let Some(w) = waiting.get_mut(v) {
                    *w -= 1;
                    if *w == 0 {
                        ready.push(Reverse((id(v), v)));
                    }
                }
            }
        }
        if order.len() == nodes.len() {
            Ok(order)
        } else {
            Err(())
        }
    }

    /// Names the first node in document order that lies on a cycle, with one cycle through it.
    fn cycle_error(&self, nodes: &[FlowNode]) -> Error {
        let component = self.strong_components();
        let mut size = vec![0usize; nodes.len()];
        for &c in &component {
            if let Some(s) = size.get_mut(c) {
                *s += 1;
            }
        }
        let on_cycle = |v: usize| component.get(v).and_then(|&c| size.get(c)).is_some_and(|&s| s > 1);
        let start = (0..nodes.len()).find(|&v| on_cycle(v)).unwrap_or(0);
        let name = |v: usize| nodes.get(v).map(|n| n.id.as_str()).unwrap_or_default();
        let cycle: Vec<&str> = self.cycle_through(start, &component).into_iter().map(name).collect();
        let id = name(start);
        flow_error("cycle", push_path("/1", id), format!("Node '{id}' is on a cycle: {}.", cycle.join(" -> ")))
            .with_help("A flow is acyclic: every node runs once, after all of its inputs.")
            .with_node(id)
    }

    /// Strongly connected components (Tarjan, iterative): component number per node.
    fn strong_components(&self) -> Vec<usize> {
        let n = self.succs.len();
        let unset = usize::MAX;
        let mut index = vec![unset; n];
        let mut low = vec![0usize; n];
        let mut on_stack = vec![false; n];
        let mut component = vec![unset; n];
        let mut stack: Vec<usize> = Vec::new();
        let mut next_index = 0;
        let mut components = 0;
        for root in 0..n {
            if index.get(root).copied() != Some(unset) {
                continue;
            }
            let mut calls: Vec<(usize, usize)> = vec![(root, 0)];
            visit(root, &mut index, &mut low, &mut on_stack, &mut stack, &mut next_index);
            while let Some((v, edge)) = calls.last_mut() {
                let v = *v;
                let next = self.succs.get(v).and_then(|s| s.get(*edge)).copied();
                if let Some(w) = next {
                    *edge += 1;
                    if index.get(w).copied() == Some(unset) {
                        visit(w, &mut index, &mut low, &mut on_stack, &mut stack, &mut next_index);
                        calls.push((w, 0));
                    } else if on_stack.get(w).copied().unwrap_or(false) {
                        let iw = index.get(w).copied().unwrap_or(unset);
                        if let Some(lv) = low.get_mut(v) {
                            *lv = (*lv).min(iw);
                        }
                    }
                    continue;
                }
                calls.pop();
                let lv = low.get(v).copied().unwrap_or(0);
                if let Some(&(parent, _)) = calls.last() {
                    if let Some(lp) = low.get_mut(parent) {
                        *lp = (*lp).min(lv);
                    }
                }
                if Some(lv) == index.get(v).copied() {
                    while let Some(w) = stack.pop() {
                        if let Some(f) = on_stack.get_mut(w) {
                            *f = false;
                        }
                        if let Some(c) = component.get_mut(w) {
                            *c = components;
                        }
                        if w == v {
                            break;
                        }
                    }
                    components += 1;
                }
            }
        }
        component
    }

    /// A shortest cycle start -> ... -> start inside start's component (breadth-first).
    fn cycle_through(&self, start: usize, component: &[usize]) -> Vec<usize> {
        let same = |v: usize| component.get(v) == component.get(start);
        let mut parent = vec![usize::MAX; self.succs.len()];
        let mut queue = std::collections::VecDeque::from([start]);
        let mut last = None;
        'search: while let Some(u) = queue.pop_front() {
            for &v in self.succs.get(u).map(Vec::as_slice).unwrap_or_default() {
                if v == start {
                    last = Some(u);
                    break 'search;
                }
                if same(v) && parent.get(v) == Some(&usize::MAX) {
                    if let Some(p) = parent.get_mut(v) {
                        *p = u;
                    }
                    queue.push_back(v);
                }
            }
        }
        // Walk back from the node that closes the cycle to start.
        let mut back = Vec::new();
        let mut cur = last;
        while let Some(u) = cur {
            if u == start || back.len() > self.succs.len() {
                break;
            }
            back.push(u);
            cur = parent.get(u).copied().filter(|&p| p != usize::MAX);
        }
        let mut cycle = vec![start];
        cycle.extend(back.into_iter().rev());
        cycle.push(start);
        cycle
    }

    /// Every llm node must feed the output, directly or through other nodes.
    fn check_reachable(&self, nodes: &[FlowNode]) -> Result<(), Error> {
        let Some(output) = nodes.iter().position(|n| n.kind == NodeKind::Output) else {
            return Ok(());
        };
        let mut seen = vec![false; nodes.len()];
        let mut todo = vec![output];
        while let Some(v) = todo.pop() {
            match seen.get_mut(v) {
                Some(s) if !*s => *s = true,
                _ => continue,
            }
            todo.extend(self.preds.get(v).map(Vec::as_slice).unwrap_or_default());
        }
        let dangling =
            nodes.iter().zip(&seen).find(|(n, &reached)| n.kind == NodeKind::Llm && !reached).map(|(n, _)| n);
        match dangling {
            None => Ok(()),
            Some(node) => Err(flow_error(
                "unreachable",
                push_path("/1", &node.id),
                format!("The output does not depend on llm node '{}'.", node.id),
            )
            .with_help("Feed it into a node the output depends on, or remove it.")
            .with_node(node.id.as_str())),
        }
    }
}

fn visit(
    v: usize,
    index: &mut [usize],
    low: &mut [usize],
    on_stack: &mut [bool],
    stack: &mut Vec<usize>,
    next: &mut usize,
) {
    if let Some(i) = index.get_mut(v) {
        *i = *next;
    }
    if let Some(l) = low.get_mut(v) {
        *l = *next;
    }
    if let Some(f) = on_stack.get_mut(v) {
        *f = true;
    }
    stack.push(v);
    *next += 1;
}

/// A piece of a template: literal text, or a 1-based input reference as written (`$3`).
#[derive(Debug, PartialEq)]
enum Piece<'t> {
    Text(&'t str),
    Input { n: usize, source: &'t str },
}

/// Splits a template into pieces. `$$` is a literal `$`; `$` followed by digits is a reference
/// (all the digits, so `$12` is input 12); any other `$` is literal.
fn pieces(template: &str) -> Vec<Piece<'_>> {
    let bytes = template.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b != b'$' {
            i += 1;
            continue;
        }
        match bytes.get(i + 1) {
            Some(b'$') => {
                // Keep the first `$` as text, drop the second.
                out.push(Piece::Text(template.get(start..=i).unwrap_or_default()));
                i += 2;
                start = i;
            }
            Some(b'0'..=b'9') => {
                out.push(Piece::Text(template.get(start..i).unwrap_or_default()));
                let mut end = i + 1;
                let mut n: usize = 0;
                while let Some(d @ b'0'..=b'9') = bytes.get(end) {
                    n = n.saturating_mul(10).saturating_add(usize::from(d - b'0'));
                    end += 1;
                }
                out.push(Piece::Input { n, source: template.get(i..end).unwrap_or_default() });
                i = end;
                start = i;
            }
            _ => i += 1,
        }
    }
    out.push(Piece::Text(template.get(start..).unwrap_or_default()));
    out.retain(|p| !matches!(p, Piece::Text("")));
    out
}

/// `$n` must be in 1..=inputs and every input must be referenced (spec §6).
fn check_template(template: &str, inputs: usize) -> Result<(), String> {
    let mut used = vec![false; inputs];
    for piece in pieces(template) {
        if let Piece::Input { n, source } = piece {
            match n.checked_sub(1).and_then(|k| used.get_mut(k)) {
                Some(slot) => *slot = true,
                None => {
                    return Err(format!(
                        "The template refers to {source} but the node has {inputs} input{}.",
                        if inputs == 1 { "" } else { "s" }
                    ))
                }
            }
        }
    }
    match used.iter().position(|u| !u) {
        Some(k) => Err(format!("The template never uses input ${}.", k + 1)),
        None => Ok(()),
    }
}

/// Fills `$1`… of `template` with `inputs` (`$$` is `$`). A reference outside the inputs, which
/// admission rules out, is left as written.
pub fn render_template(template: &str, inputs: &[&str]) -> String {
    let mut out = String::with_capacity(template.len() + inputs.iter().map(|s| s.len()).sum::<usize>());
    for piece in pieces(template) {
        match piece {
            Piece::Text(t) => out.push_str(t),
            Piece::Input { n, source } => match n.checked_sub(1).and_then(|k| inputs.get(k)) {
                Some(text) => out.push_str(text),
                None => out.push_str(source),
            },
        }
    }
    out
}

/// The text a node sends as its user message: its template filled with the inputs, or without a
/// template the inputs joined by a blank line (spec §6).
pub fn join_inputs(node: &FlowNode, inputs: &[&str]) -> String {
    match &node.template {
        Some(template) => render_template(template, inputs),
        None => inputs.join("\n\n"),
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn template_pieces() {
        assert_eq!(
            pieces("a$1b$$c$d$12$"),
            vec![
                Piece::Text("a"),
                Piece::Input { n: 1, source: "$1" },
                Piece::Text("b$"),
                Piece::Text("c$d"),
                Piece::Input { n: 12, source: "$12" },
                Piece::Text("$"),
            ]
        );
    }

    #[test]
    fn node_ids() {
        assert!(valid_id("a"));
        assert!(valid_id("_x-1"));
        assert!(valid_id(&"a".repeat(64)));
        assert!(!valid_id(&"a".repeat(65)));
        assert!(!valid_id("1a"));
        assert!(!valid_id("-a"));
        assert!(!valid_id(""));
        assert!(!valid_id("a b"));
        assert!(!valid_id("é"));
    }
}
