"""Every fault kind, seen from a plain aiohttp client, and their repeatability."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
import pytest_asyncio
from emulator_support import body, call, create, login, upload

from consigno_async.emulator import Emulator, EmulatorError


@pytest_asyncio.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def test_429_and_503_with_retry_after(
    consigno_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    token = await login(http, consigno_emulator)
    url = f"{consigno_emulator.base_url}/workflows"
    await consigno_emulator.add_fault(status=429, retry_after=0.25, count=1)
    status, data, headers = await call(http, "GET", url, token)
    assert (status, data["code"], headers["Retry-After"]) == (429, "4290", "0.25")
    assert data["msg"].startswith("[4290 - TOO_MANY_REQUESTS]")
    assert (await call(http, "GET", url, token))[0] == 200  # count=1: fired once
    await consigno_emulator.add_fault(status=503, retryAfter=2, count=1)
    status, data, headers = await call(http, "GET", url, token)
    assert (status, data["code"], headers["Retry-After"]) == (503, "5030", "2")
    await consigno_emulator.add_fault(status=502, count=1)
    status, data, _ = await call(http, "GET", url, token)
    assert status == 502
    assert set(data) == {"timestamp", "status", "error", "message", "path"}
    assert data["error"] == "Bad Gateway"


async def test_html_page(consigno_emulator: Emulator, http: aiohttp.ClientSession) -> None:
    token = await login(http, consigno_emulator)
    await consigno_emulator.add_fault(html=502)
    async with http.get(
        f"{consigno_emulator.base_url}/workflows", headers={"X-Auth-Token": token}
    ) as response:
        assert response.status == 502
        assert response.content_type == "text/html"
        assert "<h1>502 Bad Gateway</h1>" in await response.text()


async def test_latency(consigno_emulator: Emulator, http: aiohttp.ClientSession) -> None:
    token = await login(http, consigno_emulator)
    url = f"{consigno_emulator.base_url}/workflows"
    await consigno_emulator.add_fault(latencyMs=150)
    started = time.perf_counter()
    assert (await call(http, "GET", url, token))[0] == 200
    assert time.perf_counter() - started >= 0.15
    await consigno_emulator.clear_faults()
    await consigno_emulator.settings(latency_ms=100)
    started = time.perf_counter()
    assert (await call(http, "GET", url, token))[0] == 200
    assert time.perf_counter() - started >= 0.1


async def test_drop_before_and_after_commit(
    consigno_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    token = await login(http, consigno_emulator)
    url = f"{consigno_emulator.base_url}/workflows"
    payload = body([await upload(http, consigno_emulator, token)])
    await consigno_emulator.add_fault(
        drop="before_commit", paths=["/api/v1/workflows"], methods=["POST"], count=1
    )
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await call(http, "POST", url, token, json=payload)
    assert (await consigno_emulator.stats())["workflows_created"] == 0
    await consigno_emulator.add_fault(drop="after_commit", methods=["post"], count=1)
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await call(http, "POST", url, token, json=payload)
    stats = await consigno_emulator.stats()
    assert stats["workflows_created"] == 1  # the change was applied, the answer lost
    assert stats["requests"]["POST /api/v1/workflows"] == {"drop": 2}
    status, data, _ = await call(http, "GET", url, token)
    assert (status, data["response"]["total"]) == (200, 1)


async def test_truncate_json_and_download(
    consigno_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    token = await login(http, consigno_emulator)
    workflow = await create(
        http, consigno_emulator, token, body([await upload(http, consigno_emulator, token)])
    )
    await consigno_emulator.sign(workflow["id"])
    url = f"{consigno_emulator.base_url}/workflows/{workflow['id']}"
    await consigno_emulator.add_fault(truncate=True, count=2)
    with pytest.raises(aiohttp.ClientPayloadError):
        await call(http, "GET", url, token)
    with pytest.raises(aiohttp.ClientPayloadError):
        await call(http, "POST", f"{url}/audit", data={"X-Auth-Token": token})
    assert (await call(http, "GET", url, token))[0] == 200


async def test_paths_methods_rate_and_seed(http: aiohttp.ClientSession) -> None:
    async def outcomes(seed: int) -> list[int]:
        async with Emulator(seed=seed) as emu:
            token = await login(http, emu)
            await emu.add_fault(status=503, rate=0.5, paths=["/api/v1/workflows"])
            results = [
                (await call(http, "GET", f"{emu.base_url}/workflows", token))[0] for _ in range(24)
            ]
            # Other paths and the control API are never touched by this fault.
            assert (await call(http, "HEAD", f"{emu.base_url}/auth", token))[0] == 200
            assert (await emu.stats())["faults_injected"] == results.count(503)
            return results

    first = await outcomes(7)
    assert set(first) == {200, 503}
    assert await outcomes(7) == first


async def test_glob_paths_and_fault_validation(
    consigno_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    token = await login(http, consigno_emulator)
    await consigno_emulator.add_fault(status=429, paths=["/api/v1/workflows/*/audit"])
    url = f"{consigno_emulator.base_url}/workflows"
    assert (await call(http, "GET", url, token))[0] == 200
    status, _, _ = await call(http, "POST", f"{url}/{'a' * 24}/audit", data={"X-Auth-Token": token})
    assert status == 429
    for bad in ({"status": 418}, {"rate": 2, "status": 429}, {"drop": "sometimes"}, {}, {"x": 1}):
        with pytest.raises(EmulatorError):
            await consigno_emulator.add_fault(**bad)
    with pytest.raises(EmulatorError):
        await consigno_emulator.add_fault(status=429, html=502)


async def test_client_gone_mid_upload_is_counted_not_logged_as_error(
    consigno_emulator: Emulator, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    token = await login(http, consigno_emulator)
    reading = asyncio.Event()

    async def slow() -> AsyncIterator[bytes]:
        yield b"%PDF-1.4\n" + b"x" * 100_000
        reading.set()
        await asyncio.sleep(30)
        yield b"never"

    form = aiohttp.FormData()
    form.add_field("file", slow(), filename="slow.pdf", content_type="application/pdf")
    task = asyncio.create_task(
        call(http, "POST", f"{consigno_emulator.base_url}/documents", token, data=form)
    )
    await reading.wait()
    await asyncio.sleep(0.1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    route = "POST /api/v1/documents"
    for _ in range(100):
        if (await consigno_emulator.stats())["requests"].get(route):
            break
        await asyncio.sleep(0.02)
    stats = await consigno_emulator.stats()
    assert stats["requests"][route] == {"499": 1}
    assert stats["documents_stored"] == 0
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
