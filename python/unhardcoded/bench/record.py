"""Results of the benchmark session, shared by the bench modules and benches/conftest.py (which
prints them as a summary with the declared speed-up targets)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Recorded:
    median: float
    minimum: float
    rounds: int


@dataclass
class Target:
    group: str
    ours: str
    baseline: str
    factor: float


RESULTS: dict[tuple[str, str], Recorded] = {}
TARGETS: list[Target] = []
NOTES: list[str] = []


def record(benchmark, group: str, impl: str) -> None:
    stats = getattr(getattr(benchmark, "stats", None), "stats", None)
    if stats is not None:
        RESULTS[(group, impl)] = Recorded(stats.median, stats.min, stats.rounds)


def target(group: str, ours: str, baseline: str, factor: float) -> None:
    """Declare: `ours` must be at least `factor` times faster (by median) than `baseline`."""
    TARGETS.append(Target(group, ours, baseline, factor))


def note(text: str) -> None:
    NOTES.append(text)
