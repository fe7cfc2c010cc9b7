"""
The emulator's state: its clock, id factory, counters, and the stored documents and workflows.

Everything lives in memory except document bytes above a small threshold, which live in files
under the emulator's data directory (see :mod:`consigno_async.emulator.documents`).
"""

from __future__ import annotations

import datetime as dt
import functools
import random
import secrets
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import attrs

from ..enums import ActionStatus, WorkflowStatus

__all__ = [
    "ActionRecord",
    "Clock",
    "IdFactory",
    "Stats",
    "Store",
    "StoredDocument",
    "WorkflowRecord",
    "iso",
]


class Clock:
    """
    The emulator's clock: wall time plus an offset that tests move forward.

    >>> clock = Clock(); before = clock.now(); clock.advance(3600)
    >>> clock.now() - before >= 3600
    True
    """

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        """Seconds since the epoch, on the emulator's clock."""
        return time.time() + self.offset

    def today(self) -> dt.date:
        """Today's date (UTC) on the emulator's clock."""
        return dt.datetime.fromtimestamp(self.now(), dt.UTC).date()

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds`` (negative values are refused)."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self.offset += seconds


@functools.lru_cache(maxsize=4096)
def iso(timestamp: float) -> str:
    """Format a timestamp as the service does: ISO-8601 UTC with milliseconds and ``Z``."""
    moment = dt.datetime.fromtimestamp(timestamp, dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class IdFactory:
    """Makes 24-lowercase-hex ids (like the service's); repeatable when given a seed."""

    def __init__(self, seed: int | None = None) -> None:
        self._random = random.Random(seed) if seed is not None else None

    def new(self) -> str:
        """A fresh id."""
        if self._random is None:
            return secrets.token_hex(12)
        return f"{self._random.getrandbits(96):024x}"


@attrs.define
class StoredDocument:
    """An uploaded (or inline) document: its metadata and where its bytes are."""

    id: str
    file_name: str
    size: int
    created_on: float
    created_by: str
    pdfa_policy: int
    label: str | None = None
    page_sizes: list[tuple[float, float]] | None = None
    path: Path | None = None
    data: bytes | None = None
    used_by: str | None = None

    @property
    def page_count(self) -> int | None:
        """The number of pages, when the PDF could be inspected."""
        return None if self.page_sizes is None else len(self.page_sizes)

    def metadata(self) -> dict[str, Any]:
        """The ``DocumentMetadata`` object the service returns for an upload."""
        meta: dict[str, Any] = {
            "documentId": self.id,
            "originalDocumentId": self.id,
            "fileName": self.file_name,
            "fileSize": self.size,
            "createdBy": self.created_by,
            "uploadDate": iso(self.created_on),
            "contentType": "application/pdf",
            "originalFileType": "pdf",
            "pageCount": self.page_count,
            "hasCorruptedSignatures": False,
            "pdfaLevel": None,
            "certificationLevel": 0,
            "pdfaPolicy": self.pdfa_policy,
            "onS3": False,
        }
        if self.label is not None:
            meta["documentLabel"] = self.label
        return meta


@attrs.define
class ActionRecord:
    """One signer's action; ``secret_answer`` is kept apart and never rendered."""

    id: str
    ref: str
    step: int
    mode: str
    zone_label: str
    signer: dict[str, Any]
    status: ActionStatus
    status_date: float
    return_url: str | None = None
    message_to_signer: str | None = None
    secret_answer: str | None = attrs.field(default=None, repr=False)
    decline_reason: str | None = None
    second_factor_used: list[str] = attrs.Factory(list)

    def to_json(self, root_url: str, workflow_id: str) -> dict[str, Any]:
        """The action as the service returns it (never with ``secretAnswer``)."""
        out: dict[str, Any] = {
            "id": self.id,
            "ref": self.ref,
            "step": self.step,
            "status": str(self.status),
            "statusDate": iso(self.status_date),
            "mode": self.mode,
            "zoneLabel": self.zone_label,
            "signer": self.signer,
            "secondFactorUsed": self.second_factor_used,
        }
        if self.return_url is not None:
            out["returnUrl"] = self.return_url
        if self.message_to_signer is not None:
            out["messageToSigner"] = self.message_to_signer
        if self.decline_reason is not None:
            out["declineReason"] = self.decline_reason
        if self.mode == "embedded":
            out["signUrl"] = f"{root_url}/ui/sign/{workflow_id}/{self.id}"
        return out


@attrs.define
class WorkflowRecord:
    """A workflow (signing project) and everything the emulator knows about it."""

    id: str
    name: str
    status: WorkflowStatus
    created_on: float
    created_by: str
    expires_on: dt.date
    pdfa_policy: int
    documents: list[dict[str, Any]]
    actions: list[ActionRecord]
    notifications: list[dict[str, Any]]
    webhooks: list[dict[str, Any]]
    owner_emails: bool
    message_to_signers: str | None = None
    extra: dict[str, Any] = attrs.Factory(dict)
    version: int = 0
    modified_on: float = 0.0
    status_date: float = 0.0
    events: list[tuple[float, str]] = attrs.Factory(list)
    signed: dict[str, Path] = attrs.Factory(dict)
    audit_pdf: bytes | None = None
    zip_path: Path | None = None
    source: dict[str, Any] = attrs.field(factory=dict, repr=False)

    def log(self, when: float, text: str) -> None:
        """Add a line to the audit trail."""
        self.events.append((when, text))

    def to_json(self, root_url: str) -> dict[str, Any]:
        """The workflow as the service returns it."""
        remaining = sum(1 for action in self.actions if action.status is not ActionStatus.COMPLETED)
        steps = Counter(action.step for action in self.actions)
        out: dict[str, Any] = {
            "id": self.id,
            "version": self.version,
            "name": self.name,
            "status": int(self.status),
            "documents": self.documents,
            "actions": [action.to_json(root_url, self.id) for action in self.actions],
            "notifications": self.notifications,
            "webhooks": self.webhooks,
            "totalActions": len(self.actions),
            "remainingActions": remaining,
            "createdBy": self.created_by,
            "modifiedBy": self.created_by,
            "createdOn": iso(self.created_on),
            "modifiedOn": iso(self.modified_on),
            "statusDate": iso(self.status_date),
            "expiresOn": self.expires_on.isoformat(),
            "editUrl": f"{root_url}/ui/workflows/{self.id}/edit",
            "workflowOwnerEmailsEnabled": self.owner_emails,
            "parallelActions": any(count > 1 for count in steps.values()),
            "sequentialDocuments": False,
            "signatureInProgress": self.status is WorkflowStatus.LAUNCHED,
            "pdfaPolicy": self.pdfa_policy,
            "messageToSigners": self.message_to_signers,
            "duplicateWebhooks": False,
            "hasOwnerDownloadedFinalDocuments": False,
        }
        out.update(self.extra)
        return out


class Stats:
    """The counters behind ``GET /_emulator/stats``."""

    def __init__(self) -> None:
        self.requests: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self.counters: Counter[str] = Counter()
        self.max_upload_buffer = 0

    def snapshot(self, store: Store) -> dict[str, Any]:
        """A JSON-ready copy of every counter."""
        by_status = Counter(str(int(wf.status)) for wf in store.workflows.values())
        return {
            "requests": {route: dict(codes) for route, codes in sorted(self.requests.items())},
            "logins": self.counters["logins"],
            "login_failures": self.counters["login_failures"],
            "tokens_issued": self.counters["tokens_issued"],
            "tokens_rotated": self.counters["tokens_rotated"],
            "workflows_created": self.counters["workflows_created"],
            "workflows_by_status": dict(sorted(by_status.items())),
            "documents_stored": len(store.documents),
            "bytes_received": self.counters["bytes_received"],
            "max_upload_buffer_bytes": self.max_upload_buffer,
            "faults_injected": self.counters["faults_injected"],
            "webhooks_delivered": self.counters["webhooks_delivered"],
            "webhook_attempts": self.counters["webhook_attempts"],
            "webhooks_failed": self.counters["webhooks_failed"],
            "webhooks_skipped": self.counters["webhooks_skipped"],
        }


class Store:
    """All the emulator's mutable state, forgotten at once by :meth:`reset`."""

    def __init__(self, seed: int | None = None) -> None:
        self.seed = seed
        self.clock = Clock()
        self.ids = IdFactory(seed)
        self.stats = Stats()
        self.documents: dict[str, StoredDocument] = {}
        self.workflows: dict[str, WorkflowRecord] = {}

    def reset(self) -> None:
        """Forget every document, workflow, counter and clock offset."""
        for document in self.documents.values():
            if document.path is not None:
                document.path.unlink(missing_ok=True)
        for workflow in self.workflows.values():
            for path in workflow.signed.values():
                path.unlink(missing_ok=True)
            if workflow.zip_path is not None:
                workflow.zip_path.unlink(missing_ok=True)
        self.clock = Clock()
        self.ids = IdFactory(self.seed)
        self.stats = Stats()
        self.documents.clear()
        self.workflows.clear()
