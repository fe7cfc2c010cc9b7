"""wait_for_completion and watch: polling discipline, final statuses, webhook wake-ups."""

from __future__ import annotations

import asyncio
import builtins
import time
from collections.abc import AsyncIterator

import pytest
from batch_support import builder

from consigno_async.client import ConsignoClient
from consigno_async.completion import StatusChange, wait_for_completion, watch
from consigno_async.emulator import Emulator
from consigno_async.enums import WorkflowStatus
from consigno_async.errors import NotFoundError, TimeoutError
from consigno_async.webhooks import WebhookDispatcher, parse_event

GET_ONE = "GET /api/v1/workflows/{id}"


@pytest.fixture
async def client(consigno_emulator: Emulator) -> AsyncIterator[ConsignoClient]:
    creds = consigno_emulator.credentials
    async with ConsignoClient(
        consigno_emulator.base_url, username=creds.username, password=creds.password
    ) as c:
        yield c


async def gets(emu: Emulator) -> int:
    return sum((await emu.stats())["requests"].get(GET_ONE, {}).values())


async def test_returns_once_completed(client: ConsignoClient, consigno_emulator: Emulator) -> None:
    wf = await client.launch(builder("to sign"))

    async def sign_later() -> None:
        await asyncio.sleep(0.15)
        await consigno_emulator.sign(wf.id)

    signer = asyncio.create_task(sign_later())
    done = await wait_for_completion(client, wf.id, poll_interval=0.05, timeout=10)
    await signer
    assert done.status is WorkflowStatus.COMPLETED
    assert done.id == wf.id


async def test_declined_ends_the_wait(client: ConsignoClient, consigno_emulator: Emulator) -> None:
    wf = await client.launch(builder("to decline"))
    await consigno_emulator.decline(wf.id, reason="no")
    done = await wait_for_completion(client, wf.id, poll_interval=0.05, timeout=5)
    assert done.status is WorkflowStatus.DECLINED


async def test_timeout_and_polling_never_faster_than_the_interval(
    client: ConsignoClient, consigno_emulator: Emulator
) -> None:
    wf = await client.launch(builder("never signed"))
    before = await gets(consigno_emulator)
    started = time.monotonic()
    with pytest.raises(TimeoutError, match="last status: LAUNCHED") as info:
        await wait_for_completion(client, wf.id, poll_interval=0.1, timeout=0.75)
    elapsed = time.monotonic() - started
    assert isinstance(info.value, builtins.TimeoutError)
    assert 0.7 <= elapsed < 2
    polls = await gets(consigno_emulator) - before
    # at most one read per 0.1 s, and fewer as the delay backs off (0.1, 0.15, 0.225, ...)
    assert 2 <= polls <= 6


async def test_passing_failures_do_not_end_the_wait(consigno_emulator: Emulator) -> None:
    creds = consigno_emulator.credentials
    async with ConsignoClient(
        consigno_emulator.base_url, username=creds.username, password=creds.password, max_retries=0
    ) as client:
        wf = await client.launch(builder("flaky"))
        await consigno_emulator.sign(wf.id)
        await consigno_emulator.add_fault(status=503, methods=["GET"], count=3, retry_after=0)
        done = await wait_for_completion(client, wf.id, poll_interval=0.02, timeout=5)
        assert done.status is WorkflowStatus.COMPLETED
        with pytest.raises(NotFoundError):
            await wait_for_completion(client, "f" * 24, poll_interval=0.02, timeout=5)


async def test_a_webhook_event_wakes_the_waiter_early(
    client: ConsignoClient, consigno_emulator: Emulator
) -> None:
    wf = await client.launch(builder("woken"))
    dispatcher = WebhookDispatcher()
    waiter = asyncio.create_task(
        wait_for_completion(client, wf.id, poll_interval=30, timeout=10, webhooks=dispatcher)
    )
    await asyncio.sleep(0.1)  # first read done, now sleeping for 30 s
    await consigno_emulator.sign(wf.id)
    started = time.monotonic()
    event = parse_event(
        {
            "eventId": "e-1",
            "eventType": "workflow.status_changed",
            "workflowId": wf.id,
            "status": 2,
            "previousStatus": 1,
            "workflowName": wf.name,
            "occurredOn": "2026-12-04T12:00:00Z",
        }
    )
    assert dispatcher.publish(event) == 1
    done = await asyncio.wait_for(waiter, 5)
    assert time.monotonic() - started < 2
    assert done.status is WorkflowStatus.COMPLETED
    assert dispatcher.subscriber_count == 0


async def test_a_forged_event_does_not_end_the_wait(
    client: ConsignoClient, consigno_emulator: Emulator
) -> None:
    wf = await client.launch(builder("forged"))
    dispatcher = WebhookDispatcher()
    waiter = asyncio.create_task(
        wait_for_completion(client, wf.id, poll_interval=0.2, timeout=0.6, webhooks=dispatcher)
    )
    await asyncio.sleep(0.05)
    dispatcher.publish(
        parse_event(
            {
                "eventId": "forged",
                "eventType": "workflow.status_changed",
                "workflowId": wf.id,
                "status": 2,
                "occurredOn": "2026-12-04T12:00:00Z",
            }
        )
    )
    with pytest.raises(TimeoutError):
        await waiter


async def test_watch_reports_each_change_and_ends_when_all_are_final(
    client: ConsignoClient, consigno_emulator: Emulator
) -> None:
    ids = [(await client.launch(builder(f"watched {i}"))).id for i in range(3)]
    changes: list[StatusChange] = []

    async def act() -> None:
        await asyncio.sleep(0.1)
        await consigno_emulator.sign(ids[0])
        await asyncio.sleep(0.1)
        await consigno_emulator.decline(ids[1])
        await asyncio.sleep(0.1)
        await consigno_emulator.sign(ids[2])

    actor = asyncio.create_task(act())
    async with asyncio.timeout(10):
        async for change in watch(client, ids, poll_interval=0.03, max_interval=0.05):
            changes.append(change)
    await actor
    first = [c for c in changes if c.previous is None]
    assert {c.workflow_id for c in first} == set(ids)
    assert all(c.status is WorkflowStatus.LAUNCHED for c in first)
    finals = {c.workflow_id: c.status for c in changes if c.is_final}
    assert finals == {
        ids[0]: WorkflowStatus.COMPLETED,
        ids[1]: WorkflowStatus.DECLINED,
        ids[2]: WorkflowStatus.COMPLETED,
    }
    assert len(changes) == 6
    assert [c async for c in watch(client, [])] == []
    with pytest.raises(ValueError):
        await wait_for_completion(client, ids[0], poll_interval=0)


async def test_an_event_flood_does_not_become_a_read_flood(
    client: ConsignoClient, consigno_emulator: Emulator
) -> None:
    wf = await client.launch(builder("flooded"))
    dispatcher = WebhookDispatcher()
    waiter = asyncio.create_task(
        wait_for_completion(client, wf.id, poll_interval=0.4, timeout=1.3, webhooks=dispatcher)
    )
    before = await gets(consigno_emulator)

    async def flood() -> None:
        for n in range(400):
            dispatcher.publish(
                parse_event(
                    {
                        "eventId": f"flood-{n}",
                        "eventType": "workflow.status_changed",
                        "workflowId": wf.id,
                        "status": 2,
                        "occurredOn": "2026-12-04T12:00:00Z",
                    }
                )
            )
            await asyncio.sleep(0.003)

    await flood()
    with pytest.raises(TimeoutError):
        await waiter
    # one read per 0.4 s at most (the interval, below the 1 s event spacing): 1.3 s -> <= 4
    assert await gets(consigno_emulator) - before <= 4
