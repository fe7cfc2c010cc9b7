"""
What completion produces: signed documents, the zip of several, and the audit trail PDF.

A signed document is the original, byte for byte, followed by a PDF *incremental update* that
appends a stamp page ("Signed electronically ... by ...") — the way real signing tools add to a
PDF without rewriting it. The copy streams in 1 MiB chunks, so a 200 MB document is signed
without being held in memory; pypdf reads only the cross-reference table and page tree.
The audit trail is a fresh PDF made with :mod:`consigno_async.pdfgen`.
"""

from __future__ import annotations

import io
import logging
import shutil
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from pypdf import PdfReader
from pypdf.generic import DictionaryObject, IndirectObject, NameObject

from ..pdfgen import Page, TextLine, make_pdf
from .state import StoredDocument, WorkflowRecord, iso

__all__ = ["append_stamp_page", "make_audit_trail", "make_signed_document", "make_zip"]

log = logging.getLogger("consigno_async.emulator")

_COPY_CHUNK = 1 << 20
_LINES_PER_PAGE = 40


def _escape(text: str) -> bytes:
    raw = text.encode("latin-1", "replace")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _stamp_content(lines: Sequence[str]) -> bytes:
    parts = [b"0.1 0.3 0.6 rg 60 560 492 180 re S"]
    for index, line in enumerate(lines):
        size = 16 if index == 0 else 11
        top = 710 - 22 * index
        parts.append(b"BT /FStamp %d Tf 72 %d Td (%s) Tj ET" % (size, top, _escape(line)))
    return b"\n".join(parts)


def _startxref(source: IO[bytes]) -> int:
    source.seek(0, io.SEEK_END)
    end = source.tell()
    source.seek(max(0, end - 2048))
    tail = source.read()
    at = tail.rfind(b"startxref")
    if at < 0:
        raise ValueError("no startxref")
    return int(tail[at + len(b"startxref") :].split()[0])


def append_stamp_page(source: IO[bytes], sink: IO[bytes], lines: Sequence[str]) -> None:
    """
    Copy the PDF ``source`` to ``sink`` and append, as an incremental update, a page with
    ``lines`` of text. The result opens in any reader with one more page.
    """
    reader = PdfReader(source)
    if reader.is_encrypted:
        raise ValueError("encrypted PDF")
    size_value = reader.trailer["/Size"]
    root_ref = reader.trailer.raw_get("/Root")
    root = reader.trailer["/Root"]
    if not isinstance(size_value, int) or not isinstance(root, DictionaryObject):
        raise ValueError("unexpected document structure")
    size = int(size_value)
    pages_ref = root.raw_get("/Pages")
    pages = root["/Pages"]
    if (
        not isinstance(root_ref, IndirectObject)
        or not isinstance(pages_ref, IndirectObject)
        or not isinstance(pages, DictionaryObject)
    ):
        raise ValueError("unexpected document structure")
    prev = _startxref(source)
    total = len(reader.pages)

    source.seek(0)
    shutil.copyfileobj(source, sink, _COPY_CHUNK)
    position = source.tell()
    offsets: dict[int, int] = {}

    def write(data: bytes) -> None:
        nonlocal position
        sink.write(data)
        position += len(data)

    write(b"\n")
    font, content, page = size, size + 1, size + 2
    body = _stamp_content(lines)
    offsets[font] = position
    write(b"%d 0 obj\n<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>\nendobj\n" % font)
    offsets[content] = position
    write(b"%d 0 obj\n<< /Length %d >>\nstream\n" % (content, len(body)))
    write(body + b"\nendstream\nendobj\n")
    offsets[page] = position
    write(
        b"%d 0 obj\n<< /Type /Page /Parent %d %d R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /FStamp %d 0 R >> >> /Contents %d 0 R >>\nendobj\n"
        % (page, pages_ref.idnum, pages_ref.generation, font, content)
    )
    tree = io.BytesIO()
    tree.write(b"<<")
    for key, value in pages.items():
        if key in ("/Kids", "/Count"):
            continue
        tree.write(b" ")
        NameObject(key).write_to_stream(tree)
        tree.write(b" ")
        value.write_to_stream(tree)
    tree.write(b" /Kids [")
    for kid in pages.raw_get("/Kids"):
        kid.write_to_stream(tree)
        tree.write(b" ")
    tree.write(b"%d 0 R] /Count %d >>" % (page, total + 1))
    offsets[pages_ref.idnum] = position
    write(b"%d %d obj\n%s\nendobj\n" % (pages_ref.idnum, pages_ref.generation, tree.getvalue()))

    xref = position
    write(b"xref\n0 1\n0000000000 65535 f \n")
    pages_at = offsets[pages_ref.idnum]
    write(b"%d 1\n%010d %05d n \n" % (pages_ref.idnum, pages_at, pages_ref.generation))
    write(b"%d 3\n" % font)
    for number in (font, content, page):
        write(b"%010d 00000 n \n" % offsets[number])
    trailer = b"/Size %d /Root %d %d R /Prev %d" % (
        size + 3,
        root_ref.idnum,
        root_ref.generation,
        prev,
    )
    info = reader.trailer.raw_get("/Info") if "/Info" in reader.trailer else None
    if isinstance(info, IndirectObject):
        trailer += b" /Info %d %d R" % (info.idnum, info.generation)
    write(b"trailer\n<< %s >>\nstartxref\n%d\n%%%%EOF\n" % (trailer, xref))


def make_signed_document(
    document: StoredDocument, workflow: WorkflowRecord, dest: Path, now: float
) -> None:
    """Write the signed version of ``document`` (original + stamp page) to ``dest``."""
    from .documents import open_document

    signers = [
        f"{s.get('firstName', '')} {s.get('lastName', '')} <{s.get('email', '')}>"
        for s in (action.signer for action in workflow.actions)
    ]
    lines = [
        "Signed electronically - ConsignO Cloud emulator",
        f"Document: {document.file_name}",
        f"Workflow: {workflow.name} ({workflow.id})",
        f"Completed: {iso(now)}",
        *(f"Signed by: {who}" for who in signers),
    ]
    dest.parent.mkdir(parents=True, exist_ok=True)
    with open_document(document) as source, open(dest, "wb") as sink:
        try:
            append_stamp_page(source, sink, lines)
            return
        except Exception as exc:  # an unreadable PDF is delivered as it was uploaded
            log.warning("could not stamp document %s: %s", document.id, type(exc).__name__)
    with open_document(document) as source, open(dest, "wb") as sink:
        shutil.copyfileobj(source, sink, _COPY_CHUNK)


def make_zip(entries: Sequence[tuple[str, Path]], dest: Path) -> None:
    """Write a zip (stored, not compressed) of ``entries`` (name in the archive, file)."""
    seen: dict[str, int] = {}
    with zipfile.ZipFile(dest, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, path in entries:
            count = seen.get(name, 0)
            seen[name] = count + 1
            arcname = name if count == 0 else f"{Path(name).stem}-{count + 1}{Path(name).suffix}"
            archive.write(path, arcname)


def make_audit_trail(workflow: WorkflowRecord, now: float) -> bytes:
    """The audit trail report of a completed workflow, as PDF bytes (no secrets in it)."""
    lines = [
        f"Workflow: {workflow.name}",
        f"Id: {workflow.id}",
        f"Created: {iso(workflow.created_on)} by {workflow.created_by}",
        f"Status: {int(workflow.status)} at {iso(workflow.status_date)}",
        f"Report generated: {iso(now)}",
        "",
        "Documents:",
        *(f"  {d['name']} ({d['documentId']})" for d in workflow.documents),
        "",
        "Signers:",
    ]
    for action in workflow.actions:
        signer = action.signer
        lines.append(
            f"  step {action.step}: {signer.get('firstName', '')} {signer.get('lastName', '')} "
            f"<{signer.get('email', '')}> {action.status} {iso(action.status_date)} "
            f"amr={'+'.join(signer.get('amr', []))}"
        )
    lines += ["", "Events:", *(f"  {iso(when)} {text}" for when, text in workflow.events)]
    pages = []
    for start in range(0, len(lines), _LINES_PER_PAGE):
        chunk = lines[start : start + _LINES_PER_PAGE]
        title = TextLine("Audit trail - ConsignO Cloud emulator", x=72, y=40, size=14)
        body = [TextLine(text, x=72, y=72 + 16 * i, size=10) for i, text in enumerate(chunk)]
        pages.append(Page(lines=[title, *body]))
    return make_pdf(pages)
