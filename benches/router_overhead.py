"""Router host overhead: latency and throughput the unhardcoded router adds over calling the
upstream directly, next to a bare pass-through proxy on the same stack and LiteLLM's proxy.

    python benches/router_overhead.py [--duration 15] [--rounds 2] [--only direct,router,...]

What runs (all on 127.0.0.1, one process each):
- a fast fake OpenAI upstream (benches/fast_fake_upstream.py: asyncio Protocol on uvloop, one
  fixed response), so the fake is never the bottleneck;
- `direct`: the load generator calls the fake itself — the baseline every "added" number is
  measured against;
- `passthrough`: unhardcoded.server.passthrough, a bare Starlette + httpx proxy (our stack with no
  routing) in front of the fake;
- `router`: `unhardcoded serve` with a config whose only keyed provider is an openai-kind provider
  pointing at the fake, and a small catalog of that provider's models; each request carries the
  quickstart `policy_ir`, so every call is admitted, fingerprinted, ranked, forwarded and traced;
- `litellm`: LiteLLM's proxy (`litellm[proxy]==1.80.0`, installed by this script into its own venv
  so its pins never touch ours) with one model pointing at the fake via `api_base`.

Load: `wrk` (Debian's wrk 4.1, `apt-get install -y wrk`), one thread, closed loop, with
benches/wrk_post.lua for the POST body. wrk is C with an epoll loop: it drives >30k requests/s
from one thread on this machine, far beyond any proxy measured, so it is not the bottleneck.

On a machine with 2+ CPUs the proxy under test is pinned to CPU 1 and the fake + wrk to CPU 0
(`taskset`), so each proxy gets the same single core; `--no-pin` turns that off. Each
configuration is warmed up, then measured at concurrency 1 and 32; with `--rounds N` the
configurations are measured N times, interleaved (within a round: every system at c=1, then
every system at c=32, in reverse order every other round), and the median of each metric is
reported, so a burst of background load hits every configuration alike. The pass-through targets
are also given as the median of per-round router/pass-through ratios, whose two runs are seconds
apart.

Prints a markdown table and whether the targets are met, and writes the raw numbers as JSON
(`--json`).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "python"))  # unhardcoded.bench when run from a checkout

from unhardcoded.bench.quickstart import CHAT_REQUEST, QUICKSTART_POLICY_TEXT

LITELLM_SPEC = "litellm[proxy]==1.80.0"
LITELLM_VENV_ENV = "UNHARDCODED_BENCH_LITELLM_VENV"
DEFAULT_LITELLM_VENV = REPO / ".bench" / "litellm-venv"
ROUTER_KEY = "uh-bench-key"          # the router workspace key (not a provider key)
UPSTREAM_KEY = "sk-bench-fake"       # what the proxies send to the fake; the fake ignores it
UPSTREAM_MODEL = "bench-upstream"
LITELLM_MODEL = "bench-model"
EXPECTED_CONTENT = "Hello from the bench upstream."
CONFIGS = ["direct", "passthrough", "router", "litellm"]


# --- processes -----------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pinned(cmd: list[str], cpu: str | None) -> list[str]:
    return ["taskset", "-c", cpu, *cmd] if cpu is not None else cmd


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen
    log: Path

    def stop(self) -> None:
        if self.popen.poll() is None:
            # Started in its own session: signal the whole group (LiteLLM may fork workers).
            try:
                os.killpg(self.popen.pid, signal.SIGTERM)
            except ProcessLookupError:
                return
            try:
                self.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(timeout=5)

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def start(name: str, cmd: list[str], workdir: Path, env: dict[str, str]) -> Proc:
    log = workdir / f"{name}.log"
    with open(log, "wb") as handle:  # the child keeps its own copy of the descriptor
        popen = subprocess.Popen(cmd, stdout=handle, stderr=subprocess.STDOUT, env=env, cwd=workdir,
                                 start_new_session=True)
    return Proc(name, popen, log)


def wait_ready(proc: Proc, url: str, body: dict, headers: dict[str, str], timeout: float,
               selected: str | None = None) -> None:
    """Polls with the benchmark's own request until it answers 200 with the fake's completion
    (and, for the router, having selected the model the policy must pick)."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    with httpx.Client(timeout=10.0) as client:
        while time.monotonic() < deadline:
            if proc.popen.poll() is not None:
                raise RuntimeError(f"{proc.name} exited with {proc.popen.returncode}:\n{proc.tail()}")
            try:
                r = client.post(url, json=body, headers=headers)
            except httpx.TransportError as exc:
                last = f"{type(exc).__name__}"
                time.sleep(0.3)
                continue
            if r.status_code == 200:
                content = r.json().get("choices", [{}])[0].get("message", {}).get("content")
                if content != EXPECTED_CONTENT:
                    raise RuntimeError(f"{proc.name} answered 200 without the fake's completion: {r.text[:500]}")
                if selected is not None and r.headers.get("x-unhardcoded-selected") != selected:
                    raise RuntimeError(f"{proc.name} routed to {r.headers.get('x-unhardcoded-selected')!r}, "
                                       f"expected {selected!r}: {r.text[:500]}")
                return
            last = f"HTTP {r.status_code}: {r.text[:300]}"
            time.sleep(0.5)
    raise RuntimeError(f"{proc.name} not ready after {timeout:.0f}s ({last}):\n{proc.tail()}")


# --- the systems under test ----------------------------------------------------------------------

def router_catalog() -> dict:
    """A few models of the one configured provider; the quickstart policy keeps three of them
    and picks the cheapest (bench-small)."""
    def model(mid: str, price_out: float, quality: float) -> dict:
        return {"id": mid, "provider": "openai", "family": "bench", "region": "global",
                "price_in": round(price_out / 4, 4), "price_out": price_out, "context": 128000,
                "max_output": 16384, "bench_intelligence": quality, "latency_ms": 300,
                "throughput_tps": 100, "cap_tools": True, "cap_json": True, "disabled": False,
                "capabilities": ["supports_tools", "supports_json_mode", "supports_streaming",
                                 "supports_system_messages"],
                "meta": {"upstream": UPSTREAM_MODEL}}

    return {"format": "unhardcoded-catalog/v1", "fields": [], "models": [
        model("bench-large", 4.0, 0.9),
        model("bench-medium", 1.6, 0.8),
        model("bench-small", 0.6, 0.7),
        model("bench-tiny", 0.2, 0.3),         # below the quality floor
        model("bench-xl", 15.0, 0.95),         # above the price ceiling
    ]}


def router_config(workdir: Path, upstream: str) -> Path:
    catalog = workdir / "catalog.json"
    catalog.write_text(json.dumps(router_catalog()))
    cfg = workdir / "unhardcoded.toml"
    cfg.write_text(f"""
[server]
log_level = "warning"
data_dir = "{workdir / 'data'}"

[catalog]
files = ["{catalog}"]

[providers.openai]
kind = "openai"
base_url = "{upstream}/v1"
api_key_env = "UH_BENCH_UPSTREAM_KEY"

[[workspaces]]
id = "bench"
key_sha256 = ["{hashlib.sha256(ROUTER_KEY.encode()).hexdigest()}"]
""")
    return cfg


def litellm_config(workdir: Path, upstream: str) -> Path:
    cfg = workdir / "litellm.yaml"
    cfg.write_text(f"""model_list:
  - model_name: {LITELLM_MODEL}
    litellm_params:
      model: openai/{UPSTREAM_MODEL}
      api_base: {upstream}/v1
      api_key: {UPSTREAM_KEY}
litellm_settings:
  set_verbose: false
  telemetry: false
""")
    return cfg


def quiet_uvicorn_log_config(workdir: Path) -> Path:
    """uvicorn logging without the per-request access log, as the router and pass-through run."""
    path = workdir / "uvicorn-log.json"
    path.write_text(json.dumps({
        "version": 1, "disable_existing_loggers": False,
        "handlers": {"stderr": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr"}},
        "loggers": {"uvicorn": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
                    "uvicorn.error": {"level": "WARNING"},
                    "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False}},
    }))
    return path


def ensure_litellm(venv: Path) -> Path:
    exe = venv / "bin" / "litellm"
    if exe.exists():
        return exe
    print(f"creating {venv} with {LITELLM_SPEC} (once) ...", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", LITELLM_SPEC], check=True)
    if not exe.exists():
        raise RuntimeError(f"{LITELLM_SPEC} installed but {exe} is missing")
    return exe


def clean_env() -> dict[str, str]:
    """The parent environment without provider keys or proxy settings, so only the benchmark's
    configured upstream is reachable and nothing is sent through an HTTP proxy."""
    drop = ("_API_KEY", "_KEY", "PROXY", "proxy")
    env = {k: v for k, v in os.environ.items() if not any(d in k for d in drop)}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    return env


@dataclass
class System:
    name: str
    url: str
    body: dict
    auth: str | None = None
    proc: Proc | None = None
    selected: str | None = None      # the model the router must pick (checked before measuring)


def start_systems(wanted: list[str], workdir: Path, upstream: str, server_cpu: str | None,
                  litellm_venv: Path, ready_timeout: float) -> list[System]:
    base = clean_env()
    plain = {k: v for k, v in CHAT_REQUEST.items() if k != "model"}
    systems: list[System] = []
    if "direct" in wanted:
        systems.append(System("direct", f"{upstream}/v1/chat/completions", {"model": UPSTREAM_MODEL, **plain}))
    if "passthrough" in wanted:
        port = free_port()
        env = {**base, "UH_BENCH_UPSTREAM_KEY": UPSTREAM_KEY}
        cmd = [sys.executable, str(HERE / "serve_passthrough.py"), "--host", "127.0.0.1", "--port", str(port),
               "--upstream", f"{upstream}/v1", "--api-key-env", "UH_BENCH_UPSTREAM_KEY"]
        systems.append(System("passthrough", f"http://127.0.0.1:{port}/v1/chat/completions",
                              {"model": UPSTREAM_MODEL, **plain},
                              proc=start("passthrough", pinned(cmd, server_cpu), workdir, env)))
    if "router" in wanted:
        port = free_port()
        env = {**base, "UH_BENCH_UPSTREAM_KEY": UPSTREAM_KEY}
        cfg = router_config(workdir, upstream)
        cmd = [sys.executable, "-m", "unhardcoded.cli", "serve", "--config", str(cfg), "--host", "127.0.0.1",
               "--port", str(port)]
        body = {**CHAT_REQUEST, "policy_ir": json.loads(QUICKSTART_POLICY_TEXT)}
        systems.append(System("router", f"http://127.0.0.1:{port}/v1/chat/completions", body, auth=ROUTER_KEY,
                              proc=start("router", pinned(cmd, server_cpu), workdir, env), selected="bench-small"))
    if "litellm" in wanted:
        exe = ensure_litellm(litellm_venv)
        port = free_port()
        env = {**base, "LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_LOG": "ERROR",
               "LITELLM_TELEMETRY": "False", "DISABLE_ADMIN_UI": "True"}
        cmd = [str(exe), "--config", str(litellm_config(workdir, upstream)), "--host", "127.0.0.1",
               "--port", str(port), "--num_workers", "1", "--telemetry", "False",
               "--log_config", str(quiet_uvicorn_log_config(workdir))]
        systems.append(System("litellm", f"http://127.0.0.1:{port}/v1/chat/completions",
                              {"model": LITELLM_MODEL, **plain},
                              proc=start("litellm", pinned(cmd, server_cpu), workdir, env)))
    for system in systems:
        if system.proc is not None:
            headers = {"authorization": f"Bearer {system.auth}"} if system.auth else {}
            wait_ready(system.proc, system.url, system.body, headers, ready_timeout, system.selected)
            print(f"  {system.name} ready", file=sys.stderr)
    return systems


# --- load ----------------------------------------------------------------------------------------

@dataclass
class Run:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    cpu_us: float | None = None      # the proxy's CPU time (all its processes) per request served


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def session_cpu_seconds(sid: int) -> float | None:
    """User + system CPU of every process in session `sid` (a proxy and any workers it forked:
    each system is started in its own session). CPU per request is far less sensitive to other
    load on the machine than requests per second, so it is reported beside it."""
    total, seen = 0, False
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else ():
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                stat = handle.read().decode(errors="replace")
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[-1].split()
        # After the command: state ppid pgrp session … utime (14th field overall) stime (15th).
        if len(fields) > 12 and fields[3] == str(sid):
            total += int(fields[11]) + int(fields[12])
            seen = True
    return total / _CLOCK_TICKS if seen else None


def wrk(system: System, concurrency: int, seconds: float, cpu: str | None, workdir: Path) -> Run:
    body_file = workdir / f"body-{system.name}.json"
    body_file.write_text(json.dumps(system.body, separators=(",", ":")))
    env = {**clean_env(), "WRK_BODY_FILE": str(body_file), "WRK_AUTH": system.auth or ""}
    cmd = pinned(["wrk", "-t1", f"-c{concurrency}", f"-d{max(1, round(seconds))}s", "--timeout", "10s",
                  "-s", str(HERE / "wrk_post.lua"), system.url], cpu)
    sid = system.proc.popen.pid if system.proc is not None else None
    cpu_before = session_cpu_seconds(sid) if sid is not None else None
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=seconds + 60, check=False)
    cpu_after = session_cpu_seconds(sid) if sid is not None else None
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr[-2000:]}")
    line = [ln for ln in done.stderr.splitlines() if ln.startswith("{")][-1]
    stats = json.loads(line)
    secs = stats["duration_us"] / 1e6
    errors = sum(stats["errors"].values())
    cpu_us = None
    if cpu_before is not None and cpu_after is not None and stats["requests"]:
        cpu_us = (cpu_after - cpu_before) * 1e6 / stats["requests"]
    return Run(stats["requests"], secs, stats["requests"] / secs, stats["p50_us"] / 1e3, stats["p99_us"] / 1e3,
               errors, cpu_us)


@dataclass
class Result:
    name: str
    c1: list[Run] = field(default_factory=list)
    c32: list[Run] = field(default_factory=list)

    def med(self, runs: str, attr: str) -> float:
        return statistics.median(getattr(r, attr) for r in getattr(self, runs))

    def errors(self) -> int:
        return sum(r.errors for r in self.c1 + self.c32)


def measure(systems: list[System], rounds: int, duration: float, warmup: float, cpu: str | None,
            workdir: Path) -> dict[str, Result]:
    results = {s.name: Result(s.name) for s in systems}
    for system in systems:
        print(f"  warming up {system.name}", file=sys.stderr)
        wrk(system, 32, warmup, cpu, workdir)
        wrk(system, 1, 1, cpu, workdir)
    for r in range(rounds):
        # One concurrency at a time across the systems, so the runs a ratio compares are seconds
        # apart rather than a whole round; every other round in reverse order, so drift in the
        # host's speed within a round favours neither system.
        order = systems if r % 2 == 0 else systems[::-1]
        for conc in (1, 32):
            for system in order:
                run = wrk(system, conc, duration, cpu, workdir)
                (results[system.name].c1 if conc == 1 else results[system.name].c32).append(run)
                print(f"  round {r + 1} {system.name} c={conc}: p50 {run.p50_ms:.3f} ms p99 {run.p99_ms:.3f} ms "
                      f"{run.rps:.0f} req/s{_cpu_text(run)} errors {run.errors}", file=sys.stderr)
    return results


def paired(results: dict[str, Result], a: str, b: str) -> tuple[list[float], list[float]]:
    """Per-round ratios of system a to system b: added p50 at c=1 (over that round's direct run)
    and requests per second at c=32. The median of these is less sensitive to the host's speed
    drifting between rounds than the ratio of the two medians."""
    base = results["direct"]
    added, rps = [], []
    for i, (ra, rb) in enumerate(zip(results[a].c1, results[b].c1)):
        d = base.c1[i].p50_ms
        added.append((ra.p50_ms - d) / max(rb.p50_ms - d, 1e-9))
    for ra, rb in zip(results[a].c32, results[b].c32):
        rps.append(ra.rps / max(rb.rps, 1e-9))
    return added, rps


def measure_simultaneous(systems: list[System], rounds: int, duration: float, cpu: str | None,
                         workdir: Path) -> list[dict[str, Run]]:
    """Every proxy under test at once, each driven by its own wrk at c=32. Pinned to the same CPU
    and each in its own session (so the kernel's autogroup scheduling splits the CPU evenly
    between them, threads included), they get equal shares of one core at the same moments, so
    a change in the host's speed hits them alike; the ratio of their request rates is then the
    ratio of their CPU cost per request, which is what the req/s targets compare when each
    saturates a core alone."""
    import threading

    proxies = [s for s in systems if s.proc is not None]
    out: list[dict[str, Run]] = []
    for r in range(rounds):
        runs: dict[str, Run] = {}
        errors: list[BaseException] = []

        def drive(system: System) -> None:
            try:
                runs[system.name] = wrk(system, 32, duration, cpu, workdir)
            except BaseException as exc:  # reported after the round, on the main thread
                errors.append(exc)

        threads = [threading.Thread(target=drive, args=(s,)) for s in proxies]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise RuntimeError(f"simultaneous round {r + 1} failed: {errors[0]}")
        out.append(runs)
        print(f"  simultaneous round {r + 1}: " + ", ".join(f"{n} {v.rps:.0f} req/s" for n, v in runs.items()),
              file=sys.stderr)
    return out


def report_simultaneous(rounds: list[dict[str, Run]]) -> str:
    if not rounds or "router" not in rounds[0] or "passthrough" not in rounds[0]:
        return ""
    ratios = [r["router"].rps / max(r["passthrough"].rps, 1e-9) for r in rounds]
    lines = ["| round | pass-through req/s | router req/s | router / pass-through |", "|---|---:|---:|---:|"]
    for i, r in enumerate(rounds):
        lines.append(f"| {i + 1} | {r['passthrough'].rps:.0f} | {r['router'].rps:.0f} | {ratios[i]:.3f} |")
    m = statistics.median(ratios)
    lines.append(f"\nSimultaneous, c=32 each, one shared core: router / pass-through req/s median {m:.3f} "
                 f"(range {min(ratios):.3f}–{max(ratios):.3f}); target ≥ 0.8: {'yes' if m >= 0.8 else 'NO'}")
    return "\n".join(lines)


def _cpu_text(run: Run) -> str:
    return f" {run.cpu_us:.0f} µs CPU/request" if run.cpu_us is not None else ""


# --- profile ------------------------------------------------------------------------------------

def _frame_label(frame: str) -> str:
    """'handle (/…/site-packages/starlette/routing.py:74)' -> 'handle (starlette/routing.py)'."""
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", "/python/", "/lib/python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{name} ({path})" if path else name


def summarize_profile(raw: Path, top: int = 25) -> str:
    """Inclusive and self share of the event-loop thread's samples per function, from py-spy's
    folded (raw) output recorded with --threads; other threads are listed with their totals."""
    inclusive: dict[str, int] = {}
    own: dict[str, int] = {}
    threads: dict[str, int] = {}
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        thread = frames.pop(0) if frames and frames[0].startswith("thread (") else "thread (?): MainThread"
        threads[thread] = threads.get(thread, 0) + count
        if not thread.endswith(": MainThread") or not frames:
            continue
        total += count
        labels = [_frame_label(f) for f in frames]
        for label in set(labels):
            inclusive[label] = inclusive.get(label, 0) + count
        own[labels[-1]] = own.get(labels[-1], 0) + count
    if not total:
        return "no samples of the main thread"
    others = [f"{name.split(': ', 1)[-1]} {n}" for name, n in sorted(threads.items(), key=lambda kv: -kv[1])
              if not name.endswith(": MainThread")]
    # Frames in (nearly) every sample (interpreter start-up, uvicorn's run loop) say nothing.
    shared = {label for label, n in inclusive.items() if n >= 0.995 * total}
    out = [f"{total} samples of the main (event-loop) thread; other threads: {', '.join(others) or 'none'}.",
           f"Omitted from the inclusive table (in ≥99.5% of samples): {', '.join(sorted(shared))}.",
           "", "| inclusive | function |", "|---:|---|"]
    ranked = sorted(((lb, n) for lb, n in inclusive.items() if lb not in shared), key=lambda kv: -kv[1])
    out += [f"| {n / total:.1%} | {label} |" for label, n in ranked[:2 * top]]
    ours = [(lb, n) for lb, n in ranked if "(unhardcoded/" in lb]
    out += ["", "| inclusive | unhardcoded function |", "|---:|---|"]
    out += [f"| {n / total:.1%} | {label} |" for label, n in ours[:top]]
    out += ["", "| self | function |", "|---:|---|"]
    out += [f"| {n / total:.1%} | {label} |" for label, n in sorted(own.items(), key=lambda kv: -kv[1])[:top]]
    return "\n".join(out)


def profile(system: System, seconds: float, concurrency: int, idle: bool, cpu: str | None, workdir: Path,
            py_spy: str) -> str:
    """py-spy samples the proxy while wrk drives it at `concurrency` (with `idle`, waiting
    threads are sampled too, so the shares are of wall time rather than CPU time)."""
    if system.proc is None:
        raise RuntimeError(f"{system.name} is not a process this script started")
    raw = workdir / f"profile-{system.name}-c{concurrency}.txt"
    spy = subprocess.Popen([py_spy, "record", "--pid", str(system.proc.popen.pid), "--rate", "500", "--format", "raw",
                            "--threads", "--output", str(raw), "--duration", str(int(seconds)), *(["--idle"] if idle else [])],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(0.5)
    wrk(system, concurrency, seconds, cpu, workdir)
    _, err = spy.communicate(timeout=seconds + 30)
    if spy.returncode != 0 or not raw.exists():
        return f"py-spy failed ({spy.returncode}): {err.decode(errors='replace')[-500:]}"
    return summarize_profile(raw)


# --- report --------------------------------------------------------------------------------------

def _ratios(values: list[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


def report(results: dict[str, Result], args: argparse.Namespace) -> str:
    base = results.get("direct")
    lines = [("| system | c=1 p50 | c=1 p99 | added p50 (c=1) | added p99 (c=1) | c=32 p50 | c=32 p99 "
              "| added p50 (c=32) | req/s (c=32) | CPU/request (c=32) | errors |"),
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]

    def ms(x: float) -> str:
        return f"{x:.3f} ms"

    def added(res: Result, runs: str, attr: str) -> str:
        if base is None or res is base:
            return "—"
        return ms(res.med(runs, attr) - base.med(runs, attr))

    def cpu(res: Result) -> str:
        values = [r.cpu_us for r in res.c32 if r.cpu_us is not None]
        return f"{statistics.median(values):.0f} µs" if values else "—"

    for res in results.values():
        lines.append(f"| {res.name} | {ms(res.med('c1', 'p50_ms'))} | {ms(res.med('c1', 'p99_ms'))} "
                     f"| {added(res, 'c1', 'p50_ms')} | {added(res, 'c1', 'p99_ms')} "
                     f"| {ms(res.med('c32', 'p50_ms'))} | {ms(res.med('c32', 'p99_ms'))} "
                     f"| {added(res, 'c32', 'p50_ms')} | {res.med('c32', 'rps'):.0f} | {cpu(res)} | {res.errors()} |")

    targets = []
    if base is not None and "router" in results:
        add = {k: v.med("c1", "p50_ms") - base.med("c1", "p50_ms") for k, v in results.items()}
        rps = {k: v.med("c32", "rps") for k, v in results.items()}
        if "litellm" in results:
            ok = add["router"] <= add["litellm"] / 5
            targets.append(f"| c=1 added p50: router ≤ 1/5 of LiteLLM | {add['router']:.3f} ms vs "
                           f"{add['litellm']:.3f} ms (ratio {add['litellm'] / max(add['router'], 1e-9):.1f}×) "
                           f"| {'yes' if ok else 'NO'} |")
            ok = rps["router"] >= 2 * rps["litellm"]
            targets.append(f"| c=32 req/s: router ≥ 2× LiteLLM | {rps['router']:.0f} vs {rps['litellm']:.0f} "
                           f"({rps['router'] / rps['litellm']:.2f}×) | {'yes' if ok else 'NO'} |")
        if "passthrough" in results:
            p_added, p_rps = paired(results, "router", "passthrough")
            m_added, m_rps = statistics.median(p_added), statistics.median(p_rps)
            ok = add["router"] <= 1.3 * add["passthrough"]
            targets.append(f"| c=1 added p50: router ≤ 1.3× pass-through | {add['router']:.3f} ms vs "
                           f"{add['passthrough']:.3f} ms ({add['router'] / max(add['passthrough'], 1e-9):.2f}×) "
                           f"| {'yes' if ok else 'NO'} |")
            targets.append(f"| same, median of per-round ratios | {_ratios(p_added)} → {m_added:.2f}× "
                           f"| {'yes' if m_added <= 1.3 else 'NO'} |")
            ok = rps["router"] >= 0.8 * rps["passthrough"]
            targets.append(f"| c=32 req/s: router ≥ 0.8× pass-through | {rps['router']:.0f} vs "
                           f"{rps['passthrough']:.0f} ({rps['router'] / rps['passthrough']:.2f}×) "
                           f"| {'yes' if ok else 'NO'} |")
            targets.append(f"| same, median of per-round ratios | {_ratios(p_rps)} → {m_rps:.2f}× "
                           f"| {'yes' if m_rps >= 0.8 else 'NO'} |")
    out = "\n".join(lines)
    if targets:
        out += "\n\n| target | measured | met |\n|---|---|---|\n" + "\n".join(targets)
    if any(r.errors() for r in results.values()):
        out += "\n\nErrors are non-2xx answers, timeouts or socket errors counted by wrk; a run with errors is not valid."
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per measurement (default 15)")
    parser.add_argument("--warmup", type=float, default=3.0, help="warm-up seconds per system (default 3)")
    parser.add_argument("--rounds", type=int, default=1, help="interleaved rounds; medians reported (default 1)")
    parser.add_argument("--only", default=",".join(CONFIGS), help=f"comma list of {', '.join(CONFIGS)}")
    parser.add_argument("--no-pin", action="store_true", help="do not pin processes to CPUs")
    parser.add_argument("--litellm-venv", type=Path,
                        default=Path(os.environ.get(LITELLM_VENV_ENV, DEFAULT_LITELLM_VENV)))
    parser.add_argument("--ready-timeout", type=float, default=120.0)
    parser.add_argument("--json", type=Path, help="also write the raw runs here")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs, configs)")
    parser.add_argument("--simultaneous", type=int, default=0, metavar="ROUNDS",
                        help="after the rounds, this many rounds with every proxy loaded at once on the shared "
                             "CPU (c=32 each); with --rounds 0 only these")
    parser.add_argument("--profile", metavar="SYSTEM[,SYSTEM]", help="after measuring, profile these proxies with py-spy")
    parser.add_argument("--profile-seconds", type=float, default=10.0)
    parser.add_argument("--profile-concurrency", type=int, default=32)
    parser.add_argument("--profile-idle", action="store_true", help="sample waiting threads too (wall-time shares)")
    parser.add_argument("--py-spy", default=shutil.which("py-spy") or "py-spy", help="py-spy executable")
    args = parser.parse_args()

    wanted = [c.strip() for c in args.only.split(",") if c.strip()]
    unknown = sorted(set(wanted) - set(CONFIGS))
    if unknown:
        parser.error(f"unknown system(s): {', '.join(unknown)}")
    if shutil.which("wrk") is None:
        print("wrk is not installed (Debian/Ubuntu: apt-get install -y wrk)", file=sys.stderr)
        return 2
    pin = not args.no_pin and (os.cpu_count() or 1) >= 2 and shutil.which("taskset") is not None
    load_cpu, server_cpu = ("0", "1") if pin else (None, None)

    workdir = Path(tempfile.mkdtemp(prefix="uh-router-overhead-"))
    procs: list[Proc] = []
    try:
        fake_port = free_port()
        upstream = f"http://127.0.0.1:{fake_port}"
        fake = start("fake", pinned([sys.executable, str(HERE / "fast_fake_upstream.py"), "--port", str(fake_port)],
                                    load_cpu), workdir, clean_env())
        procs.append(fake)
        wait_ready(fake, f"{upstream}/v1/chat/completions", {"model": UPSTREAM_MODEL}, {}, 15)
        systems = start_systems(wanted, workdir, upstream, server_cpu, args.litellm_venv, args.ready_timeout)
        procs.extend(s.proc for s in systems if s.proc is not None)
        started = time.strftime("%Y-%m-%d %H:%M:%S %Z")
        load_before = os.getloadavg()
        results = measure(systems, args.rounds, args.duration, args.warmup, load_cpu, workdir)
        simultaneous = (measure_simultaneous(systems, args.simultaneous, args.duration, load_cpu, workdir)
                        if args.simultaneous else [])
        load_after = os.getloadavg()
        profiles = {}
        for name in [p for p in (args.profile or "").split(",") if p]:
            system = next((s for s in systems if s.name == name and s.proc is not None), None)
            if system is None:
                raise RuntimeError(f"--profile {name}: not a running proxy in this run")
            print(f"  profiling {name}", file=sys.stderr)
            profiles[name] = profile(system, args.profile_seconds, args.profile_concurrency, args.profile_idle,
                                     load_cpu, workdir, args.py_spy)
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        for proc in reversed(procs):
            proc.stop()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"work directory kept: {workdir}", file=sys.stderr)

    print(f"router overhead — {started}; {os.cpu_count()} CPUs; pinned: {'yes (proxy CPU 1; fake + wrk CPU 0)' if pin else 'no'}; "
          f"{args.rounds} round(s) × {args.duration:g} s per system and concurrency; load average "
          f"{load_before[0]:.2f} before, {load_after[0]:.2f} after\n")
    if args.rounds:
        print(report(results, args))
    if simultaneous:
        print("\n" + report_simultaneous(simultaneous))
    for name, text in profiles.items():
        print(f"\n### py-spy profile of {name} at c={args.profile_concurrency} ({args.profile_seconds:g} s"
              f"{', idle threads included' if args.profile_idle else ''})\n\n{text}")
    if args.json:
        raw: dict = {k: asdict(v) for k, v in results.items()}
        raw["simultaneous"] = [{k: asdict(v) for k, v in r.items()} for r in simultaneous]
        args.json.write_text(json.dumps(raw, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
