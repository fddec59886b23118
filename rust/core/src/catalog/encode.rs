//! The canonical catalog document and its fingerprint (spec §7), and models read back as values.
//!
//! The canonical document is `{"capabilities_extra", "fields", "format", "models"}` in JCS form:
//! models in id order, absent and null members omitted, `fields` and `capabilities_extra` always
//! present (empty when not declared), and each model's `capabilities` listed in ascending name order
//! without repeats (a capability set has no order), so neither member order, model order nor
//! capability order changes the fingerprint.
//! Capabilities are ordered by UTF-8 bytes, like ids.
//!
//! It is streamed through the hasher in chunks: a million-model catalog never needs its whole
//! canonical text in memory just to be fingerprinted.

use super::{Catalog, Column, BOOL_MISSING, BOOL_TRUE, FORMAT, NO_STRING};
use crate::canonical::{cmp_utf16, write_jcs, write_string};
use crate::json::Value;

const CHUNK: usize = 1 << 16;

pub(super) fn fingerprint(catalog: &Catalog) -> String {
    let mut hasher = blake3::Hasher::new();
    write_canonical(catalog, &mut |chunk: &str| {
        hasher.update(chunk.as_bytes());
    });
    format!("cat_{}", hasher.finalize().to_hex())
}

/// A JCS string literal. Only `"`, `\` and control characters are escaped in JCS, and ids almost
/// never hold one, so a vectorisable scan decides between a plain copy and the escaping writer.
fn write_str(s: &str, out: &mut String) {
    if s.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
        write_string(s, out);
    } else {
        out.push('"');
        out.push_str(s);
        out.push('"');
    }
}

/// A JCS number: ECMAScript `Number.prototype.toString`, the same `ryu-js` call the canonical
/// writer makes, without going through a `Value`. Catalog numbers are finite by construction.
fn write_number(x: f64, out: &mut String) {
    out.push_str(ryu_js::Buffer::new().format_finite(x));
}

fn jcs_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    write_str(s, &mut out);
    out
}

/// A model member in canonical order: its `"name":` prefix and where its value lives.
enum Member<'a> {
    Id,
    Str(&'a [u32]),
    Number(&'a [f64]),
    Bool(&'a [u8]),
    Caps,
    Meta,
}

pub(super) fn write_canonical(catalog: &Catalog, sink: &mut dyn FnMut(&str)) {
    let mut out = String::with_capacity(CHUNK + 4096);
    out.push_str("{\"capabilities_extra\":[");
    for (k, c) in catalog.capabilities_extra.iter().enumerate() {
        if k > 0 {
            out.push(',');
        }
        write_str(c, &mut out);
    }
    out.push_str("],\"fields\":[");
    for (k, f) in catalog.declared.iter().enumerate() {
        if k > 0 {
            out.push(',');
        }
        out.push_str("{\"description\":");
        write_str(&f.description, &mut out);
        out.push_str(",\"kind\":");
        write_str(f.kind.as_str(), &mut out);
        out.push_str(",\"name\":");
        write_str(&f.name, &mut out);
        out.push('}');
    }
    out.push_str("],\"format\":");
    write_str(FORMAT, &mut out);
    out.push_str(",\"models\":[");

    let members = canonical_members(catalog);
    let strings: Vec<String> = catalog.strings.iter().map(|s| jcs_str(s)).collect();
    let caps = sorted_caps(catalog);
    for index in 0..catalog.len() {
        if index > 0 {
            out.push(',');
        }
        write_model(catalog, index, &members, &strings, &caps, &mut out);
        if out.len() >= CHUNK {
            sink(&out);
            out.clear();
        }
    }
    out.push_str("]}");
    sink(&out);
}

fn canonical_members(catalog: &Catalog) -> Vec<(String, Member<'_>)> {
    let mut members: Vec<(&str, Member<'_>)> = catalog
        .vocab
        .fields()
        .iter()
        .zip(&catalog.columns)
        .map(|(f, c)| {
            let m = match c {
                Column::Id => Member::Id,
                Column::Str(v) => Member::Str(v),
                Column::Number(v) => Member::Number(v),
                Column::Bool(v) => Member::Bool(v),
                Column::Caps => Member::Caps,
            };
            (f.name.as_str(), m)
        })
        .collect();
    members.push(("meta", Member::Meta));
    members.sort_by(|a, b| cmp_utf16(a.0, b.0));
    members.into_iter().map(|(name, m)| (format!("{}:", jcs_str(name)), m)).collect()
}

/// (bit, JCS name) of every capability, in ascending UTF-8 byte order.
fn sorted_caps(catalog: &Catalog) -> Vec<(usize, String)> {
    let mut caps: Vec<(usize, &String)> = catalog.vocab.capabilities().iter().enumerate().collect();
    caps.sort_by(|a, b| a.1.cmp(b.1));
    caps.into_iter().map(|(bit, name)| (bit, jcs_str(name))).collect()
}

fn write_model(
    catalog: &Catalog,
    index: usize,
    members: &[(String, Member<'_>)],
    strings: &[String],
    caps: &[(usize, String)],
    out: &mut String,
) {
    out.push('{');
    let mut first = true;
    for (key, member) in members {
        let start = out.len();
        if !first {
            out.push(',');
        }
        out.push_str(key);
        let written = match member {
            Member::Id => match catalog.ids.get(index) {
                Some(id) => {
                    write_str(id, out);
                    true
                }
                None => false,
            },
            Member::Str(v) => match v.get(index).copied().filter(|&s| s != NO_STRING) {
                Some(s) => match strings.get(s as usize) {
                    Some(text) => {
                        out.push_str(text);
                        true
                    }
                    None => false,
                },
                None => false,
            },
            Member::Number(v) => match v.get(index).copied().filter(|x| !x.is_nan()) {
                Some(x) => {
                    write_number(x, out);
                    true
                }
                None => false,
            },
            Member::Bool(v) => match v.get(index).copied().filter(|&b| b != BOOL_MISSING) {
                Some(b) => {
                    out.push_str(if b == BOOL_TRUE { "true" } else { "false" });
                    true
                }
                None => false,
            },
            Member::Caps => {
                if catalog.caps_present.get(index).copied().unwrap_or(false) {
                    out.push('[');
                    let mut first_cap = true;
                    for (bit, name) in caps {
                        if catalog.has_cap(index, *bit) {
                            if !first_cap {
                                out.push(',');
                            }
                            first_cap = false;
                            out.push_str(name);
                        }
                    }
                    out.push(']');
                    true
                } else {
                    false
                }
            }
            Member::Meta => match catalog.meta(index) {
                Some(meta) => {
                    write_jcs(meta, out);
                    true
                }
                None => false,
            },
        };
        if written {
            first = false;
        } else {
            out.truncate(start);
        }
    }
    out.push('}');
}

pub(super) fn model_value(catalog: &Catalog, index: usize) -> Option<Value> {
    let id = catalog.ids.get(index)?;
    let mut members = Vec::new();
    for (field, column) in catalog.vocab.fields().iter().zip(&catalog.columns) {
        let value = match column {
            Column::Id => Some(Value::String(id.clone())),
            Column::Str(v) => v
                .get(index)
                .copied()
                .filter(|&s| s != NO_STRING)
                .and_then(|s| catalog.string(s))
                .map(|s| Value::String(s.to_string())),
            Column::Number(v) => v.get(index).copied().filter(|x| !x.is_nan()).map(Value::Number),
            Column::Bool(v) => {
                v.get(index).copied().filter(|&b| b != BOOL_MISSING).map(|b| Value::Bool(b == BOOL_TRUE))
            }
            Column::Caps => catalog.caps_present.get(index).copied().unwrap_or(false).then(|| {
                Value::Array(
                    sorted_cap_names(catalog)
                        .filter(|(bit, _)| catalog.has_cap(index, *bit))
                        .map(|(_, name)| Value::String(name.to_string()))
                        .collect(),
                )
            }),
        };
        if let Some(value) = value {
            members.push((field.name.clone(), value));
        }
    }
    if let Some(meta) = catalog.meta(index) {
        members.push(("meta".to_string(), meta.clone()));
    }
    Some(Value::Object(members))
}

fn sorted_cap_names(catalog: &Catalog) -> impl Iterator<Item = (usize, &str)> {
    let mut caps: Vec<(usize, &str)> =
        catalog.vocab.capabilities().iter().enumerate().map(|(bit, c)| (bit, c.as_str())).collect();
    caps.sort_by(|a, b| a.1.cmp(b.1));
    caps.into_iter()
}
