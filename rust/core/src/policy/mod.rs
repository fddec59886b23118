//! Policies: the AST and admission (spec §2), canonical form and fingerprint (spec §3).

// Errors are cold and carry a path, message and help; boxing them would only move the cost.
#![allow(clippy::result_large_err)]

pub mod admit;
pub mod ast;

pub use admit::admit;

use crate::canonical::to_jcs_with_array_spans_sized;
use crate::error::{Code, Error};
use crate::fingerprint::fingerprint;
use crate::json::{self, Limits, Value};
use crate::vocab::Vocabulary;

/// Prefix of policy fingerprints.
pub const FINGERPRINT_PREFIX: &str = "pol_";

/// A policy that passed admission, with the term as sent, its canonical text and fingerprint.
#[derive(Debug, Clone, PartialEq)]
pub struct AdmittedPolicy {
    pub ast: ast::Policy,
    pub term: Value,
    pub canonical: String,
    pub fingerprint: String,
}

/// Strict-reads `text` (policy limits, code `invalid_policy`) and admits it.
pub fn admit_text(text: &[u8], vocab: &Vocabulary) -> Result<AdmittedPolicy, Error> {
    let term = json::parse(text, Limits::POLICY, Code::InvalidPolicy)?;
    finish(term, vocab, false, text.len())
}

/// Admits a term that was read as part of something larger (a request body, a flow) or built in
/// memory: the policy depth and size limits are checked again, the size on the canonical text.
pub fn admit_value(term: Value, vocab: &Vocabulary) -> Result<AdmittedPolicy, Error> {
    json::check_depth(&term, Limits::POLICY.max_depth, Code::InvalidPolicy)?;
    finish(term, vocab, true, 0)
}

/// `size_hint`: the length of the text `term` was read from (0 if none), to size the canonical text.
fn finish(term: Value, vocab: &Vocabulary, check_size: bool, size_hint: usize) -> Result<AdmittedPolicy, Error> {
    let (canonical, spans) = to_jcs_with_array_spans_sized(&term, size_hint);
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
    let ast = admit::admit_spanned(&term, vocab, &canonical, &spans)?;
    let fingerprint = fingerprint(FINGERPRINT_PREFIX, canonical.as_bytes());
    Ok(AdmittedPolicy { ast, term, canonical, fingerprint })
}
