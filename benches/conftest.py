"""Shared machinery of the benchmark suites (run: `python -m pytest benches --benchmark-only`).

- Collects `bench_*.py` files (pytest's default pattern only knows `test_*.py`).
- Prints the machine, its load and the native build profile in the header: numbers from a debug
  build of `unhardcoded._core` are meaningless, so the header says which one is loaded.
- `unhardcoded.bench.record.record(benchmark, group, impl)` remembers a finished benchmark's
  statistics; targets that bench modules declare with `target(...)` are checked against them in a
  summary table at the end of the run. A missed target is reported, not failed: timing on a shared machine is noisy,
  and correctness (every implementation agrees) is what the benches assert.
"""
from __future__ import annotations

import fnmatch
import os
import platform
from pathlib import Path

import pytest
from unhardcoded.bench.record import NOTES, RESULTS, TARGETS


def pytest_collect_file(file_path: Path, parent: pytest.Collector):
    if file_path.suffix != ".py" or not file_path.name.startswith("bench_"):
        return None
    # If the ini options already collect bench_*.py, let pytest do it (no duplicate modules).
    if any(fnmatch.fnmatch(file_path.name, pat) for pat in parent.config.getini("python_files")):
        return None
    # A file named on the command line (`pytest benches/bench_rank.py`) is collected by pytest
    # itself whatever its name; collecting it here too would run every bench twice.
    if parent.session.isinitpath(file_path):
        return None
    return pytest.Module.from_parent(parent, path=file_path)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def native_build() -> str:
    """'release' or 'debug' from the loaded extension's ELF sections (debug builds carry
    .debug_info; the release profile does not), or why it cannot be told."""
    try:
        from unhardcoded import _core
    except ImportError as exc:
        return f"not importable ({exc})"
    path = getattr(_core, "__file__", None)
    if not path:
        return "unknown"
    try:
        data = Path(path).read_bytes()
    except OSError:
        return "unknown"
    names = _elf_section_names(data)
    if names is None:
        return "unknown (not an ELF64 file)"
    return "debug (has .debug_info) — rebuild with --release before trusting numbers" \
        if ".debug_info" in names else "release (no .debug_info)"


def _elf_section_names(data: bytes) -> set[str] | None:
    """Section names from the ELF64 section header table. Searching the bytes for ".debug_info" is
    not enough: a release build of std's backtrace code carries that string as data."""
    import struct

    if data[:5] != b"\x7fELF\x02":
        return None
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    def section(i: int) -> tuple[int, int, int]:
        name, _type, _flags, _addr, offset, size = struct.unpack_from("<IIQQQQ", data, shoff + i * shentsize)
        return name, offset, size
    _, str_off, str_size = section(shstrndx)
    table = data[str_off:str_off + str_size]
    names = set()
    for i in range(shnum):
        name = section(i)[0]
        names.add(table[name:table.index(b"\0", name)].decode("ascii", "replace"))
    return names


def pytest_report_header(config: pytest.Config) -> list[str]:
    load = os.getloadavg()
    return [
        f"machine: {os.cpu_count()} CPUs, {cpu_model()}; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}",
        f"unhardcoded._core build: {native_build()}",
    ]


def _fmt(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.3f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.3f} ms"
    return f"{seconds * 1e6:.2f} µs"


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    if not RESULTS and not NOTES:
        return
    tr = terminalreporter
    tr.section("unhardcoded benchmark summary")
    for line in pytest_report_header(config):  # -q (the project's addopts) hides the header
        tr.write_line(line)
    tr.write_line("| group | implementation | median | min | rounds |")
    tr.write_line("|---|---|---:|---:|---:|")
    for (group, impl), r in RESULTS.items():
        tr.write_line(f"| {group} | {impl} | {_fmt(r.median)} | {_fmt(r.minimum)} | {r.rounds} |")
    if TARGETS:
        tr.write_line("")
        tr.write_line("| target | speed-up (median) | speed-up (min) | required | met (median) |")
        tr.write_line("|---|---:|---:|---:|---|")
        for t in TARGETS:
            ours, base = RESULTS.get((t.group, t.ours)), RESULTS.get((t.group, t.baseline))
            label = f"{t.group}: {t.ours} vs {t.baseline}"
            if ours is None or base is None:
                tr.write_line(f"| {label} | not measured | | ≥{t.factor:g}× | n/a |")
                continue
            ratio = base.median / ours.median
            tr.write_line(f"| {label} | {ratio:.2f}× | {base.minimum / ours.minimum:.2f}× | ≥{t.factor:g}× "
                          f"| {'yes' if ratio >= t.factor else 'NO'} |")
    for text in NOTES:
        tr.write_line(f"note: {text}")
