"""Lifecycle, concurrency, cancellation and transport safety of ConsignoClient."""

from __future__ import annotations

import asyncio
import gc
import warnings
from collections.abc import AsyncIterator
from typing import Any
from unittest import mock

import aiohttp
import pytest
from aiohttp import web
from aioresponses_compat import mocked_http
from client_support import PDF, builder, make_client, request_count, spec

from consigno_async import (
    ApiError,
    ClientStateError,
    ConsignoClient,
    RequestEvent,
    ResponseEvent,
    WorkflowStatus,
)
from consigno_async.emulator import Emulator


async def test_a_closed_client_cannot_be_used_or_reopened(consigno_emulator: Emulator) -> None:
    client = make_client(consigno_emulator)
    async with client:
        await client.list_workflow_page()
    assert client.closed
    with pytest.raises(ClientStateError, match="closed"):
        await client.list_workflow_page()
    with pytest.raises(ClientStateError):
        async with client:
            pass
    await client.aclose()  # closing twice is harmless


async def test_a_client_never_closed_warns(consigno_emulator: Emulator) -> None:
    async with aiohttp.ClientSession() as session:
        client = make_client(consigno_emulator, session=session)
        await client.list_workflow_page()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            del client
            gc.collect()
    assert any(
        issubclass(w.category, ResourceWarning) and "unclosed" in str(w.message) for w in caught
    )


async def test_a_borrowed_session_is_left_open(consigno_emulator: Emulator) -> None:
    async with aiohttp.ClientSession() as session:
        async with make_client(consigno_emulator, session=session) as client:
            await client.list_workflow_page()
        assert not session.closed
        async with make_client(consigno_emulator, session=session) as again:
            await again.list_workflow_page()
    with pytest.raises(ClientStateError, match="session"):
        async with make_client(consigno_emulator, session=session):
            pass


async def test_lazy_open_without_context_manager(consigno_emulator: Emulator) -> None:
    client = make_client(consigno_emulator)
    try:
        page = await client.list_workflow_page()
        assert page.total == 0
    finally:
        await client.aclose()


async def test_one_client_serves_many_tasks_within_its_bound(consigno_emulator: Emulator) -> None:
    in_flight = 0
    peak = 0

    def started(event: RequestEvent) -> None:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)

    def finished(event: ResponseEvent) -> None:
        nonlocal in_flight
        in_flight -= 1

    await consigno_emulator.add_fault(latencyMs=20, paths=["/api/v1/workflows"], methods=["GET"])
    async with make_client(
        consigno_emulator, concurrency=4, on_request=started, on_response=finished
    ) as client:
        pages = await asyncio.gather(*(client.list_workflow_page() for _ in range(24)))
    assert len(pages) == 24
    assert peak == 4


async def test_cancelled_launch_mid_upload_reports_uploads_and_leaves_client_usable(
    consigno_emulator: Emulator,
) -> None:
    second_started = asyncio.Event()

    async def slow_pdf() -> AsyncIterator[bytes]:
        yield PDF[:100]
        second_started.set()
        for i in range(100, len(PDF), 50):
            await asyncio.sleep(0.05)
            yield PDF[i : i + 50]

    b = builder("Cancelled", documents=(("fast.pdf", PDF), ("slow.pdf", slow_pdf())))
    async with make_client(consigno_emulator) as client:
        task = asyncio.create_task(client.launch(b))
        await second_started.wait()
        for _ in range(200):
            if (await consigno_emulator.stats())["documents_stored"] == 1:
                break
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError) as info:
            await task
        notes = getattr(info.value, "__notes__", [])
        assert len(notes) == 1
        assert "documents already uploaded: fast.pdf=" in notes[0]
        # Nothing left behind: no upload task, no slot or lock held.
        await asyncio.sleep(0)
        leftovers = [
            t
            for t in asyncio.all_tasks()
            if getattr(t.get_coro(), "__qualname__", "").startswith("ConsignoClient.")
        ]
        assert leftovers == []
        assert client._core.semaphore._value == 16
        assert not client._auth._lock.locked()
        # And the next call works.
        wf = await client.launch(builder("After"))
        assert wf.status is WorkflowStatus.LAUNCHED
    stats = await consigno_emulator.stats()
    assert stats["workflows_created"] == 1


async def test_cancelled_call_releases_its_slot(consigno_emulator: Emulator) -> None:
    await consigno_emulator.add_fault(latencyMs=5000, paths=["/api/v1/workflows"], count=1)
    async with make_client(consigno_emulator, concurrency=1) as client:
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.2):
                await client.list_workflow_page()
        page = await asyncio.wait_for(client.list_workflow_page(), 2)
        assert page.total == 0


async def test_connection_refused_before_sending_retries_a_create(
    consigno_emulator: Emulator,
) -> None:
    # The emulator cannot refuse a connection and then accept the next one: aioresponses can.
    base = "http://consigno.test/api/v1"
    workflow = {"id": "0123456789abcdef01234567", "name": "NDA", "status": 1}
    refused = aiohttp.ClientConnectorError(
        mock.Mock(host="consigno.test", port=80, ssl=False), OSError(111, "Connection refused")
    )
    with mocked_http() as http:
        http.post(f"{base}/auth/login", headers={"X-Auth-Token": "tok-abc"}, payload={})
        http.post(f"{base}/workflows", exception=refused)
        http.post(
            f"{base}/workflows",
            status=201,
            payload={"msg": "OK", "parameters": {}, "response": workflow},
        )
        async with ConsignoClient(base, username="u", password="p", max_retries=2) as client:
            client._core.sleep = _no_sleep
            wf = await client.create_workflow(spec(inline=True))
    assert wf.id == workflow["id"]
    calls = {key: len(value) for key, value in http.requests.items()}
    assert [
        n
        for (method, url), n in calls.items()
        if method == "POST" and url.path.endswith("/workflows")
    ] == [2]
    assert not any(method == "GET" for method, _ in calls)  # no reconciliation needed


async def _no_sleep(_: float) -> None:
    return None


async def test_token_never_follows_a_redirect_nor_goes_into_a_url(unused_tcp_port: int) -> None:
    """A fake service that redirects to another host, and records how downloads send the token."""
    seen_elsewhere: list[dict[str, Any]] = []
    download: dict[str, Any] = {}

    async def elsewhere(request: web.Request) -> web.Response:
        seen_elsewhere.append(dict(request.headers))
        return web.json_response({"msg": "OK", "response": {}})

    other = web.Application()
    other.router.add_route("*", "/{tail:.*}", elsewhere)
    other_runner = web.AppRunner(other)
    await other_runner.setup()
    other_site = web.TCPSite(other_runner, "127.0.0.1", 0)
    await other_site.start()
    other_port = other_site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def login(request: web.Request) -> web.Response:
        return web.json_response({"msg": "OK", "response": {}}, headers={"X-Auth-Token": "tok-xyz"})

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPFound(f"http://localhost:{other_port}/steal")

    async def documents(request: web.Request) -> web.Response:
        download["query"] = dict(request.query)
        download["header"] = request.headers.get("X-Auth-Token")
        download["form"] = dict(await request.post())
        return web.Response(body=PDF, content_type="application/pdf")

    app = web.Application()
    app.router.add_post("/api/v1/auth/login", login)
    app.router.add_get("/api/v1/workflows/{id}", redirect)
    app.router.add_post("/api/v1/workflows/{id}/documents", documents)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        base = f"http://127.0.0.1:{port}/api/v1"
        async with ConsignoClient(base, username="u", password="p") as client:
            assert client._core.ssl is True  # TLS verification is on unless turned off
            with pytest.raises(ApiError) as info:
                await client.get_workflow("0123456789abcdef01234567")
            assert info.value.status == 302
            import tempfile

            with tempfile.TemporaryDirectory() as tmp:
                await client.download_documents("0123456789abcdef01234567", f"{tmp}/")
    finally:
        await runner.cleanup()
        await other_runner.cleanup()
    assert seen_elsewhere == []
    assert download["query"] == {}
    assert download["header"] is None
    assert download["form"] == {"X-Auth-Token": "tok-xyz"}


async def test_repr_shows_no_secret(consigno_emulator: Emulator) -> None:
    async with make_client(consigno_emulator) as client:
        await client.list_workflow_page()
        held = client._auth.peek()
        assert held is not None
        text = repr(client) + repr(client._auth) + repr(client._redactor)
    assert held[0] not in text
    assert consigno_emulator.credentials.password not in text
    assert request_count(await consigno_emulator.stats(), "POST /api/v1/auth/login") == 1


async def test_document_already_used_after_a_lost_answer_is_reconciled() -> None:
    # The service created the workflow only after the client's first search (a slow commit):
    # the resend meets "document already used", and a second search finds it. The emulator
    # commits before it drops, so aioresponses stages this one.
    base = "http://consigno.test/api/v1"
    doc_id = "abcdefabcdefabcdefabcdef"
    created = {
        "id": "0123456789abcdef01234567",
        "name": "NDA",
        "status": 1,
        "createdOn": "2030-01-01T00:00:00.000Z",
        "documents": [{"documentId": doc_id}],
    }
    page = "{base}/workflows?nbItems=100&offset=0&sortDir=desc&sortField=createdOn"
    envelope = {"msg": "OK", "parameters": {}}
    with mocked_http() as http:
        http.post(f"{base}/auth/login", headers={"X-Auth-Token": "tok-abc"}, payload={})
        http.post(f"{base}/workflows", exception=aiohttp.ServerDisconnectedError())
        http.get(
            page.format(base=base),
            payload={
                **envelope,
                "response": {"count": 0, "total": 0, "offset": 0, "workflows": []},
            },
        )
        http.post(
            f"{base}/workflows",
            status=409,
            payload={"code": "4090", "msg": "[4090 - DOCUMENT_ALREADY_USED] used"},
        )
        http.get(
            page.format(base=base),
            payload={
                **envelope,
                "response": {"count": 1, "total": 1, "offset": 0, "workflows": [created]},
            },
        )
        async with ConsignoClient(base, username="u", password="p") as client:
            wf = await client.create_workflow(spec(), document_ids={"nda.pdf": doc_id})
    assert wf.id == created["id"]
