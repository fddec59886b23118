"""The `unhardcoded` command: every subcommand, its JSON output, clean JSON errors and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
import types
from pathlib import Path

import pytest

import unhardcoded as uh
from unhardcoded.cli import main

LITELLM = Path(__file__).resolve().parents[2] / "shared" / "data" / "litellm_model_prices.json"
TAIL = [["argmax"], ["id"], ["always", {"action": "next_candidate"}]]
QUICKSTART = [
    "policy", ["ev_zero"],
    ["and", ["meets_req"], ["not", ["is", "disabled"]], ["has_cap", "supports_tools"],
     ["cmp", "bench_intelligence", "ge", 0.5]],
    ["neg", ["normalize", ["field", "price_out"]]], *TAIL,
]
FLOW = ["flow", {
    "in": {"kind": "input"},
    "a": {"kind": "llm", "system": "Answer.", "policy": QUICKSTART, "inputs": ["in"]},
    "out": {"kind": "output", "inputs": ["a"]},
}]


def write(tmp_path: Path, name: str, obj) -> str:
    path = tmp_path / name
    path.write_text(obj if isinstance(obj, str) else json.dumps(obj), encoding="utf-8")
    return str(path)


def run(capsys, *argv: str) -> tuple[int, dict | None, dict | None]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, json.loads(out) if out.strip() else None, json.loads(err) if err.strip() else None


def assert_error(err: dict, code: str, rule: str | None) -> dict:
    assert set(err) == {"error"}
    body = err["error"]
    assert set(body) == {"code", "rule", "path", "message", "help", "did_you_mean", "node"}
    assert (body["code"], body["rule"]) == (code, rule)
    assert body["message"].endswith(".")
    return body


def test_policy_normalize(tmp_path, capsys):
    code, out, err = run(capsys, "policy", "normalize", write(tmp_path, "p.json", QUICKSTART))
    assert code == 0 and err is None
    policy = uh.Policy.admit(QUICKSTART)
    assert out == {"object": "policy", "canonical": policy.canonical, "fingerprint": policy.fingerprint,
                   "version": "sigma-pol/v1", "term": QUICKSTART}


def test_policy_normalize_reports_a_clean_error(tmp_path, capsys):
    bad = ["policy", ["ev_zero"], ["cmp", "price_ot", "le", 1], ["zero"], *TAIL]
    code, out, err = run(capsys, "policy", "normalize", write(tmp_path, "p.json", bad))
    assert code == 2 and out is None
    body = assert_error(err, "invalid_policy", "unknown_field")
    assert (body["path"], body["did_you_mean"]) == ("/2/1", "price_out")


def test_missing_file_is_an_io_error_not_a_traceback(tmp_path, capsys):
    code, out, err = run(capsys, "policy", "normalize", str(tmp_path / "nope.json"))
    assert code == 2 and out is None
    assert "nope.json" in assert_error(err, "invalid_request", "io")["message"]


def test_stdin_and_exit_codes_through_the_real_entry_point():
    proc = subprocess.run([sys.executable, "-m", "unhardcoded.cli", "policy", "normalize", "-"],
                          input=json.dumps(QUICKSTART).encode(), capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["fingerprint"] == uh.Policy.admit(QUICKSTART).fingerprint
    proc = subprocess.run([sys.executable, "-m", "unhardcoded.cli", "policy", "normalize", "-"],
                          input=b"[1,", capture_output=True, timeout=60)
    assert proc.returncode == 2 and proc.stdout == b""
    assert json.loads(proc.stderr)["error"]["rule"] == "json_syntax"
    assert b"Traceback" not in proc.stderr


def test_flow_normalize(tmp_path, capsys):
    code, out, _ = run(capsys, "flow", "normalize", write(tmp_path, "f.json", FLOW))
    assert code == 0
    flow = uh.Flow.admit(FLOW)
    assert (out["fingerprint"], out["version"], out["canonical"]) == (flow.fingerprint, "flow_ir/v1", flow.canonical)
    assert out["object"] == "flow" and out["term"] == json.loads(flow.canonical)
    assert out["order"] == ["in", "a", "out"]
    policy = {"fingerprint": uh.Policy.admit(QUICKSTART).fingerprint, "version": "sigma-pol/v1"}
    assert out["nodes"] == [
        {"id": "in", "kind": "input", "inputs": [], "system": None, "template": None},
        {"id": "a", "kind": "llm", "inputs": ["in"], "system": "Answer.", "template": None, "policy": policy},
        {"id": "out", "kind": "output", "inputs": ["a"], "system": None, "template": None},
    ]


def test_flow_normalize_error_names_the_node(tmp_path, capsys):
    bad = json.loads(json.dumps(FLOW))
    bad[1]["a"]["inputs"] = ["a"]
    code, _, err = run(capsys, "flow", "normalize", write(tmp_path, "f.json", bad))
    assert code == 2
    assert assert_error(err, "invalid_flow", "unknown_input")["node"] == "a"


def test_rank_on_the_default_catalog(tmp_path, capsys):
    code, out, _ = run(capsys, "rank", "--policy", write(tmp_path, "p.json", QUICKSTART), "--catalog", "default",
                       "--limit", "3")
    assert code == 0
    expected = uh.Policy.admit(QUICKSTART).rank(uh.default_catalog())
    assert (out["winner"], out["cascade"], out["seed"]) == (expected.winner, expected.cascade, None)
    assert out["counts"] == expected.counts()
    assert out["catalog"] == uh.default_catalog().fingerprint and out["object"] == "rank"
    assert out["requirements"] == {"tools": False, "vision": False, "json": False, "prompt_tokens": 0,
                                   "max_tokens": None}
    assert out["verdicts"] == expected.verdicts(0, 3)
    code, out, _ = run(capsys, "rank", "--policy", write(tmp_path, "p.json", QUICKSTART), "--status", "passed")
    assert code == 0 and [v["model"] for v in out["verdicts"]] == sorted(expected.cascade[1:])


def test_rank_with_a_request_file_and_a_seed(tmp_path, capsys):
    catalog = write(tmp_path, "c.json", {"models": [
        {"id": "small", "provider": "p", "context": 100, "price_out": 1},
        {"id": "big", "provider": "p", "context": 100000, "price_out": 2},
        {"id": "bigger", "provider": "q", "context": 200000, "price_out": 3},
    ]})
    sample = ["policy", ["ev_zero"], ["meets_req"], ["neg", ["field", "price_out"]], ["sample", 1.0], ["id"],
              TAIL[2]]
    request = write(tmp_path, "r.json", {"messages": [{"role": "user", "content": "x" * 1000}]})
    code, out, _ = run(capsys, "rank", "--policy", write(tmp_path, "p.json", sample), "--catalog", catalog,
                       "--request", request, "--seed", "42", "--providers", "p")
    assert code == 0 and out["seed"] == 42 and out["providers"] == ["p"]
    assert out["requirements"]["prompt_tokens"] == 251  # "user" + 1000 x's = 1004 bytes / 4
    assert out["cascade"] == ["big"]
    reasons = {v["model"]: (v["dropped_by"] or {}).get("reason") for v in out["verdicts"]}
    assert reasons == {"small": "context", "big": None, "bigger": "provider q is not configured"}


def test_rank_with_requirements_file(tmp_path, capsys):
    reqs = write(tmp_path, "req.json", {"tools": True})
    code, out, _ = run(capsys, "rank", "--policy", write(tmp_path, "p.json", QUICKSTART), "--requirements", reqs)
    assert code == 0
    assert all(uh.default_catalog().model(m)["cap_tools"] for m in out["cascade"])
    code, _, err = run(capsys, "rank", "--policy", write(tmp_path, "p.json", QUICKSTART), "--requirements",
                       write(tmp_path, "bad.json", {"tools": "yes"}))
    assert code == 2 and assert_error(err, "invalid_request", "type")["path"] == "/tools"


def test_rank_no_candidates_prints_verdicts_and_exits_1(tmp_path, capsys):
    impossible = ["policy", ["ev_zero"], ["cmp", "price_out", "lt", 0], ["zero"], *TAIL]
    code, out, err = run(capsys, "rank", "--policy", write(tmp_path, "p.json", impossible))
    assert code == 1
    assert_error(err, "no_candidates", "empty_cascade")
    assert out["winner"] is None and out["cascade"] == []
    assert len(out["verdicts"]) == len(uh.default_catalog())
    assert {v["status"] for v in out["verdicts"]} == {"rejected"}


def test_rank_usage_errors(tmp_path, capsys):
    policy = write(tmp_path, "p.json", QUICKSTART)
    code, _, err = run(capsys, "rank", "--policy", policy, "--request", policy, "--requirements", policy)
    assert code == 2 and assert_error(err, "invalid_request", "usage")
    code, _, err = run(capsys, "rank")
    assert code == 2 and "--policy" in assert_error(err, "invalid_request", "usage")["message"]
    code, _, err = run(capsys, "frobnicate")
    assert code == 2 and assert_error(err, "invalid_request", "usage")


def test_catalog_show(tmp_path, capsys):
    code, out, _ = run(capsys, "catalog", "show")
    catalog = uh.default_catalog()
    assert code == 0
    assert (out["fingerprint"], out["count"]) == (catalog.fingerprint, len(catalog))
    assert out["fields"] == catalog.fields() and out["capabilities"] == catalog.capabilities()
    assert sum(out["providers"].values()) == len(catalog) and out["providers"]["anthropic"] >= 5
    code, _, err = run(capsys, "catalog", "show", "--catalog",
                       write(tmp_path, "c.json", {"models": [{"id": "x", "provider": "p"}, {"id": "x", "provider": "p"}]}))
    assert code == 2 and assert_error(err, "invalid_catalog", "duplicate_model")


def test_catalog_import_small_file_to_stdout(tmp_path, capsys):
    src = write(tmp_path, "prices.json", {
        "sample_spec": {"mode": "chat"},
        "gpt-x": {"mode": "chat", "litellm_provider": "openai", "input_cost_per_token": 1e-06,
                  "output_cost_per_token": 2e-06, "max_input_tokens": 1000, "supports_function_calling": True},
        "emb": {"mode": "embedding", "litellm_provider": "openai"},
    })
    code = main(["catalog", "import", "--from", "litellm", src])
    out, err = capsys.readouterr()
    assert code == 0
    doc = json.loads(out)
    assert doc["models"] == [{"id": "gpt-x", "provider": "openai", "family": "gpt-x", "price_in": 1, "price_out": 2,
                              "context": 1000, "cap_tools": True, "capabilities": ["supports_tools"],
                              "meta": {"upstream": "gpt-x"}}]
    report = json.loads(err)
    assert report["imported"]["imported"] == 1
    assert report["imported"]["skipped"] == {"not_chat": 1, "sample_spec": 1}


def test_catalog_import_the_real_litellm_map(tmp_path, capsys):
    if not LITELLM.exists():
        pytest.skip("../shared/data/litellm_model_prices.json is not beside the repository")
    dest = tmp_path / "catalog.json"
    code, out, _ = run(capsys, "catalog", "import", "--from", "litellm", str(LITELLM), "-o", str(dest))
    assert code == 0
    loaded = uh.Catalog.load(str(dest))
    assert out["models"] == len(loaded) == 3265 and out["fingerprint"] == loaded.fingerprint
    assert out["out"] == str(dest)


def test_catalog_import_refuses_bad_input(tmp_path, capsys):
    code, _, err = run(capsys, "catalog", "import", "--from", "litellm", write(tmp_path, "x.json", "{oops"))
    assert code == 2 and assert_error(err, "invalid_catalog", "json_syntax")
    code, _, err = run(capsys, "catalog", "import", "--from", "litellm", write(tmp_path, "x.json", "[1]"))
    assert code == 2 and assert_error(err, "invalid_catalog", "type")
    code, _, err = run(capsys, "catalog", "import", "--from", "openrouter", write(tmp_path, "x.json", "{}"))
    assert code == 2 and assert_error(err, "invalid_request", "usage")


def test_serve_dispatches_to_the_server(monkeypatch, capsys):
    seen = {}

    def serve_main(args):
        seen.update(vars(args))
        return 0

    fake = types.ModuleType("unhardcoded.server.cli")
    fake.serve_main = serve_main
    monkeypatch.setitem(sys.modules, "unhardcoded.server.cli", fake)
    code = main(["serve", "--config", "host.toml", "--host", "127.0.0.1", "--port", "8123", "--data-dir", "/tmp/d"])
    assert code == 0
    assert {k: seen[k] for k in ("config", "host", "port", "data_dir")} == {
        "config": "host.toml", "host": "127.0.0.1", "port": 8123, "data_dir": "/tmp/d"}


def test_serve_without_the_server_is_a_clean_error(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "unhardcoded.server.cli", None)  # import now raises ModuleNotFoundError
    code, _, err = run(capsys, "serve")
    assert code == 2 and assert_error(err, "invalid_request", None)
