#!/usr/bin/env python3
"""Writes conformance/vectors/**.json and conformance/catalogs/*.json.

Each case below states its inputs and a note. Expected values are computed by the reference
interpreter (python/unhardcoded/reference) and, for every case that pins a spec **Choice** or a
hand-checked number, compared with the expectation written here by hand (`hand=`): the generator
refuses to write a vector whose hand-checked expectation the reference does not reproduce.

    python conformance/generate.py          # rewrite the vectors
    python conformance/generate.py --check  # fail if the files on disk are not what this writes
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "python"))

import harness  # noqa: E402
from cases import CATALOGS, all_cases  # noqa: E402


def _clean(value):
    """-0.0 reads better as 0 in a vector; the runners compare scores numerically."""
    if isinstance(value, float) and value == 0:
        return 0.0
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    return value


_WANT_FROM_OUTCOME = {
    "policy_normalize": ("canonical", "fingerprint", "version"),
    "policy_eval": ("winner", "cascade", "seed", "verdicts"),
    "flow_normalize": ("canonical", "fingerprint", "version", "order"),
    "canonicalize": ("canonical",),
    "requirements": ("requirements",),
    "mutate": ("request", "requirements"),
    "catalog_load": ("canonical", "fingerprint", "ids"),
    "flow_render": ("text",),
}


def build_case(spec: dict) -> dict:
    """Fills the want_* members of one case from the reference, checking the hand-written ones."""
    spec = dict(spec)
    hand = spec.pop("hand", {})
    expect_error = spec.pop("error", None)
    drop = set(spec.pop("omit", ()))
    outcome = _clean(harness.run_reference(spec))
    case = {k: v for k, v in spec.items()}
    if expect_error is not None or "error" in outcome:
        if "error" not in outcome:
            raise SystemExit(f"{spec['note']!r}: expected error {expect_error}, reference admitted it")
        got = outcome["error"]
        if expect_error is None:
            raise SystemExit(f"{spec['note']!r}: unexpected error {got}")
        want = dict(expect_error)
        for key, value in want.items():
            if got.get(key) != value:
                raise SystemExit(f"{spec['note']!r}: error.{key} hand={value!r} reference={got.get(key)!r}")
        # Members the case leaves open are pinned to the reference's reading (see README.md,
        # "Readings"): a vector states code, rule and path, and the node for flows.
        for key in ("code", "rule", "path") + (("node",) if spec["kind"] == "flow_normalize" else ()):
            want.setdefault(key, got.get(key))
        for key, value in want.items():
            if got.get(key) != value:
                raise SystemExit(f"{spec['note']!r}: error.{key} hand={value!r} reference={got.get(key)!r}")
        case["want_error"] = want
        if spec["kind"] == "policy_eval" and "verdicts" in outcome and "verdicts" not in drop:
            case["want_verdicts"] = outcome["verdicts"]
    else:
        for key in _WANT_FROM_OUTCOME[spec["kind"]]:
            if key in drop:
                continue
            if key == "seed" and spec.get("want_seed_drawn"):
                continue
            case[f"want_{key}"] = outcome.get(key)
    for key, value in hand.items():
        field = key[len("want_"):] if key.startswith("want_") else key
        if key == "want_verdicts_subset":
            by_model = {v["model"]: v for v in outcome.get("verdicts") or []}
            for model, w in value.items():
                problems = harness.verdict_problems(dict(w, model=model), by_model.get(model, {}))
                if problems:
                    raise SystemExit(f"{spec['note']!r}: hand verdict {model}: {problems}")
            case[key] = value
            continue
        if not harness.json_equal(_clean(value), outcome.get(field)):
            raise SystemExit(f"{spec['note']!r}: {key} hand={value!r} reference={outcome.get(field)!r}")
        case.setdefault(key, value)
    problems = harness.check(case, outcome)
    if problems:
        raise SystemExit(f"{spec['note']!r}: {problems}")
    head = {k: case[k] for k in ("note", "kind") if k in case}
    inputs = {k: v for k, v in case.items() if k not in head and not k.startswith("want_")}
    wants = {k: v for k, v in case.items() if k.startswith("want_")}
    return {**head, **inputs, **wants}


def catalog_files() -> dict[Path, str]:
    return {HERE / "catalogs" / f"{name}.json": json.dumps(doc, indent=1, ensure_ascii=False) + "\n"
            for name, doc in CATALOGS.items()}


def vector_files() -> dict[Path, str]:
    files: dict[Path, str] = {}
    grouped: dict[str, list[dict]] = {}
    for rel, spec in all_cases():
        grouped.setdefault(rel, []).append(build_case(spec))
    for rel, cases in grouped.items():
        lines = ['{"cases": [']
        for i, case in enumerate(cases):
            sep = "," if i + 1 < len(cases) else ""
            lines.append(" " + json.dumps(case, ensure_ascii=False) + sep)
        lines.append("]}")
        files[HERE / "vectors" / rel] = "\n".join(lines) + "\n"
    return files


INDEX_START, INDEX_END = "<!-- index:start -->", "<!-- index:end -->"


def readme_file() -> dict[Path, str]:
    """README.md with its index of Choice and Reading vectors regenerated from the vector notes."""
    path = HERE / "README.md"
    text = path.read_text(encoding="utf-8")
    rows = ["| vector | pins |", "|---|---|"]
    for cid, case in harness.load_cases():
        note = case["note"]
        if note.startswith(("Choice", "Reading")):
            rows.append(f"| `{cid}` | {note.replace('|', '/')} |")
    head, _, rest = text.partition(INDEX_START)
    _, _, tail = rest.partition(INDEX_END)
    return {path: f"{head}{INDEX_START}\n" + "\n".join(rows) + f"\n{INDEX_END}{tail}"}


def _stale(files: dict[Path, str]) -> list[str]:
    return [str(p.relative_to(HERE)) for p, text in files.items()
            if not p.exists() or p.read_text(encoding="utf-8") != text]


def _write(files: dict[Path, str]) -> None:
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def main() -> int:
    check = "--check" in sys.argv
    catalogs = catalog_files()
    if check:
        stale = _stale(catalogs)
    else:
        _write(catalogs)  # the cases read the shared catalogs from disk, as every runner does
    vectors = vector_files()
    if check:
        stale += _stale(vectors) + _stale(readme_file())
        if stale:
            print("out of date:", ", ".join(stale))
            return 1
        return 0
    _write(vectors)
    _write(readme_file())  # the index reads the vectors just written
    print(f"wrote {len(catalogs)} catalogs and {len(vectors)} vector files")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
