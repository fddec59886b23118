"""Executing an admitted flow as a bounded DAG: every node once, as soon as its inputs are done.

Independent branches run concurrently as asyncio tasks; each llm node is routed by its own policy
with its own failover (`engine.route`). The first node that fails ends the run: nodes still running
are cancelled and recorded as such, nodes never started are listed in `skipped`.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any

from . import compose
from .completion import CompletionShape, is_usage_only, wants_usage
from .outcome import FlowFailed, FlowRun
from .plan import plan_of
from .trace import finish, new_trace, node_entry, now_iso


async def run_flow(engine: Any, flow: Any, request: dict, *, stream: bool = False) -> FlowRun:
    """Run `flow` for one chat call. Raises FlowFailed when a node fails; the trace rides on it."""
    return await _Run(engine, flow, request, stream).execute()


def _failure(exc: BaseException) -> tuple[str, str, int, dict | None] | None:
    """(code, message, status, record) when `exc` is a routing failure (the engine's RouteFailed, or a
    core UnhardcodedError such as no_candidates); None for anything else, which is a bug to surface."""
    code = getattr(exc, "code", None)
    if not isinstance(code, str):
        return None
    message = getattr(exc, "message", None)
    if not isinstance(message, str):
        message = str(exc)
    status = getattr(exc, "status", None)
    if not isinstance(status, int):
        status = 400 if code == "no_candidates" else 502
    record = getattr(exc, "record", None)
    if not isinstance(record, Mapping):
        record = None
        result = getattr(exc, "result", None)
        if code == "no_candidates" and result is not None and hasattr(result, "verdicts"):
            record = {"candidates": result.verdicts(), "status": "error",
                      "error": {"code": code, "message": message}}
    return code, message, status, record


class _NodeDone:
    __slots__ = ("node_id", "text", "response", "record", "started", "ended", "t_end")

    def __init__(self, node_id: str, text: str, response: dict | None, record: dict | None,
                 started: str, ended: str, t_end: float) -> None:
        self.node_id, self.text, self.response, self.record = node_id, text, response, record
        self.started, self.ended, self.t_end = started, ended, t_end


class _NodeError(Exception):
    def __init__(self, node_id: str, started: str, cause: BaseException, t_end: float,
                 record: Mapping[str, Any] | None = None) -> None:
        super().__init__(node_id)
        self.node_id, self.started, self.cause, self.t_end = node_id, started, cause, t_end
        self.record = record  # used when the failure itself carries none (a dropped stream)
        self.ended = now_iso()


def _by_end(item: _NodeDone | _NodeError) -> tuple[float, str]:
    return item.t_end, item.node_id


class _Run:
    def __init__(self, engine: Any, flow: Any, request: dict, stream: bool) -> None:
        self.engine, self.request, self.stream = engine, request, stream
        self.t0 = time.perf_counter()
        self.plan = plan = plan_of(flow)
        self.nodes = plan.nodes
        catalog = getattr(engine, "catalog", None)
        self.trace = new_trace(plan, getattr(catalog, "fingerprint", None))
        label = request.get("model")
        self.shape = CompletionShape(label if isinstance(label, str) else "flow")
        self.outputs: dict[str, str] = {}
        self.responses: dict[str, dict] = {}
        self.started: dict[str, str] = {}
        self.finished_tasks: list[asyncio.Task] = []
        self.wake = asyncio.Event()

    # -- the caller's messages -------------------------------------------------------------------

    def _fail_early(self, code: str, message: str, status: int) -> FlowFailed:
        node = self.plan.input_id
        finish(self.trace, self.t0, error={"code": code, "message": message, "node": node, "status": status})
        self.trace["skipped"] = [n for n in self.plan.order if n != node]
        return FlowFailed(self.trace, node, code, message, status)

    def _check_messages(self) -> None:
        """Reject an unusable call before any token is spent."""
        messages = self.request.get("messages")
        if not isinstance(messages, list) or not messages:
            raise self._fail_early("invalid_request", "The call must carry a non-empty messages array.", 400)
        if self.plan.needs_input_text and compose.last_user_text(messages) is None:
            raise self._fail_early(
                "invalid_request",
                "A node reads the caller's input as text, but the messages carry no user message.", 400)

    # -- one llm node ----------------------------------------------------------------------------

    def _node_request(self, node_id: str) -> dict:
        node = self.nodes[node_id]
        if node_id in self.plan.conversation:
            messages = compose.node_messages(node["system"], self.request["messages"], None)
        else:
            texts = [self.outputs[i] for i in node["inputs"]]
            messages = compose.node_messages(node["system"], None, compose.node_text(node["template"], texts))
        body = compose.node_params(self.request, final=node_id == self.plan.final_id)
        body["messages"] = messages
        return body

    async def _run_node(self, node_id: str) -> _NodeDone:
        started = self.started[node_id]
        try:
            result = await self.engine.route(self.plan.policies[node_id], self._node_request(node_id))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # classified by the scheduler: routing failure or bug
            raise _NodeError(node_id, started, exc, time.perf_counter()) from exc
        response = result.response
        return _NodeDone(node_id, compose.completion_text(response), response, result.record,
                         started, now_iso(), time.perf_counter())

    def _on_done(self, task: asyncio.Task) -> None:
        self.finished_tasks.append(task)
        self.wake.set()

    # -- scheduling ------------------------------------------------------------------------------

    async def execute(self) -> FlowRun:
        plan = self.plan
        self._check_messages()
        now = now_iso()
        self.trace["nodes"].append(node_entry(self.nodes[plan.input_id], now, now, None))
        self.outputs[plan.input_id] = compose.last_user_text(self.request["messages"]) or ""

        pending = {n: len(self.nodes[n]["inputs"]) for n in plan.llm_ids}
        for n in plan.dependents[plan.input_id]:
            pending[n] -= 1
        ready = sorted(n for n in plan.dependents[plan.input_id] if pending[n] == 0)
        # The streamed final node runs after the loop, so the caller's stream starts only once
        # every upstream node has succeeded.
        deferred = plan.final_id if self.stream and plan.final_id != plan.input_id else None
        running: dict[asyncio.Task, str] = {}
        try:
            while ready or running:
                for node_id in ready:
                    if node_id == deferred:
                        continue
                    self.started[node_id] = now_iso()
                    task = asyncio.create_task(self._run_node(node_id))
                    task.add_done_callback(self._on_done)
                    running[task] = node_id
                ready = []
                if not running:
                    break
                await self.wake.wait()
                self.wake.clear()
                done, self.finished_tasks = self.finished_tasks, []
                finished: list[_NodeDone] = []
                errors: list[_NodeError] = []
                for task in done:
                    running.pop(task)
                    exc = task.exception()
                    if exc is None:
                        finished.append(task.result())
                    elif isinstance(exc, _NodeError):
                        errors.append(exc)
                    else:
                        raise exc
                for item in sorted(finished, key=_by_end):
                    self._record_done(item)
                    for d in plan.dependents[item.node_id]:
                        pending[d] -= 1
                        if pending[d] == 0:
                            ready.append(d)
                if errors:
                    errors.sort(key=_by_end)
                    for other in errors[1:]:
                        self._record_error(other)
                    raise await self._fail(errors[0], running)
                ready.sort()
        except BaseException:
            # A bug or the caller's own cancellation: stop every branch before leaving.
            await self._cancel(running)
            raise

        if deferred is not None:
            return await self._stream_final()
        return self._complete()

    def _record_done(self, item: _NodeDone) -> None:
        self.outputs[item.node_id] = item.text
        if item.response is not None:
            self.responses[item.node_id] = item.response
        self.trace["nodes"].append(node_entry(self.nodes[item.node_id], item.started, item.ended, item.record))

    def _record_error(self, err: _NodeError) -> tuple[str, str, int]:
        failure = _failure(err.cause)
        if failure is None:
            raise err.cause
        code, message, status, record = failure
        if record is None:
            record = err.record
        entry = node_entry(self.nodes[err.node_id], err.started, err.ended, record, status="error")
        if entry.get("error") is None:
            entry["error"] = {"code": code, "message": message}
        self.trace["nodes"].append(entry)
        return code, message, status

    async def _fail(self, err: _NodeError, running: dict[asyncio.Task, str]) -> FlowFailed:
        code, message, status = self._record_error(err)
        await self._cancel(running)
        self._skip_unstarted()
        finish(self.trace, self.t0, error={"code": code, "message": message, "node": err.node_id, "status": status})
        return FlowFailed(self.trace, err.node_id, code, message, status)

    async def _cancel(self, running: dict[asyncio.Task, str]) -> None:
        if not running:
            return
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        ended = now_iso()
        for node_id in sorted(running.values()):
            self.trace["nodes"].append(
                node_entry(self.nodes[node_id], self.started[node_id], ended, None, status="cancelled"))
        running.clear()

    def _skip_unstarted(self) -> None:
        self.trace["skipped"] = [n for n in self.plan.order if n not in self.started and n != self.plan.input_id]

    def _record_output(self) -> None:
        now = now_iso()
        self.trace["nodes"].append(node_entry(self.nodes[self.plan.output_id], now, now, None))
        self.started[self.plan.output_id] = now

    def _complete(self) -> FlowRun:
        final_id = self.plan.final_id
        self._record_output()
        finish(self.trace, self.t0)
        response = self.shape.completion(self.responses.get(final_id), self.outputs.get(final_id),
                                         self.trace["usage"])
        if not self.stream:
            return FlowRun(self.trace, response, None)
        # Output fed straight from the input node: nothing to route, stream the echoed text.
        chunks = self.shape.text_chunks(self.outputs.get(final_id, ""))
        if wants_usage(self.request):
            chunks.append(self.shape.usage_chunk(self.trace["usage"]))
        return FlowRun(self.trace, None, _iterate(chunks))

    # -- the streamed final node -----------------------------------------------------------------

    async def _stream_final(self) -> FlowRun:
        node_id = self.plan.final_id
        self.started[node_id] = now_iso()
        try:
            result = await self.engine.route_stream(self.plan.policies[node_id], self._node_request(node_id))
        except Exception as exc:
            err = _NodeError(node_id, self.started[node_id], exc, time.perf_counter())
            raise await self._fail(err, {}) from None
        return FlowRun(self.trace, None, self._relay(result))

    async def _relay(self, result: Any) -> AsyncIterator[dict]:
        node_id = self.plan.final_id
        node = self.nodes[node_id]
        state = "streaming"
        upstream = result.chunks
        try:
            async for chunk in upstream:
                if is_usage_only(chunk):
                    continue
                yield self.shape.chunk(chunk)
            self.trace["nodes"].append(node_entry(node, self.started[node_id], now_iso(), result.record))
            self._record_output()
            self._skip_unstarted()
            finish(self.trace, self.t0)
            state = "done"
            if wants_usage(self.request):
                yield self.shape.usage_chunk(self.trace["usage"])
        except Exception as exc:
            if state != "streaming":
                raise
            state = "failed"
            record = result.record if isinstance(getattr(result, "record", None), Mapping) else None
            err = _NodeError(node_id, self.started[node_id], exc, time.perf_counter(), record)
            raise await self._fail(err, {}) from None
        finally:
            if state == "streaming":
                # The consumer stopped reading: close the upstream stream and keep what is known.
                aclose = getattr(upstream, "aclose", None)
                if aclose is not None:
                    try:
                        await aclose()
                    except Exception:
                        pass
                self.trace["nodes"].append(node_entry(node, self.started[node_id], now_iso(), result.record,
                                                      status="cancelled"))
                self._skip_unstarted()
                finish(self.trace, self.t0, error={"code": "cancelled", "node": node_id, "status": 499,
                                                   "message": "The caller stopped reading the stream."})


async def _iterate(items: list[dict]) -> AsyncIterator[dict]:
    for item in items:
        yield item
