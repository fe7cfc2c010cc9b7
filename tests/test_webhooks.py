"""Webhooks: parsing, duplicate dropping, dispatching, the aiohttp handler."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
from aiohttp import ClientSession, web
from batch_support import builder

from consigno_async.client import ConsignoClient
from consigno_async.completion import wait_for_completion
from consigno_async.emulator import Emulator
from consigno_async.enums import WorkflowStatus
from consigno_async.errors import InvalidWebhookError
from consigno_async.webhooks import (
    EventDeduplicator,
    WebhookDispatcher,
    WebhookEvent,
    WebhookReceiver,
    make_app,
    parse_event,
)

WF = "0123456789abcdef01234567"


def payload(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "eventId": str(uuid.uuid4()),
        "eventType": "workflow.status_changed",
        "workflowId": WF,
        "status": 2,
        "previousStatus": 1,
        "workflowName": "NDA",
        "occurredOn": "2026-12-04T10:00:00.123Z",
    }
    body.update(overrides)
    return body


def test_parse_event_typed() -> None:
    body = payload(extra="ignored")
    event = parse_event(orjson.dumps(body), {"X-Consigno-Event-Id": body["eventId"]})
    assert isinstance(event, WebhookEvent)
    assert event.event_id == body["eventId"]
    assert event.status is WorkflowStatus.COMPLETED
    assert event.previous_status is WorkflowStatus.LAUNCHED
    assert event.workflow_name == "NDA"
    assert event.occurred_on.tzinfo is not None
    assert event.occurred_on.microsecond == 123000
    assert not event.confirmed
    # str body, mapping body, and no header at all are fine too
    assert parse_event(orjson.dumps(body).decode()) == event
    assert parse_event(body, {"x-consigno-event-id": body["eventId"]}) == event
    no_previous = parse_event(payload(previousStatus=None, workflowName=None))
    assert no_previous.previous_status is None
    assert no_previous.workflow_name == ""


@pytest.mark.parametrize(
    ("body", "headers", "match"),
    [
        (b"not json", None, "not valid JSON"),
        (b"[1, 2]", None, "JSON object"),
        (orjson.dumps(payload(eventId="")), None, "'eventId'"),
        (orjson.dumps(payload(workflowId="../../etc")), None, "'workflowId'"),
        (orjson.dumps(payload(status="2")), None, "'status'"),
        (orjson.dumps(payload(status=True)), None, "'status'"),
        (orjson.dumps(payload(status=42)), None, "unknown status 42"),
        (orjson.dumps(payload(occurredOn="yesterday")), None, "'occurredOn'"),
        (orjson.dumps(payload(eventType=None)), None, "'eventType'"),
        (orjson.dumps(payload(eventId="e1")), {"X-Consigno-Event-Id": "e2"}, "does not match"),
        (b"{" + b" " * 70_000 + b"}", None, "larger than"),
    ],
)
def test_parse_event_rejects_bad_input(
    body: bytes, headers: dict[str, str] | None, match: str
) -> None:
    with pytest.raises(InvalidWebhookError, match=match) as info:
        parse_event(body, headers)
    assert isinstance(info.value, ValueError)
    assert len(str(info.value)) < 200


def test_deduplicator_is_bounded() -> None:
    seen = EventDeduplicator(max_size=3)
    assert [seen.add(x) for x in "abca"] == [True, True, True, False]
    seen.add("d")  # forgets the least recently seen: b
    assert "b" not in seen
    assert "a" in seen
    assert len(seen) == 3
    with pytest.raises(ValueError):
        EventDeduplicator(0)


async def test_dispatcher_routes_by_workflow_and_bounds_queues() -> None:
    dispatcher = WebhookDispatcher()
    other = "f" * 24
    heard: list[WebhookEvent] = []
    remove = dispatcher.add_listener(heard.append)
    with dispatcher.subscribe(WF) as mine, dispatcher.subscribe() as everything:
        with dispatcher.subscribe(other, maxsize=2) as theirs:
            event = parse_event(payload())
            assert dispatcher.publish(event) == 3  # mine, everything, the listener
            assert await asyncio.wait_for(mine.get(), 1) == event
            assert everything.get_nowait() == event
            assert theirs.get_nowait() is None
            for _ in range(3):
                dispatcher.publish(parse_event(payload(workflowId=other)))
            assert theirs.dropped == 1
            assert theirs.get_nowait() is not None
        assert dispatcher.subscriber_count == 2
    assert dispatcher.subscriber_count == 0
    remove()
    remove()
    dispatcher.publish(parse_event(payload()))
    assert len(heard) == 4


async def test_receiver_drops_duplicates_and_survives_a_bad_listener() -> None:
    receiver = WebhookReceiver()

    def broken(event: WebhookEvent) -> None:
        raise RuntimeError("listener bug")

    receiver.dispatcher.add_listener(broken)
    body = orjson.dumps(payload())
    with receiver.dispatcher.subscribe(WF) as sub:
        first = await receiver.handle(body)
        assert first is not None
        assert await receiver.handle(body) is None
        assert sub.get_nowait() == first
        assert sub.get_nowait() is None
    with pytest.raises(InvalidWebhookError):
        await receiver.handle(b"{}")
    assert (receiver.stats.accepted, receiver.stats.duplicates, receiver.stats.rejected) == (
        1,
        1,
        1,
    )
    with pytest.raises(ValueError, match="needs a client"):
        WebhookReceiver(confirm=True)


async def test_aiohttp_handler_answers(unused_tcp_port: int) -> None:
    receiver = WebhookReceiver()
    runner = web.AppRunner(make_app(receiver, "/hook"))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", unused_tcp_port)
    await site.start()
    url = f"http://127.0.0.1:{unused_tcp_port}/hook"
    try:
        async with ClientSession() as session:
            body = payload()
            headers = {"X-Consigno-Event-Id": body["eventId"]}
            async with session.post(url, json=body, headers=headers) as resp:
                assert resp.status == 200
                assert (await resp.json())["result"] == "accepted"
            async with session.post(url, json=body, headers=headers) as resp:
                assert resp.status == 200
                assert (await resp.json())["result"] == "duplicate"
            async with session.post(url, data=b"nope") as resp:
                assert resp.status == 400
                assert "JSON" in (await resp.json())["error"]
            async with session.post(url, data=b"{" + b" " * 70_000 + b"}") as resp:
                assert resp.status == 413

            async def trickle(data: bytes) -> AsyncIterator[bytes]:
                for i in range(0, len(data), 64):  # chunked, in many small pieces
                    yield data[i : i + 64]
                    await asyncio.sleep(0)

            padded = dict(payload(), padding="x" * 20_000)
            async with session.post(url, data=trickle(orjson.dumps(padded))) as resp:
                assert resp.status == 200
                assert (await resp.json())["result"] == "accepted"
            big = dict(payload(), padding="x" * 70_000)
            async with session.post(url, data=trickle(orjson.dumps(big))) as resp:
                assert resp.status == 413
    finally:
        await runner.cleanup()
    assert receiver.stats.accepted == 2


# --- against the emulator: real deliveries -------------------------------------------------


@pytest.fixture
async def client(consigno_emulator: Emulator) -> AsyncIterator[ConsignoClient]:
    creds = consigno_emulator.credentials
    async with ConsignoClient(
        consigno_emulator.base_url, username=creds.username, password=creds.password, max_retries=0
    ) as c:
        yield c


async def serve(app: web.Application, port: int) -> web.AppRunner:
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner


async def test_emulator_events_arrive_deduplicate_and_wake_a_waiter(
    client: ConsignoClient, consigno_emulator: Emulator, unused_tcp_port: int
) -> None:
    receiver = WebhookReceiver()
    delivered: list[WebhookEvent] = []
    receiver.dispatcher.add_listener(delivered.append)
    answered: set[str] = set()

    async def flaky(request: web.Request) -> web.Response:
        """Handles every delivery, but 'crashes' before answering the first of each event."""
        response = await receiver.aiohttp_handler(request)
        event_id = request.headers["X-Consigno-Event-Id"]
        if event_id not in answered:
            answered.add(event_id)
            return web.Response(status=500)
        return response

    app = web.Application()
    app.router.add_post("/hook", flaky)
    runner = await serve(app, unused_tcp_port)
    try:
        wf = await client.launch(
            builder("hooked").webhook(f"http://127.0.0.1:{unused_tcp_port}/hook")
        )
        waiter = asyncio.create_task(
            wait_for_completion(client, wf.id, poll_interval=30, timeout=10, webhooks=receiver)
        )
        await asyncio.sleep(0.2)
        assert not waiter.done()
        started = time.monotonic()
        await consigno_emulator.sign(wf.id)
        done = await asyncio.wait_for(waiter, 5)
        assert time.monotonic() - started < 3
        assert done.status is WorkflowStatus.COMPLETED
        await consigno_emulator.wait_webhooks()
    finally:
        await runner.cleanup()
    assert receiver.stats.duplicates >= 1
    ids = [e.event_id for e in delivered]
    assert len(ids) == len(set(ids))
    assert {e.status for e in delivered} >= {WorkflowStatus.COMPLETED}
    assert all(e.workflow_id == wf.id for e in delivered)
    stats = await consigno_emulator.stats()
    assert stats["webhook_attempts"] > stats["webhooks_delivered"]


async def test_confirm_rereads_the_workflow(
    client: ConsignoClient, consigno_emulator: Emulator, unused_tcp_port: int
) -> None:
    receiver = WebhookReceiver(client=client, confirm=True)
    runner = await serve(make_app(receiver), unused_tcp_port)
    url = f"http://127.0.0.1:{unused_tcp_port}/consigno/webhook"
    try:
        wf = await client.launch(builder("confirmed"))
        async with ClientSession() as session:
            with receiver.dispatcher.subscribe(wf.id) as sub:
                forged = payload(workflowId=wf.id, status=2)
                async with session.post(url, json=forged) as resp:
                    assert resp.status == 200
                event = sub.get_nowait()
                assert event is not None
                assert event.confirmed
                assert (
                    event.status is WorkflowStatus.LAUNCHED
                )  # the service's word, not the event's
                assert event.workflow is not None
                assert event.workflow.id == wf.id
            async with session.post(url, json=payload(workflowId="e" * 24)) as resp:
                assert resp.status == 400
                assert "unknown workflow" in (await resp.json())["error"]
            await consigno_emulator.add_fault(status=503, methods=["GET"], count=1, retry_after=0)
            retry_me = payload(workflowId=wf.id)
            async with session.post(url, json=retry_me) as resp:
                assert resp.status == 503  # could not confirm: the sender should retry
            async with session.post(url, json=retry_me) as resp:
                assert resp.status == 200
                assert (await resp.json())["result"] == "accepted"
    finally:
        await runner.cleanup()
    assert receiver.stats.unconfirmed == 2  # both said "completed" of a launched workflow
