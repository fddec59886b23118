"""What running a flow hands back: a FlowRun, or a FlowFailed naming the node that failed."""
from __future__ import annotations

from dataclasses import dataclass
from typing import AsyncIterator


@dataclass
class FlowRun:
    """`trace` is the stitched trace body (the server adds the trace id, label and creation time and
    persists it). With stream=True, `response` is None and `chunks` streams the final node's output;
    `trace` is complete once `chunks` is exhausted (or closed)."""

    trace: dict
    response: dict | None
    chunks: AsyncIterator[dict] | None


class FlowFailed(Exception):
    """A node could not produce its output (its cascade was exhausted, no model passed its policy, or
    the call itself was unusable). `trace` keeps every finished node's record and cost."""

    def __init__(self, trace: dict, node: str, code: str, message: str, status: int) -> None:
        super().__init__(f"node {node!r}: {message}")
        self.trace = trace
        self.node = node
        self.code = code
        self.message = message
        self.status = status

    def to_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "node": self.node, "status": self.status}
