//! Verdicts and the result object (spec §5.4), built from the columnar [`Outcome`] on demand.

use super::{Outcome, BLAME_HOST_FLOOR, BLAME_NONE, RANK_NONE, REASONS, STATUS_PASSED, STATUS_REJECTED, STATUS_WINNER};
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

    fn from_code(code: u8) -> Status {
        match code {
            STATUS_WINNER => Status::Winner,
            STATUS_PASSED => Status::Passed,
            _ => Status::Rejected,
        }
    }

    fn code(self) -> u8 {
        match self {
            Status::Rejected => STATUS_REJECTED,
            Status::Passed => STATUS_PASSED,
            Status::Winner => STATUS_WINNER,
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
                let v = parse_term(&info.term);
                *slot = Some(v.clone());
                v
            }
            None => parse_term(&info.term),
        };
        (Value::String(info.path.clone()), term)
    }
}

/// The node table keeps canonical text, which always parses; should it not, the text itself is
/// still the most faithful thing to show.
fn parse_term(text: &str) -> Value {
    json::parse(text.as_bytes(), Limits::POLICY, Code::InvalidPolicy).unwrap_or_else(|_| Value::String(text.to_string()))
}

impl Outcome {
    /// Number of verdicts (the catalog size).
    pub fn len(&self) -> usize {
        self.status.len()
    }

    pub fn is_empty(&self) -> bool {
        self.status.is_empty()
    }

    /// The winner's model index: the cascade head.
    pub fn winner(&self) -> Option<usize> {
        self.cascade.first().map(|&m| m as usize)
    }

    pub fn status(&self, index: usize) -> Option<Status> {
        self.status.get(index).map(|&s| Status::from_code(s))
    }

    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for &s in &self.status {
            match s {
                STATUS_WINNER => c.winner += 1,
                STATUS_PASSED => c.passed += 1,
                _ => c.rejected += 1,
            }
        }
        c
    }

    /// The `no_candidates` error for an empty cascade (spec §5.4), or None when there is a winner.
    /// The binding attaches the verdicts.
    pub fn no_candidates(&self) -> Option<Error> {
        if !self.cascade.is_empty() {
            return None;
        }
        let floor = self.blame.iter().filter(|&&b| b == BLAME_HOST_FLOOR).count();
        let message = if self.is_empty() {
            "The catalog has no models.".to_string()
        } else if floor == self.len() {
            "No model's provider is configured on this host.".to_string()
        } else {
            format!("No model passed the filter: all {} were rejected.", self.len())
        };
        Some(
            Error::new(Code::NoCandidates, "empty_cascade", "", message)
                .with_help("Loosen a cmp bound or an is gate; the verdicts name the rule that dropped each model."),
        )
    }

    /// One verdict: `{"model", "status", "dropped_by", "score", "rank"}`.
    pub fn verdict_value(&self, index: usize, policy: &Policy, catalog: &Catalog) -> Value {
        self.verdict(index, &mut Terms::new(policy), catalog)
    }

    fn verdict(&self, index: usize, terms: &mut Terms<'_>, catalog: &Catalog) -> Value {
        let status = self.status(index).unwrap_or(Status::Rejected);
        let dropped_by = match (status, self.blame.get(index).copied().unwrap_or(BLAME_NONE)) {
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
                let why = self.reason.get(index).copied().unwrap_or(0) as usize;
                if let Some(r) = REASONS.get(why).filter(|r| !r.is_empty()) {
                    members.push(("reason".to_string(), Value::String((*r).to_string())));
                }
                Value::Object(members)
            }
            _ => Value::Null,
        };
        let score = self.score.get(index).copied().filter(|s| !s.is_nan()).map_or(Value::Null, Value::Number);
        let rank = self.rank.get(index).copied().filter(|&r| r != RANK_NONE).map_or(Value::Null, |r| Value::Number(f64::from(r)));
        Value::Object(vec![
            ("model".to_string(), Value::String(catalog.id(index).unwrap_or_default().to_string())),
            ("status".to_string(), Value::String(status.as_str().to_string())),
            ("dropped_by".to_string(), dropped_by),
            ("score".to_string(), score),
            ("rank".to_string(), rank),
        ])
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
        let wanted = status.map(Status::code);
        let verdicts = self
            .status
            .iter()
            .enumerate()
            .filter(|(_, &s)| wanted.is_none_or(|w| w == s))
            .skip(offset)
            .take(limit.unwrap_or(usize::MAX))
            .map(|(i, _)| self.verdict(i, &mut terms, catalog))
            .collect();
        Value::Array(verdicts)
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
