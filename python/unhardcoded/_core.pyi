"""Typed surface of the native module `unhardcoded._core` (rust/py). The public API re-exports these."""
from os import PathLike
from typing import Any, Literal, Mapping, Sequence

JsonText = str | bytes
# Anything else is serialised with json.dumps(obj, allow_nan=True, ensure_ascii=True), so NaN,
# integers a double would round (2**53 + 1) and lone surrogates reach the strict reader and are
# refused there. (Policy.rank reads a well-formed requirements dict directly; errors are the same.)
JsonInput = JsonText | bytearray | memoryview | Mapping[str, Any] | Sequence[Any] | int | float | bool | None

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
    def __init__(self, message: str, code: str = "invalid_request", rule: str | None = None, path: str = "",
                 help: str | None = None, did_you_mean: str | None = None, node: str | None = None) -> None: ...
    def to_dict(self) -> dict[str, Any]: ...   # {"code","rule","path","message","help","did_you_mean","node"}

class NoCandidates(UnhardcodedError):
    result: "RankResult"      # verdicts of the failed evaluation (cascade empty, winner None)

class Policy:
    @staticmethod
    def admit(text: JsonInput, *, fields: "Catalog | None" = None) -> "Policy":
        """Strict-parse and admit. Field names are checked against `fields`' vocabulary (core + its extensions),
        or the core vocabulary when None. Raises UnhardcodedError(code="invalid_policy")."""
    @property
    def canonical(self) -> str: ...
    @property
    def fingerprint(self) -> str: ...     # "pol_" + 64 hex
    @property
    def version(self) -> str: ...
    def to_json(self) -> str: ...         # == canonical
    def mutate_request(self, request_json: JsonInput) -> str: ...  # applies the mutate slot; returns JCS text
    def rank(self, catalog: "Catalog", *, requirements: Mapping[str, Any] | None = None,
             seed: int | None = None, providers: Sequence[str] | None = None) -> "RankResult":
        """Evaluate (GIL released from 4,096 models). `requirements` as spec §4 (None = nothing required); `seed` an int in
        0 … 2**53-1 (invalid_request otherwise); `providers` the host floor. Raises NoCandidates when the
        cascade is empty."""
    def __eq__(self, other: object) -> bool: ...   # same fingerprint
    def __hash__(self) -> int: ...

class RankResult:
    @property
    def winner(self) -> str | None: ...              # None only on NoCandidates.result
    @property
    def seed(self) -> int | None: ...
    @property
    def cascade(self) -> list[str]: ...              # a new list on each access (of id strings shared with the catalog)
    def head(self, n: int) -> list[str]: ...         # cascade[:n] without building the whole list (n >= 0)
    def __len__(self) -> int: ...                    # number of verdicts (== catalog size)
    def counts(self) -> dict[str, int]: ...          # {"winner": 1, "passed": n, "rejected": m}
    def verdicts(self, offset: int = 0, limit: int | None = None,
                 status: Literal["winner", "passed", "rejected"] | None = None) -> list[dict[str, Any]]:
        """A page of verdicts in catalog order; offset/limit count after the status filter. Only the page
        is built as Python objects."""
    def verdicts_json(self, offset: int = 0, limit: int | None = None,
                      status: Literal["winner", "passed", "rejected"] | None = None) -> str: ...
    def to_json(self) -> str: ...                    # full result object (spec §5.4) as JSON text

class Flow:
    @staticmethod
    def admit(text: JsonInput, *, fields: "Catalog | None" = None) -> "Flow": ...
    @property
    def canonical(self) -> str: ...
    @property
    def fingerprint(self) -> str: ...     # "flow_" + 64 hex
    @property
    def version(self) -> str: ...
    def to_json(self) -> str: ...         # == canonical
    def order(self) -> list[str]: ...     # execution order (spec §6)
    def node(self, node_id: str) -> dict[str, Any]: ...   # {"id","kind","inputs","system","template"}; KeyError if unknown
    def node_policy(self, node_id: str) -> Policy: ...    # KeyError if unknown, ValueError if not an llm node
    def __eq__(self, other: object) -> bool: ...
    def __hash__(self) -> int: ...

class Catalog:
    @staticmethod
    def from_json(text: JsonInput) -> "Catalog": ...     # GIL released while parsing/building
    @staticmethod
    def load(path: str | PathLike[str]) -> "Catalog": ... # OSError when unreadable
    @property
    def fingerprint(self) -> str: ...     # "cat_" + 64 hex
    def __len__(self) -> int: ...
    def __contains__(self, model_id: str) -> bool: ...
    def ids(self) -> list[str]: ...
    def model(self, model_id: str) -> dict[str, Any] | None: ...
    def fields(self) -> list[dict[str, Any]]: ...   # [{"name","kind","description","core": bool}]
    def capabilities(self) -> list[str]: ...
    def to_json(self) -> str: ...         # canonical catalog document (what the fingerprint hashes)

def requirements_from_request(request_json: JsonInput) -> dict[str, Any]: ...
def canonicalize(text: JsonInput) -> str: ...       # JCS of any strict JSON (code invalid_request on bad input)
def fingerprint(text: JsonInput, prefix: str = "") -> str:
    """`prefix` + BLAKE3 hex of the canonical (JCS) form: fingerprint(policy_text, "pol_") == Policy.fingerprint."""
def parse_request(body: JsonInput, *, fields: Catalog | None = None
                  ) -> tuple[Literal["policy", "flow", "none"], Policy | Flow | None, dict[str, Any]]:
    """Strict-parse a chat request body, admit its `policy_ir` or `flow_ir` member (paths prefixed
    with /policy_ir or /flow_ir; field names checked against `fields` when given), and derive requirements
    from the body (after the policy's mutate). Both members at once is invalid_request. An admitted
    `policy_ir` is kept by term and by `fields` catalog (up to 256), so a policy sent with every call
    is admitted once; a refused one is checked again each time."""
