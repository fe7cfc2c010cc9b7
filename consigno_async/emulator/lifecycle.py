"""
The life of a workflow in the emulator: create, update, launch, sign, decline, expire, delete,
and what each download returns. Every status change sends the workflow's webhooks.

Steps are honoured: when launched, the actions of the lowest step start; the next step starts
once every action of the current one is completed; completion writes the signed documents and
the audit trail.
"""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import functools
from pathlib import Path
from typing import Any

from ..enums import ActionStatus, WorkflowStatus
from .codes import EmulatorError
from .documents import decode_inline, document_texts
from .signing import make_audit_trail, make_signed_document, make_zip
from .state import ActionRecord, Store, StoredDocument, WorkflowRecord
from .validation import (
    DocumentFacts,
    check_rules,
    check_shape,
    effective_steps,
    parse_expiry,
)
from .webhooks import WebhookSender

__all__ = ["Engine", "is_workflow_id"]

_HEX = frozenset("0123456789abcdef")
_OPEN = (WorkflowStatus.CREATED, WorkflowStatus.LAUNCHED, WorkflowStatus.FROM_TEMPLATE)
_DRAFT_KEYS = frozenset({"documents", "actions", "notifications", "webhooks"})
_PASSED_THROUGH = ("returnUrl", "customInitiatorName", "customInitiatorEmail")
_SORT_FIELDS = {"createdOn": "created_on", "name": "name", "status": "status"}


def is_workflow_id(value: str) -> bool:
    """True for a well-formed id: 24 lowercase hex characters."""
    return len(value) == 24 and set(value) <= _HEX


def _public_person(person: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in person.items() if k != "secretAnswer"}
    out.setdefault("amr", [])
    out.setdefault("lang", "en")
    return out


class Engine:
    """The workflow and document operations behind the API and control routes."""

    def __init__(self, store: Store, webhooks: WebhookSender, data_dir: Path) -> None:
        self.store = store
        self.webhooks = webhooks
        self.data_dir = data_dir
        self.root_url = ""
        self.second_factor_required = True
        self.lock = asyncio.Lock()

    # -- lookup ------------------------------------------------------------------------------

    def workflow(self, workflow_id: str) -> WorkflowRecord:
        """The workflow ``workflow_id``, expired first if past ``expiresOn``; else 5004."""
        record = self.store.workflows.get(workflow_id) if is_workflow_id(workflow_id) else None
        if record is None:
            shown = workflow_id[:40]
            raise EmulatorError("5004", f"Workflow {shown} not found", id=shown)
        self._check_expiry(record)
        return record

    def refresh_expiry(self) -> None:
        """Expire every open workflow past its ``expiresOn`` (before listing or counting)."""
        for record in self.store.workflows.values():
            self._check_expiry(record)

    def _check_expiry(self, record: WorkflowRecord) -> None:
        if record.status in _OPEN and self.store.clock.today() > record.expires_on:
            self._set_status(record, WorkflowStatus.EXPIRED, "The workflow expired")

    def _set_status(self, record: WorkflowRecord, status: WorkflowStatus, text: str) -> None:
        now = self.store.clock.now()
        previous = int(record.status)
        record.status = status
        record.status_date = now
        record.modified_on = now
        record.version += 1
        record.log(now, text)
        self.webhooks.notify(record, previous, now)

    def render(self, record: WorkflowRecord) -> dict[str, Any]:
        """The workflow's JSON, as responses carry it."""
        return record.to_json(self.root_url)

    # -- create / update ---------------------------------------------------------------------

    def _resolve_documents(
        self, body: dict[str, Any], user: str, owner: str | None
    ) -> tuple[list[StoredDocument], list[StoredDocument]]:
        """The documents of ``body`` (and which of them are new inline ones)."""
        resolved: list[StoredDocument] = []
        fresh: list[StoredDocument] = []
        policy = int(body.get("pdfaPolicy", 0))
        try:
            for index, doc in enumerate(body["documents"]):
                if "documentId" in doc:
                    stored = self.store.documents.get(doc["documentId"])
                    if stored is None:
                        raise EmulatorError(
                            "4000",
                            f"Document at documents[{index}] is unknown",
                            rule="unknown_document",
                            path=f"documents[{index}].documentId",
                            rules="unknown_document",
                        )
                    if any(stored is seen for seen in resolved) or (
                        stored.used_by is not None and stored.used_by != owner
                    ):
                        raise EmulatorError(
                            "4090",
                            "A document can be assigned to a single workflow; upload it again",
                            documentId=stored.id,
                        )
                    resolved.append(stored)
                else:
                    path = f"documents[{index}].data"
                    stored = decode_inline(
                        self.store, self.data_dir, user, doc["name"], doc["data"], policy, path
                    )
                    fresh.append(stored)
                    resolved.append(stored)
        except BaseException:
            self._discard(fresh)
            raise
        return resolved, fresh

    def _discard(self, documents: list[StoredDocument]) -> None:
        for document in documents:
            if document.path is not None:
                document.path.unlink(missing_ok=True)

    def _validate(
        self, body: dict[str, Any], documents: list[StoredDocument], launching: bool
    ) -> None:
        facts = {
            index: DocumentFacts(doc.page_sizes, functools.partial(document_texts, doc))
            for index, doc in enumerate(documents)
        }
        check_rules(body, facts, launching=launching, second_factor=self.second_factor_required)

    def _build(
        self, record: WorkflowRecord, body: dict[str, Any], documents: list[StoredDocument]
    ) -> None:
        now = self.store.clock.now()
        kept = {stored.id for stored in documents}
        for previous_doc in record.documents:
            if previous_doc["documentId"] not in kept:
                self.store.documents[previous_doc["documentId"]].used_by = None
        record.documents = []
        for doc, stored in zip(body["documents"], documents, strict=True):
            stored.used_by = record.id
            entry: dict[str, Any] = {
                "documentId": stored.id,
                "originalDocumentId": stored.id,
                "name": stored.file_name,
                "pageCount": stored.page_count,
                "fields": [
                    self._zone(zone, {"name": f"zone-{i + 1}"})
                    for i, zone in enumerate(doc.get("fields", []))
                ],
                "anchors": [self._zone(a, {}) for a in doc.get("anchors", [])],
            }
            label = doc.get("documentLabel") or stored.label
            if label is not None:
                entry["documentLabel"] = label
            record.documents.append(entry)
        steps = effective_steps(body.get("actions", []))
        old = {a.ref: a for a in record.actions}
        record.actions = []
        for index, (action, step) in enumerate(zip(body.get("actions", []), steps, strict=True)):
            ref = str(action.get("ref", index + 1)).strip()
            signer = action["signer"]
            public = _public_person(signer)
            public.setdefault("type", "esig")
            public.setdefault("placeHolder", False)
            previous = old.get(ref)
            record.actions.append(
                ActionRecord(
                    id=previous.id if previous is not None else self.store.ids.new(),
                    ref=ref,
                    step=step,
                    mode=action.get("mode", "remote"),
                    zone_label=action.get("zoneLabel", "Sign here"),
                    signer=public,
                    status=ActionStatus.NOT_STARTED,
                    status_date=now,
                    return_url=action.get("returnUrl"),
                    message_to_signer=action.get("messageToSigner"),
                    secret_answer=signer.get("secretAnswer"),
                )
            )
        record.notifications = [
            {"contact": _public_person(n["contact"])} for n in body.get("notifications", [])
        ]
        record.webhooks = [
            {"url": h["url"], "insecure": bool(h.get("insecure", False))}
            for h in body.get("webhooks", [])
        ]
        record.name = body["name"]
        record.pdfa_policy = int(body.get("pdfaPolicy", 0))
        record.message_to_signers = body.get("messageToSigners")
        record.extra = {key: body[key] for key in _PASSED_THROUGH if key in body}
        owner = body.get("workflowOwnerEmailsEnabled")
        record.owner_emails = (not record.webhooks) if owner is None else bool(owner)
        record.modified_on = now
        stored_body = copy.deepcopy(body)
        for doc, stored in zip(stored_body["documents"], documents, strict=True):
            doc.pop("data", None)
            doc.pop("name", None)
            doc["documentId"] = stored.id
        record.source = stored_body

    @staticmethod
    def _zone(zone: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
        out = dict(zone)
        out.setdefault("width", 165)
        out.setdefault("height", 37)
        out["assignedTo"] = str(out["assignedTo"]).strip()
        if "page" in out:
            out["page"] = str(out["page"]).strip()
        if extra:
            out.update({**extra, "visible": True, "signed": False, "declined": False})
        return out

    async def create(self, raw: Any, user: str) -> WorkflowRecord:
        """``POST /workflows``: validate, store, and launch when ``status`` is 1."""
        body = check_shape(raw)
        today = self.store.clock.today()
        expires = (
            parse_expiry(body["expiresOn"], today)
            if "expiresOn" in body
            else today + dt.timedelta(days=30)
        )
        launching = body.get("status", 0) == 1
        documents, fresh = self._resolve_documents(body, user, None)
        try:
            self._validate(body, documents, launching)
        except BaseException:
            self._discard(fresh)
            raise
        now = self.store.clock.now()
        record = WorkflowRecord(
            id=self.store.ids.new(),
            name=body["name"],
            status=WorkflowStatus.CREATED,
            created_on=now,
            created_by=user,
            expires_on=expires,
            pdfa_policy=0,
            documents=[],
            actions=[],
            notifications=[],
            webhooks=[],
            owner_emails=True,
            modified_on=now,
            status_date=now,
        )
        for document in fresh:
            self.store.documents[document.id] = document
        self._build(record, body, documents)
        record.log(now, f"Workflow created by {user}")
        self.store.workflows[record.id] = record
        self.store.stats.counters["workflows_created"] += 1
        if launching:
            self._launch(record)
        return record

    async def update(self, workflow_id: str, raw: Any) -> WorkflowRecord:
        """``PUT``/``PATCH /workflows/{id}``: change a draft, or launch it with ``status: 1``."""
        record = self.workflow(workflow_id)
        update = check_shape(raw, partial=True)
        structural = _DRAFT_KEYS & update.keys()
        if record.status is not WorkflowStatus.CREATED and (
            structural or update.get("status") == 0
        ):
            raise EmulatorError(
                "4092", f"A workflow in status {int(record.status)} cannot be changed"
            )
        launching = update.get("status") == 1 and record.status is WorkflowStatus.CREATED
        expires = record.expires_on
        if "expiresOn" in update:
            expires = parse_expiry(update["expiresOn"], self.store.clock.today())
        if record.status is WorkflowStatus.CREATED:
            merged = {**record.source, **update}
            merged["status"] = 1 if launching else 0
            documents, fresh = self._resolve_documents(merged, record.created_by, record.id)
            try:
                self._validate(merged, documents, launching)
            except BaseException:
                self._discard(fresh)
                raise
            for document in fresh:
                self.store.documents[document.id] = document
            self._build(record, merged, documents)
        else:
            if "name" in update:
                record.name = update["name"]
            if "messageToSigners" in update:
                record.message_to_signers = update["messageToSigners"]
        record.expires_on = expires
        record.version += 1
        record.modified_on = self.store.clock.now()
        if launching:
            self._launch(record)
        return record

    def _launch(self, record: WorkflowRecord) -> None:
        self._set_status(record, WorkflowStatus.LAUNCHED, "Workflow launched")
        self._start_next_step(record)

    def _start_next_step(self, record: WorkflowRecord) -> None:
        pending = [a for a in record.actions if a.status is ActionStatus.NOT_STARTED]
        if not pending or any(a.status is ActionStatus.STARTED for a in record.actions):
            return
        step = min(a.step for a in pending)
        now = self.store.clock.now()
        for action in pending:
            if action.step == step:
                action.status = ActionStatus.STARTED
                action.status_date = now

    # -- reads -------------------------------------------------------------------------------

    def list(self, query: dict[str, Any], *, deleted: bool = False) -> dict[str, Any]:
        """``GET /workflows`` (or ``/workflows/deleted``) with paging, filters and sorting."""
        self.refresh_expiry()
        items = [
            r
            for r in self.store.workflows.values()
            if (r.status is WorkflowStatus.DELETED) == deleted
            and (query["filterStatus"] is None or int(r.status) == query["filterStatus"])
            and (query["filterName"] is None or query["filterName"].lower() in r.name.lower())
        ]
        attribute = _SORT_FIELDS[query["sortField"]]
        items.sort(key=lambda r: (getattr(r, attribute), r.id), reverse=query["sortDir"] == "desc")
        offset, size = query["offset"], query["nbItems"]
        page = items[offset : offset + size]
        return {
            "count": len(page),
            "total": len(items),
            "offset": offset,
            "workflows": [self.render(r) for r in page],
        }

    async def delete(self, workflow_id: str) -> WorkflowRecord:
        """``DELETE /workflows/{id}``: status 6 (idempotent)."""
        record = self.workflow(workflow_id)
        if record.status is not WorkflowStatus.DELETED:
            self._set_status(record, WorkflowStatus.DELETED, "Workflow deleted")
        return record

    # -- control: sign / decline -------------------------------------------------------------

    def _action(self, record: WorkflowRecord, action_id: str) -> ActionRecord:
        for action in record.actions:
            if action.id == action_id:
                return action
        raise EmulatorError("5004", f"Action {action_id[:40]} not found", id=action_id[:40])

    def _require_launched(self, record: WorkflowRecord) -> None:
        if record.status is not WorkflowStatus.LAUNCHED:
            raise EmulatorError(
                "4092",
                f"Workflow in status {int(record.status)} cannot be signed or declined",
                status=int(record.status),
            )

    async def sign(self, workflow_id: str, action_id: str | None = None) -> WorkflowRecord:
        """Sign ``action_id`` (it must be in the current step), or every remaining action."""
        async with self.lock:
            record = self.workflow(workflow_id)
            self._require_launched(record)
            if action_id is not None:
                action = self._action(record, action_id)
                if action.status is not ActionStatus.STARTED:
                    raise EmulatorError(
                        "4092",
                        f"Action {action.id} cannot be signed now (status {action.status})",
                        status=str(action.status),
                    )
                targets = [action]
            else:
                targets = sorted(
                    (a for a in record.actions if a.status is not ActionStatus.COMPLETED),
                    key=lambda a: a.step,
                )
            for action in targets:
                self._start_next_step(record)
                self._complete_action(record, action)
            self._start_next_step(record)
            if all(a.status is ActionStatus.COMPLETED for a in record.actions):
                await self._complete(record)
            return record

    def _complete_action(self, record: WorkflowRecord, action: ActionRecord) -> None:
        now = self.store.clock.now()
        action.status = ActionStatus.COMPLETED
        action.status_date = now
        factors = [a for a in action.signer.get("amr", []) if a != "link"]
        action.second_factor_used = factors[:1] or ["none"]
        for doc in record.documents:
            for zone in doc["fields"]:
                if zone["assignedTo"] == action.ref:
                    zone["signed"] = True
        who = f"{action.signer.get('firstName', '')} {action.signer.get('lastName', '')}"
        record.log(now, f"Signed by {who.strip()} (action {action.id}, step {action.step})")
        record.version += 1
        record.modified_on = now

    async def _complete(self, record: WorkflowRecord) -> None:
        now = self.store.clock.now()
        signed_dir = self.data_dir / "signed"
        for entry in record.documents:
            document = self.store.documents[entry["documentId"]]
            dest = signed_dir / f"{record.id}-{document.id}.pdf"
            await asyncio.to_thread(make_signed_document, document, record, dest, now)
            record.signed[document.id] = dest
        record.log(now, "Workflow completed")
        self._set_status(record, WorkflowStatus.COMPLETED, "Signed documents available")
        record.audit_pdf = make_audit_trail(record, now)

    async def decline(
        self, workflow_id: str, action_id: str | None = None, reason: str | None = None
    ) -> WorkflowRecord:
        """Decline ``action_id`` (default: the first started action): the workflow is declined."""
        async with self.lock:
            record = self.workflow(workflow_id)
            self._require_launched(record)
            if action_id is not None:
                action = self._action(record, action_id)
            else:
                started = [a for a in record.actions if a.status is ActionStatus.STARTED]
                if not started:
                    raise EmulatorError("4092", "No action can be declined now")
                action = started[0]
            if action.status is not ActionStatus.STARTED:
                raise EmulatorError(
                    "4092",
                    f"Action {action.id} cannot be declined now (status {action.status})",
                    status=str(action.status),
                )
            now = self.store.clock.now()
            action.status = ActionStatus.DECLINED
            action.status_date = now
            action.decline_reason = reason
            self._set_status(record, WorkflowStatus.DECLINED, f"Declined (action {action.id})")
            return record

    # -- downloads ---------------------------------------------------------------------------

    async def documents_file(self, workflow_id: str) -> tuple[Path | bytes, str, str, bool]:
        """
        What ``POST /workflows/{id}/documents`` sends: (file or bytes, content type, file
        name, temporary). Completed workflows give the signed documents, others the originals.
        """
        record = self.workflow(workflow_id)
        if record.status is WorkflowStatus.DELETED:
            raise EmulatorError("4092", "The workflow was deleted", status=6)
        entries: list[tuple[str, Path | bytes]] = []
        for entry in record.documents:
            document = self.store.documents[entry["documentId"]]
            signed = record.signed.get(document.id)
            source: Path | bytes = (
                signed if signed is not None else (document.path or document.data or b"")
            )
            entries.append((document.file_name, source))
        if len(entries) == 1:
            return entries[0][1], "application/pdf", entries[0][0], False
        completed = record.status is WorkflowStatus.COMPLETED
        if completed and record.zip_path is not None:
            return record.zip_path, "application/zip", f"{record.id}.zip", False
        files = []
        temp_dir = self.data_dir / "tmp"
        temp_dir.mkdir(parents=True, exist_ok=True)
        for index, (name, source) in enumerate(entries):
            if isinstance(source, bytes):
                path = temp_dir / f"{record.id}-{index}-{self.store.ids.new()}.pdf"
                path.write_bytes(source)
                files.append((name, path, True))
            else:
                files.append((name, source, False))
        dest = (self.data_dir / "signed" if completed else temp_dir) / (
            f"{record.id}-{self.store.ids.new()}.zip"
        )
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            await asyncio.to_thread(make_zip, [(n, p) for n, p, _ in files], dest)
        finally:
            for _, path, temporary in files:
                if temporary:
                    path.unlink(missing_ok=True)
        if completed:
            record.zip_path = dest
        return dest, "application/zip", f"{record.id}.zip", not completed

    def audit(self, workflow_id: str) -> bytes:
        """The audit trail PDF; 4091 before completion."""
        record = self.workflow(workflow_id)
        if record.status is not WorkflowStatus.COMPLETED or record.audit_pdf is None:
            raise EmulatorError(
                "4091",
                "The audit trail is available once the workflow is completed",
                status=int(record.status),
            )
        return record.audit_pdf
