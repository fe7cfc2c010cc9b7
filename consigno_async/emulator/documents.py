"""
Documents: the streamed multipart upload of ``POST /documents``, inline base64 documents, and
what the emulator learns from a PDF (page sizes, text for anchors).

An upload is read in 64 KiB chunks. The first 256 KiB stay in a bounded in-memory buffer; a
larger file moves to a file under the data directory as soon as it crosses that mark, so no
upload is ever held whole in memory. ``Stats.max_upload_buffer`` records the most bytes the
reader ever held at once, so tests can check the bound from outside.
"""

from __future__ import annotations

import base64
import binascii
import io
import logging
from pathlib import Path
from typing import IO, Any

import orjson
from aiohttp import BodyPartReader, web
from pypdf import PdfReader

from .codes import EmulatorError
from .state import Store, StoredDocument

__all__ = [
    "MEMORY_LIMIT",
    "decode_inline",
    "document_texts",
    "inspect_pdf",
    "open_document",
    "receive_upload",
]

log = logging.getLogger("consigno_async.emulator")

CHUNK = 64 * 1024
#: Documents up to this size stay in memory; larger ones go to the data directory.
MEMORY_LIMIT = 256 * 1024
#: Anchor tags are searched only in documents up to this size (else the check is skipped).
TEXT_LIMIT = 20 * 1024 * 1024
_PDF_MAGIC = b"%PDF-"


def _pdf_policy(value: Any, field: str) -> int:
    if isinstance(value, bool) or value not in (0, 1, 2):
        raise EmulatorError("4002", f"{field} must be 0, 1 or 2", field=field)
    return int(value)


def _parse_options(raw: str) -> dict[str, Any]:
    try:
        options = orjson.loads(raw) if raw.strip() else {}
    except orjson.JSONDecodeError as exc:
        raise EmulatorError("4002", "uploadData is not valid JSON", field="uploadData") from exc
    if not isinstance(options, dict):
        raise EmulatorError("4002", "uploadData must be a JSON object", field="uploadData")
    return options


class _Sink:
    """Bytes first into a bounded buffer, then into a file once past :data:`MEMORY_LIMIT`."""

    def __init__(self, path: Path, store: Store) -> None:
        self.path = path
        self.store = store
        self.buffer = bytearray()
        self.file: IO[bytes] | None = None
        self.size = 0

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.file is None and len(self.buffer) + len(chunk) > MEMORY_LIMIT:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.file = open(self.path, "wb")  # noqa: SIM115 - closed in finish()/discard()
            self.file.write(self.buffer)
            self.buffer = bytearray()
        held = len(self.buffer) + len(chunk)
        stats = self.store.stats
        stats.max_upload_buffer = max(stats.max_upload_buffer, held)
        if self.file is not None:
            self.file.write(chunk)
        else:
            self.buffer += chunk

    def finish(self) -> tuple[Path | None, bytes | None]:
        if self.file is not None:
            self.file.close()
            return self.path, None
        return None, bytes(self.buffer)

    def discard(self) -> None:
        if self.file is not None:
            self.file.close()
            self.path.unlink(missing_ok=True)
        self.buffer = bytearray()


async def _drain(part: BodyPartReader) -> None:
    while await part.read_chunk(CHUNK):
        pass


async def _read_file(part: BodyPartReader, sink: _Sink) -> None:
    head = b""
    checked = False
    while True:
        chunk = await part.read_chunk(CHUNK)
        if not chunk:
            break
        if not checked:
            head += chunk[: len(_PDF_MAGIC)]
            if len(head) >= len(_PDF_MAGIC):
                checked = True
                if not head.startswith(_PDF_MAGIC):
                    sink.discard()
                    await _drain(part)
                    raise EmulatorError("4001", "Only PDF documents can be uploaded")
        sink.write(chunk)
    if not checked:
        sink.discard()
        raise EmulatorError("4001", "Only PDF documents can be uploaded")


async def receive_upload(
    request: web.Request, store: Store, data_dir: Path, user: str
) -> StoredDocument:
    """Read a ``POST /documents`` multipart body in chunks and store the document."""
    if not request.content_type.startswith("multipart/"):
        raise EmulatorError("4002", "Expected multipart/form-data", field="Content-Type")
    reader = await request.multipart()
    options: dict[str, Any] = {}
    doc_id = store.ids.new()
    sink: _Sink | None = None
    file_name = "document.pdf"
    try:
        while True:
            part = await reader.next()
            if part is None:
                break
            if not isinstance(part, BodyPartReader):
                raise EmulatorError("4002", "Nested multipart is not supported", field="file")
            name = part.name or ""
            if name == "file" and sink is None:
                file_name = part.filename or file_name
                sink = _Sink(data_dir / "documents" / f"{doc_id}.pdf", store)
                await _read_file(part, sink)
            elif name == "uploadData":
                raw = await part.read(decode=True)
                if len(raw) > CHUNK:
                    raise EmulatorError("4002", "uploadData is too large", field="uploadData")
                options.update(_parse_options(raw.decode("utf-8", "replace")))
            elif name in ("pdfaPolicy", "documentLabel"):
                text = (await part.read(decode=True)).decode("utf-8", "replace")
                options[name] = int(text) if name == "pdfaPolicy" and text.isdigit() else text
            else:
                await _drain(part)
    except BaseException:
        if sink is not None:
            sink.discard()
        raise
    if sink is None:
        raise EmulatorError("4002", "The multipart body has no 'file' part", field="file")
    pdfa = _pdf_policy(options.get("pdfaPolicy", 0), "pdfaPolicy")
    label = options.get("documentLabel")
    if label is not None and not isinstance(label, str):
        sink.discard()
        raise EmulatorError("4002", "documentLabel must be a string", field="documentLabel")
    path, data = sink.finish()
    store.stats.counters["bytes_received"] += sink.size
    document = StoredDocument(
        id=doc_id,
        file_name=file_name,
        size=sink.size,
        created_on=store.clock.now(),
        created_by=user,
        pdfa_policy=pdfa,
        label=label,
        path=path,
        data=data,
    )
    document.page_sizes = inspect_pdf(document)
    store.documents[doc_id] = document
    return document


def decode_inline(
    store: Store, data_dir: Path, user: str, name: str, encoded: str, pdfa: int, field: str
) -> StoredDocument:
    """
    Decode an inline (base64) document of ``POST /workflows``; the caller registers it in the
    store once the workflow is accepted (or unlinks its file otherwise).
    """
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise EmulatorError("4002", "data is not valid base64", field=field) from exc
    if not raw.startswith(_PDF_MAGIC):
        raise EmulatorError("4000", "The document is not a PDF", rule="not_pdf", path=field)
    doc_id = store.ids.new()
    path: Path | None = None
    data: bytes | None = raw
    if len(raw) > MEMORY_LIMIT:
        path = data_dir / "documents" / f"{doc_id}.pdf"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(raw)
        data = None
    store.stats.counters["bytes_received"] += len(raw)
    document = StoredDocument(
        id=doc_id,
        file_name=name,
        size=len(raw),
        created_on=store.clock.now(),
        created_by=user,
        pdfa_policy=pdfa,
        path=path,
        data=data,
    )
    document.page_sizes = inspect_pdf(document)
    return document


def open_document(document: StoredDocument) -> IO[bytes]:
    """Open a stored document for reading (a file, or a buffer for small ones)."""
    if document.path is not None:
        return open(document.path, "rb")
    return io.BytesIO(document.data or b"")


def inspect_pdf(document: StoredDocument) -> list[tuple[float, float]] | None:
    """
    Page sizes (width, height in units of 1/72") read with pypdf, or None when unreadable.

    pypdf reads the cross-reference table and the page objects only, so this stays cheap
    even for a 200 MB file on disk.
    """
    try:
        with open_document(document) as source:
            reader = PdfReader(source)
            if reader.is_encrypted:
                return None
            return [(float(p.mediabox.width), float(p.mediabox.height)) for p in reader.pages]
    except Exception as exc:  # pypdf raises many kinds of errors on broken files
        log.debug("document %s is not a readable PDF: %s", document.id, type(exc).__name__)
        return None


def document_texts(document: StoredDocument) -> list[str] | None:
    """The text of each page (for anchors), or None when too large or unreadable."""
    if document.size > TEXT_LIMIT or document.page_sizes is None:
        return None
    try:
        with open_document(document) as source:
            reader = PdfReader(source)
            return [page.extract_text() or "" for page in reader.pages]
    except Exception as exc:  # pypdf raises many kinds of errors on broken files
        log.debug("text of %s unreadable: %s", document.id, type(exc).__name__)
        return None
