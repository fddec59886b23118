"""Rank with the quickstart policy over synthetic catalogs of 1k, 100k and 1M models.

Each size is measured in the same run for every implementation, each producing what the router
needs — the winner and the cascade as a list of model ids — and asserted to agree exactly:

- native: `Policy.rank(catalog, requirements=…)`, then `.winner` and `.cascade` (the native core
  also computes every model's status/blame/score/rank columns; per-model dicts are not built);
- numpy: `unhardcoded.bench.numpy_rank` over columns loaded once (masks, one stable argsort);
- python reference: the project's pure-Python interpreter (`unhardcoded.reference`), whose
  `rank` also builds a verdict dict per model; not run at 1M (see `_reference_impl`);
- python minimal: `unhardcoded.bench.pyrank`, closures compiled once, winner + cascade only.
Pure-Python benches run 3–20 rounds, as many as fit in ~10 s (`_rounds`).

Catalog construction (generation, JSON, `Catalog.from_json` and the native catalog's shared id
strings, NumPy column load, the reference's catalog) happens once per size in a module-scoped
fixture and is not measured.

Targets: native ≥3× faster than NumPy at 100k, ≥2× at 1M.
"""
from __future__ import annotations

import gc
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from unhardcoded.bench import numpy_rank, pyrank, synth
from unhardcoded.bench.quickstart import (
    CHAT_REQUEST,
    QUICKSTART_POLICY_TEXT,
    REQUIREMENTS,
)
from unhardcoded.bench.record import note, record, target

SIZES = {"1k": 1_000, "100k": 100_000, "1M": 1_000_000}
POLICY = json.loads(QUICKSTART_POLICY_TEXT)


def _native():
    try:
        import unhardcoded
        from unhardcoded import _core
    except ImportError as exc:
        return None, f"unhardcoded._core not importable: {exc}"
    policy_cls = getattr(unhardcoded, "Policy", None) or getattr(_core, "Policy", None)
    catalog_cls = getattr(unhardcoded, "Catalog", None) or getattr(_core, "Catalog", None)
    if policy_cls is None or catalog_cls is None or not hasattr(policy_cls, "rank"):
        return None, "unhardcoded has no Policy.rank / Catalog yet"
    return (policy_cls, catalog_cls, _core), None


NATIVE, NATIVE_MISSING = _native()


@dataclass
class PythonImpl:
    label: str
    prepare: Callable[[list[dict], bytes], Any]      # (models, catalog JSON) -> state, untimed
    run: Callable[[Any], tuple[str, list[str]]]      # state -> (winner, cascade), timed
    max_models: int                                  # larger catalogs are skipped (see note)


def _reference_impl() -> PythonImpl | None:
    try:
        from unhardcoded import reference
    except ImportError:
        return None
    policy = reference.Policy.admit(QUICKSTART_POLICY_TEXT)

    def prepare(models: list[dict], text: bytes) -> Any:
        # The reference's own reader yields every number as a float; json.loads with
        # parse_int=float gives it the same values without its (slow) pure-Python reader.
        return reference.Catalog(json.loads(text, parse_int=float))

    def run(catalog: Any) -> tuple[str, list[str]]:
        result = policy.rank(catalog, requirements=REQUIREMENTS)
        return result["winner"], result["cascade"]

    # Building its catalog canonicalizes the whole document in pure Python: ~14 s per 100k
    # models here, so 1M (≈2.5 min of setup and ~20 s per rank) is left out.
    return PythonImpl("python reference (unhardcoded.reference)", prepare, run, 100_000)


PYTHON_IMPLS: list[PythonImpl] = [
    impl for impl in (
        _reference_impl(),
        PythonImpl("python minimal (bench.pyrank)", lambda models, text: models,
                   lambda models: pyrank.rank(POLICY, models, REQUIREMENTS), 1_000_000),
    ) if impl is not None
]


@dataclass
class Case:
    size: str
    n: int
    expected: tuple[str, list[str]]
    numpy_catalog: numpy_rank.NumpyCatalog
    python_states: dict[str, tuple[Any, float]]   # label -> (state, seconds of one untimed run)
    native_catalog: Any = None
    native_policy: Any = None


for _size in ("100k", "1M"):
    target(f"rank {_size}", "native", "numpy", 3.0 if _size == "100k" else 2.0)


@pytest.fixture(scope="module", params=list(SIZES), ids=list(SIZES))
def case(request) -> Case:
    size = request.param
    n = SIZES[size]
    models = synth.synthetic_models(n)
    text = synth.catalog_json(models)
    numpy_catalog = numpy_rank.NumpyCatalog.from_models(models)
    expected = numpy_rank.rank(POLICY, numpy_catalog, REQUIREMENTS)
    python_states: dict[str, tuple[Any, float]] = {}
    for impl in PYTHON_IMPLS:
        if n > impl.max_models:
            continue
        state = impl.prepare(models, text)
        started = time.perf_counter()
        got = impl.run(state)
        seconds = time.perf_counter() - started
        # Agreement with numpy is checked once here and again in each bench.
        assert got == expected, f"{impl.label} and numpy disagree at {size}"
        python_states[impl.label] = (state, seconds)
    result = Case(size, n, expected, numpy_catalog, python_states)
    if NATIVE is not None:
        policy_cls, catalog_cls, _core = NATIVE
        result.native_catalog = catalog_cls.from_json(text)
        result.native_policy = policy_cls.admit(QUICKSTART_POLICY_TEXT)
        # The catalog's id strings are made on the first cascade read and kept with the catalog
        # (as numpy's object array of ids is made once in `from_models`): made here, untimed, so
        # the first timed round — which pytest-benchmark uses to choose the number of rounds —
        # is a typical one.
        warm = result.native_policy.rank(result.native_catalog, requirements=REQUIREMENTS)
        assert (warm.winner, warm.cascade) == expected, f"native and numpy disagree at {size}"
        if hasattr(_core, "requirements_from_request"):
            derived = _core.requirements_from_request(json.dumps(CHAT_REQUEST))
            assert derived == REQUIREMENTS, f"bench requirements disagree with spec §4: {derived}"
    del models, text
    gc.collect()
    note(f"rank {size}: {len(expected[1])} of {n} models in the cascade; winner {expected[0]}")
    return result


@pytest.mark.skipif(NATIVE is None, reason=str(NATIVE_MISSING))
def test_rank_native(benchmark, case: Case):
    benchmark.group = f"rank {case.size}"
    policy, catalog = case.native_policy, case.native_catalog

    def run() -> tuple[str, list[str]]:
        result = policy.rank(catalog, requirements=REQUIREMENTS)
        return result.winner, result.cascade

    winner, cascade = benchmark(run)
    record(benchmark, f"rank {case.size}", "native")
    assert (winner, list(cascade)) == case.expected


@pytest.mark.skipif(NATIVE is None, reason=str(NATIVE_MISSING))
def test_rank_native_no_cascade_list(benchmark, case: Case):
    """Breakdown, not a target: the same rank without turning the cascade into a Python list, to
    show how much of the native time is building that list."""
    benchmark.group = f"rank {case.size}"
    policy, catalog = case.native_policy, case.native_catalog

    def run() -> str:
        return policy.rank(catalog, requirements=REQUIREMENTS).winner

    assert benchmark(run) == case.expected[0]
    record(benchmark, f"rank {case.size}", "native, winner only (breakdown)")


def test_rank_numpy(benchmark, case: Case):
    benchmark.group = f"rank {case.size}"
    cat = case.numpy_catalog
    result = benchmark(numpy_rank.rank, POLICY, cat, REQUIREMENTS)
    record(benchmark, f"rank {case.size}", "numpy")
    assert result == case.expected


@pytest.mark.parametrize("impl", PYTHON_IMPLS, ids=[i.label.split(" ")[1] for i in PYTHON_IMPLS])
def test_rank_python(benchmark, case: Case, impl: PythonImpl):
    benchmark.group = f"rank {case.size}"
    if impl.label not in case.python_states:
        note(f"rank {case.size}: {impl.label} not run (over {impl.max_models:,} models; see bench_rank.py)")
        pytest.skip(f"{impl.label} is not run over {case.n:,} models")
    state, seconds = case.python_states[impl.label]
    rounds = _rounds(seconds)
    result = benchmark.pedantic(impl.run, args=(state,), rounds=rounds, iterations=1)
    record(benchmark, f"rank {case.size}", impl.label)
    assert result == case.expected


def _rounds(seconds: float) -> int:
    """Enough rounds for a stable median within ~10 s of wall time per bench (3 to 20)."""
    return max(3, min(20, int(10.0 / max(seconds, 1e-6))))
