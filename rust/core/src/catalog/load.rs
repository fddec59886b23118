//! Building a [`Catalog`] from its document (spec §7): validation, interning and id order.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::ops::Range;

use super::split::Skeleton;
use super::{encode, Catalog, Column, Declared, BOOL_FALSE, BOOL_MISSING, BOOL_TRUE, FORMAT, NO_STRING};
use crate::error::{push_index, push_path, Code, Error};
use crate::json::{self, Limits, Value};
use crate::suggest::suggest;
use crate::vocab::{FieldKind, Vocabulary};

const TOP_MEMBERS: &[&str] = &["format", "fields", "capabilities_extra", "models"];
const DECL_MEMBERS: &[&str] = &["name", "kind", "description"];
/// Model members that are not fields but may not be declared as extensions either.
const RESERVED: &[&str] = &["meta"];

fn err(rule: &'static str, path: impl Into<String>, message: impl Into<String>) -> Error {
    Error::new(Code::InvalidCatalog, rule, path, message)
}

fn unknown(path: String, what: &str, name: &str, known: &[&str]) -> Error {
    err("unknown_field", path, format!("{what} '{name}' is not known."))
        .with_suggestion(suggest(name, known))
}

fn duplicate(id: &str, first: usize, later: usize) -> Error {
    err(
        "duplicate_model",
        push_path(&push_index("/models", later), "id"),
        format!("Model id '{id}' appears twice (first at /models/{first})."),
    )
}

/// Builds from a parsed document.
pub(super) fn build(doc: Value) -> Result<Catalog, Error> {
    let Value::Object(members) = doc else {
        return Err(err("type", "", format!("A catalog is a JSON object, got {}.", doc.type_name())));
    };
    // Checks run in a fixed order — member names, format, presence of models, declarations,
    // then the models in document order — so every reader reports the same first error.
    let mut head = Head::default();
    let mut models = None;
    for (name, value) in members {
        if name == "models" {
            models = Some(value);
        } else {
            head.set(name, value)?;
        }
    }
    check_format(head.format.as_ref())?;
    let Some(models) = models else {
        return Err(err("missing_member", "", "A catalog needs a models array."));
    };
    let mut builder = head.start(0)?;
    let Value::Array(models) = models else {
        return Err(err("type", "/models", format!("models must be an array, got {}.", models.type_name())));
    };
    builder.reserve(models.len());
    // Duplicates are caught where they occur, as a reader walking the document would.
    let mut seen = FxMap::default();
    for (index, model) in models.into_iter().enumerate() {
        builder.add(index, model)?;
        if let Some(id) = builder.ids.last() {
            if let Some(first) = seen.insert(id.clone(), index) {
                return Err(duplicate(id, first, index));
            }
        }
    }
    builder.finish()
}

/// Builds from a split document, reading one model at a time (see `split.rs`). None on any
/// error at all: the caller then reads the whole text, which reports the same error a plain read
/// would, in the same order.
pub(super) fn build_split(bytes: &[u8], skeleton: &Skeleton) -> Option<Catalog> {
    let (models_at, elements) = skeleton.models.as_ref()?;
    let mut head = Head::default();
    let mut names: Vec<String> = Vec::with_capacity(skeleton.members.len());
    for (k, (name, value)) in skeleton.members.iter().enumerate() {
        let Value::String(name) = read(bytes, name, 0)? else { return None };
        if names.contains(&name) {
            return None;
        }
        names.push(name.clone());
        if k != *models_at {
            head.set(name, read(bytes, value, 1)?).ok()?;
        }
    }
    let mut builder = head.start(elements.len()).ok()?;
    let workers = super::workers(elements.len());
    if workers <= 1 {
        read_models(bytes, elements, 0, &mut builder)?;
        return builder.finish().ok();
    }
    // Equal shares of the models, the first read on this thread; forks are appended in order.
    let share = elements.len().div_ceil(workers);
    let mut shares = elements.chunks(share);
    let first = shares.next()?;
    let forks: Vec<Option<Builder>> = std::thread::scope(|scope| {
        let handles: Vec<_> = shares
            .enumerate()
            .map(|(k, part)| {
                let mut fork = builder.fork(part.len());
                scope.spawn(move || read_models(bytes, part, (k + 1) * share, &mut fork).map(|()| fork))
            })
            .collect();
        let mine = read_models(bytes, first, 0, &mut builder);
        let forks = handles.into_iter().map(|h| h.join().ok().flatten()).collect();
        mine.map_or_else(|| vec![None], |()| forks)
    });
    for fork in forks {
        builder.append(fork?).ok()?;
    }
    builder.finish().ok()
}

/// Reads and adds the models at `ranges`, the first being model `base` of the document.
fn read_models(bytes: &[u8], ranges: &[Range<usize>], base: usize, builder: &mut Builder) -> Option<()> {
    // One reader for every model: models share a shape, so it learns their sizes once.
    let mut reader = json::Reader::new(limits(2)?, Code::InvalidCatalog);
    for (k, range) in ranges.iter().enumerate() {
        builder.add(base + k, reader.read(bytes.get(range.clone())?).ok()?).ok()?;
    }
    Some(())
}

/// Reader limits for a part of a catalog document that sits `nesting` containers deep in it.
fn limits(nesting: usize) -> Option<Limits> {
    Some(Limits { max_bytes: Limits::CATALOG.max_bytes, max_depth: Limits::CATALOG.max_depth.checked_sub(nesting)? })
}

/// Strict-reads one part of a catalog document that sits `nesting` containers deep in it.
fn read(bytes: &[u8], range: &Range<usize>, nesting: usize) -> Option<Value> {
    json::parse(bytes.get(range.clone())?, limits(nesting)?, Code::InvalidCatalog).ok()
}

/// The top-level members other than `models`.
#[derive(Default)]
struct Head {
    format: Option<Value>,
    fields: Option<Value>,
    extra: Option<Value>,
}

impl Head {
    fn set(&mut self, name: String, value: Value) -> Result<(), Error> {
        match name.as_str() {
            "format" => self.format = Some(value),
            "fields" => self.fields = Some(value),
            "capabilities_extra" => self.extra = Some(value),
            _ => return Err(unknown(push_path("", &name), "Catalog member", &name, TOP_MEMBERS)),
        }
        Ok(())
    }

    /// Checks the format and declarations and readies a builder for `capacity` models.
    fn start(self, capacity: usize) -> Result<Builder, Error> {
        check_format(self.format.as_ref())?;
        let mut vocab = Vocabulary::core();
        let declared = declare_fields(self.fields, &mut vocab)?;
        let capabilities_extra = declare_capabilities(self.extra, &mut vocab)?;
        Ok(Builder::new(vocab, declared, capabilities_extra, capacity))
    }
}

fn check_format(format: Option<&Value>) -> Result<(), Error> {
    match format {
        // Absent means the only format there is, so hand-written catalogs stay short.
        None => Ok(()),
        Some(Value::String(s)) if s == FORMAT => Ok(()),
        Some(other) => Err(err("type", "/format", format!("format must be \"{FORMAT}\", got {}.", describe(other)))),
    }
}

fn describe(value: &Value) -> String {
    match value {
        Value::String(s) => format!("\"{s}\""),
        other => other.type_name().to_string(),
    }
}

fn declare_fields(fields: Option<Value>, vocab: &mut Vocabulary) -> Result<Vec<Declared>, Error> {
    let items = match fields {
        None => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(other) => {
            return Err(err("type", "/fields", format!("fields must be an array, got {}.", other.type_name())))
        }
    };
    let mut declared = Vec::with_capacity(items.len());
    for (k, item) in items.into_iter().enumerate() {
        let path = push_index("/fields", k);
        let Value::Object(members) = item else {
            return Err(err("type", path, format!("A field declaration is an object, got {}.", item.type_name())));
        };
        if let Some((other, _)) = members.iter().find(|(m, _)| !DECL_MEMBERS.contains(&m.as_str())) {
            return Err(unknown(push_path(&path, other), "Field declaration member", other, DECL_MEMBERS));
        }
        let member = |name: &str| members.iter().find(|(m, _)| m == name).map(|(_, v)| v);
        let at = |name: &str| push_path(&path, name);
        let name = match member("name") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            _ => return Err(err("type", at("name"), "A field name is a non-empty string.")),
        };
        if vocab.field(&name).is_some() || RESERVED.contains(&name.as_str()) {
            let why = if vocab.field(&name).is_some_and(|f| f.core) { "shadows a core field" } else { "is declared twice" };
            return Err(err("shadowed_field", at("name"), format!("Extension field '{name}' {why}.")));
        }
        let kind = match member("kind").and_then(Value::as_str).and_then(FieldKind::parse) {
            Some(k @ (FieldKind::Number | FieldKind::Bool | FieldKind::String)) => k,
            _ => return Err(err("type", at("kind"), "An extension field's kind is number, bool or string.")),
        };
        let description = match member("description") {
            None => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(_) => return Err(err("type", at("description"), "A field description is a string.")),
        };
        vocab.add_field(&name, kind, &description);
        declared.push(Declared { name, kind, description });
    }
    Ok(declared)
}

fn declare_capabilities(extra: Option<Value>, vocab: &mut Vocabulary) -> Result<Vec<String>, Error> {
    let items = match extra {
        None => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(other) => {
            return Err(err(
                "type",
                "/capabilities_extra",
                format!("capabilities_extra must be an array, got {}.", other.type_name()),
            ))
        }
    };
    let mut added = Vec::new();
    for (k, item) in items.into_iter().enumerate() {
        match item {
            Value::String(s) => {
                // Repeats and core names are harmless: the vocabulary is a set.
                if !vocab.has_capability(&s) {
                    vocab.add_capability(&s);
                    added.push(s);
                }
            }
            _ => {
                return Err(err(
                    "type",
                    push_index("/capabilities_extra", k),
                    "A capability name is a string.",
                ))
            }
        }
    }
    Ok(added)
}

/// FxHash: the interner and capability lookups hash short strings millions of times for a large
/// catalog, where SipHash's DoS resistance buys nothing (the document is already in memory).
#[derive(Default)]
struct Fx(u64);

impl Hasher for Fx {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            for (dst, src) in word.iter_mut().zip(chunk) {
                *dst = *src;
            }
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(K);
        }
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<Fx>>;

/// What a model member feeds.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Slot {
    /// Index into the vocabulary's fields (and `Builder::columns`).
    Field(usize, FieldKind),
    Meta,
}

struct Builder {
    vocab: Vocabulary,
    declared: Vec<Declared>,
    capabilities_extra: Vec<String>,
    /// Member name → slot, in vocabulary order then `meta`.
    slots: Vec<(String, Slot)>,
    /// Slot position used by the previous model at each member position: catalogs repeat one
    /// member order, so a single string comparison usually finds the slot.
    hints: Vec<usize>,
    id_col: usize,
    provider_col: usize,
    ids: Vec<String>,
    columns: Vec<Column>,
    strings: Vec<String>,
    interned: FxMap<String, u32>,
    caps_index: FxMap<String, u32>,
    caps_words: usize,
    caps: Vec<u64>,
    caps_present: Vec<bool>,
    /// Each model's capabilities as listed (bit positions), for the canonical form: model `i`
    /// owns `caps_list[caps_offsets[i]..caps_offsets[i + 1]]`.
    caps_list: Vec<u32>,
    caps_offsets: Vec<usize>,
    meta: Vec<Option<Value>>,
}

impl Builder {
    fn new(vocab: Vocabulary, declared: Vec<Declared>, capabilities_extra: Vec<String>, capacity: usize) -> Builder {
        let mut slots: Vec<(String, Slot)> =
            vocab.fields().iter().enumerate().map(|(i, f)| (f.name.clone(), Slot::Field(i, f.kind))).collect();
        slots.push(("meta".to_string(), Slot::Meta));
        let columns = vocab
            .fields()
            .iter()
            .map(|f| match (f.name.as_str(), f.kind) {
                ("id", _) => Column::Id,
                (_, FieldKind::String) => Column::Str(Vec::with_capacity(capacity)),
                (_, FieldKind::Number) => Column::Number(Vec::with_capacity(capacity)),
                (_, FieldKind::Bool) => Column::Bool(Vec::with_capacity(capacity)),
                (_, FieldKind::Caps) => Column::Caps,
            })
            .collect();
        let position = |name: &str| vocab.fields().iter().position(|f| f.name == name).unwrap_or(usize::MAX);
        let caps_index = vocab
            .capabilities()
            .iter()
            .enumerate()
            .filter_map(|(i, c)| Some((c.clone(), u32::try_from(i).ok()?)))
            .collect();
        let caps_words = vocab.capabilities().len().div_ceil(64).max(1);
        Builder {
            id_col: position("id"),
            provider_col: position("provider"),
            slots,
            hints: Vec::new(),
            ids: Vec::with_capacity(capacity),
            columns,
            strings: Vec::new(),
            interned: FxMap::default(),
            caps_index,
            caps_words,
            caps: Vec::with_capacity(capacity.saturating_mul(caps_words)),
            caps_present: Vec::with_capacity(capacity),
            caps_list: Vec::new(),
            caps_offsets: vec![0],
            meta: Vec::with_capacity(capacity),
            vocab,
            declared,
            capabilities_extra,
        }
    }

    fn reserve(&mut self, models: usize) {
        self.ids.reserve(models);
        for column in &mut self.columns {
            match column {
                Column::Str(v) => v.reserve(models),
                Column::Number(v) => v.reserve(models),
                Column::Bool(v) => v.reserve(models),
                Column::Id | Column::Caps => {}
            }
        }
        self.caps.reserve(models.saturating_mul(self.caps_words));
        self.caps_present.reserve(models);
        self.caps_offsets.reserve(models);
        self.meta.reserve(models);
    }

    /// An empty builder for the same vocabulary, for a worker reading another share of the models.
    fn fork(&self, capacity: usize) -> Builder {
        Builder::new(self.vocab.clone(), Vec::new(), Vec::new(), capacity)
    }

    /// Appends the models a fork read (which come after this builder's in document order).
    fn append(&mut self, other: Builder) -> Result<(), Error> {
        let mut map = Vec::with_capacity(other.strings.len());
        for s in other.strings {
            map.push(self.intern(s, String::new)?);
        }
        self.ids.extend(other.ids);
        for (mine, theirs) in self.columns.iter_mut().zip(other.columns) {
            match (mine, theirs) {
                (Column::Str(a), Column::Str(b)) => {
                    a.extend(b.into_iter().map(|i| map.get(i as usize).copied().unwrap_or(NO_STRING)));
                }
                (Column::Number(a), Column::Number(b)) => a.extend(b),
                (Column::Bool(a), Column::Bool(b)) => a.extend(b),
                _ => {}
            }
        }
        self.caps.extend(other.caps);
        self.caps_present.extend(other.caps_present);
        let base = self.caps_list.len();
        self.caps_list.extend(other.caps_list);
        self.caps_offsets.extend(other.caps_offsets.into_iter().skip(1).map(|o| o + base));
        self.meta.extend(other.meta);
        Ok(())
    }

    fn slot(&mut self, position: usize, name: &str) -> Option<Slot> {
        if let Some(&hint) = self.hints.get(position) {
            if let Some((known, slot)) = self.slots.get(hint) {
                if known == name {
                    return Some(*slot);
                }
            }
        }
        let found = self.slots.iter().position(|(known, _)| known == name)?;
        if let Some(h) = self.hints.get_mut(position) {
            *h = found;
        } else if self.hints.len() == position {
            self.hints.push(found);
        }
        self.slots.get(found).map(|(_, s)| *s)
    }

    fn intern(&mut self, s: String, path: impl FnOnce() -> String) -> Result<u32, Error> {
        if let Some(&i) = self.interned.get(s.as_str()) {
            return Ok(i);
        }
        let i = u32::try_from(self.strings.len())
            .ok()
            .filter(|&i| i != NO_STRING)
            .ok_or_else(|| err("type", path(), "The catalog has too many distinct strings."))?;
        self.strings.push(s.clone());
        self.interned.insert(s, i);
        Ok(i)
    }

    fn add(&mut self, index: usize, model: Value) -> Result<(), Error> {
        // Built only for an error: a million-model catalog should not format a million paths.
        let path = || push_index("/models", index);
        let Value::Object(members) = model else {
            return Err(err("type", path(), format!("A model is a JSON object, got {}.", model.type_name())));
        };
        // Every column gets its "missing" entry first; members overwrite it.
        for column in &mut self.columns {
            match column {
                Column::Str(v) => v.push(NO_STRING),
                Column::Number(v) => v.push(f64::NAN),
                Column::Bool(v) => v.push(BOOL_MISSING),
                Column::Id | Column::Caps => {}
            }
        }
        let words = self.caps.len();
        self.caps.resize(words + self.caps_words, 0);
        self.caps_present.push(false);
        self.meta.push(None);
        let mut id = None;
        let mut has_provider = false;
        for (position, (name, value)) in members.into_iter().enumerate() {
            let Some(slot) = self.slot(position, &name) else {
                let known: Vec<&str> = self.slots.iter().map(|(n, _)| n.as_str()).collect();
                return Err(unknown(push_path(&path(), &name), "Model field", &name, &known));
            };
            if matches!(value, Value::Null) {
                continue;
            }
            let at = || push_path(&path(), &name);
            match slot {
                Slot::Meta => {
                    if let Some(m) = self.meta.last_mut() {
                        *m = Some(value);
                    }
                }
                Slot::Field(col, kind) => match (kind, value) {
                    (FieldKind::String, Value::String(s)) => {
                        if s.is_empty() && (col == self.id_col || col == self.provider_col) {
                            return Err(err("type", at(), format!("{name} must be a non-empty string.")));
                        }
                        if col == self.id_col {
                            id = Some(s);
                        } else {
                            has_provider |= col == self.provider_col;
                            let i = self.intern(s, at)?;
                            if let Some(Column::Str(v)) = self.columns.get_mut(col) {
                                set_last(v, i);
                            }
                        }
                    }
                    (FieldKind::Number, Value::Number(x)) => {
                        if let Some(Column::Number(v)) = self.columns.get_mut(col) {
                            set_last(v, x);
                        }
                    }
                    (FieldKind::Bool, Value::Bool(b)) => {
                        if let Some(Column::Bool(v)) = self.columns.get_mut(col) {
                            set_last(v, if b { BOOL_TRUE } else { BOOL_FALSE });
                        }
                    }
                    (FieldKind::Caps, Value::Array(items)) => self.set_caps(at, items)?,
                    (kind, v) => {
                        let want = match kind {
                            FieldKind::Number => "a number",
                            FieldKind::Bool => "true or false",
                            FieldKind::String => "a string",
                            FieldKind::Caps => "an array of capability names",
                        };
                        return Err(err("type", at(), format!("{name} must be {want}, got {}.", v.type_name())));
                    }
                },
            }
        }
        let Some(id) = id else {
            return Err(err("missing_member", path(), "A model needs an id."));
        };
        if !has_provider {
            return Err(err("missing_member", path(), format!("Model '{id}' needs a provider.")));
        }
        self.ids.push(id);
        self.caps_offsets.push(self.caps_list.len());
        Ok(())
    }

    /// `path` is only built for an error: most models list capabilities.
    fn set_caps(&mut self, path: impl Fn() -> String, items: Vec<Value>) -> Result<(), Error> {
        if let Some(p) = self.caps_present.last_mut() {
            *p = true;
        }
        let base = self.caps.len().saturating_sub(self.caps_words);
        for (k, item) in items.into_iter().enumerate() {
            let at = || push_index(&path(), k);
            let Value::String(name) = item else {
                return Err(err("type", at(), format!("A capability is a string, got {}.", item.type_name())));
            };
            let Some(&bit) = self.caps_index.get(name.as_str()) else {
                let known: Vec<&str> = self.vocab.capabilities().iter().map(String::as_str).collect();
                return Err(err(
                    "unknown_capability",
                    at(),
                    format!("Capability '{name}' is not in the vocabulary; declare it in capabilities_extra."),
                )
                .with_suggestion(suggest(&name, &known)));
            };
            self.caps_list.push(bit);
            let bit = bit as usize;
            if let Some(word) = self.caps.get_mut(base + bit / 64) {
                *word |= 1u64 << (bit % 64);
            }
        }
        Ok(())
    }

    fn finish(mut self) -> Result<Catalog, Error> {
        if let Some(order) = self.sort_order()? {
            self.permute(&order);
        }
        let mut strings_sorted: Vec<u32> = (0..self.strings.len()).filter_map(|i| u32::try_from(i).ok()).collect();
        strings_sorted.sort_unstable_by(|&a, &b| self.strings.get(a as usize).cmp(&self.strings.get(b as usize)));
        let mut catalog = Catalog {
            vocab: self.vocab,
            declared: self.declared,
            capabilities_extra: self.capabilities_extra,
            ids: self.ids,
            columns: self.columns,
            strings: self.strings,
            strings_sorted,
            caps_words: self.caps_words,
            caps: self.caps,
            caps_present: self.caps_present,
            caps_list: self.caps_list,
            caps_offsets: self.caps_offsets,
            cap_columns: Default::default(),
            meta: self.meta,
            fingerprint: String::new(),
        };
        catalog.fingerprint = encode::fingerprint(&catalog);
        Ok(catalog)
    }

    /// The permutation that sorts models by id, or None when they already are (the common case:
    /// canonical catalogs are sorted). A repeated id is `duplicate_model` at its later occurrence.
    fn sort_order(&self) -> Result<Option<Vec<usize>>, Error> {
        if self.ids.windows(2).all(|w| matches!(w, [a, b] if a < b)) {
            return Ok(None);
        }
        let mut order: Vec<usize> = (0..self.ids.len()).collect();
        // Stable, so equal ids keep document order and the later one is reported.
        order.sort_by(|&a, &b| self.ids.get(a).cmp(&self.ids.get(b)));
        let mut repeat: Option<(usize, usize)> = None;
        for pair in order.windows(2) {
            if let [first, later] = *pair {
                if self.ids.get(first) == self.ids.get(later) && repeat.is_none_or(|(_, d)| later < d) {
                    repeat = Some((first, later));
                }
            }
        }
        if let Some((first, later)) = repeat {
            return Err(duplicate(self.ids.get(later).map(String::as_str).unwrap_or_default(), first, later));
        }
        Ok(Some(order))
    }

    fn permute(&mut self, order: &[usize]) {
        self.ids = take_in_order(&mut self.ids, order);
        self.meta = take_in_order(&mut self.meta, order);
        self.caps_present = order.iter().filter_map(|&i| self.caps_present.get(i).copied()).collect();
        let w = self.caps_words;
        let mut caps = Vec::with_capacity(self.caps.len());
        for &i in order {
            caps.extend(self.caps.iter().skip(i * w).take(w));
        }
        self.caps = caps;
        let mut list = Vec::with_capacity(self.caps_list.len());
        let mut offsets = Vec::with_capacity(self.caps_offsets.len());
        offsets.push(0);
        for &i in order {
            if let (Some(&from), Some(&to)) = (self.caps_offsets.get(i), self.caps_offsets.get(i + 1)) {
                list.extend(self.caps_list.get(from..to).unwrap_or_default());
            }
            offsets.push(list.len());
        }
        self.caps_list = list;
        self.caps_offsets = offsets;
        for column in &mut self.columns {
            match column {
                Column::Str(v) => *v = order.iter().filter_map(|&i| v.get(i).copied()).collect(),
                Column::Number(v) => *v = order.iter().filter_map(|&i| v.get(i).copied()).collect(),
                Column::Bool(v) => *v = order.iter().filter_map(|&i| v.get(i).copied()).collect(),
                Column::Id | Column::Caps => {}
            }
        }
    }
}

fn take_in_order<T: Default>(items: &mut [T], order: &[usize]) -> Vec<T> {
    order.iter().filter_map(|&i| items.get_mut(i).map(std::mem::take)).collect()
}

fn set_last<T>(v: &mut [T], x: T) {
    if let Some(slot) = v.last_mut() {
        *slot = x;
    }
}
