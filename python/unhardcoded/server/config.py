"""The host's configuration: one TOML file (every setting documented in ../config_example.toml) plus environment
variables for secrets. Everything has an embedded default, so `unhardcoded serve` runs with no file.

Read once at startup; nothing here runs per request.
"""
from __future__ import annotations

import difflib
import hashlib
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
CONFIG_ENV = "UNHARDCODED_CONFIG"
DATA_DIR_ENV = "UNHARDCODED_DATA_DIR"
PROVIDER_KINDS = ("openai", "anthropic", "gemini", "openai_compatible", "azure")


class ConfigError(ValueError):
    """A configuration problem: `where` names the key (e.g. "providers.openai.base_url")."""

    def __init__(self, where: str, message: str):
        super().__init__(f"{where}: {message}" if where else message)
        self.where = where
        self.message = message


@dataclass
class ProviderConfig:
    name: str
    kind: str
    base_url: str
    api_key_env: str | None
    headers: dict[str, str] = field(default_factory=dict)
    api_version: str | None = None
    connect_timeout: float | None = None   # None: the [timeouts] value
    stall_timeout: float | None = None
    total_timeout: float | None = None
    keyless: bool = False                   # a local server that needs no key (ollama, vLLM)
    enabled: bool = True


@dataclass
class WorkspaceConfig:
    id: str
    key_hashes: list[str] = field(default_factory=list)   # sha256 hex of each accepted key
    key_env: str | None = None                             # or: an env var holding a key


@dataclass
class Timeouts:
    connect: float = 5.0      # TCP + TLS to a provider
    stall: float = 60.0       # no byte for this long = timeout (also time to first byte)
    attempt: float = 300.0    # one call to one model, end to end
    overall: float = 600.0    # a whole routed call, every hop included


@dataclass
class Limits:
    max_body_bytes: int = 64 * 1024 * 1024   # spec §1: request bodies up to 64 MiB
    requests_per_minute: int = 0             # per workspace; 0 = unlimited
    history_page: int = 100                  # largest page of GET /x/traces


@dataclass
class Config:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    data_dir: str = ""
    store_url: str = ""
    catalog_files: list[str] = field(default_factory=list)   # empty: the bundled catalog
    providers: dict[str, ProviderConfig] = field(default_factory=dict)
    workspaces: list[WorkspaceConfig] = field(default_factory=list)
    timeouts: Timeouts = field(default_factory=Timeouts)
    limits: Limits = field(default_factory=Limits)
    log_level: str = "info"
    access_log: bool = False   # uvicorn's per-request access log (off: it costs more than routing)
    source: str | None = None   # the file this came from, None for embedded defaults


def default_providers() -> dict[str, ProviderConfig]:
    """Providers a fresh host knows about: public base URLs and each vendor's standard key variable."""
    table = [
        ("openai", "openai", "https://api.openai.com/v1", "OPENAI_API_KEY", None),
        ("anthropic", "anthropic", "https://api.anthropic.com", "ANTHROPIC_API_KEY", "2023-06-01"),
        ("gemini", "gemini", "https://generativelanguage.googleapis.com", "GEMINI_API_KEY", None),
        ("mistral", "openai_compatible", "https://api.mistral.ai/v1", "MISTRAL_API_KEY", None),
        ("groq", "openai_compatible", "https://api.groq.com/openai/v1", "GROQ_API_KEY", None),
        ("deepseek", "openai_compatible", "https://api.deepseek.com/v1", "DEEPSEEK_API_KEY", None),
        ("xai", "openai_compatible", "https://api.x.ai/v1", "XAI_API_KEY", None),
        ("moonshot", "openai_compatible", "https://api.moonshot.ai/v1", "MOONSHOT_API_KEY", None),
        ("together", "openai_compatible", "https://api.together.xyz/v1", "TOGETHER_API_KEY", None),
        ("fireworks", "openai_compatible", "https://api.fireworks.ai/inference/v1", "FIREWORKS_API_KEY", None),
        ("openrouter", "openai_compatible", "https://openrouter.ai/api/v1", "OPENROUTER_API_KEY", None),
        ("cerebras", "openai_compatible", "https://api.cerebras.ai/v1", "CEREBRAS_API_KEY", None),
        ("perplexity", "openai_compatible", "https://api.perplexity.ai", "PERPLEXITY_API_KEY", None),
    ]
    return {
        name: ProviderConfig(name=name, kind=kind, base_url=url, api_key_env=env, api_version=version)
        for name, kind, url, env, version in table
    }


def default_data_dir(env: Mapping[str, str] | None = None) -> str:
    env = os.environ if env is None else env
    if env.get(DATA_DIR_ENV):
        return os.path.expanduser(env[DATA_DIR_ENV])
    base = env.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(base, "unhardcoded")


def sha256_hex(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


# --- validation helpers ---------------------------------------------------------------------------

_TOP = {"server", "store", "catalog", "timeouts", "limits", "providers", "workspaces"}
_SERVER = {"host", "port", "data_dir", "log_level", "access_log"}
_STORE = {"url"}
_CATALOG = {"files"}
_TIMEOUTS = {"connect", "stall", "attempt", "overall"}
_LIMITS = {"max_body_bytes", "requests_per_minute", "history_page"}
_PROVIDER = {"kind", "base_url", "api_key_env", "headers", "api_version", "connect_timeout", "stall_timeout",
             "total_timeout", "keyless", "enabled"}
_WORKSPACE = {"id", "key_sha256", "key_env"}


def _check_keys(table: Mapping[str, Any], allowed: set[str], where: str) -> None:
    for key in table:
        if key not in allowed:
            close = difflib.get_close_matches(key, sorted(allowed), n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            raise ConfigError(f"{where}.{key}" if where else key, f"unknown setting.{hint}")


def _table(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(where, "expected a table")
    return value


def _str(value: Any, where: str, *, empty_ok: bool = False) -> str:
    if not isinstance(value, str) or (not empty_ok and not value):
        raise ConfigError(where, "expected a non-empty string")
    return value


def _positive(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ConfigError(where, "expected a positive number of seconds")
    return float(value)


def _count(value: Any, where: str, *, zero_ok: bool = False) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < (0 if zero_ok else 1):
        raise ConfigError(where, "expected a non-negative integer" if zero_ok else "expected a positive integer")
    return value


def _bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(where, "expected true or false")
    return value


def _resolve_path(path: str, base_dir: str | None) -> str:
    path = os.path.expanduser(path)
    if not os.path.isabs(path) and base_dir:
        path = os.path.join(base_dir, path)
    return path


# --- loading --------------------------------------------------------------------------------------

def load_config(path: str | None = None, *, data_dir: str | None = None, host: str | None = None,
                port: int | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Reads the TOML file at `path` (or $UNHARDCODED_CONFIG; embedded defaults when neither is set).
    Explicit `data_dir`/`host`/`port` (the `serve` flags) override the file."""
    env = os.environ if env is None else env
    path = path or env.get(CONFIG_ENV) or None
    raw: dict[str, Any] = {}
    base_dir = None
    if path:
        try:
            with open(path, "rb") as handle:
                raw = tomllib.load(handle)
        except FileNotFoundError as exc:
            raise ConfigError("", f"config file {path} does not exist") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError("", f"config file {path} is not valid TOML: {exc}") from exc
        except OSError as exc:
            raise ConfigError("", f"cannot read config file {path}: {exc.strerror}") from exc
        base_dir = os.path.dirname(os.path.abspath(path))
    cfg = parse_config(raw, base_dir=base_dir, env=env)
    cfg.source = os.path.abspath(path) if path else None
    if data_dir:
        cfg.data_dir = os.path.abspath(os.path.expanduser(data_dir))
        if not raw.get("store", {}).get("url"):
            cfg.store_url = "sqlite://" + os.path.join(os.path.abspath(cfg.data_dir), "unhardcoded.db")
    if host:
        cfg.host = host
    if port is not None:
        cfg.port = port
    return cfg


def parse_config(raw: Mapping[str, Any], *, base_dir: str | None = None,
                 env: Mapping[str, str] | None = None) -> Config:
    env = os.environ if env is None else env
    _check_keys(raw, _TOP, "")
    cfg = Config()

    server = _table(raw.get("server", {}), "server")
    _check_keys(server, _SERVER, "server")
    if "host" in server:
        cfg.host = _str(server["host"], "server.host")
    if "port" in server:
        port = server["port"]
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise ConfigError("server.port", "expected a port number 0-65535")
        cfg.port = port
    if "log_level" in server:
        level = _str(server["log_level"], "server.log_level").lower()
        if level not in ("critical", "error", "warning", "info", "debug"):
            raise ConfigError("server.log_level", "expected one of critical, error, warning, info, debug")
        cfg.log_level = level
    if "access_log" in server:
        cfg.access_log = _bool(server["access_log"], "server.access_log")
    cfg.data_dir = (_resolve_path(_str(server["data_dir"], "server.data_dir"), base_dir)
                    if "data_dir" in server else default_data_dir(env))

    store = _table(raw.get("store", {}), "store")
    _check_keys(store, _STORE, "store")
    if "url" in store:
        url = _str(store["url"], "store.url")
        if url.startswith("sqlite://") and not url.startswith("sqlite:///") and url != "sqlite://:memory:":
            # sqlite://relative.db is relative to the config file; sqlite:///abs/path is absolute
            url = "sqlite://" + os.path.abspath(_resolve_path(url[len("sqlite://"):], base_dir))
        if not url.startswith(("sqlite://", "postgresql://", "postgres://")):
            raise ConfigError("store.url", "expected sqlite:///path or postgresql://…")
        cfg.store_url = url
    else:
        cfg.store_url = "sqlite://" + os.path.join(os.path.abspath(cfg.data_dir), "unhardcoded.db")

    catalog = _table(raw.get("catalog", {}), "catalog")
    _check_keys(catalog, _CATALOG, "catalog")
    if "files" in catalog:
        files = catalog["files"]
        if isinstance(files, str):
            files = [files]
        if not isinstance(files, list) or not all(isinstance(f, str) and f for f in files):
            raise ConfigError("catalog.files", "expected a list of catalog file paths")
        cfg.catalog_files = [_resolve_path(f, base_dir) for f in files]

    timeouts = _table(raw.get("timeouts", {}), "timeouts")
    _check_keys(timeouts, _TIMEOUTS, "timeouts")
    for name in _TIMEOUTS:
        if name in timeouts:
            setattr(cfg.timeouts, name, _positive(timeouts[name], f"timeouts.{name}"))

    limits = _table(raw.get("limits", {}), "limits")
    _check_keys(limits, _LIMITS, "limits")
    if "max_body_bytes" in limits:
        cfg.limits.max_body_bytes = _count(limits["max_body_bytes"], "limits.max_body_bytes")
    if "requests_per_minute" in limits:
        cfg.limits.requests_per_minute = _count(limits["requests_per_minute"], "limits.requests_per_minute",
                                                zero_ok=True)
    if "history_page" in limits:
        cfg.limits.history_page = _count(limits["history_page"], "limits.history_page")

    cfg.providers = default_providers()
    providers = _table(raw.get("providers", {}), "providers")
    for name, table in providers.items():
        where = f"providers.{name}"
        table = _table(table, where)
        _check_keys(table, _PROVIDER, where)
        cfg.providers[name] = _provider(name, table, cfg.providers.get(name), where)

    workspaces = raw.get("workspaces", [])
    if not isinstance(workspaces, list):
        raise ConfigError("workspaces", "expected an array of tables ([[workspaces]])")
    seen: set[str] = set()
    for index, table in enumerate(workspaces):
        where = f"workspaces[{index}]"
        table = _table(table, where)
        _check_keys(table, _WORKSPACE, where)
        ws_id = _str(table.get("id"), f"{where}.id")
        if ws_id in seen:
            raise ConfigError(f"{where}.id", f"workspace '{ws_id}' is listed twice")
        seen.add(ws_id)
        hashes = table.get("key_sha256", [])
        if isinstance(hashes, str):
            hashes = [hashes]
        if not isinstance(hashes, list):
            raise ConfigError(f"{where}.key_sha256", "expected a list of sha256 hex digests")
        for digest in hashes:
            if not (isinstance(digest, str) and len(digest) == 64
                    and all(c in "0123456789abcdef" for c in digest.lower())):
                raise ConfigError(f"{where}.key_sha256", "expected 64 hex digits (sha256 of the key)")
        key_env = table.get("key_env")
        if key_env is not None:
            key_env = _str(key_env, f"{where}.key_env")
        if not hashes and key_env is None:
            raise ConfigError(where, "a workspace needs key_sha256 or key_env")
        cfg.workspaces.append(WorkspaceConfig(id=ws_id, key_hashes=[h.lower() for h in hashes], key_env=key_env))
    return cfg


def _provider(name: str, table: Mapping[str, Any], base: ProviderConfig | None, where: str) -> ProviderConfig:
    if base is None:
        if "kind" not in table or "base_url" not in table:
            raise ConfigError(where, "a provider that is not built in needs kind and base_url")
        base = ProviderConfig(name=name, kind="openai_compatible", base_url="", api_key_env=None)
    merged = ProviderConfig(**{**base.__dict__, "headers": dict(base.headers)})
    if "kind" in table:
        kind = _str(table["kind"], f"{where}.kind")
        if kind not in PROVIDER_KINDS:
            raise ConfigError(f"{where}.kind", f"expected one of {', '.join(PROVIDER_KINDS)}")
        merged.kind = kind
    if "base_url" in table:
        url = _str(table["base_url"], f"{where}.base_url")
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"{where}.base_url", "expected an http:// or https:// URL")
        merged.base_url = url.rstrip("/")
    if "api_key_env" in table:
        merged.api_key_env = _str(table["api_key_env"], f"{where}.api_key_env")
    if "headers" in table:
        headers = _table(table["headers"], f"{where}.headers")
        for key, value in headers.items():
            if not isinstance(value, str):
                raise ConfigError(f"{where}.headers.{key}", "expected a string")
        merged.headers = dict(headers)
    if "api_version" in table:
        merged.api_version = _str(table["api_version"], f"{where}.api_version")
    for attr in ("connect_timeout", "stall_timeout", "total_timeout"):
        if attr in table:
            setattr(merged, attr, _positive(table[attr], f"{where}.{attr}"))
    if "keyless" in table:
        merged.keyless = _bool(table["keyless"], f"{where}.keyless")
    if "enabled" in table:
        merged.enabled = _bool(table["enabled"], f"{where}.enabled")
    if merged.kind == "azure" and not merged.api_version:
        raise ConfigError(f"{where}.api_version", "an azure provider needs api_version")
    return merged


def provider_key(provider: ProviderConfig, env: Mapping[str, str] | None = None) -> str | None:
    """The provider's secret from its env var, or None. Never logged."""
    env = os.environ if env is None else env
    if not provider.api_key_env:
        return None
    value = env.get(provider.api_key_env)
    return value or None


def provider_ready(provider: ProviderConfig, env: Mapping[str, str] | None = None) -> bool:
    """A provider joins the host floor when enabled and either keyed or explicitly keyless."""
    return provider.enabled and (provider.keyless or provider_key(provider, env) is not None)
