"""Routing one chat call: admit → mutate → requirements → evaluate → walk the cascade with failover.

The contract flows (H7) and the server build on — keep these names and signatures:

    Engine.catalog, Engine.providers
    await Engine.route(policy, request, *, seed=None) -> CallResult
    await Engine.route_stream(policy, request, *, seed=None) -> StreamResult
    RouteFailed(code, message, status, record)

`request` is an OpenAI chat request dict without policy_ir/flow_ir/model. The engine never mutates it.
A record is the decision part of a trace (router/trace.py adds identity and label).
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from .._core import NoCandidates, requirements_from_request
from ..deadlines import deadline_at
from .cost import cost_usd, model_prices
from .trace import now_iso, reason_text

log = logging.getLogger("unhardcoded.router")

# Causes on which the cascade advances (docs/architecture.md, ProviderError.retryable).
RETRYABLE = frozenset({"timeout", "connect", "rate_limited", "server_error", "auth", "not_found",
                       "bad_response", "no_key", "stream_dropped"})


@dataclass
class CallResult:
    record: dict
    response: dict


@dataclass
class StreamResult:
    record: dict                   # completed (usage, cost, status, ended) when chunks is exhausted
    chunks: AsyncIterator[dict]    # raises RouteFailed if the stream fails after its first content byte


class RouteFailed(Exception):
    """The call could not be served. `record` is the decision record, complete with every hop."""

    def __init__(self, code: str, message: str, status: int, record: dict):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.record = record


@dataclass
class Timeouts:
    stall: float = 60.0
    attempt: float = 300.0
    overall: float = 600.0


@dataclass
class _Model:
    provider: str
    upstream: str
    prices: tuple[float | None, float | None, float | None]


@dataclass
class _Attempt:
    """A failed attempt: the hop it becomes."""
    cause: str
    status: int | None
    message: str
    retryable: bool


class _PolicyInfo:
    __slots__ = ("mutates", "term")

    def __init__(self, term: Any):
        self.term = term
        self.mutates = not (isinstance(term, list) and len(term) == 7 and term[5] == ["id"])


class Engine:
    def __init__(self, catalog: Any, adapters: Mapping[str, Any], *, providers: Iterable[str] | None = None,
                 timeouts: Timeouts | None = None, secrets: Iterable[str] = (), json_verdicts: bool = False):
        self.catalog = catalog
        # True: records carry `candidates` as an orjson.Fragment (for hosts that only serialize them).
        self.json_verdicts = json_verdicts
        self.adapters = dict(adapters)
        self.providers: list[str] = sorted(providers if providers is not None else self.adapters)
        self.timeouts = timeouts or Timeouts()
        self.catalog_fingerprint: str = catalog.fingerprint
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)
        self._models: dict[str, _Model] = {}
        for model_id in catalog.ids():
            model = catalog.model(model_id) or {}
            meta = model.get("meta") if isinstance(model.get("meta"), Mapping) else {}
            upstream = meta.get("upstream") if isinstance(meta.get("upstream"), str) else model_id
            self._models[model_id] = _Model(str(model.get("provider")), upstream, model_prices(model))
        self._policies: dict[str, _PolicyInfo] = {}
        self._reasons: dict[tuple, str] = {}

    # -- shared steps --------------------------------------------------------------------------------

    def _policy_info(self, policy: Any) -> _PolicyInfo:
        fp = policy.fingerprint
        info = self._policies.get(fp)
        if info is None:
            if len(self._policies) >= 4096:
                self._policies.clear()
            info = self._policies[fp] = _PolicyInfo(orjson.loads(policy.canonical))
        return info

    def prepare(self, policy: Any, request: Mapping[str, Any],
                requirements: Mapping[str, Any] | None = None) -> tuple[dict, dict]:
        """The outgoing request (after the policy's mutate) and its implied requirements."""
        info = self._policy_info(policy)
        outgoing = {k: v for k, v in request.items() if k not in ("model", "policy_ir", "flow_ir")}
        if info.mutates:
            outgoing = orjson.loads(policy.mutate_request(orjson.dumps(outgoing)))
            requirements = None  # derived from the mutated request (spec §2.4)
        if requirements is None:
            requirements = requirements_from_request(orjson.dumps(outgoing))
        return outgoing, dict(requirements)

    def _base_record(self, policy: Any, info: _PolicyInfo, requirements: dict, started: str) -> dict:
        return {
            "policy": {"fingerprint": policy.fingerprint, "version": policy.version, "term": info.term},
            "catalog": {"fingerprint": self.catalog_fingerprint},
            "requirements": requirements,
            "seed": None,
            "providers": self.providers,
            "selected": None,
            "cascade": [],
            "candidates": [],
            "reason": "",
            "fallback": [],
            "latency_ms": None,
            "routing_ms": None,
            "cost": None,
            "usage": None,
            "status": "ok",
            "error": None,
            "started": started,
            "ended": None,
        }

    def _decide(self, policy: Any, request: Mapping[str, Any], seed: int | None,
                requirements: Mapping[str, Any] | None) -> tuple[dict, dict, list[str], float]:
        """Admission is the caller's; this mutates, evaluates, and returns (record, outgoing, cascade, t0)."""
        t0 = time.perf_counter()
        started = now_iso()
        info = self._policy_info(policy)
        outgoing, reqs = self.prepare(policy, request, requirements)
        record = self._base_record(policy, info, reqs, started)
        try:
            # The binding reads a requirements dict directly (no JSON round trip).
            result = policy.rank(self.catalog, requirements=reqs, seed=seed, providers=self.providers)
        except NoCandidates as exc:
            verdicts = exc.result.verdicts()
            record["seed"] = exc.result.seed
            record["candidates"] = verdicts
            record["routing_ms"] = record["latency_ms"] = _ms(t0)
            record["reason"] = reason_text(info.term, None, exc.result.counts(), len(verdicts),
                                           exc.result.seed, reqs)
            message = _no_candidates_message(verdicts)
            record["status"] = "error"
            record["error"] = {"code": "no_candidates", "message": message}
            record["ended"] = now_iso()
            raise RouteFailed("no_candidates", message, 400, record) from None
        cascade = list(result.cascade)
        record["seed"] = result.seed
        record["cascade"] = cascade
        # A host that only serializes its records takes the verdicts as JSON written by the core,
        # which for a catalog of dozens of models is most of a trace's cost as Python dicts.
        record["candidates"] = orjson.Fragment(result.verdicts_json()) if self.json_verdicts else result.verdicts()
        record["_counts"] = result.counts()
        record["routing_ms"] = _ms(t0)
        return record, outgoing, cascade, t0

    def _finish_reason(self, record: dict) -> None:
        counts = record.pop("_counts", None) or {}
        cascade = record["cascade"]
        head = cascade[0] if cascade else None
        hops = record["fallback"]
        reqs = record["requirements"]
        key = None
        if not hops and isinstance(reqs, dict):
            # Calls without failover repeat a handful of reasons; the text is a pure function of these.
            key = (record["policy"]["fingerprint"], head, tuple(counts.items()), record["seed"],
                   tuple(reqs.items()), record["selected"])
            try:
                cached = self._reasons.get(key)
            except TypeError:  # an unhashable requirement value: no caching
                key = cached = None
            if cached is not None:
                record["reason"] = cached
                return
        text = reason_text(record["policy"]["term"], head, counts, sum(counts.values()), record["seed"], reqs,
                           record["selected"], hops)
        if key is not None:
            if len(self._reasons) >= 4096:
                self._reasons.clear()
            self._reasons[key] = text
        record["reason"] = text

    def _redact(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, "[redacted]")
        return text

    def _classify(self, exc: BaseException) -> _Attempt:
        if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
            return _Attempt("timeout", None, "The attempt exceeded its time limit.", True)
        cause = getattr(exc, "cause", None)
        if isinstance(cause, str):
            status = getattr(exc, "status", None)
            message = getattr(exc, "message", None) or str(exc)
            # Before the first content byte every failure but a rejected request may fail over; a
            # dropped stream included (the adapter leaves that judgement to the router).
            retryable = cause != "bad_request" and (cause in RETRYABLE or bool(getattr(exc, "retryable", False)))
            return _Attempt(cause, status if isinstance(status, int) else None, self._redact(str(message)),
                            bool(retryable))
        try:
            import httpx
        except ImportError:  # pragma: no cover - httpx is a dependency
            httpx = None
        if httpx is not None and isinstance(exc, httpx.TimeoutException):
            return _Attempt("timeout", None, "The provider did not answer in time.", True)
        if httpx is not None and isinstance(exc, (httpx.ConnectError, httpx.NetworkError)):
            return _Attempt("connect", None, "The provider could not be reached.", True)
        # An adapter bug: log it for the operator, fail over, and say nothing internal to the caller.
        log.error("adapter raised %s; treating the attempt as a bad response", type(exc).__name__)
        return _Attempt("bad_response", None, "The provider adapter failed on this response.", True)

    def _hop(self, record: dict, model_id: str, nxt: str | None, attempt: _Attempt, t_attempt: float) -> None:
        record["fallback"].append({"from": model_id, "to": nxt, "cause": attempt.cause, "status": attempt.status,
                                   "latency_ms": _ms(t_attempt), "message": attempt.message})

    def _fail(self, record: dict, t0: float, last: _Attempt | None, deadline_hit: bool) -> RouteFailed:
        record["status"] = "error"
        record["latency_ms"] = _ms(t0)
        record["ended"] = now_iso()
        self._finish_reason(record)
        if last is not None and not last.retryable:
            message = f"The provider rejected the request: {last.message}"
            record["error"] = {"code": "invalid_request", "message": message, "cause": last.cause,
                               "status": last.status}
            return RouteFailed("invalid_request", message, 400, record)
        tried = len(record["fallback"])
        if deadline_hit:
            message = (f"The call exceeded its overall time limit of {self.timeouts.overall:g}s "
                       f"after {tried} attempt{'s' if tried != 1 else ''}.")
        else:
            message = (f"Every candidate failed ({tried} attempt{'s' if tried != 1 else ''}); "
                       f"last: {last.cause if last else 'none'}.")
        record["error"] = {"code": "provider_error", "message": message,
                           "cause": last.cause if last else None}
        return RouteFailed("provider_error", message, 502, record)

    def _deadline_text(self) -> str:
        t = self.timeouts
        return f"the attempt hit its deadline (attempt limit {t.attempt:g}s, overall limit {t.overall:g}s)"

    def _target(self, model_id: str) -> tuple[Any, _Model | None]:
        model = self._models.get(model_id)
        adapter = self.adapters.get(model.provider) if model is not None else None
        return adapter, model

    # -- non-streaming ------------------------------------------------------------------------------

    async def route(self, policy: Any, request: dict, *, seed: int | None = None,
                    requirements: Mapping[str, Any] | None = None) -> CallResult:
        record, outgoing, cascade, t0 = self._decide(policy, request, seed, requirements)
        loop = asyncio.get_running_loop()
        overall = loop.time() + self.timeouts.overall
        last: _Attempt | None = None
        for index, model_id in enumerate(cascade):
            nxt = cascade[index + 1] if index + 1 < len(cascade) else None
            if loop.time() >= overall:
                raise self._fail(record, t0, last, deadline_hit=True)
            adapter, model = self._target(model_id)
            t_attempt = time.perf_counter()
            if adapter is None or model is None:
                last = _Attempt("no_key", None, "The model's provider is not configured on this host.", True)
                self._hop(record, model_id, nxt, last, t_attempt)
                continue
            try:
                limit = min(self.timeouts.attempt, overall - loop.time())
                if _own_limit(adapter) <= limit:
                    # The adapter's own total deadline is the tighter one: no second timer needed.
                    response = await adapter.complete(model.upstream, outgoing)
                else:
                    try:
                        async with deadline_at(loop.time() + limit):
                            response = await adapter.complete(model.upstream, outgoing)
                    except TimeoutError:
                        raise _Timeout(self._deadline_text()) from None
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # every failure becomes a hop or ends the call
                last = self._classify(exc)
                if not last.retryable:
                    self._hop(record, model_id, None, last, t_attempt)
                    raise self._fail(record, t0, last, deadline_hit=False) from None
                self._hop(record, model_id, nxt, last, t_attempt)
                continue
            if not isinstance(response, dict):
                last = _Attempt("bad_response", None, "The provider adapter returned no completion.", True)
                self._hop(record, model_id, nxt, last, t_attempt)
                continue
            if not response.get("model"):
                response["model"] = model_id
            usage = response.get("usage")
            record["selected"] = model_id
            record["usage"] = usage if isinstance(usage, dict) else None
            record["cost"] = cost_usd(usage, model.prices)
            record["latency_ms"] = _ms(t0)
            record["ended"] = now_iso()
            self._finish_reason(record)
            return CallResult(record, response)
        raise self._fail(record, t0, last, deadline_hit=bool(cascade) and loop.time() >= overall)

    # -- streaming ----------------------------------------------------------------------------------

    async def route_stream(self, policy: Any, request: dict, *, seed: int | None = None,
                           requirements: Mapping[str, Any] | None = None) -> StreamResult:
        """Returns once a candidate has produced its first content byte (failover happens before that);
        raises RouteFailed when none does."""
        record, outgoing, cascade, t0 = self._decide(policy, request, seed, requirements)
        loop = asyncio.get_running_loop()
        overall = loop.time() + self.timeouts.overall
        stall = self.timeouts.stall
        last: _Attempt | None = None
        for index, model_id in enumerate(cascade):
            nxt = cascade[index + 1] if index + 1 < len(cascade) else None
            if loop.time() >= overall:
                raise self._fail(record, t0, last, deadline_hit=True)
            adapter, model = self._target(model_id)
            t_attempt = time.perf_counter()
            if adapter is None or model is None:
                last = _Attempt("no_key", None, "The model's provider is not configured on this host.", True)
                self._hop(record, model_id, nxt, last, t_attempt)
                continue
            attempt_deadline = min(loop.time() + self.timeouts.attempt, overall)
            upstream = None
            buffered: list[dict] = []
            ended = False
            try:
                upstream = adapter.stream(model.upstream, outgoing)
                while True:
                    try:
                        chunk = await _next(upstream, loop, stall, attempt_deadline, self._deadline_text())
                    except StopAsyncIteration:
                        ended = True
                        break
                    buffered.append(chunk)
                    if _has_content(chunk):
                        break
            except asyncio.CancelledError:
                await _close(upstream)
                raise
            except Exception as exc:
                await _close(upstream)
                last = self._classify(exc)
                if not last.retryable:
                    self._hop(record, model_id, None, last, t_attempt)
                    raise self._fail(record, t0, last, deadline_hit=False) from None
                self._hop(record, model_id, nxt, last, t_attempt)
                continue
            record["selected"] = model_id
            self._finish_reason(record)
            chunks = self._relay(record, model, upstream, buffered, ended, t0, attempt_deadline)
            return StreamResult(record, chunks)
        raise self._fail(record, t0, last, deadline_hit=bool(cascade) and loop.time() >= overall)

    async def _relay(self, record: dict, model: _Model, upstream: Any, buffered: list[dict], ended: bool,
                     t0: float, attempt_deadline: float) -> AsyncIterator[dict]:
        loop = asyncio.get_running_loop()
        stall = self.timeouts.stall
        deadline_text = self._deadline_text()
        usage: Any = None
        state = "streaming"
        try:
            for chunk in buffered:
                if chunk.get("usage") is not None:
                    usage = chunk["usage"]
                yield chunk
            while not ended:
                try:
                    chunk = await _next(upstream, loop, stall, attempt_deadline, deadline_text)
                except StopAsyncIteration:
                    break
                if chunk.get("usage") is not None:
                    usage = chunk["usage"]
                yield chunk
            state = "done"
        except (GeneratorExit, asyncio.CancelledError):
            state = "cancelled"
            raise
        except Exception as exc:
            state = "failed"
            attempt = self._classify(exc)
            record["usage"] = usage if isinstance(usage, dict) else None
            record["cost"] = cost_usd(usage, model.prices)
            record["status"] = "error"
            message = (f"The stream from {record['selected']} failed after its first content byte "
                       f"({attempt.cause}): {attempt.message}")
            record["error"] = {"code": "provider_error", "message": message, "cause": attempt.cause,
                               "status": attempt.status, "after_first_byte": True}
            record["latency_ms"] = _ms(t0)
            record["ended"] = now_iso()
            raise RouteFailed("provider_error", message, 502, record) from None
        finally:
            await _close(upstream)
            if state in ("done", "cancelled", "streaming"):
                record["usage"] = usage if isinstance(usage, dict) else None
                record["cost"] = cost_usd(usage, model.prices)
                record["latency_ms"] = _ms(t0)
                record["ended"] = now_iso()
                if state != "done":
                    record["status"] = "error"
                    record["error"] = {"code": "cancelled", "message": "The client stopped reading the stream."}


def _own_limit(adapter: Any) -> float:
    """The whole-attempt deadline an adapter enforces itself (ProviderSettings.total_timeout), or inf."""
    limit = getattr(getattr(adapter, "settings", None), "total_timeout", None)
    return float(limit) if isinstance(limit, (int, float)) and not isinstance(limit, bool) else float("inf")


def _ms(t0: float) -> float:
    return round((time.perf_counter() - t0) * 1000.0, 3)


class _Timeout(Exception):
    """Our own deadline fired; shaped like a ProviderError so it classifies the same way."""
    cause = "timeout"
    status = None
    retryable = True

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


async def _next(iterator: Any, loop: asyncio.AbstractEventLoop, stall: float, deadline: float,
                deadline_text: str) -> Any:
    stall_at = loop.time() + stall
    try:
        async with deadline_at(min(stall_at, deadline)):
            return await iterator.__anext__()
    except TimeoutError:
        if stall_at <= deadline:
            raise _Timeout(f"no data from the provider for {stall:g}s (stall timeout)") from None
        raise _Timeout(deadline_text) from None


async def _close(iterator: Any) -> None:
    aclose = getattr(iterator, "aclose", None)
    if aclose is None:
        return
    try:
        await aclose()
    except Exception:  # closing a broken upstream must not mask the real outcome
        pass


def _has_content(chunk: Mapping[str, Any]) -> bool:
    """True once a chunk carries something the client would see beyond the role: text, a tool call,
    a refusal, reasoning, or a finish reason."""
    choices = chunk.get("choices")
    if not isinstance(choices, list):
        return False
    for choice in choices:
        if not isinstance(choice, Mapping):
            continue
        if choice.get("finish_reason"):
            return True
        delta = choice.get("delta")
        if isinstance(delta, Mapping):
            for key, value in delta.items():
                if key != "role" and value:
                    return True
    return False


def _no_candidates_message(verdicts: list[dict]) -> str:
    """One sentence naming the sub-term that rejected the most models."""
    counts: dict[str, int] = {}
    terms: dict[str, Any] = {}
    for verdict in verdicts:
        blame = verdict.get("dropped_by")
        if isinstance(blame, Mapping):
            path = blame.get("path", "")
            key = f"{path}|{blame.get('reason', '')}"
            counts[key] = counts.get(key, 0) + 1
            terms[key] = blame
    total = len(verdicts)
    if not counts:
        return f"No model passes the policy: all {total} models were rejected."
    key = max(counts, key=lambda k: (counts[k], k))
    blame = terms[key]
    term = blame.get("term")
    term_text = term if isinstance(term, str) else orjson.dumps(term).decode()
    why = f" ({blame['reason']})" if blame.get("reason") else ""
    where = blame.get("path") or "the host floor"
    return (f"No model passes the policy: all {total} models were rejected; {counts[key]} by "
            f"{where} {term_text}{why}.")
