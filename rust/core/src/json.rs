//! A strict JSON reader (spec §1) and the value type every other module works on.
//!
//! Owned by the parsing/admission work: the parser body is filled in there.

/// A JSON value. Objects keep members in document order (duplicates are rejected on read).
/// Every number is a finite double: the reader rejects what a double cannot hold exactly
/// (integer literals past 2^53) or at all (overflow).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    Array(Vec<Value>),
    Object(Vec<(String, Value)>),
}

impl Value {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(*n),
            _ => None,
        }
    }
    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }
    pub fn as_object(&self) -> Option<&[(String, Value)]> {
        match self {
            Value::Object(o) => Some(o),
            _ => None,
        }
    }
    /// Member lookup on an object (linear: objects in terms are small).
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_object()?.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
    /// JSON type name used in error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        }
    }
}

/// Reader limits (spec §1).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_bytes: usize,
    pub max_depth: usize,
}

impl Limits {
    pub const POLICY: Limits = Limits { max_bytes: 1 << 20, max_depth: 64 };
    pub const FLOW: Limits = Limits { max_bytes: 8 << 20, max_depth: 128 };
    pub const REQUEST: Limits = Limits { max_bytes: 64 << 20, max_depth: 128 };
    pub const CATALOG: Limits = Limits { max_bytes: 4 << 30, max_depth: 32 };
}
