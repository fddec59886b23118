"""Every failure cause, for every adapter, in both modes: the cause, whether it is retryable, the
HTTP status, and that the API key never leaks into the error."""

from __future__ import annotations

import socket

import httpx
import pytest
from fakes.fixtures import anyio_backend, fake_upstream, fake_upstream_server, http_client  # noqa: F401
from fakes.helpers import KINDS, MODELS, adapter, collect

from unhardcoded.providers import ProviderError, ProviderSettings, make_adapter

pytestmark = pytest.mark.anyio

MODES = ("complete", "stream")
REQUEST = {"messages": [{"role": "user", "content": "one two three four five"}]}


async def call(a, kind: str, mode: str) -> list[dict]:  # type: ignore[no-untyped-def]
    if mode == "complete":
        return [await a.complete(MODELS[kind], REQUEST)]
    return await collect(a.stream(MODELS[kind], REQUEST))


async def failure(a, kind: str, mode: str) -> ProviderError:  # type: ignore[no-untyped-def]
    with pytest.raises(ProviderError) as info:
        await call(a, kind, mode)
    error = info.value
    key = a.settings.api_key
    if key:
        assert key not in str(error) and key not in repr(error) and key not in str(error.to_dict())
    return error


def expect(error: ProviderError, cause: str, status: int | None, retryable: bool) -> None:
    assert (error.cause, error.status, error.retryable) == (cause, status, retryable), str(error)
    assert str(error) == error.message and error.message.startswith(error.provider or "?")


STATUS_CAUSES = [
    (400, "bad_request", False),
    (401, "auth", True),
    (403, "auth", True),
    (404, "not_found", True),
    (422, "bad_request", False),
    (429, "rate_limited", True),
    (500, "server_error", True),
    (503, "server_error", True),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind", KINDS)
async def test_http_status_causes(kind, mode, fake_upstream, http_client) -> None:  # noqa: F811
    a = adapter(fake_upstream, kind, http_client)
    statuses = STATUS_CAUSES + ([(529, "server_error", True)] if kind == "anthropic" else [])
    for status, cause, retryable in statuses:
        fake_upstream.script(MODELS[kind], f"status:{status}", times=1)
        error = await failure(a, kind, mode)
        expect(error, cause, status, retryable)
        assert f"HTTP {status}" in str(error)
        if status == 429:
            assert error.retry_after == 2.0
    # The script is used up: the next call succeeds.
    assert await call(a, kind, mode)


async def test_provider_error_text_is_carried(fake_upstream, http_client) -> None:  # noqa: F811
    fake_upstream.script("claude-sonnet-4-5", "status:529", times=1)
    error = await failure(adapter(fake_upstream, "anthropic", http_client), "anthropic", "complete")
    assert str(error) == "anthropic: HTTP 529: overloaded_error: Overloaded"
    fake_upstream.script("gemini-2.5-flash", "status:429", times=1)
    error = await failure(adapter(fake_upstream, "gemini", http_client), "gemini", "stream")
    assert "RESOURCE_EXHAUSTED: You exceeded your current quota" in str(error)


@pytest.mark.parametrize("kind", KINDS)
async def test_wrong_key_is_auth_and_not_echoed(kind, fake_upstream, http_client) -> None:  # noqa: F811
    wrong = "sk-wrong-" + "9" * 40 + "-secret"
    error = await failure(adapter(fake_upstream, kind, http_client, api_key=wrong), kind, "complete")
    # Gemini answers a bad key with 400 API_KEY_INVALID.
    expect(error, "auth", 400 if kind == "gemini" else 401, True)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind", KINDS)
async def test_a_key_quoted_by_the_provider_is_scrubbed(kind, mode, fake_upstream, http_client) -> None:  # noqa: F811
    fake_upstream.script(MODELS[kind], "status:500,leak_key", times=1)
    a = adapter(fake_upstream, kind, http_client)
    error = await failure(a, kind, mode)
    assert "[redacted]" in str(error)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind", [k for k in KINDS if k != "openai_compatible"])
async def test_no_key_fails_before_any_io(kind, mode, fake_upstream, http_client) -> None:  # noqa: F811
    error = await failure(adapter(fake_upstream, kind, http_client, api_key=None), kind, mode)
    expect(error, "no_key", None, True)
    assert fake_upstream.requests == []


@pytest.mark.parametrize("mode", MODES)
async def test_compatible_server_without_key_is_called_without_auth(mode, fake_upstream, http_client) -> None:  # noqa: F811
    # A keyless local server is normal for this kind; one that wants a key says so with a 401.
    error = await failure(
        adapter(fake_upstream, "openai_compatible", http_client, api_key=None), "openai_compatible", mode
    )
    expect(error, "auth", 401, True)
    assert "authorization" not in fake_upstream.requests[-1].headers


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind", KINDS)
async def test_connection_reset_is_connect(kind, mode, fake_upstream, http_client) -> None:  # noqa: F811
    fake_upstream.script(MODELS[kind], "reset", times=1)
    error = await failure(adapter(fake_upstream, kind, http_client), kind, mode)
    expect(error, "connect", None, True)


@pytest.mark.parametrize("kind", KINDS)
async def test_refused_connection_is_connect(kind, fake_upstream, http_client) -> None:  # noqa: F811
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base = f"http://127.0.0.1:{port}" + ("/v1" if kind in ("openai", "openai_compatible") else "")
    a = adapter(fake_upstream, kind, http_client, base_url=base)
    for mode in MODES:
        error = await failure(a, kind, mode)
        expect(error, "connect", None, True)
        assert f"127.0.0.1:{port}" in str(error)


async def test_connect_timeout_is_timeout(fake_upstream) -> None:  # noqa: F811
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("timed out", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(refuse), verify=False) as client:
        a = make_adapter(fake_upstream.settings("openai", connect_timeout=0.5), client)
        for mode in MODES:
            error = await failure(a, "openai", mode)
            expect(error, "timeout", None, True)
            assert "connecting" in str(error) and "0.5s" in str(error)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind", KINDS)
async def test_no_response_within_stall_timeout(kind, mode, fake_upstream, http_client) -> None:  # noqa: F811
    fake_upstream.script(MODELS[kind], "delay:1", times=1)
    error = await failure(adapter(fake_upstream, kind, http_client, stall_timeout=0.15), kind, mode)
    expect(error, "timeout", None, True)
    assert "stall timeout" in str(error)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind", KINDS)
async def test_total_deadline(kind, mode, fake_upstream, http_client) -> None:  # noqa: F811
    # A stream that keeps the stall timer happy but never finishes is cut by the total deadline.
    fake_upstream.script(MODELS[kind], "delay:1" if mode == "complete" else "stall_after:2", times=1)
    a = adapter(fake_upstream, kind, http_client, stall_timeout=5.0, total_timeout=0.3)
    error = await failure(a, kind, mode)
    expect(error, "timeout", None, True)
    assert "total deadline of 0.3s" in str(error)


@pytest.mark.parametrize("kind", KINDS)
async def test_stream_stalls_midway(kind, fake_upstream, http_client) -> None:  # noqa: F811
    fake_upstream.script(MODELS[kind], "stall_after:3", times=1)
    # Generous enough that a loaded machine still delivers the first events in time.
    a = adapter(fake_upstream, kind, http_client, stall_timeout=0.5)
    received: list[dict] = []
    with pytest.raises(ProviderError) as info:
        async for chunk in a.stream(MODELS[kind], REQUEST):
            received.append(chunk)
    expect(info.value, "timeout", None, True)
    assert received  # the chunks before the stall were delivered


@pytest.mark.parametrize("behaviour", ["drop_after:3", "reset_after:3"])
@pytest.mark.parametrize("kind", KINDS)
async def test_stream_cut_before_its_terminator(kind, behaviour, fake_upstream, http_client) -> None:  # noqa: F811
    fake_upstream.script(MODELS[kind], behaviour, times=1)
    a = adapter(fake_upstream, kind, http_client)
    received: list[dict] = []
    with pytest.raises(ProviderError) as info:
        async for chunk in a.stream(MODELS[kind], REQUEST):
            received.append(chunk)
    expect(info.value, "stream_dropped", None, False)
    assert received and all(c["choices"] for c in received)  # no usage chunk for a cut stream


@pytest.mark.parametrize("kind", KINDS)
async def test_error_event_mid_stream(kind, fake_upstream, http_client) -> None:  # noqa: F811
    fake_upstream.script(MODELS[kind], "error_after:3", times=1)
    error = await failure(adapter(fake_upstream, kind, http_client), kind, "stream")
    # OpenAI server_error, Anthropic overloaded_error, Gemini 503 UNAVAILABLE.
    expect(error, "server_error", 503 if kind == "gemini" else None, True)
    assert "mid-stream" in str(error)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("behaviour", ["malformed", "incomplete"])
async def test_unusable_success_response_is_bad_response(kind, mode, behaviour, fake_upstream, http_client) -> None:  # noqa: F811
    fake_upstream.script(MODELS[kind], behaviour, times=1)
    error = await failure(adapter(fake_upstream, kind, http_client), kind, mode)
    expect(error, "bad_response", None, True)


async def test_json_body_instead_of_event_stream(http_client) -> None:  # noqa: F811
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"error": {"message": "streaming is disabled for this key"}})

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer), verify=False) as client:
        settings = ProviderSettings(
            name="proxy", kind="openai_compatible", base_url="http://proxy.local/v1", api_key="k-123456"
        )
        with pytest.raises(ProviderError) as info:
            await collect(make_adapter(settings, client).stream("m", REQUEST))
    expect(info.value, "bad_response", None, True)
    assert "streaming is disabled for this key" in str(info.value)


async def test_redirect_is_not_followed(http_client) -> None:  # noqa: F811
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(301, headers={"location": "https://elsewhere.example/v1/chat/completions"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer), verify=False) as client:
        settings = ProviderSettings(name="oai", kind="openai", base_url="http://api.local/v1", api_key="k-123456")
        with pytest.raises(ProviderError) as info:
            await make_adapter(settings, client).complete("m", REQUEST)
    expect(info.value, "bad_response", 301, True)


async def test_long_provider_messages_are_truncated(http_client) -> None:  # noqa: F811
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json={"error": {"message": "x" * 5000, "type": "invalid_request_error"}})

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer), verify=False) as client:
        settings = ProviderSettings(name="oai", kind="openai", base_url="http://api.local/v1", api_key="k-123456")
        with pytest.raises(ProviderError) as info:
            await make_adapter(settings, client).complete("m", REQUEST)
    assert len(str(info.value)) < 400 and str(info.value).endswith("…")


async def test_configured_auth_headers_lose_and_are_scrubbed(fake_upstream, http_client) -> None:  # noqa: F811
    token = "gateway-token-0123456789abcdef"
    fake_upstream.script("gpt-4o-mini", "status:500,leak_key", times=1)
    a = adapter(
        fake_upstream, "openai", http_client, headers={"Authorization": f"Bearer {fake_upstream.keys['openai']}x"}
    )
    error = await failure(a, "openai", "complete")
    assert fake_upstream.requests[-1].headers["authorization"] == f"Bearer {fake_upstream.keys['openai']}"
    assert "[redacted]" in str(error)

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"error": {"message": f"token {token} expired"}})

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer), verify=False) as client:
        settings = ProviderSettings(
            name="az",
            kind="azure",
            base_url="http://az.local",
            api_key="k-abcdef",
            headers={"Authorization": f"Bearer {token}"},
        )
        error = await failure(make_adapter(settings, client), "azure", "complete")
    assert token not in str(error) and "token [redacted] expired" in str(error)
