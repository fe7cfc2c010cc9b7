"""
A tiny, dependency-free PDF writer: real, valid PDFs with text, for tests, the demo and the
emulator (audit trails, signature stamps).

It writes PDF 1.4 with the standard Helvetica font, one content stream per page, and a
correct cross-reference table, so pypdf (and any viewer) opens the result and extracts its
text. Coordinates given to :class:`Page` lines are in units of 1/72" from the **top-left**
corner, as ConsignO Cloud counts them.

Example::

    >>> from consigno_async.pdfgen import Page, make_pdf
    >>> data = make_pdf([Page(lines=["Employment contract", "Signature: {{sig-alice}}"])])
    >>> data[:5]
    b'%PDF-'
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import BinaryIO

import attrs

__all__ = ["Page", "TextLine", "make_pdf", "write_large_pdf", "write_pdf"]

_CHUNK = 1 << 20


@attrs.frozen
class TextLine:
    """A line of text at ``(x, y)`` (top-left origin, units of 1/72") in ``size`` points."""

    text: str
    x: float = 72
    y: float = 72
    size: float = 12


def _as_line(item: str | TextLine, index: int) -> TextLine:
    if isinstance(item, TextLine):
        return item
    return TextLine(item, x=72, y=72 + 18 * index)


@attrs.frozen
class Page:
    """
    One page: its size in units (612 x 792 is US letter) and the text on it.

    ``lines`` takes plain strings (laid out one under the other from the top-left margin)
    or :class:`TextLine` objects placed where you say.
    """

    width: float = 612
    height: float = 792
    lines: Sequence[str | TextLine] = ()


def _escape(text: str) -> bytes:
    raw = text.encode("latin-1", "replace")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _content(page: Page) -> bytes:
    parts = []
    for index, item in enumerate(page.lines):
        line = _as_line(item, index)
        # PDF user space has its origin bottom-left; convert from the service's top-left.
        baseline = page.height - line.y - line.size
        parts.append(
            b"BT /F1 %s Tf %s %s Td (%s) Tj ET"
            % (_num(line.size), _num(line.x), _num(baseline), _escape(line.text))
        )
    return b"\n".join(parts)


def _num(value: float) -> bytes:
    return (f"{value:.2f}".rstrip("0").rstrip(".") or "0").encode()


class _Writer:
    """Writes numbered objects to a binary sink and remembers their offsets."""

    def __init__(self, sink: BinaryIO) -> None:
        self.sink = sink
        self.offsets: list[int] = []
        self.position = 0

    def raw(self, data: bytes) -> None:
        self.sink.write(data)
        self.position += len(data)

    def obj(self, body: bytes) -> None:
        self.offsets.append(self.position)
        self.raw(b"%d 0 obj\n" % len(self.offsets) + body + b"\nendobj\n")

    def stream_obj(self, chunks: Iterable[bytes], length: int) -> None:
        self.offsets.append(self.position)
        self.raw(b"%d 0 obj\n<< /Length %d >>\nstream\n" % (len(self.offsets), length))
        written = 0
        for chunk in chunks:
            written += len(chunk)
            self.raw(chunk)
        if written != length:
            raise ValueError(f"stream length mismatch: declared {length}, wrote {written}")
        self.raw(b"\nendstream\nendobj\n")

    def finish(self, root: int, info: int | None = None) -> None:
        xref = self.position
        count = len(self.offsets) + 1
        self.raw(b"xref\n0 %d\n0000000000 65535 f \n" % count)
        for offset in self.offsets:
            self.raw(b"%010d 00000 n \n" % offset)
        extra = b" /Info %d 0 R" % info if info else b""
        self.raw(b"trailer\n<< /Size %d /Root %d 0 R%s >>\n" % (count, root, extra))
        self.raw(b"startxref\n%d\n%%%%EOF\n" % xref)


def _write(sink: BinaryIO, pages: Sequence[Page], padding: int = 0) -> None:
    if not pages:
        raise ValueError("a PDF needs at least one page")
    w = _Writer(sink)
    w.raw(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    # Objects: 1 catalog, 2 pages, 3 font, then (page, content) pairs, then optional padding.
    n = len(pages)
    kids = b" ".join(b"%d 0 R" % (4 + 2 * i) for i in range(n))
    w.obj(b"<< /Type /Catalog /Pages 2 0 R >>")
    w.obj(b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, n))
    w.obj(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    for i, page in enumerate(pages):
        content = _content(page)
        w.obj(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %s %s] "
            b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>"
            % (_num(page.width), _num(page.height), 5 + 2 * i)
        )
        w.stream_obj([content], len(content))
    if padding > 0:
        w.stream_obj(_filler(padding), padding)
    w.finish(root=1)


def _filler(size: int) -> Iterable[bytes]:
    block = os.urandom(min(_CHUNK, size))
    remaining = size
    while remaining > 0:
        take = min(remaining, len(block))
        yield block[:take]
        remaining -= take


def make_pdf(pages: Sequence[Page] = (Page(),)) -> bytes:
    """Return the bytes of a PDF with the given pages (one blank letter page by default)."""
    import io

    buffer = io.BytesIO()
    _write(buffer, pages)
    return buffer.getvalue()


def write_pdf(path: str | os.PathLike[str], pages: Sequence[Page] = (Page(),)) -> None:
    """Write a PDF with the given pages to ``path``."""
    with open(path, "wb") as sink:
        _write(sink, pages)


def write_large_pdf(
    path: str | os.PathLike[str], size: int, pages: Sequence[Page] = (Page(),)
) -> None:
    """
    Write a valid PDF of about ``size`` bytes (within a few KiB) to ``path``, without holding it
    in memory: the pages are followed by an unreferenced stream of random filler, written in
    1 MiB chunks. Used to test and benchmark 100-200 MB uploads.
    """
    overhead = 2048 + 256 * len(pages)
    with open(path, "wb") as sink:
        _write(sink, pages, padding=max(0, size - overhead))
