//! Implied requirements of a chat request (spec §4): what `meets_req` tests.

// Errors leave once per document, never from a per-model loop, so their size costs nothing.
#![allow(clippy::result_large_err)]

use crate::error::{push_path, Code, Error};
use crate::json::Value;

/// Tokens charged per image part in the prompt estimate.
const IMAGE_TOKENS: u64 = 1_000;
const MEMBERS: &[&str] = &["tools", "vision", "json", "prompt_tokens", "max_tokens"];
/// Integers above this are not exact in a double (spec §1), so a requirement cannot carry them.
const MAX_EXACT: f64 = 9_007_199_254_740_992.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Requirements {
    pub tools: bool,
    pub vision: bool,
    pub json: bool,
    pub prompt_tokens: u64,
    pub max_tokens: Option<u64>,
}

impl Requirements {
    /// Derives the requirements from a (mutated) chat request. Never fails: members of the wrong
    /// shape simply imply nothing.
    pub fn from_request(request: &Value) -> Requirements {
        let tools = ["tools", "functions"]
            .iter()
            .any(|k| request.get(k).and_then(Value::as_array).is_some_and(|a| !a.is_empty()));
        let json = request
            .get("response_format")
            .and_then(|r| r.get("type"))
            .and_then(Value::as_str)
            .is_some_and(|t| t == "json_object" || t == "json_schema");
        let mut estimate = Estimate::default();
        if let Some(messages) = request.get("messages") {
            estimate.messages(messages);
        }
        if let Some(tools) = request.get("tools") {
            estimate.strings(tools);
        }
        let prompt_tokens = estimate.bytes.div_ceil(4).saturating_add(IMAGE_TOKENS.saturating_mul(estimate.images));
        let max_tokens = ["max_completion_tokens", "max_tokens"]
            .iter()
            .find_map(|k| request.get(k).and_then(Value::as_f64))
            .and_then(token_count);
        Requirements { tools, vision: estimate.images > 0, json, prompt_tokens, max_tokens }
    }

    /// Reads the requirements object a trace records (code `invalid_request`). Missing members
    /// default to false, 0 and null.
    pub fn from_value(value: &Value) -> Result<Requirements, Error> {
        let err = |rule, path: String, msg: String| Error::new(Code::InvalidRequest, rule, path, msg);
        let Some(members) = value.as_object() else {
            return Err(err("type", String::new(), format!("requirements must be an object, got {}.", value.type_name())));
        };
        let mut req = Requirements::default();
        for (name, v) in members {
            let path = push_path("", name);
            let flag = |v: &Value| match v {
                Value::Bool(b) => Ok(*b),
                Value::Null => Ok(false),
                other => Err(err("type", path.clone(), format!("{name} must be true or false, got {}.", other.type_name()))),
            };
            let count = |v: &Value| match v {
                Value::Null => Ok(None),
                Value::Number(x) if x.fract() == 0.0 && *x >= 0.0 && *x <= MAX_EXACT => Ok(Some(*x as u64)),
                other => Err(err(
                    "type",
                    path.clone(),
                    format!("{name} must be a non-negative integer, got {}.", describe(other)),
                )),
            };
            match name.as_str() {
                "tools" => req.tools = flag(v)?,
                "vision" => req.vision = flag(v)?,
                "json" => req.json = flag(v)?,
                "prompt_tokens" => req.prompt_tokens = count(v)?.unwrap_or(0),
                "max_tokens" => req.max_tokens = count(v)?,
                _ => {
                    return Err(err("unknown_field", path.clone(), format!("Requirement '{name}' is not known."))
                        .with_suggestion(crate::suggest::suggest(name, MEMBERS)))
                }
            }
        }
        Ok(req)
    }

    pub fn to_value(&self) -> Value {
        Value::Object(vec![
            ("tools".to_string(), Value::Bool(self.tools)),
            ("vision".to_string(), Value::Bool(self.vision)),
            ("json".to_string(), Value::Bool(self.json)),
            ("prompt_tokens".to_string(), Value::Number(self.prompt_tokens as f64)),
            ("max_tokens".to_string(), self.max_tokens.map_or(Value::Null, |m| Value::Number(m as f64))),
        ])
    }
}

fn describe(value: &Value) -> String {
    match value {
        Value::Number(x) => format!("{x}"),
        other => other.type_name().to_string(),
    }
}

/// A token limit from the request: a non-negative number, rounded up (a fractional limit still
/// asks for that many tokens). Negative limits imply nothing.
fn token_count(x: f64) -> Option<u64> {
    (x >= 0.0).then(|| x.ceil().min(MAX_EXACT) as u64)
}

fn is_image_part(part: &Value) -> bool {
    part.get("type").and_then(Value::as_str).is_some_and(|t| t == "image_url" || t == "input_image")
}

#[derive(Default)]
struct Estimate {
    bytes: u64,
    images: u64,
}

impl Estimate {
    fn messages(&mut self, messages: &Value) {
        let Some(list) = messages.as_array() else {
            self.strings(messages);
            return;
        };
        for message in list {
            let Some(members) = message.as_object() else {
                self.strings(message);
                continue;
            };
            for (name, value) in members {
                match (name.as_str(), value) {
                    ("content", Value::Array(parts)) => parts.iter().for_each(|p| self.part(p)),
                    _ => self.strings(value),
                }
            }
        }
    }

    fn part(&mut self, part: &Value) {
        if !is_image_part(part) {
            self.strings(part);
            return;
        }
        self.images += 1;
        for (name, value) in part.as_object().unwrap_or_default() {
            match (name.as_str(), value) {
                // The url — `image_url.url`, or `image_url` itself when it is a string — is often a
                // data: URI of the whole image, not prompt text; the image is charged as a flat
                // 1,000 tokens instead.
                ("image_url", Value::String(_)) => {}
                ("image_url", Value::Object(inner)) => {
                    for (k, v) in inner {
                        if k != "url" {
                            self.strings(v);
                        }
                    }
                }
                _ => self.strings(value),
            }
        }
    }

    /// Adds the UTF-8 length of every string value (not member names) under `value`.
    fn strings(&mut self, value: &Value) {
        // An explicit stack: request bodies may nest 128 deep, and this must never recurse
        // on untrusted depth.
        let mut stack = vec![value];
        while let Some(v) = stack.pop() {
            match v {
                Value::String(s) => self.bytes = self.bytes.saturating_add(s.len() as u64),
                Value::Array(items) => stack.extend(items.iter()),
                Value::Object(members) => stack.extend(members.iter().map(|(_, v)| v)),
                Value::Null | Value::Bool(_) | Value::Number(_) => {}
            }
        }
    }
}
