"""No provider key ever reaches a response, a trace or a log line — even when an upstream quotes it."""
from __future__ import annotations

import logging

import openai
import pytest
from fakes.fixtures import fake_upstream, fake_upstream_server  # noqa: F401
from server_fixtures import model, policy, running_router, write_catalog

USER = [{"role": "user", "content": "hello"}]


def test_provider_keys_never_leak(fake_upstream, tmp_path, caplog, capfd):  # noqa: F811
    keys = [fake_upstream.keys["openai"], fake_upstream.keys["anthropic"]]
    env = {"OPENAI_API_KEY": keys[0], "ANTHROPIC_API_KEY": keys[1]}
    providers = {"openai": {"base_url": fake_upstream.url_for("openai")},
                 "anthropic": {"base_url": fake_upstream.url_for("anthropic")}}
    catalog = write_catalog(tmp_path / "c.json", [
        model("m-a", "openai", 1, 1, meta={"upstream": "fake-a"}),
        model("m-b", "anthropic", 2, 2, meta={"upstream": "fake-b"}),
    ])
    seen: list[str] = []
    caplog.set_level(logging.DEBUG)
    with running_router(tmp_path, env=env, providers=providers, catalog=catalog,
                        timeouts={"connect": 1.0, "stall": 1.0, "attempt": 5.0, "overall": 10.0}) as router:
        client = router.openai()
        http = router.http()

        def call(**kwargs):
            raw = client.chat.completions.with_raw_response.create(
                model="policy:keys", messages=USER, extra_body={"policy_ir": policy()}, **kwargs)
            seen.append(raw.http_response.text if not kwargs.get("stream") else "".join(raw.http_response.iter_text()))
            seen.append(str(dict(raw.headers)))

        call()
        fake_upstream.script("fake-a", "status:401,leak_key", times=1)
        call()
        fake_upstream.script("fake-a", "status:429,leak_key", times=1)
        call(stream=True)
        fake_upstream.script("*", "status:500,leak_key")
        with pytest.raises(openai.InternalServerError) as info:
            call()
        seen.append(info.value.response.text)
        with pytest.raises(openai.InternalServerError) as info:
            call(stream=True)
        seen.append(info.value.response.text)
        fake_upstream.script("*", "status:400,leak_key")
        with pytest.raises(openai.BadRequestError) as info:
            call()
        seen.append(info.value.response.text)
        history = http.get("/x/traces", params={"limit": 100}).json()["data"]
        assert len(history) == 6
        for item in history:
            seen.append(http.get(f"/x/traces/{item['trace']}").text)
        for path in ("/v1/models", "/x/fields", "/openapi.json", "/healthz"):
            seen.append(http.get(path).text)
        seen.append(http.post("/x/rank", json={"policy_ir": policy()}).text)
    # the failures did quote something: the leak was attempted and scrubbed
    assert any("[redacted]" in text for text in seen)
    out, err = capfd.readouterr()
    seen.extend([out, err, caplog.text])
    seen.extend(record.getMessage() for record in caplog.records)
    for key in keys:
        for text in seen:
            assert key not in text
