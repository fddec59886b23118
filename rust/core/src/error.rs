//! Errors are data: a stable code, a stable rule, a JSON Pointer path and one sentence.

use std::fmt;

/// Stable top-level error codes. The order is the order of `ERROR_CODES`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    InvalidPolicy,
    InvalidFlow,
    InvalidCatalog,
    InvalidRequest,
    NoCandidates,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Code::InvalidPolicy => "invalid_policy",
            Code::InvalidFlow => "invalid_flow",
            Code::InvalidCatalog => "invalid_catalog",
            Code::InvalidRequest => "invalid_request",
            Code::NoCandidates => "no_candidates",
        }
    }
}

/// Every code, enumerable so bindings can keep their own lists in step (a test checks it).
pub const ERROR_CODES: &[&str] = &[
    "invalid_policy",
    "invalid_flow",
    "invalid_catalog",
    "invalid_request",
    "no_candidates",
];

/// Every rule (sub-code) any error may carry. Keep in step with docs/spec.md.
pub const ERROR_RULES: &[&str] = &[
    // strict JSON reader (spec §1)
    "json_syntax",
    "invalid_utf8",
    "lone_surrogate",
    "duplicate_key",
    "non_finite_number",
    "integer_precision",
    "depth_limit",
    "size_limit",
    // policy admission (spec §2)
    "not_a_term",
    "unknown_op",
    "arity",
    "type",
    "unknown_field",
    "field_kind",
    "unknown_capability",
    "array_limit",
    "string_limit",
    "bad_fallback",
    // flow admission (spec §6)
    "not_a_flow",
    "node_id",
    "unknown_kind",
    "unknown_member",
    "missing_member",
    "input_count",
    "output_count",
    "node_limit",
    "in_degree",
    "unknown_input",
    "duplicate_input",
    "cycle",
    "unreachable",
    "template",
    // catalog (spec §7)
    "duplicate_model",
    "shadowed_field",
    // evaluation (spec §5)
    "empty_cascade",
];

#[derive(Debug, Clone, PartialEq)]
pub struct Error {
    pub code: Code,
    /// One of `ERROR_RULES`.
    pub rule: &'static str,
    /// JSON Pointer (RFC 6901) to the offending node; "" is the whole input.
    pub path: String,
    /// One sentence.
    pub message: String,
    pub help: Option<String>,
    pub did_you_mean: Option<String>,
    /// Flow node id, for `invalid_flow` and policy errors inside a flow.
    pub node: Option<String>,
}

impl Error {
    pub fn new(code: Code, rule: &'static str, path: impl Into<String>, message: impl Into<String>) -> Self {
        Error {
            code,
            rule,
            path: path.into(),
            message: message.into(),
            help: None,
            did_you_mean: None,
            node: None,
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn with_suggestion(mut self, suggestion: Option<String>) -> Self {
        self.did_you_mean = suggestion;
        self
    }

    pub fn with_node(mut self, node: impl Into<String>) -> Self {
        self.node = Some(node.into());
        self
    }

    /// Re-roots the path under `prefix` (e.g. "/policy_ir").
    pub fn prefixed(mut self, prefix: &str) -> Self {
        self.path = format!("{prefix}{}", self.path);
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}) at '{}': {}", self.code.as_str(), self.rule, self.path, self.message)?;
        if let Some(s) = &self.did_you_mean {
            write!(f, " Did you mean '{s}'?")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

/// Appends one reference token to a JSON Pointer, escaping `~` and `/` (RFC 6901).
pub fn push_path(base: &str, token: &str) -> String {
    let mut out = String::with_capacity(base.len() + token.len() + 1);
    out.push_str(base);
    out.push('/');
    for c in token.chars() {
        match c {
            '~' => out.push_str("~0"),
            '/' => out.push_str("~1"),
            _ => out.push(c),
        }
    }
    out
}

pub fn push_index(base: &str, index: usize) -> String {
    format!("{base}/{index}")
}
