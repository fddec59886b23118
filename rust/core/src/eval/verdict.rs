//! Verdicts and the result object (spec §5.4), built from the columnar [`Outcome`] on demand.

use super::{bits, Outcome, BLAME_HOST_FLOOR, BLAME_NONE, RANK_NONE, REASONS};
use crate::catalog::Catalog;
use crate::error::{Code, Error};
use crate::json::{self, Limits, Value};
use crate::policy::ast::Policy;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Rejected,
    Passed,
    Winner,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Rejected => "rejected",
            Status::Passed => "passed",
            Status::Winner => "winner",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        match s {
            "rejected" => Some(Status::Rejected),
            "passed" => Some(Status::Passed),
            "winner" => Some(Status::Winner),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    pub winner: usize,
    pub passed: usize,
    pub rejected: usize,
}

/// Sub-terms named by `dropped_by`, parsed once per result rather than once per verdict.
struct Terms<'a> {
    policy: &'a Policy,
    parsed: Vec<Option<Value>>,
}

impl<'a> Terms<'a> {
    fn new(policy: &'a Policy) -> Terms<'a> {
        Terms { policy, parsed: vec![None; policy.nodes.len()] }
    }

    fn path_and_term(&mut self, node: u32) -> (Value, Value) {
        let Some(info) = self.policy.node(node) else {
            return (Value::Null, Value::Null);
        };
        let slot = self.parsed.get_mut(node as usize);
        let term = match slot {
            Some(Some(v)) => v.clone(),
            Some(slot) => {
                let v = parse_term(info.term);
                *slot = Some(v.clone());
                v
            }
            None => parse_term(info.term),
        };
        (Value::String(info.path.to_string()), term)
    }
}

/// The node table keeps canonical text, which always parses; should it not, the text itself is
/// still the most faithful thing to show.
fn parse_term(text: &str) -> Value {
    json::parse(text.as_bytes(), Limits::POLICY, Code::InvalidPolicy).unwrap_or_else(|_| Value::String(text.to_string()))
}

/// What the outcome says about one model.
struct Facts {
    status: Status,
    blame: u32,
    reason: u8,
    score: Option<f64>,
    rank: Option<u32>,
}

impl Outcome {
    /// Number of verdicts (the catalog size).
    pub fn len(&self) -> usize {
        self.n
    }

    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// The winner's model index: the cascade head.
    pub fn winner(&self) -> Option<usize> {
        self.cascade.first().map(|&m| m as usize)
    }

    /// Model indices that passed the host floor and the filter, ascending (including any a
    /// `top_k` later cut).
    pub fn survivors(&self) -> &[u32] {
        &self.survivors
    }

    fn position(&self, index: usize) -> Option<usize> {
        let index = u32::try_from(index).ok()?;
        self.survivors.binary_search(&index).ok()
    }

    /// `pos` is the model's position among the survivors, if it is one.
    fn facts(&self, index: usize, pos: Option<usize>) -> Facts {
        let score = pos.and_then(|p| self.scores.get(p)).copied().filter(|s| !s.is_nan());
        let rank = pos.and_then(|p| self.ranks().get(p)).copied().filter(|&r| r != RANK_NONE);
        let status = match rank {
            Some(0) => Status::Winner,
            Some(_) => Status::Passed,
            None => Status::Rejected,
        };
        let (blame, reason) = if rank.is_some() { (BLAME_NONE, 0) } else { self.blame_of(index) };
        Facts { status, blame, reason, score, rank }
    }

    pub fn status(&self, index: usize) -> Option<Status> {
        (index < self.len()).then(|| self.facts(index, self.position(index)).status)
    }

    /// The rank score of a filter survivor (None for no score or a rejected model).
    pub fn score(&self, index: usize) -> Option<f64> {
        self.facts(index, self.position(index)).score
    }

    /// The 0-based cascade position.
    pub fn rank(&self, index: usize) -> Option<u32> {
        self.facts(index, self.position(index)).rank
    }

    /// The node id that rejected the model, [`super::BLAME_HOST_FLOOR`], or None.
    pub fn blame(&self, index: usize) -> Option<u32> {
        Some(self.blame_of(index).0).filter(|&b| b != BLAME_NONE)
    }

    /// For a model a `meets_req` node rejected: the first unmet requirement.
    pub fn reason(&self, index: usize) -> Option<&'static str> {
        let r = self.blame_of(index).1 as usize;
        REASONS.get(r).copied().filter(|r| !r.is_empty())
    }

    pub fn counts(&self) -> Counts {
        let in_cascade = self.cascade.len();
        Counts {
            winner: usize::from(in_cascade > 0),
            passed: in_cascade.saturating_sub(1),
            rejected: self.len().saturating_sub(in_cascade),
        }
    }

    /// The `no_candidates` error for an empty cascade (spec §5.4), or None when there is a winner.
    /// The binding attaches the verdicts.
    pub fn no_candidates(&self) -> Option<Error> {
        if !self.cascade.is_empty() {
            return None;
        }
        let floor = bits::count(&self.floor);
        let message = if self.is_empty() {
            "The catalog has no models.".to_string()
        } else if floor == self.len() {
            "No model's provider is configured on this host.".to_string()
        } else {
            format!("No model passed the policy: all {} were rejected.", self.len())
        };
        Some(
            Error::new(Code::NoCandidates, "empty_cascade", "", message)
                .with_help("Loosen a cmp bound or an is gate; the verdicts name the rule that dropped each model."),
        )
    }

    /// One verdict: `{"model", "status", "dropped_by", "score", "rank"}`.
    pub fn verdict_value(&self, index: usize, policy: &Policy, catalog: &Catalog) -> Value {
        let facts = self.facts(index, self.position(index));
        verdict(index, &facts, &mut Terms::new(policy), catalog)
    }

    /// Verdicts in catalog order, optionally only those of one status, paged by `offset` and
    /// `limit` (counted after the status filter).
    pub fn verdicts_value(
        &self,
        policy: &Policy,
        catalog: &Catalog,
        offset: usize,
        limit: Option<usize>,
        status: Option<Status>,
    ) -> Value {
        let mut terms = Terms::new(policy);
        let mut out = Vec::new();
        let (mut skip, mut take) = (offset, limit.unwrap_or(usize::MAX));
        // Survivors ascend, so one cursor walks them alongside the models.
        let mut next = 0usize;
        for index in 0..self.len() {
            if take == 0 {
                break;
            }
            let pos = match self.survivors.get(next) {
                Some(&s) if s as usize == index => {
                    next += 1;
                    Some(next - 1)
                }
                _ => None,
            };
            let facts = self.facts(index, pos);
            if status.is_some_and(|s| s != facts.status) {
                continue;
            }
            if skip > 0 {
                skip -= 1;
                continue;
            }
            take -= 1;
            out.push(verdict(index, &facts, &mut terms, catalog));
        }
        Value::Array(out)
    }

    /// The result object `{"winner", "cascade", "seed", "verdicts"}` (spec §5.4), with the
    /// verdicts selected as in [`Outcome::verdicts_value`].
    pub fn to_value(
        &self,
        policy: &Policy,
        catalog: &Catalog,
        offset: usize,
        limit: Option<usize>,
        status: Option<Status>,
    ) -> Value {
        let id = |m: u32| catalog.id(m as usize).map_or(Value::Null, |s| Value::String(s.to_string()));
        Value::Object(vec![
            ("winner".to_string(), self.cascade.first().map_or(Value::Null, |&m| id(m))),
            ("cascade".to_string(), Value::Array(self.cascade.iter().map(|&m| id(m)).collect())),
            ("seed".to_string(), self.seed.map_or(Value::Null, |s| Value::Number(s as f64))),
            ("verdicts".to_string(), self.verdicts_value(policy, catalog, offset, limit, status)),
        ])
    }
}

fn verdict(index: usize, facts: &Facts, terms: &mut Terms<'_>, catalog: &Catalog) -> Value {
    let dropped_by = match (facts.status, facts.blame) {
        (Status::Rejected, BLAME_HOST_FLOOR) => {
            let provider = catalog.provider(index).unwrap_or_default();
            Value::Object(vec![
                ("path".to_string(), Value::String(String::new())),
                ("term".to_string(), Value::String("host_floor".to_string())),
                ("reason".to_string(), Value::String(format!("provider {provider} is not configured"))),
            ])
        }
        (Status::Rejected, node) if node != BLAME_NONE => {
            let (path, term) = terms.path_and_term(node);
            let mut members = vec![("path".to_string(), path), ("term".to_string(), term)];
            if let Some(r) = REASONS.get(facts.reason as usize).filter(|r| !r.is_empty()) {
                members.push(("reason".to_string(), Value::String((*r).to_string())));
            }
            Value::Object(members)
        }
        _ => Value::Null,
    };
    Value::Object(vec![
        ("model".to_string(), Value::String(catalog.id(index).unwrap_or_default().to_string())),
        ("status".to_string(), Value::String(facts.status.as_str().to_string())),
        ("dropped_by".to_string(), dropped_by),
        ("score".to_string(), facts.score.map_or(Value::Null, Value::Number)),
        ("rank".to_string(), facts.rank.map_or(Value::Null, |r| Value::Number(f64::from(r)))),
    ])
}
