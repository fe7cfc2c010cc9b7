"""Signing through the control API, downloads, the audit trail, and webhook delivery."""

from __future__ import annotations

import asyncio
import io
import zipfile
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from emulator_support import PDF, body, call, create, field, login, signer, upload
from pypdf import PdfReader

from consigno_async.emulator import Emulator, EmulatorError


@pytest_asyncio.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def _download(
    http: aiohttp.ClientSession, url: str, token: str
) -> tuple[int, str, bytes, Any]:
    async with http.post(url, data={"X-Auth-Token": token}) as response:
        return response.status, response.content_type, await response.read(), response.headers


async def _two_step_workflow(
    http: aiohttp.ClientSession, emu: Emulator, token: str, documents: int = 1
) -> dict[str, Any]:
    docs = [await upload(http, emu, token, name=f"doc{i}.pdf") for i in range(documents)]
    payload = body(docs, refs=("1", "2", "3"))
    payload["actions"][0]["step"] = 1
    payload["actions"][1]["step"] = 2
    payload["actions"][2]["step"] = 2
    return await create(http, emu, token, payload)


async def test_steps_are_honoured(consigno_emulator: Emulator, http: aiohttp.ClientSession) -> None:
    token = await login(http, consigno_emulator)
    workflow = await _two_step_workflow(http, consigno_emulator, token)
    first, second, third = (a["id"] for a in workflow["actions"])
    with pytest.raises(EmulatorError) as caught:
        await consigno_emulator.sign(workflow["id"], second)
    assert caught.value.entry.code == "4092"
    after = await consigno_emulator.sign(workflow["id"], first)
    assert [a["status"] for a in after["actions"]] == ["COMPLETED", "STARTED", "STARTED"]
    assert after["remainingActions"] == 2
    assert after["status"] == 1
    after = await consigno_emulator.sign(workflow["id"], third)
    assert [a["status"] for a in after["actions"]] == ["COMPLETED", "STARTED", "COMPLETED"]
    after = await consigno_emulator.sign(workflow["id"])
    assert after["status"] == 2
    assert after["remainingActions"] == 0
    assert after["actions"][0]["secondFactorUsed"] == ["sms"]
    with pytest.raises(EmulatorError):
        await consigno_emulator.sign(workflow["id"])
    with pytest.raises(EmulatorError) as caught:
        await consigno_emulator.sign("0" * 24)
    assert caught.value.entry.code == "5004"


async def test_documents_then_audit_after_signing(
    consigno_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    token = await login(http, consigno_emulator)
    workflow = await _two_step_workflow(http, consigno_emulator, token)
    url = f"{consigno_emulator.base_url}/workflows/{workflow['id']}"
    status, _, data, _ = await _download(http, f"{url}/audit", token)
    assert status == 409
    assert b'"4091"' in data
    # Before completion the documents are the originals.
    status, content_type, data, _ = await _download(http, f"{url}/documents", token)
    assert (status, content_type, data) == (200, "application/pdf", PDF)
    await consigno_emulator.sign(workflow["id"])
    status, content_type, data, headers = await _download(http, f"{url}/documents", token)
    assert (status, content_type) == (200, "application/pdf")
    assert int(headers["Content-Length"]) == len(data)
    assert 'filename="doc0.pdf"' in headers["Content-Disposition"]
    assert data.startswith(PDF)  # the original bytes, then the appended stamp page
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 3
    stamp = reader.pages[-1].extract_text()
    assert "Signed electronically" in stamp
    assert "First2 Last2" in stamp
    status, content_type, audit, _ = await _download(http, f"{url}/audit", token)
    assert (status, content_type) == (200, "application/pdf")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(audit)).pages)
    assert workflow["id"] in text
    assert "signer1@example.com" in text
    assert "Workflow completed" in text


async def test_several_documents_download_as_a_zip(
    consigno_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    token = await login(http, consigno_emulator)
    workflow = await _two_step_workflow(http, consigno_emulator, token, documents=2)
    url = f"{consigno_emulator.base_url}/workflows/{workflow['id']}/documents"
    status, content_type, data, _ = await _download(http, url, token)
    assert (status, content_type) == (200, "application/zip")
    assert zipfile.ZipFile(io.BytesIO(data)).read("doc1.pdf") == PDF
    await consigno_emulator.sign(workflow["id"])
    for _ in range(2):  # the second download serves the cached archive
        status, content_type, data, headers = await _download(http, url, token)
        assert (status, content_type) == (200, "application/zip")
        assert int(headers["Content-Length"]) == len(data)
        archive = zipfile.ZipFile(io.BytesIO(data))
        assert archive.namelist() == ["doc0.pdf", "doc1.pdf"]
        for name in archive.namelist():
            assert len(PdfReader(io.BytesIO(archive.read(name))).pages) == 3


async def test_decline_and_delete_status(
    consigno_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    token = await login(http, consigno_emulator)
    workflow = await _two_step_workflow(http, consigno_emulator, token)
    declined = await consigno_emulator.decline(workflow["id"], reason="Wrong salary")
    assert declined["status"] == 5
    assert declined["actions"][0]["status"] == "DECLINED"
    assert declined["actions"][0]["declineReason"] == "Wrong salary"
    url = f"{consigno_emulator.base_url}/workflows/{workflow['id']}"
    status, _, data, _ = await _download(http, f"{url}/audit", token)
    assert status == 409
    await call(http, "DELETE", url, token)
    status, _, data, _ = await _download(http, f"{url}/documents", token)
    assert (status, b'"4092"' in data) == (409, True)


class Receiver:
    """A test webhook receiver: fails the first ``failures`` calls, records the rest."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.arrived = asyncio.Event()

    async def handle(self, request: web.Request) -> web.Response:
        event = await request.json()
        self.calls.append((request.headers["X-Consigno-Event-Id"], event))
        if len(self.calls) <= self.failures:
            return web.Response(status=500)
        self.arrived.set()
        return web.Response(status=204)


@pytest_asyncio.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    hook = Receiver(failures=1)
    app = web.Application()
    app.router.add_post("/hook", hook.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield hook, f"http://127.0.0.1:{port}/hook"
    finally:
        await runner.cleanup()


async def test_webhooks_are_delivered_and_retried_with_the_same_event_id(
    consigno_emulator: Emulator,
    http: aiohttp.ClientSession,
    receiver: tuple[Receiver, str],
) -> None:
    hook, url = receiver
    token = await login(http, consigno_emulator)
    payload = body([await upload(http, consigno_emulator, token)])
    payload["webhooks"] = [{"url": url}, {"url": "https://example.com/not-called"}]
    workflow = await create(http, consigno_emulator, token, payload)
    await asyncio.wait_for(hook.arrived.wait(), 5)
    assert len(hook.calls) == 2  # one failure, one retry
    (first_id, first), (second_id, second) = hook.calls
    assert first_id == second_id == first["eventId"]
    assert first == second
    assert first["eventType"] == "workflow.status_changed"
    assert (first["workflowId"], first["status"], first["previousStatus"]) == (
        workflow["id"],
        1,
        0,
    )
    hook.arrived.clear()
    await consigno_emulator.sign(workflow["id"])
    await asyncio.wait_for(hook.arrived.wait(), 5)
    event = hook.calls[-1][1]
    assert (event["status"], event["previousStatus"]) == (2, 1)
    assert event["eventId"] != first_id
    await consigno_emulator.wait_webhooks()
    stats = await consigno_emulator.stats()
    assert stats["webhooks_delivered"] == 2
    assert stats["webhook_attempts"] == 3
    assert stats["webhooks_skipped"] == 2  # the non-loopback URL, twice


async def test_webhooks_for_expire_decline_and_delete(
    consigno_emulator: Emulator,
    http: aiohttp.ClientSession,
    receiver: tuple[Receiver, str],
) -> None:
    hook, url = receiver
    hook.failures = 0
    token = await login(http, consigno_emulator)
    ids = []
    for _ in range(3):
        payload = body([await upload(http, consigno_emulator, token)], status=0)
        payload["actions"].append(signer("2"))
        payload["documents"][0]["fields"].append(field("2"))
        payload["webhooks"] = [{"url": url}]
        ids.append((await create(http, consigno_emulator, token, payload))["id"])
    base = consigno_emulator.base_url
    await call(http, "PUT", f"{base}/workflows/{ids[0]}", token, json={"status": 1})
    await consigno_emulator.decline(ids[0])
    await call(http, "DELETE", f"{base}/workflows/{ids[1]}", token)
    await consigno_emulator.advance_clock(40 * 86400)
    await login(http, consigno_emulator)
    await call(http, "GET", f"{base}/workflows", await login(http, consigno_emulator))
    await consigno_emulator.wait_webhooks()
    seen = sorted((e["workflowId"], e["previousStatus"], e["status"]) for _, e in hook.calls)
    assert seen == sorted([(ids[0], 0, 1), (ids[0], 1, 5), (ids[1], 0, 6), (ids[2], 0, 3)])


async def test_embedded_sign_url_signs_and_redirects(
    consigno_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    token = await login(http, consigno_emulator)
    payload = body([await upload(http, consigno_emulator, token)])
    payload["actions"][0].update(
        mode="embedded", returnUrl="https://app.example.com/back?session=1", step=1
    )
    payload["returnUrl"] = "https://app.example.com/done"
    workflow = await create(http, consigno_emulator, token, payload)
    assert workflow["returnUrl"] == "https://app.example.com/done"
    action = workflow["actions"][0]
    assert action["signUrl"].startswith(consigno_emulator.root_url)
    async with http.get(workflow["editUrl"]) as response:
        assert response.status == 200
        assert "Employment contract" in await response.text()
    async with http.get(action["signUrl"], allow_redirects=False) as response:
        assert response.status == 302
        assert response.headers["Location"] == (
            "https://app.example.com/back?session=1&status=success"
        )
    url = f"{consigno_emulator.base_url}/workflows/{workflow['id']}"
    _, data, _ = await call(http, "GET", url, token)
    assert data["response"]["status"] == 2
    async with http.get(action["signUrl"], allow_redirects=False) as response:
        assert response.status == 409  # already signed
