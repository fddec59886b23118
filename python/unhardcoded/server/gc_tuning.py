"""Garbage-collector settings for a long-running server process.

Each proxied call leaves a few reference cycles behind (httpx, anyio and asyncio build them), so
the collector runs every few dozen calls, and with Python's default thresholds every tenth run
also walks everything that survived one — the whole in-flight working set under load — and now
and then the whole heap. Freezing what exists once the server is built (catalog, config, imported
modules) takes the long-lived heap out of every later collection, and a ten times larger first
threshold with rarer older-generation runs walks the in-flight set far less often. Both the router
and the benchmark's bare pass-through serve with these settings (docs/benchmarks.md).
"""
from __future__ import annotations

import gc

THRESHOLDS = (7000, 20, 20)


def tune_for_serving() -> None:
    """Call once, after the app is built and before serving."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
