"""Running the router for tests: a real uvicorn server on 127.0.0.1 in a thread, built from a config
whose provider base URLs point at the fake upstreams (tests/fakes)."""
from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from unhardcoded.server.app import create_app
from unhardcoded.server.config import parse_config, sha256_hex
from unhardcoded.server.host import Host, build_host

POLICY_CHEAPEST = ["policy", ["ev_zero"], ["and", ["meets_req"], ["not", ["is", "disabled"]]],
                   ["neg", ["normalize", ["field", "price_out"]]], ["argmax"], ["id"],
                   ["always", {"action": "next_candidate"}]]


def policy(filter_term: Any = None, rank: Any = None, select: Any = None, mutate: Any = None) -> list:
    return ["policy", ["ev_zero"], filter_term or ["and", ["meets_req"], ["not", ["is", "disabled"]]],
            rank or ["neg", ["normalize", ["field", "price_out"]]], select or ["argmax"], mutate or ["id"],
            ["always", {"action": "next_candidate"}]]


def model(model_id: str, provider: str, price_in: float, price_out: float, **extra: Any) -> dict:
    entry = {"id": model_id, "provider": provider, "family": model_id.split("-")[0], "price_in": price_in,
             "price_out": price_out, "context": 128000, "max_output": 16384, "cap_tools": True, "cap_json": True,
             "capabilities": ["supports_tools", "supports_streaming"], "region": "global"}
    entry.update(extra)
    return entry


def write_catalog(path: Path, models: list[dict], fields: list[dict] | None = None) -> str:
    path.write_text(json.dumps({"format": "unhardcoded-catalog/v1", "fields": fields or [], "models": models}))
    return str(path)


class RouterServer:
    """A router on a free port. `keys` maps workspace id -> bearer key."""

    def __init__(self, host: Host, keys: Mapping[str, str]):
        self.host = host
        self.keys = dict(keys)
        self.app = create_app(host)
        config = uvicorn.Config(self.app, host="127.0.0.1", port=0, loop="asyncio", http="httptools",
                                log_level="warning", lifespan="on", access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="router", daemon=True)
        self.port = 0
        self._clients: dict[tuple[str | None, str], Any] = {}

    def start(self) -> RouterServer:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the router did not start")
            time.sleep(0.01)
        self.port = self.server.servers[0].sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        for client in self._clients.values():
            client.close()
        self.server.should_exit = True
        self.thread.join(15)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def key(self) -> str:
        return next(iter(self.keys.values()))

    def openai(self, key: str | None = None, **kwargs: Any):
        """An openai.OpenAI client for this router (cached per key when no options are given)."""
        import openai

        cacheable = not kwargs
        if cacheable and (key, "openai") in self._clients:
            return self._clients[(key, "openai")]
        kwargs.setdefault("max_retries", 0)
        kwargs.setdefault("timeout", 30.0)
        client = openai.OpenAI(base_url=self.base_url + "/v1", api_key=key or self.key, **kwargs)
        if cacheable:
            self._clients[(key, "openai")] = client
        return client

    def http(self, key: str | None = None) -> httpx.Client:
        """A raw HTTP client sending `Authorization: Bearer <key>` (key "" sends none); cached."""
        client = self._clients.get((key, "http"))
        if client is None:
            headers = {"authorization": f"Bearer {key or self.key}"} if key != "" else {}
            client = self._clients[(key, "http")] = httpx.Client(base_url=self.base_url, headers=headers,
                                                                 timeout=30.0)
        return client


def router_config(tmp_path: Path, *, providers: Mapping[str, Mapping[str, Any]], catalog: str | None = None,
                  workspaces: Mapping[str, str] | None = None, timeouts: Mapping[str, float] | None = None,
                  limits: Mapping[str, int] | None = None, store_url: str | None = None) -> dict:
    raw: dict[str, Any] = {"server": {"data_dir": str(tmp_path / "data")},
                           "providers": {name: dict(p) for name, p in providers.items()},
                           "timeouts": dict(timeouts or {"connect": 2.0, "stall": 2.0, "attempt": 10.0,
                                                         "overall": 20.0})}
    if catalog:
        raw["catalog"] = {"files": [catalog]}
    if workspaces:
        raw["workspaces"] = [{"id": ws, "key_sha256": [sha256_hex(key)]} for ws, key in workspaces.items()]
    if limits:
        raw["limits"] = dict(limits)
    if store_url:
        raw["store"] = {"url": store_url}
    return raw


@contextlib.contextmanager
def running_router(tmp_path: Path, *, env: Mapping[str, str], workspaces: Mapping[str, str] | None = None,
                   **config: Any) -> Iterator[RouterServer]:
    workspaces = workspaces or {"ws-a": "uh-test-key-a", "ws-b": "uh-test-key-b"}
    cfg = parse_config(router_config(tmp_path, workspaces=workspaces, **config), env=env)
    host = build_host(cfg, env=env)
    server = RouterServer(host, workspaces).start()
    try:
        yield server
    finally:
        server.stop()
