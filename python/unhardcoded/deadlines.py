"""Deadlines for many concurrent calls on one timer per event loop.

`asyncio.timeout_at` allocates, starts, stops and closes a libuv timer on every use under uvloop:
about 6 µs, more than the routing decision itself, paid on every upstream call and every streamed
chunk. `deadline_at(at)` is its drop-in replacement for the router's hot paths: the deadlines of one
loop sit in a set, and a single timer handle is kept at the earliest of them. Entering and leaving a
block is a set insert and removal; the handle is only moved when a new deadline is earlier than every
pending one (rare: deadlines are mostly "now + a fixed limit", so later ones arrive last).

Cancellation semantics are asyncio.timeout's (Python 3.11): an expired block's task is cancelled, and
on leaving the block that cancellation becomes TimeoutError unless someone else also cancelled the
task meanwhile.
"""
from __future__ import annotations

import asyncio
import math
import weakref
from types import TracebackType
from typing import Any

__all__ = ["deadline_at"]


class _Wheel:
    __slots__ = ("__weakref__", "entries", "handle", "loop", "next_at")

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self.entries: set[deadline_at] = set()
        self.handle: asyncio.TimerHandle | None = None
        self.next_at = math.inf

    def add(self, entry: deadline_at) -> None:
        self.entries.add(entry)
        if entry.at < self.next_at:
            self._schedule(entry.at)

    def _schedule(self, at: float) -> None:
        if self.handle is not None:
            self.handle.cancel()
        self.next_at = at
        self.handle = self.loop.call_at(at, self._fire)

    def _fire(self) -> None:
        self.handle = None
        self.next_at = math.inf
        now = self.loop.time()
        earliest = math.inf
        expired = []
        for entry in self.entries:
            if entry.at <= now:
                expired.append(entry)
            elif entry.at < earliest:
                earliest = entry.at
        for entry in expired:
            self.entries.discard(entry)
            entry.expire()
        if earliest < math.inf:
            self._schedule(earliest)


_wheels: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Wheel] = weakref.WeakKeyDictionary()


def _wheel(loop: asyncio.AbstractEventLoop) -> _Wheel:
    wheel = _wheels.get(loop)
    if wheel is None:
        wheel = _wheels[loop] = _Wheel(loop)
    return wheel


class deadline_at:  # noqa: N801 - named like the asyncio.timeout_at it replaces
    """`async with deadline_at(loop_time):` raises TimeoutError when the block is still running at
    `loop_time` (the running loop's clock). None or infinity: no deadline."""

    __slots__ = ("at", "expired", "task", "_cancelling", "_wheel")

    def __init__(self, at: float | None):
        self.at = math.inf if at is None else at
        self.expired = False
        self.task: asyncio.Task[Any] | None = None
        self._cancelling = 0
        self._wheel: _Wheel | None = None

    def expire(self) -> None:
        self.expired = True
        if self.task is not None:
            self.task.cancel()

    async def __aenter__(self) -> deadline_at:
        if math.isfinite(self.at):
            task = asyncio.current_task()
            if task is None:
                raise RuntimeError("deadline_at must be used inside a task")
            self.task = task
            self._cancelling = task.cancelling()
            loop = asyncio.get_running_loop()
            if self.at <= loop.time():
                self.expire()  # already past: cancelled at the block's first await, as asyncio does
            else:
                self._wheel = _wheel(loop)
                self._wheel.add(self)
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        if self._wheel is not None:
            self._wheel.entries.discard(self)
        if self.expired and self.task is not None:
            if self.task.uncancel() <= self._cancelling and exc_type is asyncio.CancelledError:
                raise TimeoutError from exc
        return None
