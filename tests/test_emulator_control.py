"""The control API over HTTP (EmulatorControl and raw calls), stats, and the CLI."""

from __future__ import annotations

import asyncio
import importlib.util
import inspect
import logging
import os
import signal
import sys
import tempfile
from collections.abc import AsyncIterator
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from emulator_support import body, call, create, login, upload
from readme_support import readme_blocks

from consigno_async.emulator import (
    Credentials,
    Emulator,
    EmulatorControl,
    EmulatorError,
    pytest_plugin,
)
from consigno_async.emulator.app import build_app
from consigno_async.emulator.server import Core


@pytest_asyncio.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def test_emulator_control_over_http(
    consigno_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    emu = consigno_emulator
    token = await login(http, emu)
    workflow = await create(
        http, emu, token, body([await upload(http, emu, token)], refs=("1", "2"))
    )
    async with EmulatorControl(emu.base_url) as control:  # /api/v1 is stripped
        assert control.root_url == emu.root_url
        signed = await control.sign(workflow["id"], workflow["actions"][0]["id"])
        assert [a["status"] for a in signed["actions"]] == ["COMPLETED", "STARTED"]
        declined = await control.decline(workflow["id"], reason="No")
        assert declined["status"] == 5
        with pytest.raises(EmulatorError) as caught:
            await control.sign("0" * 24)
        assert caught.value.entry.code == "5004"
        clock = await control.advance_clock(60)
        assert clock["offset"] == 60
        assert await control.expire_tokens() == 1
        status, data, _ = await call(http, "GET", f"{emu.base_url}/workflows", token)
        assert data["code"] == "1002"
        token = await login(http, emu)
        await control.rotate_tokens()
        status, _, headers = await call(http, "GET", f"{emu.base_url}/workflows", token)
        assert status == 200
        assert headers["X-Auth-Token"] != token
        fault = await control.add_fault(status=429, retry_after=0.5, count=1)
        assert fault.startswith("fault-")
        status, _, headers = await call(http, "GET", f"{emu.base_url}/workflows", token)
        assert (status, headers["Retry-After"]) == (429, "0.5")
        await control.add_fault(status=503)
        await control.clear_faults()
        assert (await call(http, "GET", f"{emu.base_url}/workflows", token))[0] == 200
        await control.settings(second_factor_required=False, login_as_allowed=False)
        stats = await control.stats()
        assert stats["requests"]["GET /api/v1/workflows"] == {"200": 2, "401": 1, "429": 1}
        assert stats["workflows_created"] == 1
        assert stats["workflows_by_status"] == {"5": 1}
        assert stats["faults_injected"] == 1
        await control.reset()
        stats = await control.stats()
        assert (stats["workflows_created"], stats["requests"], stats["logins"]) == (0, {}, 0)
    assert (await call(http, "GET", f"{emu.base_url}/workflows", token))[1]["code"] == "1003"


async def test_raw_control_routes(consigno_emulator: Emulator, http: aiohttp.ClientSession) -> None:
    root = f"{consigno_emulator.root_url}/_emulator"
    status, data, _ = await call(http, "POST", f"{root}/faults", json={"latencyMs": 5})
    assert (status, data["fault"]["kind"]) == (201, "latency")
    fault_id = data["id"]
    status, data, _ = await call(http, "GET", f"{root}/faults")
    assert [f["id"] for f in data["faults"]] == [fault_id]
    assert (await call(http, "DELETE", f"{root}/faults/{fault_id}"))[0] == 200
    assert (await call(http, "DELETE", f"{root}/faults/{fault_id}"))[0] == 404
    status, data, _ = await call(http, "POST", f"{root}/faults", json={"status": "x"})
    assert (status, data["parameters"]["field"]) == (400, "status")
    status, data, _ = await call(http, "POST", f"{root}/clock/advance", json={"seconds": -1})
    assert (status, data["code"]) == (400, "4002")
    status, data, _ = await call(http, "GET", f"{root}/clock")
    assert (status, data["offset"]) == (200, 0)
    status, data, _ = await call(http, "POST", f"{root}/settings", json={"bogus": True})
    assert status == 400
    status, data, _ = await call(http, "GET", f"{root}/settings")
    assert data == {"secondFactorRequired": True, "loginAsAllowed": True, "latencyMs": 0.0}
    status, data, _ = await call(http, "POST", f"{root}/workflows/{'a' * 24}/sign", data=b"[")
    assert (status, data["code"]) == (400, "4002")
    status, data, _ = await call(http, "POST", f"{root}/tokens/rotate")
    assert (status, data["ok"]) == (200, True)
    assert (await call(http, "POST", f"{root}/reset"))[1] == {"ok": True}


async def test_settings_are_checked_alike_in_process_and_over_http(
    consigno_emulator: Emulator,
) -> None:
    """Emulator.settings and EmulatorControl.settings send the same body through one check."""
    async with EmulatorControl(consigno_emulator.root_url) as control:
        for target in (consigno_emulator, control):
            with pytest.raises(EmulatorError) as caught:
                await target.settings(latency_ms=-1)
            assert (caught.value.entry.code, caught.value.parameters) == (
                "4002",
                {"field": "latencyMs"},
            )
        await control.settings(login_as_allowed=False, latency_ms=2)
        await consigno_emulator.settings(second_factor_required=False)
    core = consigno_emulator.core
    assert (core.tokens.login_as_allowed, core.latency_ms) == (False, 2.0)
    assert core.engine.second_factor_required is False


async def test_credentials_hide_secrets_and_custom_accounts(http: aiohttp.ClientSession) -> None:
    creds = Credentials(username="ops", password="s3cret-pw", tenant="acme")
    assert "s3cret-pw" not in repr(creds)
    assert "demo-platform-secret" not in repr(creds)
    async with Emulator(credentials=creds, seed=1) as emu:
        assert "s3cret-pw" not in repr(emu)
        url = f"{emu.base_url}/auth/login"
        status, data, _ = await call(
            http, "POST", url, json={"username": "ops", "password": "s3cret-pw", "tenant": "x"}
        )
        assert (status, data["code"]) == (401, "1001")
        status, data, _ = await call(
            http, "POST", url, json={"username": "ops", "password": "s3cret-pw"}
        )
        assert (status, data["response"]["tenant"]) == (200, "acme")


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "term"])
async def test_cli_prints_its_base_url_and_credentials_and_stops_cleanly(
    http: aiohttp.ClientSession, stop_signal: signal.Signals
) -> None:
    """
    ``python -m consigno_async.emulator`` prints base_url first, then the control URL and
    the demo credentials once (the banner is the only place the demo password shows); Ctrl-C
    (SIGINT) or SIGTERM stops it with exit code 0 and no traceback.
    """
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "consigno_async.emulator",
        "--port",
        "0",
        "--seed",
        "3",
        "--latency-ms",
        "1",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONWARNINGS": "error"},
    )
    try:
        assert process.stdout is not None
        first = (await asyncio.wait_for(process.stdout.readline(), 20)).decode().strip()
        assert first.startswith("base_url=http://127.0.0.1:")
        base_url = first.removeprefix("base_url=")
        assert base_url.endswith("/api/v1")
        rest = (await asyncio.wait_for(process.stdout.readline(), 5)).decode()
        assert rest.startswith("control_url=")
        banner = (await asyncio.wait_for(process.stdout.readline(), 5)).decode()
        creds = Credentials()
        assert banner.startswith(
            f"demo user: username={creds.username} password={creds.password}"
        ), banner
        assert f"client_id={creds.client_id}" in banner
        status, _, headers = await call(
            http,
            "POST",
            f"{base_url}/auth/login",
            json={"username": "demo", "password": "demo-password"},
        )
        assert status == 200
        assert headers["X-Auth-Token"]
    finally:
        process.send_signal(stop_signal)
        stdout, stderr = await asyncio.wait_for(process.communicate(), 20)
    assert process.returncode == 0, stderr.decode()
    assert "Traceback" not in stderr.decode()
    assert "emulator stopped" in stderr.decode()
    assert Credentials().password not in stdout.decode() + stderr.decode()  # banner only


def test_every_route_handler_says_its_route() -> None:
    """Each route's handler has a docstring naming its method(s) and path."""
    with tempfile.TemporaryDirectory() as data_dir:
        app = build_app(Core(Credentials(), Path(data_dir)))
        routes = [r for r in app.router.routes() if r.resource is not None]
        assert len(routes) > 25
        for route in routes:
            doc = inspect.getdoc(route.handler) or ""
            head = doc.split(":", 1)[0]
            path = route.resource.canonical
            assert route.method in head.split(), (route.method, path, doc)
            assert head.endswith(path), (route.method, path, doc)


def test_plugin_exports_only_what_it_defines(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without pytest-asyncio the plugin defines no fixture, and ``__all__`` names none."""
    assert pytest_plugin.__all__ == ["consigno_emulator"]
    real_find_spec = importlib.util.find_spec

    def find_spec(name: str, *args: Any) -> Any:
        return None if name == "pytest_asyncio" else real_find_spec(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    name = "consigno_async.emulator._plugin_without_asyncio"
    spec = importlib.util.spec_from_file_location(name, pytest_plugin.__file__)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.__all__ == []
    assert not hasattr(module, "consigno_emulator")
    namespace: dict[str, Any] = {}
    exec(f"from {pytest_plugin.__name__} import *", namespace)  # the real one still exports
    assert "consigno_emulator" in namespace


async def test_no_secret_in_logs_or_answers(
    consigno_emulator: Emulator, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    emu = consigno_emulator
    token = await login(http, emu)
    payload = body([await upload(http, emu, token)])
    payload["actions"][0]["signer"].update(
        amr=["link", "secret"], secretQuestion="Pet?", secretAnswer="Rex-the-secret-dog"
    )
    workflow = await create(http, emu, token, payload)
    url = f"{emu.base_url}/workflows/{workflow['id']}"
    answers = [str(await call(http, "GET", url, params={"X-Auth-Token": token}))]
    answers.append(str(await call(http, "GET", f"{emu.base_url}/workflows", token)))
    await emu.add_fault(status=500, count=1)
    answers.append(str(await call(http, "GET", url, token)))
    bad_login = {"username": "demo", "password": "wrong-password-123"}
    answers.append(str(await call(http, "POST", f"{emu.base_url}/auth/login", json=bad_login)))
    await emu.sign(workflow["id"])
    async with http.post(f"{url}/audit", data={"X-Auth-Token": token}) as response:
        audit = await response.read()
    text = caplog.text + "".join(answers) + repr(emu.core.store.workflows)
    for secret in ("Rex-the-secret-dog", "wrong-password-123", "demo-password", token):
        assert secret not in text
        assert secret.encode() not in audit


def test_readme_emulator_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    block = readme_blocks("emulator")[0]
    exec(compile(block, "README.md", "exec"), {"__name__": "readme"})
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 6
    assert {line.split()[0] for line in lines[:5]} <= {"200", "429"}
    assert "GET /api/v1/workflows" in lines[5]


def test_pytest_plugin_is_registered_as_an_entry_point() -> None:
    plugins = {ep.name: ep.value for ep in entry_points(group="pytest11")}
    assert plugins.get("consigno_async") == "consigno_async.emulator.pytest_plugin"


async def test_fixture_gives_a_started_emulator(consigno_emulator: Emulator) -> None:
    assert consigno_emulator.base_url == f"http://127.0.0.1:{consigno_emulator.port}/api/v1"
    assert consigno_emulator.port > 0
    assert (await consigno_emulator.stats())["requests"] == {}
