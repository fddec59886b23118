//! The open layer of unhardcoded: sigma-pol/v1 policies and flow_ir workflows.
//!
//! Pure Rust, no Python. `docs/spec.md` is normative; every choice it makes is pinned by a vector
//! in `conformance/`. Nothing here panics on input: every failure is an [`error::Error`].

pub mod canonical;
pub mod catalog;
pub mod error;
pub mod eval;
pub mod fingerprint;
pub mod flow;
pub mod json;
pub mod mutate;
pub mod policy;
pub mod requirements;
pub mod suggest;
pub mod vocab;

/// Grammar version of policies.
pub const VERSION: &str = "sigma-pol/v1";
/// Grammar version of flows.
pub const FLOW_VERSION: &str = "flow_ir/v1";
