"""
Webhooks: turn the service's webhook POSTs into typed events, drop duplicates, and hand them
to whoever waits for them.

The pieces, usable separately:

- :func:`parse_event` (framework-neutral): body bytes and headers in, a typed
  :class:`WebhookEvent` out, or :class:`~consigno_async.errors.InvalidWebhookError`.
- :class:`EventDeduplicator`: remembers the last N event ids (bounded memory); the service
  retries a failed delivery with the same ``eventId``.
- :class:`WebhookDispatcher`: an in-process fan-out. :func:`~consigno_async.completion.
  wait_for_completion` subscribes to it and wakes as soon as its workflow's event arrives.
- :class:`WebhookReceiver`: parse, deduplicate, optionally confirm, then dispatch; with an
  aiohttp handler (:meth:`WebhookReceiver.aiohttp_handler`) and :func:`make_app`.

The service does not sign its webhooks, so anyone who can reach your endpoint can post an
event. With ``confirm=True`` the receiver re-reads the workflow through the client before
dispatching, and the event carries the service's own status (``event.confirmed`` is True)::

    from aiohttp import web
    from consigno_async.webhooks import WebhookDispatcher, WebhookReceiver

    dispatcher = WebhookDispatcher()
    receiver = WebhookReceiver(dispatcher, client=client, confirm=True)
    app = web.Application()
    app.router.add_post("/consigno/webhook", receiver.aiohttp_handler)
    # ... and elsewhere:
    wf = await wait_for_completion(client, workflow_id, dispatcher=dispatcher)
"""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import logging
import re
from collections.abc import AsyncIterator, Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

import attrs
import orjson
from aiohttp import web

from .enums import WorkflowStatus
from .errors import ConsignoError, InvalidWebhookError, NotFoundError

if TYPE_CHECKING:
    from .client import ConsignoClient
    from .responses import Workflow

__all__ = [
    "EVENT_ID_HEADER",
    "EventDeduplicator",
    "Subscription",
    "WebhookDispatcher",
    "WebhookEvent",
    "WebhookReceiver",
    "make_app",
    "parse_event",
]

logger = logging.getLogger("consigno_async.webhooks")

EVENT_ID_HEADER = "X-Consigno-Event-Id"
"""The header that repeats the event's id (a retry carries the same one)."""

MAX_BODY_BYTES = 64 * 1024
_WORKFLOW_ID = re.compile(r"^[0-9a-f]{24}$")


@attrs.frozen
class WebhookEvent:
    """
    One webhook event, typed.

    Attributes:
        event_id: unique per event; a redelivery carries the same id.
        event_type: e.g. ``"workflow.status_changed"``.
        workflow_id: the workflow the event is about.
        status: its new status (the service's own, when ``confirmed``).
        previous_status: its status before, when the event says.
        workflow_name: the workflow's name, as the event says.
        occurred_on: when it happened (timezone-aware UTC).
        confirmed: True when the receiver re-read the workflow through the client.
        workflow: the workflow as re-read, when ``confirmed``.
    """

    event_id: str
    event_type: str
    workflow_id: str
    status: WorkflowStatus
    previous_status: WorkflowStatus | None
    workflow_name: str
    occurred_on: dt.datetime
    confirmed: bool = False
    workflow: Workflow | None = attrs.field(default=None, eq=False, repr=False)


def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    if not headers:
        return None
    value = headers.get(name)
    if value is not None:
        return value
    lowered = name.lower()
    for key, candidate in headers.items():
        if key.lower() == lowered:
            return candidate
    return None


def _status(value: Any, field: str) -> WorkflowStatus:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidWebhookError(f"webhook field {field!r} must be an integer status")
    try:
        return WorkflowStatus(value)
    except ValueError:
        raise InvalidWebhookError(f"webhook field {field!r} has unknown status {value}") from None


def _text(data: Mapping[str, Any], field: str, *, required: bool = True) -> str:
    value = data.get(field)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise InvalidWebhookError(f"webhook field {field!r} must be a non-empty string")
    return value


def parse_event(
    body: bytes | str | Mapping[str, Any], headers: Mapping[str, str] | None = None
) -> WebhookEvent:
    """
    Parse one webhook delivery into a :class:`WebhookEvent`.

    ``body`` is the raw request body (bytes or text) or an already decoded JSON object;
    ``headers`` any mapping (header names are matched without regard to case). Unknown
    fields are ignored. Raises :class:`~consigno_async.errors.InvalidWebhookError` naming
    the first bad field.

    >>> event = parse_event(
    ...     b'{"eventId": "e1", "eventType": "workflow.status_changed",'
    ...     b' "workflowId": "0123456789abcdef01234567", "status": 2, "previousStatus": 1,'
    ...     b' "workflowName": "NDA", "occurredOn": "2026-01-02T03:04:05.678Z"}',
    ...     {"x-consigno-event-id": "e1"},
    ... )
    >>> event.status, event.occurred_on.year
    (<WorkflowStatus.COMPLETED: 2>, 2026)
    """
    if isinstance(body, bytes | bytearray | memoryview | str):
        raw = bytes(body) if not isinstance(body, str) else body.encode()
        if len(raw) > MAX_BODY_BYTES:
            raise InvalidWebhookError(f"webhook body is larger than {MAX_BODY_BYTES} bytes")
        try:
            data: Any = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise InvalidWebhookError("webhook body is not valid JSON") from None
    else:
        data = body
    if not isinstance(data, Mapping):
        raise InvalidWebhookError("webhook body must be a JSON object")

    event_id = _text(data, "eventId")
    if len(event_id) > 200:
        raise InvalidWebhookError("webhook field 'eventId' is too long")
    header_id = _header(headers, EVENT_ID_HEADER)
    if header_id is not None and header_id != event_id:
        raise InvalidWebhookError(f"header {EVENT_ID_HEADER} does not match the body's eventId")
    workflow_id = _text(data, "workflowId")
    if not _WORKFLOW_ID.match(workflow_id):
        raise InvalidWebhookError("webhook field 'workflowId' must be 24 lowercase hex digits")
    previous = data.get("previousStatus")
    occurred_text = _text(data, "occurredOn")
    try:
        occurred = dt.datetime.fromisoformat(occurred_text)
    except ValueError:
        raise InvalidWebhookError("webhook field 'occurredOn' is not an ISO-8601 time") from None
    if occurred.tzinfo is None:
        occurred = occurred.replace(tzinfo=dt.UTC)
    return WebhookEvent(
        event_id=event_id,
        event_type=_text(data, "eventType"),
        workflow_id=workflow_id,
        status=_status(data.get("status"), "status"),
        previous_status=None if previous is None else _status(previous, "previousStatus"),
        workflow_name=_text(data, "workflowName", required=False),
        occurred_on=occurred.astimezone(dt.UTC),
    )


class EventDeduplicator:
    """
    Remembers the ids of the last ``max_size`` events (least recently seen forgotten first).

    >>> seen = EventDeduplicator(max_size=2)
    >>> seen.add("a"), seen.add("a"), seen.add("b"), seen.add("c"), "a" in seen
    (True, False, True, True, False)
    """

    def __init__(self, max_size: int = 10_000) -> None:
        if max_size < 1:
            raise ValueError("max_size must be at least 1")
        self.max_size = max_size
        self._ids: collections.OrderedDict[str, None] = collections.OrderedDict()

    def __contains__(self, event_id: object) -> bool:
        return event_id in self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, event_id: str) -> bool:
        """Record ``event_id``; True if it is new, False if it was already seen."""
        if event_id in self._ids:
            self._ids.move_to_end(event_id)
            return False
        self._ids[event_id] = None
        if len(self._ids) > self.max_size:
            self._ids.popitem(last=False)
        return True


class Subscription:
    """
    A queue of events from a :class:`WebhookDispatcher`, optionally for one workflow only.

    Use it as a context manager (it unsubscribes on exit) and either ``await sub.get()`` or
    ``async for event in sub``. The queue is bounded: if the reader falls behind by more
    than ``maxsize`` events, the oldest are dropped (``sub.dropped`` counts them).
    """

    def __init__(
        self, dispatcher: WebhookDispatcher, workflow_id: str | None, maxsize: int
    ) -> None:
        self.workflow_id = workflow_id
        self.dropped = 0
        self._dispatcher = dispatcher
        self._queue: asyncio.Queue[WebhookEvent] = asyncio.Queue(maxsize)
        self._closed = False

    def _offer(self, event: WebhookEvent) -> None:
        if self._queue.full():
            self._queue.get_nowait()
            self.dropped += 1
        self._queue.put_nowait(event)

    async def get(self) -> WebhookEvent:
        """The next event (waits for one)."""
        return await self._queue.get()

    def get_nowait(self) -> WebhookEvent | None:
        """The next event if one is queued, else None."""
        try:
            return self._queue.get_nowait()
        except asyncio.QueueEmpty:
            return None

    def close(self) -> None:
        """Stop receiving events. Safe to call twice."""
        if not self._closed:
            self._closed = True
            self._dispatcher._remove(self)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __aiter__(self) -> AsyncIterator[WebhookEvent]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[WebhookEvent]:
        while not self._closed:
            yield await self._queue.get()


class WebhookDispatcher:
    """
    Fans events out to subscribers and listeners, in process.

    >>> dispatcher = WebhookDispatcher()
    >>> seen = []
    >>> remove = dispatcher.add_listener(seen.append)
    >>> sub = dispatcher.subscribe("0123456789abcdef01234567")
    >>> dispatcher.subscriber_count
    1
    >>> sub.close(); remove(); dispatcher.subscriber_count
    0
    """

    def __init__(self) -> None:
        self._all: list[Subscription] = []
        self._by_workflow: dict[str, list[Subscription]] = {}
        self._listeners: list[Callable[[WebhookEvent], None]] = []

    def subscribe(self, workflow_id: str | None = None, *, maxsize: int = 100) -> Subscription:
        """A new :class:`Subscription` to every event, or to ``workflow_id``'s only."""
        sub = Subscription(self, workflow_id, maxsize)
        if workflow_id is None:
            self._all.append(sub)
        else:
            self._by_workflow.setdefault(workflow_id, []).append(sub)
        return sub

    def add_listener(self, callback: Callable[[WebhookEvent], None]) -> Callable[[], None]:
        """Call ``callback(event)`` for each event; returns a function that removes it."""
        self._listeners.append(callback)

        def remove() -> None:
            if callback in self._listeners:
                self._listeners.remove(callback)

        return remove

    def _remove(self, sub: Subscription) -> None:
        if sub.workflow_id is None:
            if sub in self._all:
                self._all.remove(sub)
            return
        subs = self._by_workflow.get(sub.workflow_id, [])
        if sub in subs:
            subs.remove(sub)
        if not subs:
            self._by_workflow.pop(sub.workflow_id, None)

    @property
    def subscriber_count(self) -> int:
        """How many subscriptions are open."""
        return len(self._all) + sum(len(s) for s in self._by_workflow.values())

    def publish(self, event: WebhookEvent) -> int:
        """Deliver ``event``; returns how many subscriptions and listeners received it."""
        targets = [*self._all, *self._by_workflow.get(event.workflow_id, ())]
        for sub in targets:
            sub._offer(event)
        for callback in list(self._listeners):
            try:
                callback(event)
            except Exception:
                logger.exception("webhook listener %r failed", callback)
        return len(targets) + len(self._listeners)


@attrs.define
class ReceiverStats:
    """Counters of a :class:`WebhookReceiver`."""

    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    unconfirmed: int = 0


class WebhookReceiver:
    """
    Parses, deduplicates, optionally confirms, and dispatches webhook deliveries.

    Args:
        dispatcher: where accepted events go (a new one if omitted: ``receiver.dispatcher``).
        client: a :class:`~consigno_async.client.ConsignoClient`, needed for ``confirm``.
        confirm: re-read the workflow before trusting the event. An event about a workflow
            the client cannot see is rejected; the dispatched event carries the service's
            own status and the workflow (``confirmed=True``).
        dedupe_size: how many recent event ids to remember.
    """

    def __init__(
        self,
        dispatcher: WebhookDispatcher | None = None,
        *,
        client: ConsignoClient | None = None,
        confirm: bool = False,
        dedupe_size: int = 10_000,
    ) -> None:
        if confirm and client is None:
            raise ValueError("confirm=True needs a client to re-read workflows")
        self.dispatcher = dispatcher if dispatcher is not None else WebhookDispatcher()
        self.client = client
        self.confirm = confirm
        self.stats = ReceiverStats()
        self._seen = EventDeduplicator(dedupe_size)
        self._in_progress: set[str] = set()

    async def handle(
        self, body: bytes | str | Mapping[str, Any], headers: Mapping[str, str] | None = None
    ) -> WebhookEvent | None:
        """
        Handle one delivery: returns the dispatched event, or None for a duplicate.
        Raises :class:`~consigno_async.errors.InvalidWebhookError` for a bad event (or,
        with ``confirm``, one about an unknown workflow), and lets a client error through
        when the workflow could not be re-read (the delivery should then be retried).
        """
        try:
            event = parse_event(body, headers)
        except InvalidWebhookError:
            self.stats.rejected += 1
            raise
        if event.event_id in self._seen or event.event_id in self._in_progress:
            self.stats.duplicates += 1
            logger.debug("duplicate webhook event %s dropped", event.event_id)
            return None
        self._in_progress.add(event.event_id)
        try:
            if self.confirm:
                event = await self._confirm(event)
            self._seen.add(event.event_id)
        finally:
            self._in_progress.discard(event.event_id)
        self.stats.accepted += 1
        self.dispatcher.publish(event)
        return event

    async def _confirm(self, event: WebhookEvent) -> WebhookEvent:
        assert self.client is not None
        try:
            workflow = await self.client.get_workflow(event.workflow_id)
        except NotFoundError:
            self.stats.rejected += 1
            raise InvalidWebhookError(
                f"webhook event {event.event_id} is about an unknown workflow"
            ) from None
        status = WorkflowStatus(int(workflow.status))
        if status != event.status:
            self.stats.unconfirmed += 1
            logger.info(
                "webhook event %s said status %s; the service says %s",
                event.event_id,
                event.status.name,
                status.name,
            )
        return attrs.evolve(event, status=status, confirmed=True, workflow=workflow)

    async def aiohttp_handler(self, request: web.Request) -> web.Response:
        """
        An ``aiohttp.web`` handler: 200 for an accepted or duplicate event, 400 for a bad
        one, 413 for an oversized body, 503 when the workflow could not be re-read (so the
        service retries).
        """
        if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
            return web.json_response({"error": "body too large"}, status=413)
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.content.iter_any():
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                return web.json_response({"error": "body too large"}, status=413)
            chunks.append(chunk)
        body = b"".join(chunks)
        try:
            event = await self.handle(body, request.headers)
        except InvalidWebhookError as exc:
            return web.json_response({"error": str(exc)}, status=400)
        except ConsignoError as exc:
            logger.warning("webhook confirmation failed: %s", type(exc).__name__)
            return web.json_response({"error": "could not confirm the event"}, status=503)
        return web.json_response({"result": "accepted" if event else "duplicate"})


def make_app(receiver: WebhookReceiver, path: str = "/consigno/webhook") -> web.Application:
    """An ``aiohttp.web.Application`` that serves ``receiver`` at ``POST path``."""
    app = web.Application()
    app.router.add_post(path, receiver.aiohttp_handler)
    return app
