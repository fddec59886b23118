"""The provider adapter contract and the HTTP machinery every adapter shares.

An adapter turns an OpenAI chat request into one provider's wire format, sends it over a pooled
`httpx.AsyncClient` owned by the caller, and turns the answer (or the failure) back into OpenAI
shapes. Every failure leaves as a `ProviderError` with a stable `cause`, so the router can decide
whether to fail over without knowing which provider it was talking to.
"""

from __future__ import annotations

import asyncio
import email.utils
import math
import time
from collections import deque
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, ClassVar
from urllib.parse import quote, urlsplit

import anyio
import httpx
import orjson

from ..deadlines import deadline_at
from .sse import SSEDecoder, SSEEvent

__all__ = [
    "CAUSES",
    "RETRYABLE_CAUSES",
    "Adapter",
    "ProviderError",
    "ProviderSettings",
    "cause_for_status",
]

CAUSES = (
    "timeout",
    "connect",
    "rate_limited",
    "server_error",
    "auth",
    "not_found",
    "bad_response",
    "bad_request",
    "no_key",
    "stream_dropped",
)

# Failing over to another model can help with all of these; a bad request would fail anywhere,
# and a dropped stream may already have delivered output, so the router decides about those.
RETRYABLE_CAUSES = frozenset(
    {"timeout", "connect", "rate_limited", "server_error", "auth", "not_found", "bad_response", "no_key"}
)

MESSAGE_DETAIL_LIMIT = 300
# After a stream's terminator, read at most this much more for this long, hoping to reach the end
# of the body so the connection can be reused; otherwise it is closed.
DRAIN_BYTES = 64 * 1024
DRAIN_SECONDS = 0.25
_REDACTED = "[redacted]"
_SECRET_HEADERS = frozenset({"authorization", "api-key", "x-api-key", "x-goog-api-key", "proxy-authorization"})
# Prepared request parts kept per adapter (one per distinct URL + headers; Gemini and Azure put the
# model in the URL, so this is bounded by the catalog, and cleared if it ever grows past this).
_PREPARED_LIMIT = 512


class _Deadline:
    """`async with _Deadline(seconds):` raises TimeoutError when the block outlives `seconds`
    (`at=`: an absolute deadline on the loop clock, `anyio.current_time()`); None or infinity means
    no deadline.

    On asyncio this is `deadlines.deadline_at` (asyncio.timeout_at's semantics on one shared timer,
    a fraction of its cost under uvloop); under another event loop it is anyio's scope."""

    __slots__ = ("_at", "_scope", "_seconds")

    def __init__(self, seconds: float | None = None, *, at: float | None = None) -> None:
        self._seconds = seconds
        self._at = at
        self._scope: Any = None

    def _deadline(self, now: float) -> float | None:
        at = self._at
        if at is None and self._seconds is not None:
            at = now + self._seconds
        return at if at is not None and math.isfinite(at) else None

    async def __aenter__(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is not None:
            self._scope = deadline_at(self._deadline(loop.time()))
            await self._scope.__aenter__()
        else:
            at = self._deadline(anyio.current_time())
            self._scope = anyio.fail_after(None if at is None else at - anyio.current_time())
            self._scope.__enter__()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None:
        scope = self._scope
        if isinstance(scope, deadline_at):
            return await scope.__aexit__(exc_type, exc, tb)
        return scope.__exit__(exc_type, exc, tb)


@dataclass(repr=False)
class ProviderSettings:
    name: str
    kind: str
    base_url: str = ""
    api_key: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    api_version: str | None = None
    connect_timeout: float = 10.0
    stall_timeout: float = 60.0
    total_timeout: float = 600.0

    def __repr__(self) -> str:
        # The dataclass default would print the key into every log line that shows the settings.
        key = "None" if self.api_key is None else "'***'"
        return (
            f"ProviderSettings(name={self.name!r}, kind={self.kind!r}, base_url={self.base_url!r}, "
            f"api_key={key}, headers={sorted(self.headers)!r}, api_version={self.api_version!r}, "
            f"connect_timeout={self.connect_timeout!r}, stall_timeout={self.stall_timeout!r}, "
            f"total_timeout={self.total_timeout!r})"
        )


class ProviderError(Exception):
    """A provider call failed. `str(error)` is `message`; it never contains the API key."""

    def __init__(
        self,
        cause: str,
        status: int | None = None,
        retryable: bool | None = None,
        message: str = "",
        *,
        retry_after: float | None = None,
        provider: str | None = None,
    ) -> None:
        if cause not in CAUSES:
            raise ValueError(f"unknown provider error cause {cause!r}")
        self.cause = cause
        self.status = status
        self.retryable = cause in RETRYABLE_CAUSES if retryable is None else bool(retryable)
        self.message = message or f"provider call failed ({cause})"
        self.retry_after = retry_after
        self.provider = provider
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"ProviderError(cause={self.cause!r}, status={self.status!r}, retryable={self.retryable!r}, message={self.message!r})"

    def to_dict(self) -> dict[str, Any]:
        return {"cause": self.cause, "status": self.status, "retryable": self.retryable, "message": self.message}


def cause_for_status(status: int) -> str:
    if status == 429:
        return "rate_limited"
    if status in (401, 403):
        return "auth"
    if status == 404:
        return "not_found"
    if status == 408:
        # The server gave up waiting for us: the same situation as our own timeout.
        return "timeout"
    if status >= 500:
        return "server_error"
    if 400 <= status < 500:
        return "bad_request"
    return "bad_response"


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        try:
            value = float(raw_ms) / 1000.0
            if math.isfinite(value) and value >= 0:
                return value
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if not raw:
        return None
    try:
        value = float(raw)
        return value if math.isfinite(value) and value >= 0 else None
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _collapse(text: str) -> str:
    return " ".join(text.split())


class Adapter:
    kind: ClassVar[str] = ""
    default_base_url: ClassVar[str] = ""

    def __init__(self, settings: ProviderSettings, client: httpx.AsyncClient) -> None:
        self.settings = settings
        self.client = client
        self.base_url = (settings.base_url or self.default_base_url).rstrip("/")
        self._timeout: httpx.Timeout | None = None
        self._timeout_ext: dict[str, float | None] | None = None
        self._prepared: dict[tuple[Any, ...], tuple[httpx.URL, httpx.Headers, bool]] = {}

    async def complete(self, upstream_model: str, request: dict) -> dict:
        raise NotImplementedError

    def stream(self, upstream_model: str, request: dict) -> AsyncIterator[dict]:
        raise NotImplementedError

    # -- provider hooks ---------------------------------------------------------------------

    def error_detail(self, status: int | None, payload: Any) -> tuple[str | None, str | None]:
        """(human-readable detail, cause override) from a provider error body."""
        return None, None

    def retry_after_hint(self, payload: Any) -> float | None:
        """A retry delay carried in the error body rather than a Retry-After header."""
        return None

    # -- errors -----------------------------------------------------------------------------

    def _secrets(self) -> list[str]:
        secrets = [self.settings.api_key or ""]
        # Credentials configured as plain headers (an Azure AD token, a gateway key) count too.
        secrets += [v for k, v in self.settings.headers.items() if k.lower() in _SECRET_HEADERS]
        for value in list(secrets):
            if value.lower().startswith("bearer "):
                secrets.append(value[7:])
        return sorted((s for s in secrets if s), key=len, reverse=True)

    def scrub(self, text: str) -> str:
        for secret in self._secrets():
            text = text.replace(secret, _REDACTED)
            quoted = quote(secret, safe="")
            if quoted != secret:
                text = text.replace(quoted, _REDACTED)
        return text

    def error(
        self, cause: str, message: str, *, status: int | None = None, retry_after: float | None = None
    ) -> ProviderError:
        text = self.scrub(f"{self.settings.name}: {message}")
        return ProviderError(cause, status, None, text, retry_after=retry_after, provider=self.settings.name)

    def bad_request(self, message: str) -> ProviderError:
        return self.error("bad_request", message)

    def detail_text(self, detail: str) -> str:
        detail = self.scrub(_collapse(detail))
        if len(detail) > MESSAGE_DETAIL_LIMIT:
            detail = detail[: MESSAGE_DETAIL_LIMIT - 1].rstrip() + "…"
        return detail

    def status_error(self, status: int, content: bytes, headers: Mapping[str, str]) -> ProviderError:
        payload: Any = None
        try:
            payload = orjson.loads(content) if content else None
        except orjson.JSONDecodeError:
            payload = None
        detail, override = self.error_detail(status, payload)
        if detail is None:
            detail = content[:2000].decode("utf-8", errors="replace") if content else ""
        cause = override or cause_for_status(status)
        reason = httpx.codes.get_reason_phrase(status)
        text = self.detail_text(detail)
        message = f"HTTP {status}" + (f" {reason}" if reason else "") + (f": {text}" if text else "")
        retry_after = parse_retry_after(headers)
        if retry_after is None:
            retry_after = self.retry_after_hint(payload)
        return self.error(cause, message, status=status, retry_after=retry_after)

    def _host(self) -> str:
        parts = urlsplit(self.base_url)
        host = parts.hostname or self.base_url
        return f"{host}:{parts.port}" if parts.port else host

    def transport_error(self, exc: Exception, *, streaming: bool) -> ProviderError:
        s = self.settings
        if isinstance(exc, httpx.ConnectTimeout):
            return self.error("timeout", f"connecting to {self._host()} timed out after {s.connect_timeout:g}s")
        if isinstance(exc, httpx.ReadTimeout):
            return self.error("timeout", f"no data from {self._host()} for {s.stall_timeout:g}s (stall timeout)")
        if isinstance(exc, httpx.WriteTimeout):
            return self.error("timeout", f"sending the request to {self._host()} stalled for {s.stall_timeout:g}s")
        if isinstance(exc, httpx.PoolTimeout):
            return self.error("timeout", f"no free connection to {self._host()} within {s.connect_timeout:g}s")
        if isinstance(exc, httpx.TimeoutException):
            return self.error("timeout", f"the request to {self._host()} timed out")
        if isinstance(exc, httpx.DecodingError):
            return self.error("bad_response", "the response body could not be decoded")
        if streaming and isinstance(exc, (httpx.ReadError, httpx.RemoteProtocolError, httpx.CloseError)):
            return self.error("stream_dropped", f"the connection to {self._host()} closed mid-stream")
        if isinstance(exc, (httpx.InvalidURL, httpx.UnsupportedProtocol)):
            return self.error("connect", f"the base_url {self.base_url!r} is not a usable http(s) URL")
        detail = self.detail_text(str(exc)) or exc.__class__.__name__
        return self.error("connect", f"could not reach {self._host()}: {detail}")

    def deadline_error(self) -> ProviderError:
        return self.error(
            "timeout", f"no complete response within the total deadline of {self.settings.total_timeout:g}s"
        )

    # -- HTTP -------------------------------------------------------------------------------

    def require_key(self) -> str:
        key = self.settings.api_key
        if not key:
            raise self.error("no_key", f"no API key is configured for provider {self.settings.name!r}")
        return key

    def timeout(self) -> httpx.Timeout:
        if self._timeout is None:
            s = self.settings
            self._timeout = httpx.Timeout(
                connect=s.connect_timeout, read=s.stall_timeout, write=s.stall_timeout, pool=s.connect_timeout
            )
        return self._timeout

    def function_tools(self, tools: Any) -> list[tuple[dict[str, Any], dict[str, Any], str]]:
        """(tool, its function, the function's name) of an OpenAI `tools` array, checked: every entry
        must be a function tool with a non-empty name (the only kind the mapped APIs take)."""
        if not isinstance(tools, list):
            raise self.bad_request("tools must be an array")
        out = []
        for i, tool in enumerate(tools):
            function = tool.get("function") if isinstance(tool, dict) else None
            if (
                not isinstance(tool, dict)
                or tool.get("type", "function") != "function"
                or not isinstance(function, dict)
            ):
                raise self.bad_request(f"tools[{i}] must be a function tool")
            name = function.get("name")
            if not isinstance(name, str) or not name:
                raise self.bad_request(f"tools[{i}].function.name must be a non-empty string")
            out.append((tool, function, name))
        return out

    def headers(self, auth: Mapping[str, str], *, stream: bool) -> dict[str, str]:
        merged = {"content-type": "application/json", "accept": "text/event-stream" if stream else "application/json"}
        # Lower-cased so a configured "Authorization" cannot travel beside the adapter's own.
        merged.update({k.lower(): v for k, v in self.settings.headers.items()})
        merged.update({k.lower(): v for k, v in auth.items()})
        return merged

    def encode(self, body: Any) -> bytes:
        try:
            return orjson.dumps(body)
        except TypeError as exc:
            raise self.bad_request(f"the request cannot be sent as JSON ({exc})") from None

    def decode(self, content: bytes) -> Any:
        try:
            return orjson.loads(content)
        except orjson.JSONDecodeError:
            snippet = self.detail_text(content[:120].decode("utf-8", errors="replace"))
            raise self.error("bad_response", f"the response is not valid JSON: {snippet!r}") from None

    def build_request(
        self, url: str, content: bytes, headers: Mapping[str, str], params: Mapping[str, str] | None = None
    ) -> httpx.Request:
        """The request `client.build_request("POST", url, ...)` would build — same URL, same headers
        in the same order, Host first and Content-Length last — with the URL parsed, the headers
        merged over the client's defaults and the timeout computed once per adapter rather than on
        every call. The body goes in as a ready stream (`stream=`), which skips httpx's content
        encoding and its three rebuilds of the header list: a third of the cost of a request."""
        client = self.client
        if client.cookies or client.params:
            # Cookies a provider set, or client-wide query parameters: let the client merge them.
            return client.build_request(
                "POST", url, content=content, headers=headers, params=params, timeout=self.timeout()
            )
        key = (url, tuple(params.items()) if params else None, tuple(headers.items()))
        prepared = self._prepared.get(key)
        if prepared is None:
            full_url = client._merge_url(url) if hasattr(client, "_merge_url") else httpx.URL(url)
            if params:
                full_url = full_url.copy_merge_params(params)
            merged = httpx.Headers(client.headers)
            merged.update(headers)
            if "host" not in merged and full_url.host:
                merged = httpx.Headers([(b"Host", full_url.netloc), *merged.raw])
            if len(self._prepared) >= _PREPARED_LIMIT:
                self._prepared.clear()
            prepared = self._prepared[key] = (full_url, merged, "content-length" in merged)
        request_headers = httpx.Headers(prepared[1])
        if not prepared[2]:
            request_headers["Content-Length"] = str(len(content))
        return httpx.Request(
            "POST", prepared[0], headers=request_headers, stream=httpx.ByteStream(content),
            extensions={"timeout": self._timeout_dict()},
        )

    def _timeout_dict(self) -> dict[str, float | None]:
        if self._timeout_ext is None:
            self._timeout_ext = self.timeout().as_dict()
        return self._timeout_ext

    async def post_json(
        self, url: str, body: Any, headers: Mapping[str, str], params: Mapping[str, str] | None = None
    ) -> Any:
        content = self.encode(body)
        try:
            request = self.build_request(url, content, headers, params)
            async with _Deadline(self.settings.total_timeout):
                response = await self.client.send(request)
        except TimeoutError:
            raise self.deadline_error() from None
        except httpx.HTTPError as exc:
            raise self.transport_error(exc, streaming=False) from None
        if response.status_code >= 300:
            raise self.status_error(response.status_code, response.content, response.headers)
        return self.decode(response.content)

    @asynccontextmanager
    async def open_sse(
        self, url: str, body: Any, headers: Mapping[str, str], params: Mapping[str, str] | None = None
    ) -> AsyncIterator[AsyncIterator[SSEEvent]]:
        """`async with adapter.open_sse(...) as events: async for event in events: ...`

        Iteration ends at a clean end of stream; whether the stream carried its terminator is the
        caller's judgement. Leaving the block normally (after the terminator) drains what little
        remains of the body so the connection goes back to the pool; leaving it by an exception
        just closes the connection."""
        total = self.settings.total_timeout
        deadline = anyio.current_time() + total
        request = self.build_request(url, self.encode(body), headers, params)
        try:
            async with _Deadline(at=deadline):
                response = await self.client.send(request, stream=True)
        except TimeoutError:
            raise self.deadline_error() from None
        except httpx.HTTPError as exc:
            raise self.transport_error(exc, streaming=False) from None
        try:
            if response.status_code >= 300:
                content = await self._read_rest(response, deadline)
                raise self.status_error(response.status_code, content, response.headers)
            content_type = response.headers.get("content-type", "")
            if "json" in content_type and "event-stream" not in content_type:
                raise await self._json_instead_of_stream(response, deadline)
            reader = _EventReader(self, response.aiter_bytes(), deadline)
            yield reader
            await reader.drain()
        finally:
            with anyio.CancelScope(shield=True):
                await response.aclose()

    async def next_chunk(self, chunks: AsyncIterator[bytes], deadline: float) -> bytes | None:
        remaining = deadline - anyio.current_time()
        if remaining <= 0:
            raise self.deadline_error()
        try:
            async with _Deadline(at=deadline):
                return await chunks.__anext__()
        except StopAsyncIteration:
            return None
        except TimeoutError:
            raise self.deadline_error() from None
        except httpx.HTTPError as exc:
            raise self.transport_error(exc, streaming=True) from None

    async def _read_rest(self, response: httpx.Response, deadline: float) -> bytes:
        try:
            with anyio.fail_after(max(0.0, deadline - anyio.current_time())):
                return await response.aread()
        except (TimeoutError, httpx.HTTPError):
            return b""

    async def _json_instead_of_stream(self, response: httpx.Response, deadline: float) -> ProviderError:
        content = await self._read_rest(response, deadline)
        try:
            payload = orjson.loads(content)
        except orjson.JSONDecodeError:
            payload = None
        detail, override = self.error_detail(None, payload)
        text = self.detail_text(detail or content[:200].decode("utf-8", errors="replace"))
        return self.error(override or "bad_response", f"expected an event stream but got JSON: {text}")

    def parse_event_json(self, event: SSEEvent) -> Any:
        try:
            return orjson.loads(event.data)
        except orjson.JSONDecodeError:
            snippet = self.detail_text(event.data[:120])
            raise self.error("bad_response", f"a stream event is not valid JSON: {snippet!r}") from None


class _EventReader:
    """Async iterator of the SSE events of one response body."""

    def __init__(self, adapter: Adapter, chunks: AsyncIterator[bytes], deadline: float) -> None:
        self._adapter = adapter
        self._chunks = chunks
        self._deadline = deadline
        self._decoder = SSEDecoder()
        self._pending: deque[SSEEvent] = deque()
        self._eof = False

    def __aiter__(self) -> _EventReader:
        return self

    async def __anext__(self) -> SSEEvent:
        while not self._pending:
            if self._eof:
                raise StopAsyncIteration
            chunk = await self._adapter.next_chunk(self._chunks, self._deadline)
            if chunk is None:
                self._eof = True
                self._pending.extend(self._decoder.close())
            else:
                self._pending.extend(self._decoder.feed(chunk))
        return self._pending.popleft()

    async def drain(self) -> None:
        if self._eof:
            return
        read = 0
        with anyio.move_on_after(DRAIN_SECONDS):
            try:
                async for chunk in self._chunks:
                    read += len(chunk)
                    if read > DRAIN_BYTES:
                        return
            except httpx.HTTPError:
                return
        self._eof = True
