"""
Knowing when workflows are signed: :func:`wait_for_completion` for one, :func:`watch` for many.

Both poll ``GET /workflows/{id}`` politely (never faster than ``poll_interval``, backing
off towards ``max_interval``, with random jitter so a thousand waiters do not poll in step)
and wake at once when a webhook event about their workflow arrives, if you wire in a
:class:`~consigno_async.webhooks.WebhookDispatcher` (or a
:class:`~consigno_async.webhooks.WebhookReceiver`). An event only wakes the waiter: the
workflow is always re-read through the client before it is returned, so a forged or stale
event cannot end a wait early.

Event-driven reads are spaced by at least ``min(poll_interval, 1 s)``, so a flood of events
cannot become a flood of requests.

A passing failure (timeout, 5xx, 429 after the client's own retries) does not end a long
wait: it is logged and polling goes on. A workflow that does not exist, or credentials the
service refuses, end it at once. ::

    wf = await wait_for_completion(client, wf.id, timeout=3600, poll_interval=30)
    if wf.status is WorkflowStatus.COMPLETED:
        await client.archive(wf.id, "evidence/" + wf.id)

    async for change in watch(client, ids, poll_interval=10):
        print(change.workflow_id, change.previous, "->", change.status)
"""

from __future__ import annotations

import asyncio
import builtins
import logging
import random
import time
from collections.abc import AsyncIterator, Iterable
from typing import TYPE_CHECKING

import attrs

from .enums import WorkflowStatus
from .errors import RateLimitError, ServerError, TimeoutError, TransportError
from .webhooks import Subscription, WebhookDispatcher, WebhookReceiver

if TYPE_CHECKING:
    from .client import ConsignoClient
    from .responses import Workflow

__all__ = ["DONE_STATUSES", "StatusChange", "wait_for_completion", "watch"]

logger = logging.getLogger("consigno_async.completion")

DONE_STATUSES = frozenset(
    {
        WorkflowStatus.COMPLETED,
        WorkflowStatus.DECLINED,
        WorkflowStatus.EXPIRED,
        WorkflowStatus.DELETED,
    }
)
"""Statuses that end a wait: a workflow never leaves them."""

_PASSING = (TransportError, ServerError, RateLimitError)

#: The shortest time between two reads triggered by webhook events (seconds).
EVENT_READ_SPACING = 1.0
_BACKOFF = 1.5
_JITTER = 0.2


@attrs.frozen
class StatusChange:
    """
    A workflow's status as :func:`watch` saw it change.

    Attributes:
        workflow_id: the workflow.
        previous: the status seen before, or None on the first reading.
        status: the status now.
        workflow: the workflow as just read.
    """

    workflow_id: str
    previous: WorkflowStatus | None
    status: WorkflowStatus
    workflow: Workflow = attrs.field(eq=False, repr=False)

    @property
    def is_final(self) -> bool:
        """True when the workflow will not change any more."""
        return self.status in DONE_STATUSES


def _dispatcher(webhooks: WebhookDispatcher | WebhookReceiver | None) -> WebhookDispatcher | None:
    if isinstance(webhooks, WebhookReceiver):
        return webhooks.dispatcher
    return webhooks


def _check_intervals(poll_interval: float, max_interval: float | None) -> float:
    if poll_interval <= 0:
        raise ValueError("poll_interval must be positive")
    return max(poll_interval, max_interval if max_interval is not None else poll_interval * 8)


def _jittered(delay: float) -> float:
    """``delay`` plus up to 20 % more, never less: polling is never faster than asked."""
    return delay * (1 + random.uniform(0, _JITTER))


def _status(workflow: Workflow) -> WorkflowStatus:
    return WorkflowStatus(int(workflow.status))


async def wait_for_completion(
    client: ConsignoClient,
    workflow_id: str,
    *,
    timeout: float | None = None,
    poll_interval: float = 5.0,
    max_interval: float | None = None,
    webhooks: WebhookDispatcher | WebhookReceiver | None = None,
) -> Workflow:
    """
    Wait until ``workflow_id`` is completed, declined or expired (or deleted) and return it.

    Args:
        client: an open :class:`~consigno_async.ConsignoClient`.
        workflow_id: the workflow to wait for.
        timeout: give up after this many seconds with
            :class:`~consigno_async.errors.TimeoutError` (None: wait for ever).
        poll_interval: the first delay between two reads, and the shortest ever.
        max_interval: the longest delay (default ``8 * poll_interval``); delays grow by
            half each round, plus up to 20 % jitter.
        webhooks: a dispatcher or receiver whose events about this workflow wake the wait.

    Example::

        wf = await wait_for_completion(client, wf.id, timeout=600, webhooks=receiver)
    """
    ceiling = _check_intervals(poll_interval, max_interval)
    dispatcher = _dispatcher(webhooks)
    subscription = dispatcher.subscribe(workflow_id) if dispatcher is not None else None
    started = time.monotonic()
    last: WorkflowStatus | None = None
    delay = poll_interval
    try:
        async with asyncio.timeout(timeout):
            while True:
                last_read = time.monotonic()
                try:
                    workflow = await client.get_workflow(workflow_id)
                except _PASSING as exc:
                    logger.warning(
                        "waiting for %s: %s, polling again in %.1f s",
                        workflow_id,
                        type(exc).__name__,
                        delay,
                    )
                else:
                    last = _status(workflow)
                    if last in DONE_STATUSES:
                        return workflow
                pause = _jittered(delay)
                delay = min(delay * _BACKOFF, ceiling)
                if subscription is None:
                    await asyncio.sleep(pause)
                    continue
                try:
                    event = await asyncio.wait_for(subscription.get(), pause)
                except builtins.TimeoutError:
                    continue
                logger.debug(
                    "webhook %s woke the wait for %s (%s)",
                    event.event_id,
                    workflow_id,
                    event.status.name,
                )
                # A flood of (possibly forged) events must not turn into a flood of reads:
                # at most one event-driven read per EVENT_READ_SPACING seconds.
                spacing = min(poll_interval, EVENT_READ_SPACING)
                await asyncio.sleep(max(0.0, last_read + spacing - time.monotonic()))
                # Drain what else arrived meanwhile: one re-read covers them all.
                while subscription.get_nowait() is not None:
                    pass
    except builtins.TimeoutError:
        elapsed = time.monotonic() - started
        seen = last.name if last is not None else "never read"
        raise TimeoutError(
            f"workflow {workflow_id} did not finish within {elapsed:.0f} s (last status: {seen})"
        ) from None
    finally:
        if subscription is not None:
            subscription.close()


async def watch(
    client: ConsignoClient,
    workflow_ids: Iterable[str],
    *,
    poll_interval: float = 5.0,
    max_interval: float | None = None,
    webhooks: WebhookDispatcher | WebhookReceiver | None = None,
    until_final: bool = True,
    concurrency: int = 16,
) -> AsyncIterator[StatusChange]:
    """
    Yield a :class:`StatusChange` each time one of ``workflow_ids`` changes status (and
    once for each at its first reading). Ends when every workflow is final, unless
    ``until_final`` is false. Reads at most ``concurrency`` workflows at a time; the delay
    between rounds backs off while nothing changes and returns to ``poll_interval`` on a
    change. A webhook about a watched workflow triggers an immediate re-read of that one.

    Example::

        async for change in watch(client, ids, webhooks=dispatcher):
            if change.status is WorkflowStatus.COMPLETED:
                await archive(client, change.workflow_id, f"evidence/{change.workflow_id}")
    """
    ceiling = _check_intervals(poll_interval, max_interval)
    known: dict[str, WorkflowStatus | None] = dict.fromkeys(workflow_ids)
    if not known:
        return
    dispatcher = _dispatcher(webhooks)
    subscription = dispatcher.subscribe() if dispatcher is not None else None
    gate = asyncio.Semaphore(max(1, concurrency))

    async def read(workflow_id: str) -> Workflow | None:
        async with gate:
            try:
                return await client.get_workflow(workflow_id)
            except _PASSING as exc:
                logger.warning("watching %s: %s", workflow_id, type(exc).__name__)
                return None

    def open_ids() -> list[str]:
        return [i for i, s in known.items() if s is None or s not in DONE_STATUSES]

    delay = poll_interval
    try:
        targets = open_ids()
        while targets:
            changes: list[StatusChange] = []
            for workflow_id, workflow in zip(
                targets, await asyncio.gather(*(read(i) for i in targets)), strict=True
            ):
                if workflow is None:
                    continue
                status = _status(workflow)
                previous = known[workflow_id]
                if status != previous:
                    known[workflow_id] = status
                    changes.append(StatusChange(workflow_id, previous, status, workflow))
            for change in changes:
                yield change
            delay = poll_interval if changes else min(delay * _BACKOFF, ceiling)
            remaining = open_ids()
            if not remaining and until_final:
                return
            if not remaining:
                remaining = list(known)
            targets = remaining
            if subscription is None:
                await asyncio.sleep(_jittered(delay))
                continue
            woken = await _wait_for_events(subscription, set(remaining), _jittered(delay))
            if woken:
                targets = sorted(woken)
    finally:
        if subscription is not None:
            subscription.close()


async def _wait_for_events(subscription: Subscription, wanted: set[str], pause: float) -> set[str]:
    """The watched workflows that webhook events named within ``pause`` seconds (maybe none)."""
    woken: set[str] = set()
    deadline = time.monotonic() + pause
    while not woken:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        try:
            event = await asyncio.wait_for(subscription.get(), left)
        except builtins.TimeoutError:
            break
        if event.workflow_id in wanted:
            woken.add(event.workflow_id)
    while (queued := subscription.get_nowait()) is not None:
        if queued.workflow_id in wanted:
            woken.add(queued.workflow_id)
    return woken
