"""
What :meth:`WorkflowBuilder.build() <consigno_async.WorkflowBuilder.build>` returns: a frozen,
checked workflow, ready to be turned into the body of ``POST /workflows``.

The client uploads each :class:`DocumentSpec` (or not, for an inline spec), then calls
:meth:`WorkflowSpec.to_payload` with the document ids it got back. ::

    spec = builder.build()
    ids = {doc.key: await upload(doc) for doc in spec.documents}
    body = spec.to_payload(ids)
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import gc
import hashlib
import io
import os
import threading
from collections.abc import AsyncIterable, Iterator, Mapping
from typing import Any, BinaryIO, TypeAlias

import attrs
import orjson

from .draft import ContactDraft, Draft, SignerDraft, effective_steps
from .enums import Amr, Language, Mode, PdfaPolicy, SignerType
from .errors import DocumentError
from .model import (
    Action,
    Anchor,
    Contact,
    Document,
    Field,
    Notification,
    Signer,
    Webhook,
    Workflow,
    converter,
)

__all__ = [
    "DEFAULT_EXPIRY_DAYS",
    "MAX_INLINE_SIZE",
    "DocumentSource",
    "DocumentSpec",
    "WorkflowSpec",
    "compile_spec",
    "paused_collection",
    "source_size",
]

#: Days from today to the default expiry date, as in the service's web interface.
DEFAULT_EXPIRY_DAYS = 30

_ZONE_LABELS = {Language.EN: "Sign here", Language.FR: "Signez ici"}

#: What a document can be made from: a path, bytes, a binary file, or an async byte stream.
DocumentSource: TypeAlias = (
    "str | os.PathLike[str] | bytes | bytearray | memoryview | BinaryIO | AsyncIterable[bytes]"
)

_CHUNK = 1 << 20

#: The largest document (in bytes) sent inline, base64-encoded inside the workflow body
#: (``inline_documents()``): 32 MiB. Base64 makes it a third bigger and the whole body is
#: held in memory; upload larger documents instead (the default), which streams them.
MAX_INLINE_SIZE = 32 * 1024 * 1024


_pause_lock = threading.Lock()
_pause_depth = 0
_pause_restore = False


@contextlib.contextmanager
def paused_collection() -> Iterator[None]:
    """
    Pause Python's cycle collector while a large workflow is checked, compiled or turned into
    its body, then restore it as it was.

    Those steps allocate tens of thousands of small containers (models, dicts, lists) that
    hold no reference cycles, so reference counting frees them and the collector has nothing
    to find; yet each 700 allocations trigger a collection, and the full ones walk the whole
    heap (including the builder's own drafts), which made 10,000 signers cost ~12x 1,000
    instead of ~10x.

    The pause is process-wide, so it is counted: nested pauses, and pauses in several threads
    at once, re-enable the collector only when the last one ends, and only if it was enabled
    when the first one began. A collector the application turned off stays off.
    """
    global _pause_depth, _pause_restore
    with _pause_lock:
        if _pause_depth == 0:
            _pause_restore = gc.isenabled()
            gc.disable()
        _pause_depth += 1
    try:
        yield
    finally:
        with _pause_lock:
            _pause_depth -= 1
            if _pause_depth == 0 and _pause_restore:
                gc.enable()


def source_size(source: Any) -> int | None:
    """
    The size in bytes of a document source, without reading it: the length of bytes, the
    size of a file on disk, or what is left from a seekable file's current position (the
    position is kept). ``None`` when it cannot be known cheaply (async or one-shot streams,
    a path that cannot be read).
    """
    if isinstance(source, bytes | bytearray):
        return len(source)
    if isinstance(source, memoryview):
        return source.nbytes
    try:
        if isinstance(source, str | os.PathLike):
            return int(os.stat(source).st_size)
        if hasattr(source, "read") and _seekable(source):
            start: int = source.tell()
            try:
                return int(source.seek(0, io.SEEK_END)) - start
            finally:
                source.seek(start)
    except (OSError, ValueError):
        return None
    return None


def _too_large(key: str, size: int) -> DocumentError:
    return DocumentError(
        f"document {key!r} is {size} bytes, over the {MAX_INLINE_SIZE} bytes that can be "
        "sent inline: drop inline_documents() to upload it instead"
    )


def _source_repr(source: object) -> str:
    # Never print a document's bytes: they can be hundreds of megabytes.
    if isinstance(source, bytes | bytearray | memoryview):
        return f"<{type(source).__name__} of {len(source)} bytes>"
    if isinstance(source, str | os.PathLike):
        return repr(os.fspath(source))
    return f"<{type(source).__name__}>"


@attrs.frozen
class DocumentSpec:
    """
    One document of a :class:`WorkflowSpec`.

    Attributes:
        key: the name zones use to point at the document (the file name unless ``key=``).
        file_name: the name sent to the service.
        source: where the bytes come from (path, bytes, binary file or async byte stream).
        pdfa: the PDF/A conversion asked for at upload.
        label: an optional label shown by the service.
    """

    key: str
    file_name: str
    source: Any = attrs.field(repr=_source_repr, eq=False)
    pdfa: PdfaPolicy = PdfaPolicy.NONE
    label: str | None = None

    def read_bytes(self) -> bytes:
        """
        The document's bytes, for inline sending. A file object is read from its current
        position and put back there. At most :data:`MAX_INLINE_SIZE` bytes are read.

        Raises:
            DocumentError: the source is an async stream, cannot be read, or is larger than
                :data:`MAX_INLINE_SIZE` (upload it instead).
        """
        source = self.source
        size = source_size(source)
        if size is not None and size > MAX_INLINE_SIZE:
            raise _too_large(self.key, size)
        if isinstance(source, bytes | bytearray | memoryview):
            return bytes(source)
        try:
            if isinstance(source, str | os.PathLike):
                with open(source, "rb") as handle:
                    data = handle.read(MAX_INLINE_SIZE + 1)
            elif hasattr(source, "read"):
                start = source.tell() if _seekable(source) else None
                data = bytes(source.read(MAX_INLINE_SIZE + 1))
                if start is not None:
                    source.seek(start)
            else:
                data = None
        except OSError as exc:
            raise DocumentError(f"document {self.key!r} cannot be read: {exc.strerror}") from None
        if data is not None:
            if len(data) > MAX_INLINE_SIZE:  # grew since it was measured, or not seekable
                raise _too_large(self.key, len(data))
            return data
        raise DocumentError(
            f"document {self.key!r} is an async stream and cannot be sent inline: "
            "pass a path, bytes or a binary file"
        )

    def digest(self) -> str:
        """
        SHA-256 (hex) of the document's bytes, read in 1 MiB chunks; for an async stream,
        which cannot be read twice, a digest of its key and file name instead.
        """
        hasher = hashlib.sha256()
        source = self.source
        if isinstance(source, bytes | bytearray | memoryview):
            hasher.update(source)
        elif isinstance(source, str | os.PathLike):
            with open(source, "rb") as handle:
                while chunk := handle.read(_CHUNK):
                    hasher.update(chunk)
        elif hasattr(source, "read") and _seekable(source):
            start: int = source.tell()
            try:
                while chunk := source.read(_CHUNK):
                    hasher.update(chunk)
            finally:
                source.seek(start)
        else:
            hasher.update(f"stream:{self.key}:{self.file_name}".encode())
        return hasher.hexdigest()


def _seekable(handle: Any) -> bool:
    seekable = getattr(handle, "seekable", None)
    try:
        return bool(seekable()) if callable(seekable) else isinstance(handle, io.IOBase)
    except (OSError, ValueError):
        return False


def _spec_repr(spec: WorkflowSpec) -> str:
    docs = ", ".join(repr(d.key) for d in spec.documents)
    return (
        f"WorkflowSpec(name={spec.name!r}, launch={spec.launch!r}, inline={spec.inline!r}, "
        f"documents=[{docs}], signers={len(spec.workflow.actions)})"
    )


@attrs.frozen(repr=False)
class WorkflowSpec:
    """
    A checked, immutable workflow: what :meth:`WorkflowBuilder.build` returns.

    Attributes:
        name: the workflow's name.
        launch: True to create and launch (``status: 1``), False for a draft (``status: 0``).
        inline: True to send documents as base64 inside the body instead of uploading them.
        documents: the documents, in the order they were added.
        workflow: the request model, with documents not yet bound to ids or bytes.
        expires_on_given: False when the expiry date is the default (today + 30 days);
            :meth:`fingerprint` then leaves it out.

    ``repr()`` stays short (no signer details, never a secret answer).
    """

    name: str
    launch: bool
    inline: bool
    documents: tuple[DocumentSpec, ...]
    workflow: Workflow
    expires_on_given: bool = True
    _cache: dict[str, str] = attrs.field(factory=dict, eq=False, init=False)

    def __repr__(self) -> str:
        return _spec_repr(self)

    def to_payload(self, document_ids: Mapping[str, str] | None = None) -> dict[str, Any]:
        """
        The JSON-ready body of ``POST /workflows``, in the service's wire names.

        Args:
            document_ids: the id ``POST /documents`` returned for each document, by document
                key. Ignored by an inline spec, which base64-encodes each document instead.

        Raises:
            DocumentError: a document has no id (upload it first), or an inline document
                cannot be read.

        Example::

            body = spec.to_payload({"contract.pdf": "5f0c3d2e1a9b8c7d6e5f4a3b"})
            body["documents"][0]["documentId"]  # '5f0c3d2e1a9b8c7d6e5f4a3b'
        """
        ids = document_ids or {}
        bound = []
        for document, part in zip(self.documents, self.workflow.documents, strict=True):
            if self.inline:
                data = base64.b64encode(document.read_bytes()).decode("ascii")
                bound.append(attrs.evolve(part, name=document.file_name, data=data))
            elif document.key in ids:
                bound.append(attrs.evolve(part, document_id=ids[document.key]))
            else:
                raise DocumentError(
                    f"no document id for document {document.key!r}: upload it and pass "
                    "{key: documentId} to to_payload()"
                )
        with paused_collection():
            payload: dict[str, Any] = converter.unstructure(
                attrs.evolve(self.workflow, documents=tuple(bound))
            )
        return payload

    def fingerprint(self) -> str:
        """
        A stable SHA-256 hex digest of what this spec would create: the body (documents
        stood in for by the SHA-256 of their bytes), the launch and inline choices.

        Two builds of the same intent give the same fingerprint, in any process, so it can
        key a journal. Left out: secret answers (the digest is stored, and a short answer
        could be guessed from it) and a default expiry date (it moves with the day).
        """
        if "fingerprint" not in self._cache:
            self._cache["fingerprint"] = self._compute_fingerprint()
        return self._cache["fingerprint"]

    def _compute_fingerprint(self) -> str:
        documents = tuple(
            attrs.evolve(part, document_id=f"sha256:{doc.digest()}")
            for doc, part in zip(self.documents, self.workflow.documents, strict=True)
        )
        body = converter.unstructure(attrs.evolve(self.workflow, documents=documents))
        if not self.expires_on_given:
            body.pop("expiresOn", None)
        for action in body["actions"]:
            action["signer"].pop("secretAnswer", None)
        for notification in body["notifications"]:
            notification["contact"].pop("secretAnswer", None)
        meta = [[d.key, d.file_name, int(d.pdfa), d.label] for d in self.documents]
        content = {"body": body, "documents": meta, "launch": self.launch, "inline": self.inline}
        return hashlib.sha256(orjson.dumps(content, option=orjson.OPT_SORT_KEYS)).hexdigest()


def compile_spec(
    draft: Draft, *, message: str | None = None, owner_emails: bool | None = None
) -> WorkflowSpec:
    """Turn a draft that passed every rule into the frozen spec (assumes it is valid)."""
    steps = effective_steps(draft)
    refs: dict[str, int] = {}
    actions = []
    for ref, (signer, step) in enumerate(zip(draft.signers, steps, strict=True), start=1):
        refs.setdefault(signer.key, ref)
        actions.append(_action(signer, ref, step))
    documents = _documents(draft, refs)
    expires = draft.expires_on or draft.today + dt.timedelta(days=DEFAULT_EXPIRY_DAYS)
    if owner_emails is None:
        owner_emails = not draft.webhooks
    workflow = Workflow(
        name=draft.name,
        expires_on=expires,
        pdfa_policy=max(PdfaPolicy(d.pdfa) for d in draft.documents),
        status=1 if draft.launch else 0,
        documents=documents,
        actions=tuple(actions),
        notifications=tuple(Notification(contact=_contact(c)) for c in draft.contacts),
        webhooks=tuple(Webhook(url=w.url, insecure=w.insecure) for w in draft.webhooks),
        message_to_signers=message,
        return_url=draft.return_url,
        workflow_owner_emails_enabled=owner_emails,
        parallel_actions=True if draft.parallel else None,
    )
    return WorkflowSpec(
        name=draft.name,
        launch=draft.launch,
        inline=draft.inline,
        documents=tuple(
            DocumentSpec(
                key=d.key,
                file_name=d.file_name,
                source=d.source,
                pdfa=PdfaPolicy(d.pdfa),
                label=d.label,
            )
            for d in draft.documents
        ),
        workflow=workflow,
        expires_on_given=draft.expires_on is not None,
    )


def _member(enum_type: Any, value: Any) -> Any:
    """The enum member for a wire value (or a member), by dict lookup: much faster than Amr(v)."""
    return _MEMBERS[enum_type][value]


_MEMBERS: dict[Any, dict[Any, Any]] = {
    enum_type: {member.value: member for member in enum_type}
    for enum_type in (Amr, Language, Mode, PdfaPolicy, SignerType)
}


def _unique_amrs(values: tuple[Any, ...]) -> tuple[Amr, ...]:
    members = _MEMBERS[Amr]
    return tuple(dict.fromkeys(members[v] for v in values))


def _secret(amr: tuple[Amr, ...], question: str | None, answer: str | None) -> dict[str, Any]:
    # Secret fields go on the wire only with the secret AMR: never send a secret for nothing.
    if Amr.SECRET not in amr:
        return {}
    return {"secret_question": question, "secret_answer": answer, "is_secret_answer_changed": True}


def _action(signer: SignerDraft, ref: int, step: int) -> Action:
    if signer.placeholder:
        model = Signer(type=_member(SignerType, signer.type), role=signer.role, place_holder=True)
        label = signer.zone_label or signer.role or _ZONE_LABELS[Language.EN]
        return Action(ref=ref, step=step, zone_label=label, signer=model)
    amr = _unique_amrs(signer.amr)
    lang = _member(Language, signer.lang)
    model = Signer(
        type=_member(SignerType, signer.type),
        first_name=signer.first_name,
        last_name=signer.last_name,
        email=signer.email,
        phone=signer.phone or None,
        amr=amr,
        lang=lang,
        subject_dn=signer.subject_dn,
        client_user_id=signer.client_user_id,
        role=signer.role,
        place_holder=False,
        **_secret(amr, signer.secret_question, signer.secret_answer),
    )
    return Action(
        ref=ref,
        step=step,
        mode=_member(Mode, signer.mode),
        zone_label=signer.zone_label or _ZONE_LABELS[lang],
        return_url=signer.return_url,
        signer=model,
    )


def _contact(contact: ContactDraft) -> Contact:
    amr = _unique_amrs(contact.amr)
    return Contact(
        first_name=contact.first_name,
        last_name=contact.last_name,
        email=contact.email,
        phone=contact.phone or None,
        amr=amr,
        lang=_member(Language, contact.lang),
        **_secret(amr, contact.secret_question, contact.secret_answer),
    )


def _documents(draft: Draft, refs: dict[str, int]) -> tuple[Document, ...]:
    fields: dict[str, list[Field]] = {d.key: [] for d in draft.documents}
    anchors: dict[str, list[Anchor]] = {d.key: [] for d in draft.documents}
    only = draft.documents[0].key if len(draft.documents) == 1 else None
    for zone in draft.zones:
        key = zone.document if zone.document is not None else only
        assert key is not None  # the rules refused unresolved documents
        if zone.kind == "field":
            assert zone.page is not None
            fields[key].append(
                Field(
                    x=zone.x,
                    y=zone.y,
                    width=zone.width,
                    height=zone.height,
                    page=zone.page,
                    assigned_to=refs[zone.signer],
                )
            )
        else:
            anchors[key].append(
                Anchor(
                    tag=zone.tag,
                    x_offset=zone.x,
                    y_offset=zone.y,
                    width=zone.width,
                    height=zone.height,
                    assigned_to=refs[zone.signer],
                    page=zone.page,
                    skip_if_not_found=zone.skip_if_not_found,
                )
            )
    return tuple(
        Document(
            document_label=d.label,
            fields=tuple(fields[d.key]),
            anchors=tuple(anchors[d.key]),
        )
        for d in draft.documents
    )
