"""The fake upstream itself: scripting semantics and recorded requests, which the router and
server test suites rely on too."""

from __future__ import annotations

import pytest
from fakes import parse_behaviour
from fakes.fixtures import anyio_backend, fake_upstream, fake_upstream_server, http_client  # noqa: F401

pytestmark = pytest.mark.anyio


async def post_openai(fake, client, model: str) -> int:  # type: ignore[no-untyped-def]
    response = await client.post(
        f"{fake.base_url}/v1/chat/completions",
        json={"model": model, "messages": [{"role": "user", "content": "hi"}]},
        headers={"authorization": f"Bearer {fake.keys['openai']}"},
    )
    return response.status_code


async def test_queued_behaviours_run_first_then_the_standing_one(fake_upstream, http_client) -> None:  # noqa: F811
    fake_upstream.script("m", "status:500", times=2)
    fake_upstream.script("m", "status:429", times=1)
    codes = [await post_openai(fake_upstream, http_client, "m") for _ in range(4)]
    assert codes == [500, 500, 429, 200]
    fake_upstream.script("m", "status:503")
    assert [await post_openai(fake_upstream, http_client, "m") for _ in range(2)] == [503, 503]
    assert await post_openai(fake_upstream, http_client, "other") == 200


async def test_wildcard_applies_to_unscripted_models(fake_upstream, http_client) -> None:  # noqa: F811
    fake_upstream.script("*", "status:502")
    fake_upstream.script("special", "ok")
    assert await post_openai(fake_upstream, http_client, "anything") == 502
    assert await post_openai(fake_upstream, http_client, "special") == 200


async def test_requests_are_recorded_and_reset_clears_everything(fake_upstream, http_client) -> None:  # noqa: F811
    fake_upstream.script("m", "status:500")
    await post_openai(fake_upstream, http_client, "m")
    [recorded] = fake_upstream.requests
    assert (recorded.provider, recorded.model, recorded.stream, recorded.path) == (
        "openai",
        "m",
        False,
        "/v1/chat/completions",
    )
    assert recorded.json["messages"] == [{"role": "user", "content": "hi"}]
    assert fake_upstream.requests_for("m") == [recorded] and fake_upstream.requests_for("x") == []
    fake_upstream.reset()
    assert fake_upstream.requests == []
    assert await post_openai(fake_upstream, http_client, "m") == 200


async def test_auth_is_checked_like_the_real_apis(fake_upstream, http_client) -> None:  # noqa: F811
    base = fake_upstream.base_url
    body = {"contents": [{"role": "user", "parts": [{"text": "x"}]}]}
    no_key = await http_client.post(f"{base}/v1beta/models/gemini-2.5-flash:generateContent", json=body)
    assert no_key.status_code == 403 and no_key.json()["error"]["status"] == "PERMISSION_DENIED"
    no_version = await http_client.post(
        f"{base}/openai/deployments/d/chat/completions",
        json={"messages": [{"role": "user", "content": "x"}]},
        headers={"api-key": fake_upstream.keys["azure"]},
    )
    assert no_version.status_code == 404 and no_version.json() == {
        "error": {"code": "404", "message": "Resource not found"}
    }
    missing = await http_client.post(f"{base}/v1/chat/completions", json={"model": "m", "messages": []})
    assert missing.status_code == 401 and "You didn't provide an API key" in missing.json()["error"]["message"]
    unknown = await http_client.post(f"{base}/v2/elsewhere", json={})
    assert unknown.status_code == 404


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("bogus", "unknown fake-upstream behaviour"),
        ("status:abc", "non-negative integer"),
        ("reset,status:500", "combines outcomes"),
    ],
)
def test_bad_behaviours_are_rejected_when_scripted(text, problem) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_behaviour(text)


def test_behaviour_directives_combine() -> None:
    b = parse_behaviour("tool_call, cached:5 ,delay:0.5,drop_after:2")
    assert (b.tool_call, b.cached, b.delay, b.drop_after, b.status) == (True, 5, 0.5, 2, None)
