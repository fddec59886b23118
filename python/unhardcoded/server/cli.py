"""`unhardcoded serve`: load the config, build the host once, print what is (and is not) configured,
and run the app on uvicorn (uvloop + httptools)."""
from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

from ..store import StoreError
from .config import ConfigError, load_config

log = logging.getLogger("unhardcoded.server")


def _redacted_store(url: str) -> str:
    if url.startswith(("postgresql://", "postgres://")):
        from ..store.postgres import _redacted

        return _redacted(url)
    return url


def banner(host: Any) -> list[str]:
    """What the operator needs at startup; never a provider key (the dev key is the host's own, shown once)."""
    cfg = host.config
    lines = [
        f"unhardcoded router on http://{cfg.host}:{cfg.port}/v1",
        f"config: {cfg.source or 'embedded defaults (no file)'}",
        f"catalog: {len(host.catalog)} models, {host.catalog.fingerprint}"
        + (f" from {', '.join(cfg.catalog_files)}" if cfg.catalog_files else " (bundled)"),
        f"store: {_redacted_store(cfg.store_url)}",
        "providers ready: " + (", ".join(host.ready) if host.ready else "none"),
        "providers:",
    ]
    per_provider: dict[str, int] = {}
    for model_id in host.catalog.ids():
        provider = (host.catalog.model(model_id) or {}).get("provider")
        per_provider[provider] = per_provider.get(provider, 0) + 1
    width = max((len(n) for n in cfg.providers), default=8)
    for name, p in sorted(cfg.providers.items()):
        models = per_provider.get(name, 0)
        if not p.enabled:
            state = "disabled"
        elif name in host.ready:
            state = "keyless" if p.keyless else f"key set ({p.api_key_env})"
        else:
            state = f"NO KEY: set {p.api_key_env}" if p.api_key_env else "NO KEY"
            if models:
                state += f" ({models} catalog models excluded by the host floor)"
        lines.append(f"  {name:<{width}}  {p.kind:<17}  {p.base_url:<42}  {state}")
    unknown = sorted(n for n in per_provider if n not in cfg.providers)
    if unknown:
        lines.append("catalog providers with no [providers.<name>] entry (their models are excluded): "
                     + ", ".join(unknown))
    if host.dev_key:
        lines.append(f"development key (shown once, only its hash is stored): {host.dev_key}")
    elif host.dev_key_note:
        lines.append(host.dev_key_note)
    return lines


def serve_main(args: argparse.Namespace) -> int:
    import uvicorn

    from .app import create_app
    from .gc_tuning import tune_for_serving
    from .host import build_host

    try:
        cfg = load_config(getattr(args, "config", None), data_dir=getattr(args, "data_dir", None),
                          host=getattr(args, "host", None), port=getattr(args, "port", None))
        host = build_host(cfg)
    except (ConfigError, StoreError) as exc:
        print(f"unhardcoded serve: {exc}", file=sys.stderr)
        return 2
    for line in banner(host):
        print(line, file=sys.stderr, flush=True)
    app = create_app(host)
    tune_for_serving()
    uvicorn.run(app, host=cfg.host, port=cfg.port, loop="uvloop", http="httptools",
                log_level=cfg.log_level, access_log=cfg.access_log, lifespan="on")
    return 0
