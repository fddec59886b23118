"""`FakeUpstream`: one local HTTP server speaking OpenAI, Azure OpenAI, Anthropic and Gemini.

    fake = FakeUpstream.start()                    # once per test session (fast: raw asyncio)
    settings = fake.settings("anthropic")          # ProviderSettings pointing at the fake
    fake.script("claude-x", "status:529", times=1) # next call to claude-x fails, then "ok"
    ... call ...
    fake.requests[-1].json                         # what the adapter sent
    fake.reset()                                   # between tests (the fixture does this)
    fake.close()

Paths: OpenAI `{base_url}/v1/chat/completions` (and `/noauth/v1/...` with no auth), Azure
`{base_url}/openai/deployments/{deployment}/chat/completions?api-version=…`, Anthropic
`{base_url}/v1/messages`, Gemini `{base_url}/v1beta/models/{model}:generateContent` and
`:streamGenerateContent?alt=sse`. Each checks its own auth header against `fake.keys[kind]`.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from typing import Any

from .anthropic_api import AnthropicFake
from .behaviour import Behaviour, Scripts
from .conversation import plan
from .gemini_api import GeminiFake
from .httpserver import HttpRequest, Reply, Reset, ServerThread, StreamReply
from .openai_api import AzureFake, OpenAIFake

__all__ = ["FakeUpstream", "RecordedRequest"]

_MALFORMED_JSON = b'{"id": "broken", "choices": [{"message": {"content": "unterminated'
_MALFORMED_EVENT = b'data: {"choices": [{"delta": {"content": "unterminated\n\n'


@dataclass(frozen=True)
class RecordedRequest:
    provider: str  # "openai" | "azure" | "anthropic" | "gemini"
    model: str
    stream: bool
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    json: Any
    body: bytes
    connection: int  # the client's port; equal for requests over one kept-alive connection


class FakeUpstream:
    def __init__(self) -> None:
        self._providers: list[Any] = [OpenAIFake(), AzureFake(), AnthropicFake(), GeminiFake()]
        self.keys = {
            "openai": OpenAIFake.key,
            "openai_compatible": OpenAIFake.key,
            "azure": AzureFake.key,
            "anthropic": AnthropicFake.key,
            "gemini": GeminiFake.key,
        }
        self._scripts = Scripts()
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._server = ServerThread(self._handle)
        self.base_url = ""

    @classmethod
    def start(cls) -> FakeUpstream:
        fake = cls()
        fake._server.start()
        fake.base_url = f"http://127.0.0.1:{fake._server.port}"
        return fake

    def close(self) -> None:
        self._server.stop()

    # -- test API -------------------------------------------------------------------------------

    def script(self, model: str, behaviour: str, times: int | None = None) -> None:
        """`times=None`: the model's standing behaviour; `times=n`: queue it for the next n calls
        (queued behaviours run first, in order). Model "*" covers models with no script."""
        self._scripts.set(model, behaviour, times)

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def requests_for(self, model: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.model == model]

    def reset(self) -> None:
        self._scripts.clear()
        with self._lock:
            self._requests.clear()

    def url_for(self, kind: str) -> str:
        """The base_url a ProviderSettings of this kind should use to reach the fake."""
        if kind in ("openai", "openai_compatible"):
            return f"{self.base_url}/v1"
        return self.base_url

    def settings(self, kind: str, **overrides: Any) -> Any:
        from unhardcoded.providers import ProviderSettings

        values: dict[str, Any] = {
            "name": kind,
            "kind": kind,
            "base_url": self.url_for(kind),
            "api_key": self.keys[kind],
            "connect_timeout": 2.0,
            "stall_timeout": 5.0,
            "total_timeout": 10.0,
        }
        values.update(overrides)
        return ProviderSettings(**values)

    # -- server side ----------------------------------------------------------------------------

    async def _handle(self, req: HttpRequest) -> Reply | Reset | StreamReply:
        for provider in self._providers:
            model = provider.route(req)
            if model is not None:
                break
        else:
            return Reply.json(404, {"error": {"message": f"no fake route for {req.method} {req.path}"}})
        stream = provider.is_stream(req)
        with self._lock:
            self._requests.append(
                RecordedRequest(
                    provider.name,
                    model,
                    stream,
                    req.method,
                    req.path,
                    req.query,
                    req.headers,
                    req.json,
                    req.body,
                    req.connection,
                )
            )
        behaviour = self._scripts.take(model)
        if behaviour.delay:
            await asyncio.sleep(behaviour.delay)
        if behaviour.reset:
            return Reset()
        failure = provider.authenticate(req) or provider.validate(req)
        if failure is not None:
            return failure
        if behaviour.status is not None:
            return self._scripted_error(provider, req, behaviour)
        if behaviour.malformed:
            if stream:
                return StreamReply(events=[_MALFORMED_EVENT], terminator=[])
            return Reply(200, _MALFORMED_JSON, {"content-type": "application/json"})
        if behaviour.incomplete:
            return provider.incomplete(req, stream)
        outcome = plan(provider.prompt(req), behaviour)
        if not stream:
            if behaviour.stall_after is not None:
                await asyncio.sleep(3600)  # headers never come; the client's stall timeout fires
            return provider.complete(req, model, outcome, behaviour)
        events, terminator = provider.stream(req, model, outcome, behaviour)
        return StreamReply(
            events=events,
            terminator=terminator,
            stall_after=behaviour.stall_after,
            drop_after=behaviour.drop_after,
            reset_after=behaviour.reset_after,
            error_after=behaviour.error_after,
            error_event=provider.error_event(),
        )

    @staticmethod
    def _scripted_error(provider: Any, req: HttpRequest, behaviour: Behaviour) -> Reply:
        assert behaviour.status is not None
        reply: Reply = provider.error(behaviour.status)
        if behaviour.leak_key:
            key = provider.presented_key(req) or ""
            import orjson

            payload = orjson.loads(reply.body)
            error = payload["error"]
            error["message"] = f"{error['message']} (request authenticated with key {key})"
            reply = Reply.json(reply.status, payload, {k: v for k, v in reply.headers.items() if k != "content-type"})
        return reply
