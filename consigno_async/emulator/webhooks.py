"""
Webhook delivery: when a workflow changes status, POST an event to each of its webhook URLs.

The event (our definition; the real service's payload is not public)::

    {"eventId": "<uuid4>", "eventType": "workflow.status_changed", "workflowId": "<id>",
     "status": 2, "previousStatus": 1, "workflowName": "...", "occurredOn": "<iso>"}

sent as JSON with the header ``X-Consigno-Event-Id: <eventId>``. A failed delivery (connection
error, timeout or non-2xx answer) is retried up to 3 times after 0.1, 0.2 and 0.4 s with the
**same** ``eventId``, so receivers can deduplicate. Only loopback URLs (``127.0.0.0/8``,
``::1``, ``localhost``) are called: the emulator never reaches out to the network; other URLs
are counted as skipped.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import uuid
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import orjson

from .state import Stats, WorkflowRecord, iso

__all__ = ["EVENT_TYPE", "RETRY_DELAYS", "WebhookSender", "is_loopback"]

log = logging.getLogger("consigno_async.emulator")

EVENT_TYPE = "workflow.status_changed"
RETRY_DELAYS = (0.1, 0.2, 0.4)
_TIMEOUT = aiohttp.ClientTimeout(total=5)


def is_loopback(url: str) -> bool:
    """True when ``url`` points at this machine (the only webhooks the emulator calls)."""
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return False
    if host is None:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class WebhookSender:
    """Delivers events in background tasks; :meth:`close` waits for none and cancels all."""

    def __init__(self, stats: Stats) -> None:
        self.stats = stats
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def event(self, workflow: WorkflowRecord, previous: int, now: float) -> dict[str, Any]:
        """Build the event for a status change of ``workflow``."""
        return {
            "eventId": str(uuid.uuid4()),
            "eventType": EVENT_TYPE,
            "workflowId": workflow.id,
            "status": int(workflow.status),
            "previousStatus": previous,
            "workflowName": workflow.name,
            "occurredOn": iso(now),
        }

    def notify(self, workflow: WorkflowRecord, previous: int, now: float) -> None:
        """Schedule delivery of a status-change event to every webhook of ``workflow``."""
        if not workflow.webhooks:
            return
        event = self.event(workflow, previous, now)
        for hook in workflow.webhooks:
            url = hook.get("url", "")
            if not is_loopback(url):
                self.stats.counters["webhooks_skipped"] += 1
                log.info("webhook to a non-loopback host skipped")
                continue
            task = asyncio.get_running_loop().create_task(self._deliver(url, event))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _deliver(self, url: str, event: dict[str, Any]) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=_TIMEOUT)
        body = orjson.dumps(event)
        headers = {"Content-Type": "application/json", "X-Consigno-Event-Id": event["eventId"]}
        for attempt, delay in enumerate((0.0, *RETRY_DELAYS)):
            if delay:
                await asyncio.sleep(delay)
            self.stats.counters["webhook_attempts"] += 1
            try:
                async with self._session.post(url, data=body, headers=headers) as response:
                    await response.read()
                    if 200 <= response.status < 300:
                        self.stats.counters["webhooks_delivered"] += 1
                        return
                    log.debug("webhook attempt %d answered %d", attempt + 1, response.status)
            except (aiohttp.ClientError, TimeoutError) as exc:
                log.debug("webhook attempt %d failed: %s", attempt + 1, type(exc).__name__)
        self.stats.counters["webhooks_failed"] += 1

    async def drain(self, timeout: float = 5.0) -> None:
        """Wait (up to ``timeout``) for the deliveries in flight."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)

    async def close(self) -> None:
        """Cancel deliveries in flight and close the HTTP session."""
        tasks = set(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None
