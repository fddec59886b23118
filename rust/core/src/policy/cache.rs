//! Admitted policies by term. A service sends the same `policy_ir` with every call; admitting it
//! (shape and vocabulary checks, canonical text, blake3) is most of the core's work on a request,
//! and all of it is a pure function of the term and the vocabulary it was checked against.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, LazyLock, Mutex, Weak};

use super::{admit_value, AdmittedPolicy};
use crate::catalog::Catalog;
use crate::error::Error;
use crate::json::Value;
use crate::vocab::Vocabulary;

/// Policies kept at most; the cache starts over when full (a process sees a handful of policies).
pub const MAX_ENTRIES: usize = 256;
/// Larger policies are admitted every time rather than kept.
pub const MAX_CANONICAL_BYTES: usize = 16 << 10;

struct Entry {
    /// The catalog whose vocabulary admitted the term (None: the core vocabulary). A `Weak` never
    /// keeps a replaced catalog's data alive, and while it exists no other catalog can take its
    /// address, so pointer equality cannot confuse two catalogs.
    catalog: Option<Weak<Catalog>>,
    term: Value,
    policy: Arc<AdmittedPolicy>,
}

impl Entry {
    fn matches(&self, catalog: Option<&Arc<Catalog>>, term: &Value) -> bool {
        let same_catalog = match (&self.catalog, catalog) {
            (None, None) => true,
            (Some(weak), Some(arc)) => std::ptr::eq(weak.as_ptr(), Arc::as_ptr(arc)),
            _ => false,
        };
        same_catalog && self.term == *term
    }
}

static CACHE: LazyLock<Mutex<HashMap<u64, Vec<Entry>>>> = LazyLock::new(|| Mutex::new(HashMap::new()));

/// `admit_value(term, vocab)` with `catalog`'s vocabulary (`core` when there is no catalog),
/// answered from the cache when this term was admitted against the same vocabulary before.
/// Errors are not kept: a refused term is checked again on every call.
pub fn admit_cached(term: Value, catalog: Option<&Arc<Catalog>>, core: &Vocabulary) -> Result<Arc<AdmittedPolicy>, Error> {
    let vocab = catalog.map_or(core, |c| c.vocab());
    let key = term_hash(&term);
    if let Ok(cache) = CACHE.lock() {
        if let Some(hit) = cache.get(&key).and_then(|bucket| bucket.iter().find(|e| e.matches(catalog, &term))) {
            return Ok(Arc::clone(&hit.policy));
        }
    }
    // Admission consumes the term; the cache keeps this copy of it.
    let kept = term.clone();
    let policy = Arc::new(admit_value(term, vocab)?);
    if policy.canonical.len() <= MAX_CANONICAL_BYTES {
        if let Ok(mut cache) = CACHE.lock() {
            if cache.values().map(Vec::len).sum::<usize>() >= MAX_ENTRIES {
                cache.clear();
            }
            let entry = Entry { catalog: catalog.map(Arc::downgrade), term: kept, policy: Arc::clone(&policy) };
            cache.entry(key).or_default().push(entry);
        }
    }
    Ok(policy)
}

fn term_hash(term: &Value) -> u64 {
    let mut hasher = DefaultHasher::new();
    hash_value(term, &mut hasher);
    hasher.finish()
}

/// Consistent with `Value`'s `PartialEq`: 0.0 and -0.0 compare equal, so they hash alike.
fn hash_value(value: &Value, h: &mut DefaultHasher) {
    match value {
        Value::Null => 0u8.hash(h),
        Value::Bool(b) => (1u8, b).hash(h),
        Value::Number(x) => (2u8, if *x == 0.0 { 0 } else { x.to_bits() }).hash(h),
        Value::String(s) => (3u8, s).hash(h),
        Value::Array(items) => {
            (4u8, items.len()).hash(h);
            for item in items {
                hash_value(item, h);
            }
        }
        Value::Object(members) => {
            (5u8, members.len()).hash(h);
            for (k, v) in members {
                k.hash(h);
                hash_value(v, h);
            }
        }
    }
}
