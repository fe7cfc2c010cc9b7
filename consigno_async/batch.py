"""
Launching many workflows at once, losing nothing and sending nothing twice.

:func:`launch_many` takes an iterable (or async iterable) of builders or specs, launches
them with bounded concurrency and returns one :class:`LaunchResult` per item, in input
order: the workflow, or the error. A bad item never stops the others. :func:`iter_launch`
is the same, yielding results as they are ready (still in input order), so a million-item
generator never sits in memory: only a bounded window of items is read ahead.

With a **journal** (a path or a :class:`~consigno_async.journal.Journal`), every step of
every item is committed as it happens: uploaded document ids, "create about to be sent",
the workflow id. Run the same batch again with the same journal after a crash, a kill or
a failure, and it

- skips the items that are done (their result has ``skipped=True`` and the workflow id),
- re-uses the documents already uploaded for the others,
- reconciles the items whose create was in flight (the client looks for the workflow the
  lost create may have made: an uploaded document belongs to one workflow only), so that
  every item ends launched exactly once.

Items are keyed by the key you give (a ``(key, spec)`` pair or a :class:`LaunchItem`) or
else by the spec's :meth:`fingerprint`; identical specs in one batch are told apart by
their order of appearance (``"<fingerprint>#2"``). ::

    results = await launch_many(client, specs, concurrency=8, journal="batch.sqlite",
                                progress=lambda p: print(p.done, p.failed, p.total))
    failed = [r for r in results if not r.ok]
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

import attrs

from .errors import AmbiguousOutcomeError, ConflictError
from .journal import ItemState, Journal, JournalEntry

if TYPE_CHECKING:
    import os

    from .builder import WorkflowBuilder
    from .client import ConsignoClient
    from .responses import Workflow
    from .spec import WorkflowSpec

__all__ = ["BatchProgress", "LaunchItem", "LaunchResult", "iter_launch", "launch_many"]

logger = logging.getLogger("consigno_async.batch")

#: How far back (seconds) a reconcile searches before the recorded create time, for clock
#: differences between this machine and the service.
RECONCILE_MARGIN = 120.0
_DOCUMENT_ALREADY_USED = "4090"


@attrs.frozen
class LaunchItem:
    """One batch item: a builder or spec, with an optional journal key of your choice."""

    spec: WorkflowSpec | WorkflowBuilder
    key: str | None = None


@attrs.frozen
class LaunchResult:
    """
    The outcome of one batch item.

    Attributes:
        index: the item's position in the input (0-based).
        key: its journal key (None when it could not even be built).
        workflow: the created workflow (None on error, and for items skipped because an
            earlier run with the same journal had launched them).
        workflow_id: the workflow's id, whenever known (also for skipped items).
        error: the exception, or None.
        skipped: the journal said the item was already done.
        reconciled: an interrupted create of an earlier run had in fact made the workflow.
    """

    index: int
    key: str | None
    workflow: Workflow | None = attrs.field(default=None, repr=False)
    workflow_id: str | None = None
    error: BaseException | None = None
    skipped: bool = False
    reconciled: bool = False

    @property
    def ok(self) -> bool:
        """True when the item is launched (now or by an earlier run)."""
        return self.error is None

    def unwrap(self) -> str:
        """The workflow id, or raise the item's error."""
        if self.error is not None:
            raise self.error
        assert self.workflow_id is not None
        return self.workflow_id


@attrs.frozen
class BatchProgress:
    """
    Counts passed to the ``progress`` callback after each change.

    Attributes:
        done: items launched (including those skipped as done by an earlier run).
        failed: items that ended in error.
        in_flight: items being worked on.
        total: how many items there are, when the input has a length; else None.
    """

    done: int
    failed: int
    in_flight: int
    total: int | None

    @property
    def finished(self) -> int:
        """Items with a result, launched or failed."""
        return self.done + self.failed


ProgressCallback: TypeAlias = Callable[[BatchProgress], object]


class _Counters:
    def __init__(self, total: int | None, callback: ProgressCallback | None) -> None:
        self.total = total
        self.done = self.failed = self.in_flight = 0
        self.callback = callback

    def report(self) -> None:
        if self.callback is not None:
            try:
                self.callback(BatchProgress(self.done, self.failed, self.in_flight, self.total))
            except Exception:
                logger.exception("batch progress callback failed")


async def _items(items: Iterable[Any] | AsyncIterable[Any]) -> AsyncIterator[Any]:
    if isinstance(items, AsyncIterable):
        async for item in items:
            yield item
    else:
        for item in items:
            yield item


def _split(item: Any) -> tuple[str | None, Any]:
    if isinstance(item, LaunchItem):
        return item.key, item.spec
    if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
        return item[0], item[1]
    return None, item


def _prepare(raw: Any) -> tuple[str | None, WorkflowSpec, str]:
    """Build the spec if need be and compute its fingerprint (runs in a worker thread)."""
    from .spec import WorkflowSpec

    key, target = _split(raw)
    spec = target if isinstance(target, WorkflowSpec) else None
    if spec is None:
        build = getattr(target, "build", None)
        if not callable(build):
            raise TypeError(
                f"a batch item must be a WorkflowBuilder, a WorkflowSpec, a LaunchItem or a "
                f"(key, spec) pair, not {type(target).__name__}"
            )
        spec = build()
        if not isinstance(spec, WorkflowSpec):
            raise TypeError(f"build() returned {type(spec).__name__}, not a WorkflowSpec")
    return key, spec, spec.fingerprint()


def _describe(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}"[:1000]


class _Batch:
    """The state of one run of :func:`iter_launch`."""

    def __init__(
        self,
        client: ConsignoClient,
        journal: Journal | None,
        counters: _Counters,
    ) -> None:
        self.client = client
        self.journal = journal
        self.counters = counters

    async def run(self, index: int, raw: Any, gate: asyncio.Semaphore) -> LaunchResult:
        async with gate:
            self.counters.in_flight += 1
            self.counters.report()
            key: str | None = None
            try:
                key, spec, fingerprint = await asyncio.to_thread(_prepare, raw)
                key = self._journal_key(key, fingerprint)
                result = await self._journaled(index, key, spec)
            except Exception as exc:
                logger.info("batch item %d (%s) failed: %s", index, key, _describe(exc))
                exc.__traceback__ = None  # do not keep the item's frames alive
                result = LaunchResult(index, key, error=exc)
            finally:
                self.counters.in_flight -= 1
            if result.ok:
                self.counters.done += 1
            else:
                self.counters.failed += 1
            self.counters.report()
            return result

    def _journal_key(self, given: str | None, fingerprint: str) -> str:
        key = given if given is not None else fingerprint
        if self.journal is None:
            return key
        seen = self.journal.occurrence(key)
        if seen == 1:
            return key
        if given is not None:
            raise ValueError(f"key {given!r} appears more than once in this batch")
        return f"{fingerprint}#{seen}"

    async def _journaled(self, index: int, key: str, spec: WorkflowSpec) -> LaunchResult:
        if self.journal is None:
            return await self._launch(index, key, spec, None)
        entry = self.journal.begin(key)
        try:
            return await self._launch(index, key, spec, entry)
        except Exception as exc:
            self.journal.mark_failed(key, _describe(exc))
            raise

    async def _launch(
        self, index: int, key: str, spec: WorkflowSpec, entry: JournalEntry | None
    ) -> LaunchResult:
        journal = self.journal
        document_ids: dict[str, str] = {}
        if journal is not None:
            assert entry is not None
            if entry.state is ItemState.DONE:
                return LaunchResult(index, key, workflow_id=entry.workflow_id, skipped=True)
            document_ids = dict(entry.document_ids)
            if entry.create_may_have_happened:
                assert entry.create_started is not None
                found = await self._reconcile(spec, document_ids, entry.create_started)
                if found is not None:
                    journal.mark_done(key, found.id)
                    return LaunchResult(
                        index, key, workflow=found, workflow_id=found.id, reconciled=True
                    )
        if not spec.inline:
            await self._upload_missing(key, spec, document_ids)
        started = journal.mark_creating(key) if journal is not None else time.time()
        ids = None if spec.inline else document_ids
        try:
            workflow = await self.client.create_workflow(spec, document_ids=ids, launch=spec.launch)
        except ConflictError as exc:
            if exc.code != _DOCUMENT_ALREADY_USED:
                raise
            # Our documents are used: an earlier create made the workflow after all.
            found = await self._reconcile(spec, document_ids, started)
            if found is None:
                if journal is not None:
                    journal.forget_uploads(key)
                raise
            if journal is not None:
                journal.mark_done(key, found.id)
            return LaunchResult(index, key, workflow=found, workflow_id=found.id, reconciled=True)
        except AmbiguousOutcomeError:
            raise  # the journal keeps "creating"-time: a rerun reconciles
        if journal is not None:
            journal.mark_done(key, workflow.id)
        return LaunchResult(index, key, workflow=workflow, workflow_id=workflow.id)

    async def _reconcile(
        self, spec: WorkflowSpec, document_ids: Mapping[str, str], since: float
    ) -> Workflow | None:
        return await self.client.reconcile_workflow(
            spec,
            document_ids=None if spec.inline else dict(document_ids),
            since=since - RECONCILE_MARGIN,
        )

    async def _upload_missing(
        self, key: str, spec: WorkflowSpec, document_ids: dict[str, str]
    ) -> None:
        missing = [doc for doc in spec.documents if doc.key not in document_ids]
        if not missing:
            return

        async def upload(doc: Any) -> None:
            meta = await self.client.upload_document(
                doc.source, pdfa=doc.pdfa, label=doc.label, file_name=doc.file_name
            )
            document_ids[doc.key] = meta.document_id
            if self.journal is not None:
                self.journal.record_upload(key, doc.key, meta.document_id)

        outcomes = await asyncio.gather(*(upload(doc) for doc in missing), return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome


async def iter_launch(
    client: ConsignoClient,
    items: Iterable[Any] | AsyncIterable[Any],
    *,
    concurrency: int = 8,
    journal: Journal | str | os.PathLike[str] | None = None,
    progress: ProgressCallback | None = None,
    window: int | None = None,
) -> AsyncIterator[LaunchResult]:
    """
    Launch ``items`` and yield one :class:`LaunchResult` per item, in input order, as soon
    as the item and all those before it are finished. At most ``concurrency`` items are
    worked on at once, and at most ``window`` (default ``4 * concurrency``) are read ahead
    of the first unfinished one. Arguments as for :func:`launch_many`.

    Breaking out of the loop (or cancelling it) cancels the items in flight; their journal
    rows say how far they got, so a rerun completes them exactly once.
    """
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    ahead = window if window is not None else 4 * concurrency
    if ahead < concurrency:
        raise ValueError("window must be at least concurrency")
    own_journal = journal is not None and not isinstance(journal, Journal)
    log: Journal | None
    if journal is None or isinstance(journal, Journal):
        log = journal
    else:
        log = await asyncio.to_thread(Journal, Path(journal))
    total = len(items) if isinstance(items, collections.abc.Sized) else None
    counters = _Counters(total, progress)
    batch = _Batch(client, log, counters)
    gate = asyncio.Semaphore(concurrency)
    pending: collections.deque[asyncio.Task[LaunchResult]] = collections.deque()
    try:
        if log is not None:
            log.start_run()
        counters.report()
        index = 0
        async for raw in _items(items):
            pending.append(asyncio.create_task(batch.run(index, raw, gate)))
            index += 1
            while pending and (pending[0].done() or len(pending) >= ahead):
                yield await pending.popleft()
        while pending:
            yield await pending.popleft()
    finally:
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
        if own_journal and log is not None:
            log.close()


async def launch_many(
    client: ConsignoClient,
    items: Iterable[Any] | AsyncIterable[Any],
    *,
    concurrency: int = 8,
    journal: Journal | str | os.PathLike[str] | None = None,
    progress: ProgressCallback | None = None,
) -> list[LaunchResult]:
    """
    Launch many workflows; return one :class:`LaunchResult` per item, in input order.

    Args:
        client: an open :class:`~consigno_async.ConsignoClient`. Its own in-flight bound
            applies to the uploads and creates of all items together.
        items: builders, specs, ``(key, spec)`` pairs or :class:`LaunchItem` objects, in a
            list, any iterable, or an async iterable; read lazily.
        concurrency: how many items are worked on at once.
        journal: a path (opened, and closed at the end) or an open
            :class:`~consigno_async.journal.Journal`; makes the batch resumable.
        progress: called with a :class:`BatchProgress` after every change.

    Example::

        builders = (make_builder(row) for row in rows)
        results = await launch_many(client, builders, concurrency=16, journal="b.sqlite")
        print(sum(r.ok for r in results), "launched")
    """
    return [
        result
        async for result in iter_launch(
            client, items, concurrency=concurrency, journal=journal, progress=progress
        )
    ]
