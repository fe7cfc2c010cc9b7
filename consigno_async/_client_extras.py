"""
The client's high-level methods: batch launching, completion tracking and archiving.

They live in their own modules (:mod:`~consigno_async.batch`,
:mod:`~consigno_async.completion`, :mod:`~consigno_async.archive`) as functions taking the
client; :class:`ClientExtras` is the mixin that makes them methods of
:class:`~consigno_async.ConsignoClient`, so that both spellings work::

    results = await client.launch_many(builders, concurrency=8, journal="batch.sqlite")
    results = await launch_many(client, builders, concurrency=8, journal="batch.sqlite")

The modules are imported on first use, keeping ``import consigno_async.client`` light.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from .archive import ArchiveResult
    from .batch import LaunchResult, ProgressCallback
    from .client import ConsignoClient
    from .completion import StatusChange
    from .journal import Journal
    from .responses import Workflow
    from .webhooks import WebhookDispatcher, WebhookReceiver

__all__ = ["ClientExtras"]


class ClientExtras:
    """Methods of :class:`~consigno_async.ConsignoClient` that delegate to the batch,
    completion and archive modules (see each function for the details)."""

    def _as_client(self) -> ConsignoClient:
        return cast("ConsignoClient", self)

    async def launch_many(
        self,
        items: Iterable[Any] | AsyncIterable[Any],
        *,
        concurrency: int = 8,
        journal: Journal | str | os.PathLike[str] | None = None,
        progress: ProgressCallback | None = None,
    ) -> list[LaunchResult]:
        """
        Launch many workflows; one ``LaunchResult`` per item, in input order. See
        :func:`consigno_async.batch.launch_many`.
        """
        from .batch import launch_many

        return await launch_many(
            self._as_client(), items, concurrency=concurrency, journal=journal, progress=progress
        )

    def iter_launch(
        self,
        items: Iterable[Any] | AsyncIterable[Any],
        *,
        concurrency: int = 8,
        journal: Journal | str | os.PathLike[str] | None = None,
        progress: ProgressCallback | None = None,
        window: int | None = None,
    ) -> AsyncIterator[LaunchResult]:
        """Like :meth:`launch_many`, yielding results as they are ready (in input order)."""
        from .batch import iter_launch

        return iter_launch(
            self._as_client(),
            items,
            concurrency=concurrency,
            journal=journal,
            progress=progress,
            window=window,
        )

    async def wait_for_completion(
        self,
        workflow_id: str,
        *,
        timeout: float | None = None,
        poll_interval: float = 5.0,
        max_interval: float | None = None,
        webhooks: WebhookDispatcher | WebhookReceiver | None = None,
    ) -> Workflow:
        """
        Wait until the workflow is completed, declined or expired and return it. See
        :func:`consigno_async.completion.wait_for_completion`.
        """
        from .completion import wait_for_completion

        return await wait_for_completion(
            self._as_client(),
            workflow_id,
            timeout=timeout,
            poll_interval=poll_interval,
            max_interval=max_interval,
            webhooks=webhooks,
        )

    def watch(
        self,
        workflow_ids: Iterable[str],
        *,
        poll_interval: float = 5.0,
        max_interval: float | None = None,
        webhooks: WebhookDispatcher | WebhookReceiver | None = None,
        until_final: bool = True,
    ) -> AsyncIterator[StatusChange]:
        """
        An async iterator of status changes over many workflows. See
        :func:`consigno_async.completion.watch`.
        """
        from .completion import watch

        return watch(
            self._as_client(),
            workflow_ids,
            poll_interval=poll_interval,
            max_interval=max_interval,
            webhooks=webhooks,
            until_final=until_final,
        )

    async def archive(
        self, workflow_id: str, dest_dir: str | os.PathLike[str], *, overwrite: bool = False
    ) -> ArchiveResult:
        """
        Save the workflow's evidence bundle (signed documents, audit trail, workflow JSON,
        manifest with SHA-256) in ``dest_dir``. See :func:`consigno_async.archive.archive`.
        """
        from .archive import archive

        return await archive(self._as_client(), workflow_id, dest_dir, overwrite=overwrite)
