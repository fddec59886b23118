//! The mutate slot (spec §2.4): shaping the outgoing chat request before requirements are derived.

use crate::json::Value;
use crate::policy::ast::Mutate;

/// Parameters that only take integers: their bounds are rounded inward so a clamp never produces a
/// fraction the provider would reject.
pub const INTEGER_PARAMS: &[&str] = &["max_tokens", "max_completion_tokens", "n", "top_logprobs"];

/// Applies a mutator to a chat request object. A parameter that is absent or not a number is left
/// alone, as is a request that is not an object.
pub fn apply(mutate: &Mutate, request: &mut Value) {
    match mutate {
        Mutate::Id => {}
        Mutate::ClampParam { param, min, max } => {
            let Value::Object(members) = request else { return };
            let Some((_, Value::Number(x))) = members.iter_mut().find(|(k, _)| k == param) else { return };
            let (lo, hi) = if INTEGER_PARAMS.contains(&param.as_str()) { (min.ceil(), max.floor()) } else { (*min, *max) };
            // Exactly min(max(x, lo), hi): when rounding inward empties the range (min 0.2,
            // max 0.8), the upper bound wins.
            *x = x.max(lo).min(hi);
        }
    }
}
