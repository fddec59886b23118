"""Everything a running server holds, built once at startup: the live catalog, one pooled
httpx.AsyncClient, one adapter per configured provider, the routing engine, the store and the key
index. Nothing here runs per request."""
from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from ..router.engine import Engine
from ..router.engine import Timeouts as EngineTimeouts
from ..store import StoreError, TraceStore, open_store
from .auth import KeyIndex, RateLimiter
from .config import (
    Config,
    ConfigError,
    ProviderConfig,
    provider_key,
    provider_ready,
    sha256_hex,
)

log = logging.getLogger("unhardcoded.server")

DEV_WORKSPACE = "default"
DEV_KEY_SETTING = "dev_key_sha256"
DEV_KEY_ENV = "UNHARDCODED_DEV_KEY"

# Fields the host reports about itself in GET /x/fields beside the catalog's vocabulary.
HOST_CAPABILITIES = {
    "streaming": True,
    "flows": True,
    "replay": ["snapshot", "current"],
    "stores": ["sqlite", "postgresql"],
    "routing_seed_header": "x-unhardcoded-seed",
}


@dataclass
class Host:
    config: Config
    catalog: Any
    engine: Engine
    store: TraceStore
    keys: KeyIndex
    limiter: RateLimiter
    client: httpx.AsyncClient
    ready: list[str]                       # providers in the host floor
    unkeyed: list[str]                     # providers the catalog uses that have no key
    dev_key: str | None = None             # only on the start that created it: print it once
    dev_key_note: str | None = None
    models_body: bytes = b""
    fields_body: bytes = b""
    secrets: list[str] = field(default_factory=list)

    async def aclose(self) -> None:
        await self.client.aclose()
        self.store.close()


# --- catalog ---------------------------------------------------------------------------------------

def load_catalog(files: list[str]) -> tuple[Any, bytes | None]:
    """The live catalog from the configured files (merged in order: a later file's model replaces an
    earlier one with the same id), or the bundled catalog."""
    from .._core import Catalog, UnhardcodedError

    if not files:
        from ..api import default_catalog

        return default_catalog(), None
    docs = []
    for path in files:
        try:
            with open(path, "rb") as handle:
                docs.append((path, handle.read()))
        except OSError as exc:
            raise ConfigError("catalog.files", f"cannot read {path}: {exc.strerror}") from exc
    if len(docs) == 1:
        path, data = docs[0]
    else:
        path, data = ", ".join(p for p, _ in docs), _merge_catalogs(docs)
    try:
        return Catalog.from_json(data), data
    except UnhardcodedError as exc:
        where = f" at {exc.path}" if getattr(exc, "path", "") else ""
        raise ConfigError("catalog.files", f"{path} is not a valid catalog{where}: {exc.message}") from exc


def _merge_catalogs(docs: list[tuple[str, bytes]]) -> bytes:
    fields: dict[str, Any] = {}
    caps: list[str] = []
    models: dict[str, Any] = {}
    fmt = None
    for path, data in docs:
        try:
            doc = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise ConfigError("catalog.files", f"{path} is not JSON: {exc}") from exc
        if not isinstance(doc, dict):
            raise ConfigError("catalog.files", f"{path} is not a catalog object")
        fmt = fmt or doc.get("format")
        for spec in doc.get("fields") or []:
            name = spec.get("name") if isinstance(spec, dict) else None
            if name in fields and fields[name].get("kind") != spec.get("kind"):
                raise ConfigError("catalog.files", f"field '{name}' is declared with two kinds")
            if name is not None:
                fields.setdefault(name, spec)
        for cap in doc.get("capabilities_extra") or []:
            if cap not in caps:
                caps.append(cap)
        for model in doc.get("models") or []:
            if isinstance(model, dict) and isinstance(model.get("id"), str):
                models[model["id"]] = model
    merged: dict[str, Any] = {"format": fmt or "unhardcoded-catalog/v1", "fields": list(fields.values()),
                              "models": list(models.values())}
    if caps:
        merged["capabilities_extra"] = caps
    return orjson.dumps(merged)


# --- providers -------------------------------------------------------------------------------------

def make_settings(p: ProviderConfig, config: Config, env: Mapping[str, str]) -> Any:
    from ..providers.base import ProviderSettings

    t = config.timeouts
    return ProviderSettings(
        name=p.name, kind=p.kind, base_url=p.base_url, api_key=provider_key(p, env), headers=dict(p.headers),
        api_version=p.api_version,
        connect_timeout=p.connect_timeout or t.connect,
        stall_timeout=p.stall_timeout or t.stall,
        total_timeout=p.total_timeout or t.attempt,
    )


def _make_adapter(settings: Any, client: httpx.AsyncClient) -> Any:
    from ..providers.registry import make_adapter

    return make_adapter(settings, client)


def build_adapters(config: Config, client: httpx.AsyncClient, env: Mapping[str, str]) -> dict[str, Any]:
    adapters: dict[str, Any] = {}
    for name, p in config.providers.items():
        if provider_ready(p, env):
            adapters[name] = _make_adapter(make_settings(p, config, env), client)
    return adapters


# --- keys ------------------------------------------------------------------------------------------

def build_keys(config: Config, store: TraceStore, env: Mapping[str, str]) -> tuple[KeyIndex, str | None, str | None]:
    """The key index, plus (on the start that creates it) the development key to print once."""
    index = KeyIndex({})
    for ws in config.workspaces:
        for digest in ws.key_hashes:
            index.add(digest, ws.id)
        if ws.key_env:
            key = env.get(ws.key_env)
            if key:
                index.add(sha256_hex(key), ws.id)
            else:
                log.warning("workspace %s: %s is not set; its env key is not accepted", ws.id, ws.key_env)
    if config.workspaces:
        return index, None, None
    # No workspaces configured: one development workspace.
    explicit = env.get(DEV_KEY_ENV)
    if explicit:
        index.add(sha256_hex(explicit), DEV_WORKSPACE)
        return index, None, f"development key: taken from ${DEV_KEY_ENV}"
    stored = store.get_setting(DEV_KEY_SETTING)
    if stored:
        index.add(stored, DEV_WORKSPACE)
        return index, None, ("development key: created on an earlier start (only its hash is kept); "
                             f"set ${DEV_KEY_ENV} to choose one")
    key = "uh-dev-" + secrets.token_urlsafe(24)
    if not store.put_setting(DEV_KEY_SETTING, sha256_hex(key)):
        # Another process created one at the same moment: use theirs.
        index.add(store.get_setting(DEV_KEY_SETTING) or "", DEV_WORKSPACE)
        return index, None, "development key: created by another process"
    index.add(sha256_hex(key), DEV_WORKSPACE)
    return index, key, None


# --- host ------------------------------------------------------------------------------------------

def new_client(config: Config) -> httpx.AsyncClient:
    from ..providers.lean_pool import lean_pools

    t = config.timeouts
    client = httpx.AsyncClient(
        timeout=httpx.Timeout(connect=t.connect, read=t.stall, write=t.stall, pool=t.connect),
        limits=httpx.Limits(max_connections=1024, max_keepalive_connections=256, keepalive_expiry=60.0),
        follow_redirects=False,
    )
    lean_pools(client)  # httpcore's own pool costs O(connections²) per request under concurrency
    return client


def build_host(config: Config, *, env: Mapping[str, str] | None = None, store: TraceStore | None = None,
               client: httpx.AsyncClient | None = None, adapters: Mapping[str, Any] | None = None) -> Host:
    env = os.environ if env is None else env
    catalog, _ = load_catalog(config.catalog_files)
    if store is None:
        try:
            store = open_store(config.store_url)
        except StoreError as exc:
            raise ConfigError("store.url", str(exc)) from exc
    store.put_catalog(catalog.fingerprint, catalog.to_json())
    client = client or new_client(config)
    if adapters is None:
        adapters = build_adapters(config, client, env)
    ready = sorted(adapters)
    used = sorted({(catalog.model(i) or {}).get("provider") for i in catalog.ids()} - {None})
    unkeyed = [p for p in used if p not in adapters]
    keys_secrets = [k for k in (provider_key(p, env) for p in config.providers.values()) if k]
    t = config.timeouts
    engine = Engine(catalog, adapters, providers=ready,
                    timeouts=EngineTimeouts(stall=t.stall, attempt=t.attempt, overall=t.overall),
                    secrets=keys_secrets, json_verdicts=True)
    index, dev_key, note = build_keys(config, store, env)
    host = Host(config=config, catalog=catalog, engine=engine, store=store, keys=index,
                limiter=RateLimiter(config.limits.requests_per_minute, index.workspaces), client=client,
                ready=ready, unkeyed=unkeyed, dev_key=dev_key, dev_key_note=note, secrets=keys_secrets)
    host.models_body = orjson.dumps(models_document(catalog, set(ready)))
    host.fields_body = orjson.dumps(fields_document(catalog))
    return host


def models_document(catalog: Any, ready: set[str]) -> dict[str, Any]:
    data = []
    for model_id in catalog.ids():
        model = dict(catalog.model(model_id) or {})
        provider = model.get("provider")
        entry: dict[str, Any] = {"id": model_id, "object": "model", "created": 0, "owned_by": provider}
        for key, value in model.items():
            if key not in entry and key != "meta":
                entry[key] = value
        entry["available"] = provider in ready
        data.append(entry)
    return {"object": "list", "data": data, "catalog": {"fingerprint": catalog.fingerprint}}


def fields_document(catalog: Any) -> dict[str, Any]:
    from .._core import VERSION

    return {"object": "list", "version": VERSION, "catalog": {"fingerprint": catalog.fingerprint},
            "data": catalog.fields(), "capabilities": catalog.capabilities(), "host": HOST_CAPABILITIES}
