"""
Finding the workflow a lost ``POST /workflows`` may have created.

When the connection drops after the request was sent, the client cannot know whether the
service created the workflow. Sending it again could create it twice; giving up could lose
it. :func:`find_created_workflow` looks instead, in the most recent workflows (``GET
/workflows`` sorted by ``createdOn``, newest first, stopping once past the time window):

- **Uploaded documents** identify the workflow for sure: a document can belong to one
  workflow only, so a workflow that refers to any of the spec's document ids is the one.
- **Inline documents** have no id: the workflow is recognised by its name, its signers'
  e-mail addresses and a creation time at or after the moment the create was sent. One match
  is the workflow; none means it was not created; several mean the client cannot tell, and
  :class:`~consigno_async.errors.AmbiguousOutcomeError` says so, carrying what it knows (the
  name, the window, the candidates' ids; never a secret).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Final

from ._logging import logger
from .errors import AmbiguousOutcomeError, ApiError, ResponseFormatError, TransportError
from .responses import Workflow, WorkflowPage

if TYPE_CHECKING:
    from .spec import WorkflowSpec

__all__ = ["CLOCK_SKEW", "INLINE_SKEW", "MAX_PAGES", "find_created_workflow", "matches_inline"]

_log = logger.getChild("reconcile")

#: Tolerance between the client's clock and the service's ``createdOn``, in seconds.
CLOCK_SKEW: Final = 120.0

#: For an inline spec, how much earlier than ``since`` a match may have been created. Kept
#: small: an identical workflow made a little earlier on purpose must not be taken for ours.
INLINE_SKEW: Final = 5.0

#: The search never reads more than this many pages of 100 workflows.
MAX_PAGES: Final = 20

PageFetcher = Callable[..., Awaitable[WorkflowPage]]


def _epoch(since: float | dt.datetime) -> float:
    if isinstance(since, dt.datetime):
        if since.tzinfo is None:
            raise ValueError("since must be timezone-aware (or epoch seconds)")
        return since.timestamp()
    return float(since)


def _signer_emails(spec: WorkflowSpec) -> tuple[str, ...]:
    emails = []
    for action in spec.workflow.actions:
        email = getattr(action.signer, "email", None)
        emails.append((email or "").lower())
    return tuple(sorted(emails))


def matches_inline(workflow: Workflow, spec: WorkflowSpec, *, not_before: float) -> bool:
    """True if ``workflow`` looks made by the inline ``spec`` after ``not_before``."""
    if workflow.name != spec.name or workflow.created_on is None:
        return False
    if workflow.created_on.timestamp() < not_before:
        return False
    if len(workflow.documents) != len(spec.documents):
        return False
    found = tuple(
        sorted(((a.signer.email if a.signer else None) or "").lower() for a in workflow.actions)
    )
    return found == _signer_emails(spec)


async def find_created_workflow(
    fetch_page: PageFetcher,
    spec: WorkflowSpec,
    *,
    document_ids: Mapping[str, str] | None,
    since: float | dt.datetime,
    skew: float = CLOCK_SKEW,
    page_size: int = 100,
) -> Workflow | None:
    """
    The workflow created from ``spec`` at or after ``since``, or None if there is none.

    Args:
        fetch_page: ``await fetch_page(offset, limit, sort="createdOn", descending=True)``
            returning a :class:`~consigno_async.responses.WorkflowPage` (the client's
            ``list_workflow_page``).
        spec: what was sent.
        document_ids: the uploaded document ids by key (None or ignored for an inline spec).
        since: when the create was first sent (epoch seconds or an aware datetime).

    Raises:
        AmbiguousOutcomeError: several workflows match an inline spec, or the search failed.
    """
    window_start = _epoch(since) - skew
    ids = frozenset(document_ids.values()) if document_ids and not spec.inline else frozenset()
    known: dict[str, Any] = {
        "workflow_name": spec.name,
        "since": dt.datetime.fromtimestamp(_epoch(since), dt.UTC).isoformat(),
        "document_ids": sorted(ids),
    }
    candidates: list[Workflow] = []
    offset = 0
    try:
        for _ in range(MAX_PAGES):
            page = await fetch_page(offset, page_size, sort="createdOn", descending=True)
            past_window = False
            for workflow in page.workflows:
                if ids:
                    if workflow.document_ids & ids:
                        return workflow
                elif matches_inline(workflow, spec, not_before=_epoch(since) - INLINE_SKEW):
                    candidates.append(workflow)
                created = workflow.created_on
                if created is not None and created.timestamp() < window_start:
                    past_window = True
            offset += len(page.workflows)
            if past_window or not page.workflows or offset >= page.total:
                break
        else:
            _log.warning("reconcile: stopped after %d pages without leaving the window", MAX_PAGES)
    except (TransportError, ApiError, ResponseFormatError) as exc:
        raise AmbiguousOutcomeError(
            "create_workflow",
            f"the workflow may have been created, and the search for it failed "
            f"({type(exc).__name__})",
            known,
        ) from exc
    if len(candidates) > 1:
        known["candidates"] = [w.id for w in candidates]
        raise AmbiguousOutcomeError(
            "create_workflow",
            f"{len(candidates)} workflows named {spec.name!r} with the same signers were "
            "created in the window; cannot tell which one this call made",
            known,
        )
    return candidates[0] if candidates else None
