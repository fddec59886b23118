"""Typed surface of the native module `unhardcoded._core` (rust/py). The public API re-exports these."""
from typing import Any, Iterator, Literal, Mapping, Sequence

JsonText = str | bytes

VERSION: str            # "sigma-pol/v1"
FLOW_VERSION: str       # "flow_ir/v1"
ERROR_CODES: list[str]  # every stable top-level error code, e.g. "invalid_policy"
ERROR_RULES: list[str]  # every stable rule (sub-code), e.g. "unknown_op"

class UnhardcodedError(ValueError):
    code: str                 # stable code: invalid_policy | invalid_flow | invalid_catalog | invalid_request | no_candidates
    rule: str | None          # stable sub-code, e.g. "unknown_field"
    path: str                 # JSON Pointer to the offending node ("" = the whole input)
    message: str              # one sentence
    help: str | None
    did_you_mean: str | None
    node: str | None          # flow node id, for invalid_flow
    def to_dict(self) -> dict[str, Any]: ...

class NoCandidates(UnhardcodedError):
    result: "RankResult"      # verdicts of the failed evaluation (cascade empty)

class Policy:
    @staticmethod
    def admit(text: JsonText, *, fields: "Catalog | None" = None) -> "Policy":
        """Strict-parse and admit. Field names are checked against `fields`' vocabulary (core + its extensions),
        or the core vocabulary when None. Raises UnhardcodedError(code="invalid_policy")."""
    @property
    def canonical(self) -> str: ...
    @property
    def fingerprint(self) -> str: ...     # "pol_" + 64 hex
    @property
    def version(self) -> str: ...
    def to_json(self) -> str: ...         # == canonical
    def mutate_request(self, request_json: JsonText) -> str: ...  # applies the mutate slot; returns JSON text
    def rank(self, catalog: "Catalog", *, requirements: Mapping[str, Any] | None = None,
             seed: int | None = None, providers: Sequence[str] | None = None) -> "RankResult":
        """Evaluate (GIL released). Raises NoCandidates when the cascade is empty."""

class RankResult:
    winner: str
    seed: int | None
    cascade: list[str]
    def __len__(self) -> int: ...                    # number of verdicts (== catalog size)
    def counts(self) -> dict[str, int]: ...          # {"winner": 1, "passed": n, "rejected": m}
    def verdicts(self, offset: int = 0, limit: int | None = None,
                 status: str | None = None) -> list[dict[str, Any]]: ...
    def verdicts_json(self, offset: int = 0, limit: int | None = None, status: str | None = None) -> str: ...
    def to_json(self) -> str: ...                    # full result object (spec §5.4) as JSON text

class Flow:
    @staticmethod
    def admit(text: JsonText, *, fields: "Catalog | None" = None) -> "Flow": ...
    @property
    def canonical(self) -> str: ...
    @property
    def fingerprint(self) -> str: ...     # "flow_" + 64 hex
    @property
    def version(self) -> str: ...
    def order(self) -> list[str]: ...     # execution order (spec §6)
    def node(self, node_id: str) -> dict[str, Any]: ...   # {"id","kind","inputs","system","template"}
    def node_policy(self, node_id: str) -> Policy: ...

class Catalog:
    @staticmethod
    def from_json(text: JsonText) -> "Catalog": ...      # GIL released while parsing/building
    @staticmethod
    def load(path: str) -> "Catalog": ...
    @property
    def fingerprint(self) -> str: ...     # "cat_" + 64 hex
    def __len__(self) -> int: ...
    def ids(self) -> list[str]: ...
    def model(self, model_id: str) -> dict[str, Any] | None: ...
    def fields(self) -> list[dict[str, Any]]: ...   # [{"name","kind","description","core": bool}]
    def capabilities(self) -> list[str]: ...
    def to_json(self) -> str: ...         # canonical catalog document (what the fingerprint hashes)

def requirements_from_request(request_json: JsonText) -> dict[str, Any]: ...
def canonicalize(text: JsonText) -> str: ...       # JCS of any strict JSON (code invalid_request on bad input)
def fingerprint(text: JsonText, prefix: str = "") -> str: ...
def parse_request(body: bytes) -> tuple[Literal["policy", "flow", "none"], Policy | Flow | None, dict[str, Any]]:
    """Strict-parse a chat request body, admit its `policy_ir` or `flow_ir` member (paths prefixed
    with /policy_ir or /flow_ir), and derive requirements from the body (after the policy's mutate)."""
