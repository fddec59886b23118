"""The host configuration: embedded defaults, the documented TOML file, env-var secrets."""
from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from unhardcoded.server.config import (
    ConfigError,
    load_config,
    parse_config,
    provider_key,
    provider_ready,
    sha256_hex,
)

EXAMPLE = Path(__file__).resolve().parents[1] / "python" / "unhardcoded" / "config_example.toml"


def test_defaults_without_a_file(tmp_path):
    cfg = load_config(None, env={"XDG_DATA_HOME": str(tmp_path)})
    assert cfg.source is None
    assert cfg.data_dir == str(tmp_path / "unhardcoded")
    assert cfg.store_url == f"sqlite://{tmp_path}/unhardcoded/unhardcoded.db"
    assert cfg.catalog_files == []
    assert cfg.workspaces == []
    openai, anthropic, gemini = cfg.providers["openai"], cfg.providers["anthropic"], cfg.providers["gemini"]
    assert (openai.kind, openai.base_url, openai.api_key_env) == ("openai", "https://api.openai.com/v1", "OPENAI_API_KEY")
    assert (anthropic.kind, anthropic.api_key_env) == ("anthropic", "ANTHROPIC_API_KEY")
    assert (gemini.kind, gemini.api_key_env) == ("gemini", "GEMINI_API_KEY")
    assert (cfg.timeouts.connect, cfg.timeouts.stall, cfg.timeouts.attempt, cfg.timeouts.overall) == (5.0, 60.0, 300.0, 600.0)


def test_every_bundled_catalog_provider_has_a_default(tmp_path):
    import json

    from unhardcoded.server.config import default_providers

    catalog = json.loads((EXAMPLE.parent / "catalogs" / "default.json").read_text())
    used = {m["provider"] for m in catalog["models"]}
    assert used <= set(default_providers())


def test_documented_example_is_valid_and_matches_defaults(tmp_path):
    with open(EXAMPLE, "rb") as f:
        raw = tomllib.load(f)
    cfg = parse_config(raw, base_dir=str(tmp_path), env={})
    defaults = parse_config({}, env={})
    assert cfg.timeouts == defaults.timeouts
    assert cfg.limits == defaults.limits
    assert (cfg.host, cfg.port) == (defaults.host, defaults.port)
    # the example lists every built-in provider with its base URL and key variable
    text = EXAMPLE.read_text()
    for p in defaults.providers.values():
        assert p.base_url in text and p.api_key_env in text, p.name


def test_file_overrides_and_adds(tmp_path):
    digest = sha256_hex("k1")
    (tmp_path / "c.toml").write_text(
        f"""
[server]
port = 9999
[store]
url = "sqlite://traces.db"
[catalog]
files = ["cat.json"]
[timeouts]
stall = 2.5
[providers.openai]
base_url = "http://127.0.0.1:1234/v1/"
[providers.local]
kind = "openai_compatible"
base_url = "http://127.0.0.1:11434/v1"
keyless = true
[[workspaces]]
id = "acme"
key_sha256 = ["{digest}"]
[[workspaces]]
id = "beta"
key_env = "BETA_KEY"
""")
    cfg = load_config(str(tmp_path / "c.toml"), env={})
    assert cfg.port == 9999
    assert cfg.store_url == f"sqlite://{tmp_path}/traces.db"
    assert cfg.catalog_files == [str(tmp_path / "cat.json")]
    assert cfg.timeouts.stall == 2.5 and cfg.timeouts.connect == 5.0
    assert cfg.providers["openai"].base_url == "http://127.0.0.1:1234/v1"
    assert cfg.providers["openai"].api_key_env == "OPENAI_API_KEY"  # untouched members keep their default
    assert cfg.providers["local"].keyless
    assert [(w.id, w.key_hashes, w.key_env) for w in cfg.workspaces] == [
        ("acme", [sha256_hex("k1")], None), ("beta", [], "BETA_KEY")]


def test_flags_override_the_file(tmp_path):
    (tmp_path / "c.toml").write_text('[server]\nport = 1\nhost = "0.0.0.0"\n')
    cfg = load_config(str(tmp_path / "c.toml"), data_dir=str(tmp_path / "d"), host="127.0.0.2", port=7, env={})
    assert (cfg.host, cfg.port) == ("127.0.0.2", 7)
    assert cfg.data_dir == str(tmp_path / "d")
    assert cfg.store_url == f"sqlite://{tmp_path}/d/unhardcoded.db"


def test_config_path_from_env(tmp_path):
    (tmp_path / "c.toml").write_text("[server]\nport = 4321\n")
    assert load_config(None, env={"UNHARDCODED_CONFIG": str(tmp_path / "c.toml")}).port == 4321


@pytest.mark.parametrize("raw, where, text", [
    ({"servr": {}}, "servr", "Did you mean 'server'?"),
    ({"timeouts": {"stal": 1}}, "timeouts.stal", "Did you mean 'stall'?"),
    ({"timeouts": {"stall": -1}}, "timeouts.stall", "positive"),
    ({"timeouts": {"stall": True}}, "timeouts.stall", "positive"),
    ({"server": {"port": 70000}}, "server.port", "0-65535"),
    ({"store": {"url": "mysql://x"}}, "store.url", "sqlite"),
    ({"providers": {"openai": {"kind": "nope"}}}, "providers.openai.kind", "expected one of"),
    ({"providers": {"openai": {"base_url": "ftp://x"}}}, "providers.openai.base_url", "http"),
    ({"providers": {"new": {"api_key_env": "X"}}}, "providers.new", "kind and base_url"),
    ({"providers": {"az": {"kind": "azure", "base_url": "https://x"}}}, "providers.az.api_version", "azure"),
    ({"providers": {"openai": {"api_key": "sk-literal"}}}, "providers.openai.api_key", "unknown setting"),
    ({"workspaces": [{"id": "a"}]}, "workspaces[0]", "key_sha256 or key_env"),
    ({"workspaces": [{"id": "a", "key_sha256": ["xyz"]}]}, "workspaces[0].key_sha256", "64 hex"),
    ({"workspaces": [{"id": "a", "key_env": "A"}, {"id": "a", "key_env": "B"}]}, "workspaces[1].id", "twice"),
    ({"limits": {"requests_per_minute": -1}}, "limits.requests_per_minute", "non-negative"),
])
def test_bad_settings_name_the_key(raw, where, text):
    with pytest.raises(ConfigError) as info:
        parse_config(raw, env={})
    assert info.value.where == where
    assert text in str(info.value)


def test_missing_and_broken_files(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(str(tmp_path / "nope.toml"), env={})
    (tmp_path / "bad.toml").write_text("[server\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(str(tmp_path / "bad.toml"), env={})


def test_provider_keys_come_from_env_only():
    cfg = parse_config({"providers": {"local": {"kind": "openai_compatible", "base_url": "http://h/v1",
                                                "keyless": True},
                                      "anthropic": {"enabled": False}}}, env={})
    env = {"OPENAI_API_KEY": "sk-test", "ANTHROPIC_API_KEY": "sk-ant"}
    assert provider_key(cfg.providers["openai"], env) == "sk-test"
    assert provider_ready(cfg.providers["openai"], env)
    assert not provider_ready(cfg.providers["gemini"], env)           # no key
    assert not provider_ready(cfg.providers["anthropic"], env)        # disabled despite its key
    assert provider_ready(cfg.providers["local"], env)                # keyless
    assert provider_key(cfg.providers["openai"], {"OPENAI_API_KEY": ""}) is None
