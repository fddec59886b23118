"""flow_ir execution: a bounded DAG of llm nodes, each routed by its own policy, one stitched trace.

Semantics beyond docs/spec.md §6 (what a node receives, which parameters reach which node, the trace
shape, billing) are documented in README.md beside this file.
"""
from .executor import run_flow
from .outcome import FlowFailed, FlowRun
from .preview import preview_flow
from .replay import replay_flow

__all__ = ["FlowFailed", "FlowRun", "preview_flow", "replay_flow", "run_flow"]
