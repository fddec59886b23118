//! The model catalog (spec §7), stored column by column so evaluation can test one field for every
//! model in a tight loop instead of walking a tree per model.
//!
//! Layout (all vectors have one entry per model, in ascending `id` order by UTF-8 bytes):
//! - `id`: `Vec<String>`, sorted, unique; looked up by binary search.
//! - string fields (`provider`, `family`, `region`, string extensions): `u32` indices into one
//!   interned string table; [`NO_STRING`] marks a missing value.
//! - number fields: `f64`, `NaN` marks a missing value. The strict reader never yields `NaN`, so the
//!   marker cannot collide with data, and IEEE comparisons with `NaN` are false — exactly the
//!   "`cmp` on a missing value is false" rule for every comparator except `ne`, which eval guards.
//! - bool fields: `u8`, one of [`BOOL_FALSE`], [`BOOL_TRUE`], [`BOOL_MISSING`].
//! - `capabilities`: a fixed-width bitset per model over the catalog's capability vocabulary
//!   (`caps_words()` `u64`s per model) for `has_cap`, plus each model's list as sent (order and
//!   repeats kept, `[]` distinct from absent) for the canonical form.
//! - `meta`: kept as the parsed [`Value`], only read back by [`Catalog::model_value`].

// Errors leave once per document, never from a per-model loop, so their size costs nothing.
#![allow(clippy::result_large_err)]

mod encode;
mod load;
mod split;

use std::sync::OnceLock;

use crate::error::{Code, Error};
use crate::json::{self, Limits, Value};
use crate::vocab::{FieldKind, Vocabulary};

/// Models per thread below which reading or fingerprinting a catalog stays on one thread.
const MODELS_PER_WORKER: usize = 16_384;

/// Threads to share `models` models among: one per core, each with enough work to pay for it.
fn workers(models: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    cores.min(8).min(models / MODELS_PER_WORKER).max(1)
}

/// The only catalog format this crate reads and writes.
pub const FORMAT: &str = "unhardcoded-catalog/v1";

/// A missing string value in a string column.
pub const NO_STRING: u32 = u32::MAX;
pub const BOOL_FALSE: u8 = 0;
pub const BOOL_TRUE: u8 = 1;
pub const BOOL_MISSING: u8 = 2;

/// One field's values for every model. Aligned with `Catalog::vocab().fields()`.
#[derive(Debug, Clone)]
pub(crate) enum Column {
    /// `id` lives in `Catalog::ids`.
    Id,
    Str(Vec<u32>),
    Number(Vec<f64>),
    Bool(Vec<u8>),
    /// `capabilities` lives in the catalog's bitsets.
    Caps,
}

/// A borrowed view of one column, for evaluation.
#[derive(Debug, Clone, Copy)]
pub enum ColumnRef<'a> {
    /// The `id` column: see [`Catalog::ids`] / [`Catalog::index_of`].
    Id,
    /// Indices into the string table ([`Catalog::string`]); [`NO_STRING`] = missing.
    Str(&'a [u32]),
    /// `NaN` = missing.
    Number(&'a [f64]),
    /// [`BOOL_FALSE`] / [`BOOL_TRUE`] / [`BOOL_MISSING`].
    Bool(&'a [u8]),
    /// The capability bitsets: see [`Catalog::caps`].
    Caps,
}

/// An extension field as the catalog declared it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Declared {
    pub name: String,
    pub kind: FieldKind,
    pub description: String,
}

#[derive(Debug, Clone)]
pub struct Catalog {
    vocab: Vocabulary,
    declared: Vec<Declared>,
    /// `capabilities_extra` as declared, without repeats or core names.
    capabilities_extra: Vec<String>,
    ids: Vec<String>,
    columns: Vec<Column>,
    strings: Vec<String>,
    /// `strings` positions in ascending string order, for lookups by value.
    strings_sorted: Vec<u32>,
    caps_words: usize,
    caps: Vec<u64>,
    caps_present: Vec<bool>,
    /// Capabilities as each model listed them (bit positions, repeats kept): the canonical form
    /// is the document as sent, so a set's order is the sender's.
    caps_list: Vec<u32>,
    caps_offsets: Vec<usize>,
    /// Per capability (bit position), the models that have it, one bit each: built on first use
    /// by [`Catalog::cap_models`] and kept, since `has_cap` reads one capability of every model.
    cap_columns: OnceLock<Vec<OnceLock<Vec<u64>>>>,
    meta: Vec<Option<Value>>,
    fingerprint: String,
}

impl Catalog {
    /// Strict-parses and validates a catalog document (code `invalid_catalog`).
    pub fn from_json(bytes: &[u8]) -> Result<Catalog, Error> {
        // Model by model when the document has the usual shape; any error at all is reported
        // from a plain read of the whole text, so both paths fail alike.
        if bytes.len() <= Limits::CATALOG.max_bytes {
            if let Some(catalog) = split::split(bytes).and_then(|sk| load::build_split(bytes, &sk)) {
                return Ok(catalog);
            }
        }
        let doc = json::parse(bytes, Limits::CATALOG, Code::InvalidCatalog)?;
        load::build(doc)
    }

    /// Validates an already-parsed catalog document (code `invalid_catalog`).
    pub fn from_value(doc: &Value) -> Result<Catalog, Error> {
        load::build(doc.clone())
    }

    /// Like [`Catalog::from_value`], consuming the document so model ids and `meta` are moved,
    /// not copied.
    pub fn from_owned_value(doc: Value) -> Result<Catalog, Error> {
        load::build(doc)
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Model ids in ascending UTF-8 byte order; the model index used everywhere is a position here.
    pub fn ids(&self) -> &[String] {
        &self.ids
    }

    pub fn id(&self, index: usize) -> Option<&str> {
        self.ids.get(index).map(String::as_str)
    }

    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.ids.binary_search_by(|probe| probe.as_str().cmp(id)).ok()
    }

    /// Core fields, the catalog's declared extensions and its capability vocabulary.
    pub fn vocab(&self) -> &Vocabulary {
        &self.vocab
    }

    /// `cat_` + BLAKE3 of [`Catalog::to_canonical`], computed once when the catalog was built.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The canonical catalog document (spec §7): the exact text the fingerprint hashes.
    pub fn to_canonical(&self) -> String {
        let mut out = String::new();
        encode::write_canonical(self, &mut |chunk: &str| out.push_str(chunk));
        out
    }

    /// One model as an object: its present, non-null members (fields in vocabulary order, then
    /// `meta`).
    pub fn model_value(&self, index: usize) -> Option<Value> {
        encode::model_value(self, index)
    }

    /// The column of a field, or None when the catalog's vocabulary has no such field.
    pub fn column(&self, name: &str) -> Option<ColumnRef<'_>> {
        let pos = self.vocab.fields().iter().position(|f| f.name == name)?;
        Some(match self.columns.get(pos)? {
            Column::Id => ColumnRef::Id,
            Column::Str(v) => ColumnRef::Str(v),
            Column::Number(v) => ColumnRef::Number(v),
            Column::Bool(v) => ColumnRef::Bool(v),
            Column::Caps => ColumnRef::Caps,
        })
    }

    /// A number column by field name (None when absent or of another kind).
    pub fn numbers(&self, name: &str) -> Option<&[f64]> {
        match self.column(name)? {
            ColumnRef::Number(v) => Some(v),
            _ => None,
        }
    }

    /// A bool column by field name (None when absent or of another kind).
    pub fn bools(&self, name: &str) -> Option<&[u8]> {
        match self.column(name)? {
            ColumnRef::Bool(v) => Some(v),
            _ => None,
        }
    }

    /// A string column (interned indices) by field name; not `id`.
    pub fn strs(&self, name: &str) -> Option<&[u32]> {
        match self.column(name)? {
            ColumnRef::Str(v) => Some(v),
            _ => None,
        }
    }

    /// The interned string behind an index of a string column.
    pub fn string(&self, index: u32) -> Option<&str> {
        self.strings.get(index as usize).map(String::as_str)
    }

    /// The index of an interned string, if any model carries it in a string field.
    pub fn string_index(&self, s: &str) -> Option<u32> {
        let at = self
            .strings_sorted
            .binary_search_by(|&i| self.strings.get(i as usize).map_or("", String::as_str).cmp(s))
            .ok()?;
        self.strings_sorted.get(at).copied()
    }

    /// A string field's value for one model (including `id`).
    pub fn str_value(&self, name: &str, index: usize) -> Option<&str> {
        match self.column(name)? {
            ColumnRef::Id => self.id(index),
            ColumnRef::Str(v) => {
                let s = *v.get(index)?;
                if s == NO_STRING {
                    None
                } else {
                    self.string(s)
                }
            }
            _ => None,
        }
    }

    /// `u64` words per model in [`Catalog::caps`].
    pub fn caps_words(&self) -> usize {
        self.caps_words
    }

    /// Capability bitsets: model `i` owns words `i * caps_words() .. (i + 1) * caps_words()`; bit
    /// `c % 64` of word `c / 64` is capability `c` of `vocab().capabilities()`.
    pub fn caps(&self) -> &[u64] {
        &self.caps
    }

    /// The bit position of a capability name in the bitsets.
    pub fn capability_index(&self, name: &str) -> Option<usize> {
        self.vocab.capabilities().iter().position(|c| c == name)
    }

    /// A model's capabilities as listed in the document (bit positions, see
    /// [`Catalog::capability_index`]); None when it has no capability set.
    pub fn caps_listed(&self, index: usize) -> Option<&[u32]> {
        if !self.caps_present.get(index).copied().unwrap_or(false) {
            return None;
        }
        let (from, to) = (*self.caps_offsets.get(index)?, *self.caps_offsets.get(index + 1)?);
        self.caps_list.get(from..to)
    }

    /// The models that have capability `cap` (a bit position, see [`Catalog::capability_index`])
    /// as a bitset: bit `i % 64` of word `i / 64` is model `i`, bits past the last model are
    /// zero. None for a position outside the vocabulary.
    pub fn cap_models(&self, cap: usize) -> Option<&[u64]> {
        let columns = self.cap_columns.get_or_init(|| (0..self.vocab.capabilities().len()).map(|_| OnceLock::new()).collect());
        let column = columns.get(cap)?.get_or_init(|| {
            let (stride, word, bit) = (self.caps_words.max(1), cap / 64, cap % 64);
            let mut out = vec![0u64; self.len().div_ceil(64)];
            for (i, w) in self.caps.iter().skip(word).step_by(stride).enumerate() {
                if let Some(o) = out.get_mut(i / 64) {
                    *o |= ((w >> bit) & 1) << (i % 64);
                }
            }
            out
        });
        Some(column)
    }

    pub fn has_cap(&self, index: usize, cap: usize) -> bool {
        let word = index.saturating_mul(self.caps_words).saturating_add(cap / 64);
        self.caps.get(word).is_some_and(|w| (w >> (cap % 64)) & 1 == 1)
    }

    /// The `provider` of a model (every model has one).
    pub fn provider(&self, index: usize) -> Option<&str> {
        self.str_value("provider", index)
    }

    /// The model's `meta` member, if present.
    pub fn meta(&self, index: usize) -> Option<&Value> {
        self.meta.get(index)?.as_ref()
    }
}
