//! The canonical catalog document and its fingerprint (spec §7), and models read back as values.
//!
//! The canonical document is `{"capabilities_extra", "fields", "format", "models"}` in JCS form:
//! models in id order, absent and null members omitted, `fields` and `capabilities_extra` always
//! present (empty when not declared, `capabilities_extra` without repeats or core names, every
//! declaration with a `description`), each model's `capabilities` as it listed them. Neither
//! member order nor model order changes the fingerprint.
//!
//! It is streamed through the hasher in chunks: a million-model catalog never needs its whole
//! canonical text in memory just to be fingerprinted.

use super::{Catalog, Column, BOOL_MISSING, BOOL_TRUE, FORMAT, NO_STRING};
use crate::canonical::{cmp_utf16, write_jcs, write_string};
use crate::json::Value;

const CHUNK: usize = 1 << 16;

/// Models per worker per round of a parallel fingerprint (a few megabytes of text each).
const BLOCK: usize = 8_192;

pub(super) fn fingerprint(catalog: &Catalog) -> String {
    let mut hasher = blake3::Hasher::new();
    let workers = super::workers(catalog.len());
    if workers <= 1 || !hash_in_parallel(catalog, workers, &mut hasher) {
        hasher = blake3::Hasher::new();
        write_canonical(catalog, &mut |chunk: &str| {
            hasher.update(chunk.as_bytes());
        });
    }
    format!("cat_{}", hasher.finalize().to_hex())
}

/// Writing the canonical text is the slow part of fingerprinting, so workers write consecutive
/// blocks of models in rounds and this thread hashes them in order. False if a worker failed.
fn hash_in_parallel(catalog: &Catalog, workers: usize, hasher: &mut blake3::Hasher) -> bool {
    let writer = Writer::new(catalog);
    let mut head = String::new();
    write_head(catalog, &mut head);
    hasher.update(head.as_bytes());
    let n = catalog.len();
    let mut start = 0;
    while start < n {
        let ranges: Vec<(usize, usize)> = (0..workers)
            .map(|k| (start + k * BLOCK).min(n))
            .map(|from| (from, (from + BLOCK).min(n)))
            .collect();
        let texts: Vec<Option<String>> = std::thread::scope(|scope| {
            let writer = &writer;
            let handles: Vec<_> = ranges
                .iter()
                .skip(1)
                .map(|&(from, to)| scope.spawn(move || writer.models(from, to)))
                .collect();
            let mine = ranges.first().map(|&(from, to)| writer.models(from, to));
            std::iter::once(mine).chain(handles.into_iter().map(|h| h.join().ok())).collect()
        });
        for text in texts {
            let Some(text) = text else { return false };
            hasher.update(text.as_bytes());
        }
        start = ranges.last().map_or(n, |&(_, to)| to);
    }
    hasher.update(b"]}");
    true
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

/// Everything but the models: `{"capabilities_extra":[…],"fields":[…],"format":…,"models":[`.
fn write_head(catalog: &Catalog, out: &mut String) {
    out.push_str("{\"capabilities_extra\":[");
    for (k, c) in catalog.capabilities_extra.iter().enumerate() {
        if k > 0 {
            out.push(',');
        }
        write_str(c, out);
    }
    out.push_str("],\"fields\":[");
    for (k, f) in catalog.declared.iter().enumerate() {
        if k > 0 {
            out.push(',');
        }
        out.push_str("{\"description\":");
        write_str(&f.description, out);
        out.push_str(",\"kind\":");
        write_str(f.kind.as_str(), out);
        out.push_str(",\"name\":");
        write_str(&f.name, out);
        out.push('}');
    }
    out.push_str("],\"format\":");
    write_str(FORMAT, out);
    out.push_str(",\"models\":[");
}

pub(super) fn write_canonical(catalog: &Catalog, sink: &mut dyn FnMut(&str)) {
    let mut out = String::with_capacity(CHUNK + 4096);
    write_head(catalog, &mut out);
    let writer = Writer::new(catalog);
    for index in 0..catalog.len() {
        writer.model(index, &mut out);
        if out.len() >= CHUNK {
            sink(&out);
            out.clear();
        }
    }
    out.push_str("]}");
    sink(&out);
}

/// What writing a model needs, prepared once per catalog: members in canonical order, interned
/// strings and capability names already in JCS form.
struct Writer<'a> {
    catalog: &'a Catalog,
    members: Vec<(String, Member<'a>)>,
    strings: Vec<String>,
    caps: Vec<String>,
}

impl<'a> Writer<'a> {
    fn new(catalog: &'a Catalog) -> Writer<'a> {
        Writer {
            catalog,
            members: canonical_members(catalog),
            strings: catalog.strings.iter().map(|s| jcs_str(s)).collect(),
            caps: cap_names(catalog),
        }
    }

    /// Models `from..to`, each preceded by a comma but the very first.
    fn models(&self, from: usize, to: usize) -> String {
        let mut out = String::with_capacity(to.saturating_sub(from) * 512);
        for index in from..to {
            self.model(index, &mut out);
        }
        out
    }

    fn model(&self, index: usize, out: &mut String) {
        if index > 0 {
            out.push(',');
        }
        write_model(self.catalog, index, &self.members, &self.strings, &self.caps, out);
    }
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

/// The JCS text of every capability name, by bit position.
fn cap_names(catalog: &Catalog) -> Vec<String> {
    catalog.vocab.capabilities().iter().map(|c| jcs_str(c)).collect()
}

fn write_model(
    catalog: &Catalog,
    index: usize,
    members: &[(String, Member<'_>)],
    strings: &[String],
    caps: &[String],
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
            Member::Caps => match catalog.caps_listed(index) {
                Some(listed) => {
                    out.push('[');
                    for (k, &bit) in listed.iter().enumerate() {
                        if k > 0 {
                            out.push(',');
                        }
                        out.push_str(caps.get(bit as usize).map_or("null", String::as_str));
                    }
                    out.push(']');
                    true
                }
                None => false,
            },
            Member::Meta => match catalog.meta(index) {
                Some(meta) => {
                    write_meta(meta, out);
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

/// `meta` is usually a small flat object already in canonical member order
/// (`{"source": …, "upstream": …}`); that is written directly, anything else by the general
/// canonical writer.
fn write_meta(meta: &Value, out: &mut String) {
    let flat = meta.as_object().filter(|members| {
        members.windows(2).all(|w| matches!(w, [a, b] if cmp_utf16(&a.0, &b.0).is_lt()))
            && members.iter().all(|(_, v)| !matches!(v, Value::Array(_) | Value::Object(_)))
    });
    let Some(members) = flat else {
        write_jcs(meta, out);
        return;
    };
    out.push('{');
    for (k, (name, value)) in members.iter().enumerate() {
        if k > 0 {
            out.push(',');
        }
        write_str(name, out);
        out.push(':');
        match value {
            Value::String(s) => write_str(s, out),
            Value::Number(x) if x.is_finite() => write_number(*x, out),
            other => write_jcs(other, out),
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
            Column::Caps => catalog.caps_listed(index).map(|listed| {
                let names = catalog.vocab.capabilities();
                Value::Array(
                    listed.iter().filter_map(|&bit| names.get(bit as usize)).map(|c| Value::String(c.clone())).collect(),
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
