"""The OpenAI-compatible HTTP surface (docs/api.md). Raw Starlette routes, orjson, no per-request
configuration work: everything heavy lives on the Host built at startup."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import quote

import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from .._core import (
    Catalog,
    NoCandidates,
    Policy,
    UnhardcodedError,
    canonicalize,
    parse_request,
)
from ..router.engine import CallResult, RouteFailed, StreamResult
from ..router.replay import replay_policy
from ..router.trace import finish_trace, new_trace_id, reason_text
from ..store import BadCursor, iso_to_ms
from .errors import (
    ApiError,
    api_error_response,
    envelope,
    error_response,
    from_core_error,
)
from .host import Host

log = logging.getLogger("unhardcoded.server")

JSON = "application/json"
MAX_SEED = 2**53 - 1
_RESERVED = ("policy_ir", "flow_ir", "model")


# --- plumbing --------------------------------------------------------------------------------------

def json_response(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type=JSON, headers=dict(headers or {}))


def raw_json(body: bytes, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return _JSONBytes(body, status, headers)


_CONTENT_TYPE_JSON = (b"content-type", JSON.encode("latin-1"))


class _JSONBytes(Response):
    """Serialized JSON with exactly the headers Starlette's Response(body, media_type=JSON, headers=…)
    sends (given headers, then content-length and content-type), built without its general path."""

    media_type = JSON

    def __init__(self, body: bytes, status: int = 200, headers: Mapping[str, str] | None = None):
        self.status_code = status
        self.background = None
        self.body = body
        raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()] if headers else []
        if any(k in (b"content-length", b"content-type") for k, _ in raw) or status < 200 or status in (204, 304):
            self.init_headers(headers)  # not a case this module produces; keep Starlette's rules
            return
        raw.append((b"content-length", str(len(body)).encode("latin-1")))
        raw.append(_CONTENT_TYPE_JSON)
        self.raw_headers = raw


def _header_value(value: Any) -> str:
    text = "" if value is None else str(value)
    return text if text.isascii() and text.isprintable() else quote(text, safe="/:.-_@+~")


def _header(request: Request, name: bytes) -> str | None:
    """The first value of header `name` (lower case), read from the ASGI scope: what
    `request.headers.get` returns, without building Starlette's header map or raising KeyError for
    an absent header on every request."""
    for key, value in request.scope["headers"]:
        if key == name or (len(key) == len(name) and key.lower() == name):
            return value.decode("latin-1")
    return None


def _authorize(host: Host, request: Request) -> str:
    workspace = host.keys.workspace_for(_header(request, b"authorization"))
    host.limiter.check(workspace)
    return workspace


async def _read_json_body(host: Host, request: Request) -> bytes:
    ctype = _header(request, b"content-type")
    if ctype is not None and not ctype.lower().lstrip().startswith(JSON):
        raise ApiError(415, "invalid_request",
                       f"The body must be JSON sent with Content-Type: application/json, not '{ctype}'.")
    limit = host.config.limits.max_body_bytes
    declared = _header(request, b"content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, "invalid_request", f"The body is larger than the {limit}-byte limit.",
                       extra={"rule": "size_limit"})
    body = await request.body() if declared is not None else await _bounded_body(request, limit)
    if len(body) > limit:
        raise ApiError(413, "invalid_request", f"The body is larger than the {limit}-byte limit.",
                       extra={"rule": "size_limit"})
    if not body:
        raise ApiError(400, "invalid_request", "The request body is empty; send a JSON object.",
                       extra={"rule": "json_syntax"})
    return body


async def _bounded_body(request: Request, limit: int) -> bytes:
    parts: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, "invalid_request", f"The body is larger than the {limit}-byte limit.",
                           extra={"rule": "size_limit"})
        parts.append(chunk)
    return b"".join(parts)


def _parse(host: Host, body: bytes) -> tuple[str, Any, Any, dict]:
    """Strict parse + admission of policy_ir/flow_ir (duplicate keys rejected), then the plain dict."""
    try:
        kind, term, derived = parse_request(body, fields=host.catalog)
    except UnhardcodedError as exc:
        raise from_core_error(exc) from None
    data = orjson.loads(body)
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_request", "The body must be a JSON object.", extra={"rule": "type"})
    return kind, term, derived, data


def _requirements_of(derived: Any) -> dict | None:
    """parse_request's third element is the implied requirements (spec §4) of the mutated body."""
    if isinstance(derived, dict) and "prompt_tokens" in derived:
        return derived
    return None


def _routing_seed(request: Request) -> int | None:
    raw = _header(request, b"x-unhardcoded-seed")
    if raw is None:
        return None
    if not raw.isdigit() or int(raw) > MAX_SEED:
        raise ApiError(400, "invalid_request", "x-unhardcoded-seed must be an integer 0 … 2^53-1.",
                       param="x-unhardcoded-seed")
    return int(raw)


def _check_chat(data: dict) -> tuple[str | None, bool]:
    label = data.get("model")
    if label is not None and not isinstance(label, str):
        raise ApiError(400, "invalid_request", "model must be a string label (e.g. \"policy:support\").",
                       param="model", extra={"rule": "type"})
    messages = data.get("messages")
    if messages is None:
        raise ApiError(400, "invalid_request", "The body needs a messages array.", param="messages",
                       extra={"rule": "missing_member"})
    if not isinstance(messages, list) or not messages:
        raise ApiError(400, "invalid_request", "messages must be a non-empty array.", param="messages",
                       extra={"rule": "type"})
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or not isinstance(message.get("role"), str):
            raise ApiError(400, "invalid_request", "Each message must be an object with a string role.",
                           param=f"messages/{index}", extra={"rule": "type"})
    stream = data.get("stream")
    if stream is not None and not isinstance(stream, bool):
        raise ApiError(400, "invalid_request", "stream must be true or false.", param="stream",
                       extra={"rule": "type"})
    return label, stream is True


async def _save(host: Host, workspace: str, trace: dict, body: bytes) -> None:
    """Persist before answering. A failing store does not cost the caller a completion it already paid
    for: the failure is logged and the response still carries the whole trace."""
    store = host.store
    try:
        if store.inline:
            store.save_trace(workspace, trace, body)  # SQLite: one journal append (store/journal.py)
        else:
            await asyncio.to_thread(store.save_trace, workspace, trace, body)
    except Exception:
        log.exception("could not persist trace %s", trace.get("trace"))


def _save_detached(host: Host, workspace: str, trace: dict, body: bytes) -> None:
    """Saving from a cancelled task: inline for SQLite, a fire-and-forget thread otherwise."""
    try:
        if host.store.inline:
            host.store.save_trace(workspace, trace, body)
        else:
            asyncio.get_running_loop().run_in_executor(None, host.store.save_trace, workspace, trace, body)
    except Exception:
        log.exception("could not save trace %s", trace.get("trace"))


def _with_trace(response: dict, trace_body: bytes) -> bytes:
    """The completion JSON with `"trace": <trace>` appended, without serializing the trace twice."""
    response.pop("trace", None)
    head = orjson.dumps(response)
    if head == b"{}":
        return b'{"trace":' + trace_body + b"}"
    return head[:-1] + b',"trace":' + trace_body + b"}"


def _trace_headers(trace_id: str, selected: Any, fingerprint: Any) -> dict[str, str]:
    headers = {"x-unhardcoded-trace-id": trace_id}
    if selected:
        headers["x-unhardcoded-selected"] = _header_value(selected)
    if fingerprint:
        headers["x-unhardcoded-policy"] = _header_value(fingerprint)
    return headers


# --- chat completions ------------------------------------------------------------------------------

async def chat_completions(request: Request) -> Response:
    host: Host = request.app.state.host
    workspace = _authorize(host, request)
    body = await _read_json_body(host, request)
    kind, term, derived, data = _parse(host, body)
    label, stream = _check_chat(data)
    if kind == "none":
        raise ApiError(400, "invalid_request",
                       "The body needs a policy_ir (or flow_ir) member; model is only a trace label.",
                       param="policy_ir", extra={"rule": "missing_member"})
    if kind == "flow":
        return await _chat_flow(host, workspace, term, data, label, stream)
    seed = _routing_seed(request)
    call = {k: v for k, v in data.items() if k not in _RESERVED}
    trace_id = new_trace_id()
    engine = host.engine
    try:
        if stream:
            result = await engine.route_stream(term, call, seed=seed, requirements=_requirements_of(derived))
        else:
            result = await engine.route(term, call, seed=seed, requirements=_requirements_of(derived))
    except RouteFailed as exc:
        return await _route_failed(host, workspace, trace_id, label, exc)
    if stream:
        return _policy_stream(host, workspace, trace_id, label, result, call)
    return await _policy_complete(host, workspace, trace_id, label, result)


async def _policy_complete(host: Host, workspace: str, trace_id: str, label: str | None,
                           result: CallResult) -> Response:
    record = result.record
    trace = finish_trace(record, trace_id=trace_id, label=label)
    trace_body = orjson.dumps(trace)
    await _save(host, workspace, trace, trace_body)
    headers = _trace_headers(trace_id, record["selected"], record["policy"]["fingerprint"])
    return raw_json(_with_trace(result.response, trace_body), headers=headers)


async def _route_failed(host: Host, workspace: str, trace_id: str, label: str | None, exc: RouteFailed,
                        kind: str = "policy") -> Response:
    trace = finish_trace(exc.record, trace_id=trace_id, label=label, kind=kind)
    trace_body = orjson.dumps(trace)
    await _save(host, workspace, trace, trace_body)
    extra: dict[str, Any] = {"trace_id": trace_id, "trace": orjson.Fragment(trace_body)}
    if exc.code == "no_candidates":
        extra["verdicts"] = exc.record.get("candidates")
    headers = _trace_headers(trace_id, exc.record.get("selected"), (exc.record.get("policy") or {}).get("fingerprint"))
    return error_response(exc.status, exc.code, f"{exc.message} (trace {trace_id})", None, extra, headers)


def _is_usage_only(chunk: Mapping[str, Any]) -> bool:
    return not chunk.get("choices") and chunk.get("usage") is not None


def _finishes(chunk: Mapping[str, Any]) -> bool:
    choices = chunk.get("choices")
    if not choices:
        return False
    for choice in choices:
        if isinstance(choice, Mapping) and choice.get("finish_reason"):
            return True
    return False


def _wants_usage(call: Mapping[str, Any]) -> bool:
    options = call.get("stream_options")
    return isinstance(options, Mapping) and options.get("include_usage") is True


def _sse(data: Any) -> bytes:
    return b"data: " + orjson.dumps(data) + b"\n\n"


_DONE = b"data: [DONE]\n\n"


class _StreamRelay:
    """Re-frames upstream chunks as SSE and puts the trace on the last chunk the client sees: the
    usage chunk when the caller asked for one, else the chunk carrying the finish reason (held back
    until the stream ends so the trace is complete)."""

    def __init__(self, host: Host, workspace: str, trace_id: str, label: str | None, kind: str,
                 chunks: AsyncIterator[dict], record_of: Any, wants_usage: bool, failure: tuple[type, ...]):
        self.host, self.workspace, self.trace_id, self.label, self.kind = host, workspace, trace_id, label, kind
        self.chunks = chunks
        self.record_of = record_of          # () -> the (completed) record / flow trace
        self.wants_usage = wants_usage
        self.failure = failure              # exception types that mean "failed after first content"
        self.saved = False
        self.last_shape: dict | None = None

    def _trace(self) -> tuple[dict, bytes]:
        trace = finish_trace(self.record_of(), trace_id=self.trace_id, label=self.label, kind=self.kind)
        return trace, orjson.dumps(trace)

    def _shape(self, chunk: dict) -> None:
        self.last_shape = {k: chunk[k] for k in ("id", "object", "created", "model") if k in chunk}

    async def frames(self) -> AsyncIterator[bytes]:
        held: dict | None = None
        usage_chunk: dict | None = None
        try:
            try:
                async for chunk in self.chunks:
                    if _is_usage_only(chunk):
                        if self.wants_usage:
                            usage_chunk = chunk
                        continue
                    self._shape(chunk)
                    if held is not None:
                        yield _sse(held)
                        held = None
                    if _finishes(chunk):
                        held = chunk
                    else:
                        yield _sse(chunk)
            except self.failure as exc:
                if held is not None:
                    yield _sse(held)
                trace, body = self._trace()
                await _save(self.host, self.workspace, trace, body)
                self.saved = True
                error = envelope(getattr(exc, "status", 502), getattr(exc, "code", "provider_error"),
                                 f"{getattr(exc, 'message', str(exc))} (trace {self.trace_id})", None,
                                 {"trace_id": self.trace_id, "trace": orjson.Fragment(body)})
                yield _sse(error)
                yield _DONE
                return
            trace, body = self._trace()
            await _save(self.host, self.workspace, trace, body)
            self.saved = True
            if usage_chunk is not None:
                if held is not None:
                    yield _sse(held)
                final = usage_chunk
            elif held is not None:
                final = held
            else:
                final = {**(self.last_shape or {"object": "chat.completion.chunk"}), "choices": []}
            final = dict(final)
            final["trace"] = orjson.Fragment(body)
            yield _sse(final)
            yield _DONE
        finally:
            aclose = getattr(self.chunks, "aclose", None)
            if aclose is not None:
                try:
                    await aclose()
                except Exception:
                    log.debug("closing the upstream stream failed", exc_info=True)
            if not self.saved:
                trace, body = self._trace()
                _save_detached(self.host, self.workspace, trace, body)


class SSEResponse:
    """A text/event-stream response that always closes its producer (so the trace is saved even when
    the client goes away)."""

    def __init__(self, frames: AsyncIterator[bytes], headers: Mapping[str, str]):
        self.frames = frames
        self.headers = [(b"content-type", b"text/event-stream; charset=utf-8"), (b"cache-control", b"no-cache"),
                        (b"x-accel-buffering", b"no")]
        self.headers.extend((k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": self.headers})
        try:
            async for frame in self.frames:
                await send({"type": "http.response.body", "body": frame, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except OSError:
            log.info("client disconnected mid-stream")
        finally:
            await self.frames.aclose()  # type: ignore[attr-defined]


def _policy_stream(host: Host, workspace: str, trace_id: str, label: str | None, result: StreamResult,
                   call: Mapping[str, Any]) -> SSEResponse:
    record = result.record
    relay = _StreamRelay(host, workspace, trace_id, label, "policy", result.chunks, lambda: record,
                         _wants_usage(call), (RouteFailed,))
    headers = _trace_headers(trace_id, record.get("selected"), record["policy"]["fingerprint"])
    return SSEResponse(relay.frames(), headers)


# --- flows -----------------------------------------------------------------------------------------

def _flow_attr(name: str) -> Any:
    """flows is imported on first use: a host that never sees a flow_ir never loads it."""
    import importlib

    return getattr(importlib.import_module("unhardcoded.flows"), name)


def _flow_final_node(flow: Any) -> str | None:
    for node_id in flow.order():
        node = flow.node(node_id)
        if node.get("kind") == "output":
            inputs = node.get("inputs") or []
            return inputs[0] if inputs else None
    return None


async def _chat_flow(host: Host, workspace: str, flow: Any, data: dict, label: str | None,
                     stream: bool) -> Response:
    run_flow = _flow_attr("run_flow")
    flow_failed = _flow_attr("FlowFailed")
    call = {k: v for k, v in data.items() if k not in ("policy_ir", "flow_ir")}
    trace_id = new_trace_id()
    final_node = _flow_final_node(flow)
    try:
        run = await run_flow(host.engine, flow, call, stream=stream)
    except flow_failed as exc:
        trace = finish_trace(exc.trace, trace_id=trace_id, label=label, kind="flow")
        body = orjson.dumps(trace)
        await _save(host, workspace, trace, body)
        extra = {"trace_id": trace_id, "node": exc.node, "trace": orjson.Fragment(body)}
        headers = _trace_headers(trace_id, None, flow.fingerprint)
        return error_response(exc.status, exc.code, f"{exc.message} (node {exc.node}, trace {trace_id})", None,
                              extra, headers)

    def selected() -> Any:
        chosen = run.trace.get("selected")
        return chosen.get(final_node) if isinstance(chosen, dict) else chosen

    if stream:
        relay = _StreamRelay(host, workspace, trace_id, label, "flow", run.chunks, lambda: run.trace,
                             _wants_usage(call), (flow_failed,))
        return SSEResponse(relay.frames(), _trace_headers(trace_id, None, flow.fingerprint))
    trace = finish_trace(run.trace, trace_id=trace_id, label=label, kind="flow")
    body = orjson.dumps(trace)
    await _save(host, workspace, trace, body)
    return raw_json(_with_trace(run.response, body), headers=_trace_headers(trace_id, selected(), flow.fingerprint))


# --- dry runs --------------------------------------------------------------------------------------

def _int_member(data: dict, name: str, default: int | None, lo: int, hi: int) -> int | None:
    value = data.get(name, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ApiError(400, "invalid_request", f"{name} must be an integer {lo} … {hi}.", param=name,
                       extra={"rule": "type"})
    return value


async def rank(request: Request) -> Response:
    host: Host = request.app.state.host
    _authorize(host, request)
    body = await _read_json_body(host, request)
    kind, policy, derived, data = _parse(host, body)
    if kind != "policy":
        raise ApiError(400, "invalid_request", "The body needs a policy_ir member.", param="policy_ir",
                       extra={"rule": "missing_member"})
    seed = _int_member(data, "seed", None, 0, MAX_SEED)
    offset = _int_member(data, "offset", 0, 0, 1_000_000) or 0
    limit = _int_member(data, "limit", None, 1, 100_000)
    status = data.get("status")
    if status is not None and status not in ("winner", "passed", "rejected"):
        raise ApiError(400, "invalid_request", "status must be winner, passed or rejected.", param="status",
                       extra={"rule": "type"})
    engine = host.engine
    given = data.get("requirements")
    call = {k: v for k, v in data.items()
            if k not in _RESERVED + ("requirements", "seed", "offset", "limit", "status")}
    try:
        if given is not None:
            if not isinstance(given, dict):
                raise ApiError(400, "invalid_request", "requirements must be an object (spec §4).",
                               param="requirements", extra={"rule": "type"})
            requirements = given
        else:
            _, requirements = engine.prepare(policy, call, _requirements_of(derived))
        result = policy.rank(engine.catalog, requirements=orjson.dumps(requirements), seed=seed,
                             providers=engine.providers)
    except NoCandidates as exc:
        verdicts = exc.result.verdicts(offset, limit, status)
        return error_response(400, "no_candidates", exc.message, None,
                              {"rule": getattr(exc, "rule", None), "counts": exc.result.counts(),
                               "verdicts": verdicts})
    except UnhardcodedError as exc:
        raise from_core_error(exc) from None
    counts = result.counts()
    out = {
        "object": "rank",
        "policy": {"fingerprint": policy.fingerprint, "version": policy.version},
        "catalog": {"fingerprint": engine.catalog_fingerprint},
        "requirements": requirements,
        "providers": engine.providers,
        "seed": result.seed,
        "winner": result.winner,
        "cascade": list(result.cascade),
        "counts": counts,
        "reason": reason_text(orjson.loads(policy.canonical), result.winner, counts, len(result),
                              result.seed, requirements if isinstance(requirements, dict) else None),
        "total": len(result),
        "offset": offset,
        "limit": limit,
        "verdicts": orjson.Fragment(result.verdicts_json(offset, limit, status)),
    }
    return json_response(out)


async def policy_normalize(request: Request) -> Response:
    host: Host = request.app.state.host
    _authorize(host, request)
    body = await _read_json_body(host, request)
    kind, policy, _, _ = _parse(host, body)
    if kind != "policy":
        raise ApiError(400, "invalid_request", "The body needs a policy_ir member.", param="policy_ir",
                       extra={"rule": "missing_member"})
    return json_response({"object": "policy", "canonical": policy.canonical, "fingerprint": policy.fingerprint,
                          "version": policy.version, "term": orjson.Fragment(policy.canonical)})


async def flow_normalize(request: Request) -> Response:
    host: Host = request.app.state.host
    _authorize(host, request)
    body = await _read_json_body(host, request)
    kind, flow, _, _ = _parse(host, body)
    if kind != "flow":
        raise ApiError(400, "invalid_request", "The body needs a flow_ir member.", param="flow_ir",
                       extra={"rule": "missing_member"})
    nodes = []
    for node_id in flow.order():
        node = dict(flow.node(node_id))
        if node.get("kind") == "llm":
            p = flow.node_policy(node_id)
            node["policy"] = {"fingerprint": p.fingerprint, "version": p.version}
        nodes.append(node)
    preview = _flow_attr("preview_flow")(host.engine, flow)
    return json_response({"object": "flow", "canonical": flow.canonical, "fingerprint": flow.fingerprint,
                          "version": flow.version, "term": orjson.Fragment(flow.canonical),
                          "order": flow.order(), "nodes": nodes, "preview": preview})


# --- catalog views ---------------------------------------------------------------------------------

async def fields(request: Request) -> Response:
    host: Host = request.app.state.host
    _authorize(host, request)
    return raw_json(host.fields_body)


async def models(request: Request) -> Response:
    host: Host = request.app.state.host
    _authorize(host, request)
    return raw_json(host.models_body)


# --- traces ----------------------------------------------------------------------------------------

async def _store_call(host: Host, fn: Any, *args: Any, **kwargs: Any) -> Any:
    if host.store.inline:
        return fn(*args, **kwargs)
    return await asyncio.to_thread(fn, *args, **kwargs)


async def get_trace(request: Request) -> Response:
    host: Host = request.app.state.host
    workspace = _authorize(host, request)
    trace_id = request.path_params["trace_id"]
    body = await _store_call(host, host.store.get_trace_json, workspace, trace_id)
    if body is None:
        raise ApiError(404, "not_found", f"No trace {trace_id} in this workspace.", param="trace_id")
    return raw_json(body)


def _time_param(value: str | None, name: str) -> Any:
    if value is None or value == "":
        return None
    if value.isdigit():
        return int(value)
    try:
        return iso_to_ms(value)
    except ValueError:
        raise ApiError(400, "invalid_request", f"{name} must be an ISO-8601 timestamp or epoch milliseconds.",
                       param=name) from None


async def list_traces(request: Request) -> Response:
    host: Host = request.app.state.host
    workspace = _authorize(host, request)
    q = request.query_params
    max_page = host.config.limits.history_page
    raw_limit = q.get("limit", "20")
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= max_page:
        raise ApiError(400, "invalid_request", f"limit must be an integer 1 … {max_page}.", param="limit")
    since = _time_param(q.get("since"), "since")
    until = _time_param(q.get("until"), "until")
    try:
        items, cursor = await _store_call(host, host.store.list_traces, workspace, label=q.get("label"),
                                          model=q.get("model"), since=since, until=until, limit=int(raw_limit),
                                          cursor=q.get("cursor") or None)
    except BadCursor as exc:
        raise ApiError(400, "invalid_request", str(exc), param="cursor") from None
    return json_response({"object": "list", "data": items, "has_more": cursor is not None, "next_cursor": cursor})


async def replay(request: Request) -> Response:
    host: Host = request.app.state.host
    workspace = _authorize(host, request)
    body = await _read_json_body(host, request)
    try:
        canonicalize(body)  # strict JSON: duplicate keys and the rest rejected like every other body
    except UnhardcodedError as exc:
        raise from_core_error(exc) from None
    data = orjson.loads(body)
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_request", "The body must be a JSON object.")
    unknown = sorted(set(data) - {"trace_id", "against", "policy_ir"})
    if unknown:
        raise ApiError(400, "invalid_request", f"Unknown member '{unknown[0]}'; expected trace_id, against, policy_ir.",
                       param=unknown[0], extra={"rule": "unknown_member"})
    trace_id = data.get("trace_id")
    if not isinstance(trace_id, str) or not trace_id:
        raise ApiError(400, "invalid_request", "trace_id must be a trace id string.", param="trace_id")
    against = data.get("against", "snapshot")
    if against not in ("snapshot", "current"):
        raise ApiError(400, "invalid_request", "against must be \"snapshot\" or \"current\".", param="against")
    trace = await _store_call(host, host.store.get_trace, workspace, trace_id)
    if trace is None:
        raise ApiError(404, "not_found", f"No trace {trace_id} in this workspace.", param="trace_id")
    fp = (trace.get("catalog") or {}).get("fingerprint")
    snapshot = host.catalog if fp == host.catalog.fingerprint else None
    if snapshot is None and fp:
        text = await _store_call(host, host.store.get_catalog, fp)
        if text is not None:
            snapshot = Catalog.from_json(text)
    if snapshot is None and against == "snapshot":
        raise ApiError(404, "not_found", f"The catalog snapshot {fp} of this trace is not stored.", param="trace_id")
    if trace.get("kind") == "flow":
        if "policy_ir" in data:
            raise ApiError(400, "invalid_request", "policy_ir cannot replace the policies of a flow trace.",
                           param="policy_ir")
        replay_flow = _flow_attr("replay_flow")
        current = host.catalog if against == "current" else None
        out = replay_flow(trace, snapshot if snapshot is not None else host.catalog, current)
        out = {"object": "replay", "trace": trace_id, "against": against, **out}
        return json_response(out)
    term = None
    if "policy_ir" in data:
        catalog_for_admission = host.catalog if against == "current" else snapshot
        try:
            term = orjson.loads(Policy.admit(orjson.dumps(data["policy_ir"]), fields=catalog_for_admission).canonical)
        except UnhardcodedError as exc:
            err = from_core_error(exc)
            err.param = "/policy_ir" + (err.param or "")
            raise err from None
    catalog = host.catalog if against == "current" else snapshot
    return json_response(replay_policy(trace, catalog, against=against, policy_term=term))


# --- health and the document -----------------------------------------------------------------------

async def healthz(request: Request) -> Response:
    return raw_json(b'{"status":"ok"}')


async def openapi(request: Request) -> Response:
    from .openapi import document_bytes

    return raw_json(document_bytes())


# --- errors ----------------------------------------------------------------------------------------

async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    if exc.status >= 500:
        log.error("%s: %s", exc.code, exc.message)
    return api_error_response(exc)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return error_response(404, "not_found", f"No route {request.method} {request.url.path}.")
    if exc.status_code == 405:
        return error_response(405, "method_not_allowed", f"{request.method} is not allowed on {request.url.path}.",
                              headers=exc.headers)
    return error_response(exc.status_code, "invalid_request", str(exc.detail))


class CatchAll:
    """An unexpected exception becomes a logged 500 envelope; the body never carries a traceback."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Any) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception:
            log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise
            response = error_response(500, "internal_error", "The server failed on this request; it was logged.")
            await response(scope, receive, send)


# --- the app ---------------------------------------------------------------------------------------

ROUTES = [
    Route("/v1/chat/completions", chat_completions, methods=["POST"]),
    Route("/x/rank", rank, methods=["POST"]),
    Route("/x/policy/normalize", policy_normalize, methods=["POST"]),
    Route("/x/flow/normalize", flow_normalize, methods=["POST"]),
    Route("/x/fields", fields, methods=["GET"]),
    Route("/v1/models", models, methods=["GET"]),
    Route("/x/traces", list_traces, methods=["GET"]),
    Route("/x/traces/{trace_id}", get_trace, methods=["GET"]),
    Route("/x/replay", replay, methods=["POST"]),
    Route("/healthz", healthz, methods=["GET"]),
    Route("/openapi.json", openapi, methods=["GET"]),
]


def create_app(host: Host, *, close_host: bool = True) -> Starlette:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        if close_host:
            await host.aclose()

    app = Starlette(
        routes=ROUTES,
        middleware=[Middleware(CatchAll)],
        exception_handlers={ApiError: _api_error, HTTPException: _http_error},
        lifespan=lifespan,
    )
    app.state.host = host
    return app
