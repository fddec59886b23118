"""deadline_at: asyncio.timeout_at's behaviour on one shared timer per loop (unhardcoded/deadlines.py)."""
from __future__ import annotations

import asyncio

import pytest
import uvloop

from unhardcoded.deadlines import _wheels, deadline_at

LOOPS = {"asyncio": asyncio.new_event_loop, "uvloop": uvloop.new_event_loop}


@pytest.fixture(params=sorted(LOOPS))
def run(request):
    def runner(coro_fn):
        loop = LOOPS[request.param]()
        try:
            return loop.run_until_complete(coro_fn())
        finally:
            loop.close()
    return runner


def test_a_block_that_outlives_its_deadline_raises_timeout_error_on_time(run):
    async def main():
        loop = asyncio.get_running_loop()
        start = loop.time()
        with pytest.raises(TimeoutError):
            async with deadline_at(start + 0.05):
                await asyncio.sleep(5)
        return loop.time() - start

    assert 0.045 <= run(main) < 1.0


def test_a_block_that_finishes_in_time_is_untouched_and_leaves_nothing_behind(run):
    async def main():
        loop = asyncio.get_running_loop()
        async with deadline_at(loop.time() + 5):
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.02)  # the task is not cancelled later either
        return len(_wheels[loop].entries)

    assert run(main) == 0


def test_an_earlier_deadline_added_later_fires_first(run):
    async def sleeper(seconds: float, limit: float, started: float) -> float | str:
        loop = asyncio.get_running_loop()
        try:
            async with deadline_at(started + limit):
                await asyncio.sleep(seconds)
        except TimeoutError:
            return loop.time() - started
        return "done"

    async def main():
        loop = asyncio.get_running_loop()
        started = loop.time()
        slow = asyncio.create_task(sleeper(5, 3.0, started))
        await asyncio.sleep(0)
        fast = asyncio.create_task(sleeper(5, 0.05, started))
        ok = asyncio.create_task(sleeper(0.01, 0.2, started))
        fast_at, ok_result = await fast, await ok
        slow.cancel()
        with pytest.raises(asyncio.CancelledError):
            await slow
        return fast_at, ok_result

    fast_at, ok_result = run(main)
    assert 0.045 <= fast_at < 1.0
    assert ok_result == "done"


def test_a_cancellation_from_outside_stays_a_cancellation(run):
    async def main():
        loop = asyncio.get_running_loop()

        async def body():
            async with deadline_at(loop.time() + 5):
                await asyncio.sleep(5)

        task = asyncio.create_task(body())
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return len(_wheels[loop].entries)

    assert run(main) == 0


def test_a_deadline_already_past_times_out_at_the_first_await(run):
    async def main():
        loop = asyncio.get_running_loop()
        reached = []
        with pytest.raises(TimeoutError):
            async with deadline_at(loop.time() - 1):
                reached.append("before")
                await asyncio.sleep(1)
                reached.append("after")
        return reached

    assert run(main) == ["before"]


def test_nested_deadlines_raise_in_the_block_that_expired(run):
    async def main():
        loop = asyncio.get_running_loop()
        outcome = []
        async with deadline_at(loop.time() + 5):
            try:
                async with deadline_at(loop.time() + 0.02):
                    await asyncio.sleep(5)
            except TimeoutError:
                outcome.append("inner timed out")
            await asyncio.sleep(0.01)
            outcome.append("outer went on")
        return outcome

    assert run(main) == ["inner timed out", "outer went on"]


def test_none_means_no_deadline(run):
    async def main():
        async with deadline_at(None):
            await asyncio.sleep(0.01)
        return "done"

    assert run(main) == "done"


def test_many_concurrent_blocks_each_get_their_own_outcome(run):
    async def one(index: int) -> str:
        loop = asyncio.get_running_loop()
        limit = 0.03 if index % 2 else 2.0
        try:
            async with deadline_at(loop.time() + limit):
                await asyncio.sleep(0.1 + (index % 5) * 0.01)
        except TimeoutError:
            return "timeout"
        return "done"

    async def main():
        return await asyncio.gather(*(one(i) for i in range(100)))

    results = run(main)
    assert results == ["timeout" if i % 2 else "done" for i in range(100)]
