"""Routing a call: the cascade walk with failover (engine.py), streaming failover, the trace
(trace.py), cost (cost.py) and replay (replay.py)."""
from .engine import CallResult, Engine, RouteFailed, StreamResult, Timeouts

__all__ = ["CallResult", "Engine", "RouteFailed", "StreamResult", "Timeouts"]
