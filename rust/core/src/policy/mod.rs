//! Policies: the AST and admission (spec §2), canonical form and fingerprint (spec §3).

// Errors are cold and carry a path, message and help; boxing them would only move the cost.
#![allow(clippy::result_large_err)]

pub mod admit;
pub mod ast;
pub mod cache;
mod nodes;

pub use admit::admit;

use crate::canonical::{to_jcs, TextJcs};
use crate::error::{Code, Error};
use crate::fingerprint::fingerprint;
use crate::json::{self, Doc, Limits, Value};
use crate::vocab::Vocabulary;

/// Prefix of policy fingerprints.
pub const FINGERPRINT_PREFIX: &str = "pol_";

/// A policy that passed admission: its AST, canonical text and fingerprint.
#[derive(Debug, Clone, PartialEq)]
pub struct AdmittedPolicy {
    pub ast: ast::Policy,
    pub canonical: String,
    pub fingerprint: String,
}

impl AdmittedPolicy {
    /// The admitted term as a value, read back from the canonical text: the term as sent, with
    /// object members in canonical order (numbers and strings are exactly what was sent).
    pub fn term(&self) -> Value {
        json::parse(self.canonical.as_bytes(), Limits::REQUEST, Code::InvalidPolicy).unwrap_or(Value::Null)
    }
}

/// Strict-reads `text` (policy limits, code `invalid_policy`) and admits it.
pub fn admit_text(text: &[u8], vocab: &Vocabulary) -> Result<AdmittedPolicy, Error> {
    let text = json::checked_text(text, Limits::POLICY, Code::InvalidPolicy)?;
    // One pass over the text both reads it and writes its canonical form.
    let mut writer = TextJcs::new(text);
    let doc = json::parse_doc_and(text, Limits::POLICY, Code::InvalidPolicy, &mut writer)?;
    finish(&doc, writer.finish(), vocab, false)
}

/// Admits a term that was read as part of something larger (a request body, a flow) or built in
/// memory: the policy depth and size limits are checked again, the size on the canonical text.
pub fn admit_value(term: Value, vocab: &Vocabulary) -> Result<AdmittedPolicy, Error> {
    json::check_depth(&term, Limits::POLICY.max_depth, Code::InvalidPolicy)?;
    finish(&Doc::from_value(&term), to_jcs(&term), vocab, true)
}

/// Admits `doc`, whose canonical text is `canonical`.
fn finish(doc: &Doc<'_>, canonical: String, vocab: &Vocabulary, check_size: bool) -> Result<AdmittedPolicy, Error> {
    if check_size && canonical.len() > Limits::POLICY.max_bytes {
        return Err(Error::new(
            Code::InvalidPolicy,
            "size_limit",
            "",
            format!(
                "The policy is {} bytes in canonical form, over the limit of {} bytes.",
                canonical.len(),
                Limits::POLICY.max_bytes
            ),
        ));
    }
    let ast = admit::admit_doc(doc, vocab)?;
    let fingerprint = fingerprint(FINGERPRINT_PREFIX, canonical.as_bytes());
    Ok(AdmittedPolicy { ast, canonical, fingerprint })
}
