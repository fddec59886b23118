"""Trace ids: unique, time-ordered, and never repeated by a forked worker."""
from __future__ import annotations

import os
import re

import pytest
from unhardcoded.router.trace import new_trace_id, trace_id_ms


def test_ids_are_unique_and_carry_their_millisecond() -> None:
    ids = [new_trace_id(1_700_000_000_123) for _ in range(5000)]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"tr_[0-9a-f]{28}", i) for i in ids)
    assert {trace_id_ms(i) for i in ids} == {1_700_000_000_123}
    assert new_trace_id(1) < new_trace_id(2)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_does_not_repeat_its_parents_ids() -> None:
    new_trace_id()  # the parent's entropy pool is filled
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: report the next ids it would hand out
        os.close(read)
        os.write(write, ",".join(new_trace_id(5) for _ in range(8)).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as handle:
        child = handle.read().decode().split(",")
    os.waitpid(pid, 0)
    parent = [new_trace_id(5) for _ in range(8)]
    assert len(child) == 8 and not set(child) & set(parent)
