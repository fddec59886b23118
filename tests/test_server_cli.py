"""`unhardcoded serve`: embedded defaults, the development key printed once, and which providers
have no key — in-process for the startup logic, and once as a real process on uvloop + httptools."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from unhardcoded.server.cli import banner, serve_main
from unhardcoded.server.config import load_config
from unhardcoded.server.host import build_host

ROOT = Path(__file__).resolve().parents[1]


def _host(tmp_path, env):
    return build_host(load_config(None, data_dir=str(tmp_path), env=env), env=env)


async def _close(host):
    await host.aclose()


def test_first_start_creates_a_development_key_once(tmp_path):
    import asyncio

    env = {"OPENAI_API_KEY": "sk-banner-test-0001"}
    first = _host(tmp_path, env)
    lines = "\n".join(banner(first))
    assert first.dev_key and first.dev_key in lines
    assert "sk-banner-test-0001" not in lines
    assert "providers ready: openai" in lines
    assert "https://api.anthropic.com" in lines and "NO KEY: set ANTHROPIC_API_KEY" in lines
    assert "NO KEY: set GEMINI_API_KEY" in lines and "key set (OPENAI_API_KEY)" in lines
    assert f"{len(first.catalog)} models" in lines and "(bundled)" in lines
    assert first.config.store_url == f"sqlite://{tmp_path}/unhardcoded.db"
    asyncio.run(_close(first))

    second = _host(tmp_path, env)
    lines = "\n".join(banner(second))
    assert second.dev_key is None and first.dev_key not in lines
    assert "created on an earlier start" in lines
    assert second.keys.workspace_for(f"Bearer {first.dev_key}") == "default"
    asyncio.run(_close(second))


def test_dev_key_from_env_and_host_floor(tmp_path):
    import asyncio

    host = _host(tmp_path, {"UNHARDCODED_DEV_KEY": "uh-chosen", "ANTHROPIC_API_KEY": "sk-ant-x"})
    assert host.dev_key is None
    assert host.keys.workspace_for("Bearer uh-chosen") == "default"
    assert host.engine.providers == ["anthropic"] == host.ready
    asyncio.run(_close(host))


def test_bad_config_exits_with_a_message(tmp_path, capsys):
    (tmp_path / "c.toml").write_text("[timeouts]\nstal = 3\n")

    class Args:
        config = str(tmp_path / "c.toml")
        host = None
        port = None
        data_dir = str(tmp_path)

    assert serve_main(Args()) == 2
    err = capsys.readouterr().err
    assert "timeouts.stal" in err and "Did you mean 'stall'?" in err


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_runs_as_a_process(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env.update({"OPENAI_API_KEY": "sk-process-test-0002", "PYTHONUNBUFFERED": "1"})
    proc = subprocess.Popen(
        [sys.executable, "-m", "unhardcoded.cli", "serve", "--port", str(port), "--data-dir", str(tmp_path)],
        stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    try:
        deadline = time.monotonic() + 30
        lines = []
        key = None
        while key is None:
            if time.monotonic() > deadline or proc.poll() is not None:
                pytest.fail("serve did not print its development key:\n" + "".join(lines))
            line = proc.stderr.readline()
            lines.append(line)
            found = re.search(r"development key \(shown once, only its hash is stored\): (\S+)", line)
            key = found.group(1) if found else None
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5)
        while True:
            try:
                if client.get("/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        models = client.get("/v1/models", headers={"authorization": f"Bearer {key}"}).json()
        available = {m["owned_by"] for m in models["data"] if m["available"]}
        assert available == {"openai"}
        assert client.get("/v1/models").status_code == 401
        output = "".join(lines)
        assert "sk-process-test-0002" not in output
        assert f"http://127.0.0.1:{port}/v1" in output
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stderr.close()
        proc.stdout.close()
    assert Path(tmp_path, "unhardcoded.db").exists()
