"""
Inspect a PDF before sending it: page count, page sizes and (on request) the text of each
page, so the builder can check zones and anchor tags against the real document.

Each document is read once, with pypdf, from a path, bytes or a seekable binary file. A path
is opened and handed to pypdf as a file, so pypdf reads only the parts it needs instead of
loading the whole file. Sources that cannot be inspected cheaply (async streams, non-seekable
files, anything over :data:`MAX_INSPECT_SIZE`) give ``None``: the checks that need the PDF are
skipped for them, though the ``%PDF-`` header of a large file is still checked. ::

    >>> from consigno_async.pdfgen import Page, make_pdf
    >>> info = inspect_pdf(make_pdf([Page(612, 792, ["{{sig}}"]), Page(842, 595)]), text=True)
    >>> info.page_count, info.pages[1].width, "{{sig}}" in info.pages[0].text
    (2, 842.0, True)
"""

from __future__ import annotations

import io
import logging
import os
import warnings
from typing import IO, Any, cast

import attrs

from .errors import DocumentError

__all__ = ["MAX_INSPECT_SIZE", "PageInfo", "PdfInfo", "inspect_pdf"]

#: Documents larger than this (in bytes) are not inspected (their zones are not checked).
MAX_INSPECT_SIZE = 64 * 1024 * 1024

_HEADER = b"%PDF-"


@attrs.frozen
class PageInfo:
    """One page: its visible size in units of 1/72" (rotation applied) and its text."""

    width: float
    height: float
    text: str = attrs.field(default="", repr=False)


@attrs.frozen
class PdfInfo:
    """What the builder needs to know about a PDF: its pages, in order."""

    pages: tuple[PageInfo, ...]

    @property
    def page_count(self) -> int:
        """The number of pages."""
        return len(self.pages)


def inspect_pdf(
    source: object, *, text: bool = False, max_size: int = MAX_INSPECT_SIZE
) -> PdfInfo | None:
    """
    Read a PDF's pages (and their text when ``text`` is true).

    Args:
        source: a path (``str`` or ``os.PathLike``), ``bytes``/``bytearray``/``memoryview``,
            or a binary file object. A seekable file is left at the position it had.
        text: extract the text of every page (needed only to look for anchor tags).
        max_size: larger sources are not inspected.

    Returns:
        The :class:`PdfInfo`, or ``None`` when the source cannot be inspected cheaply
        (async stream, non-seekable file, larger than ``max_size``).

    Raises:
        DocumentError: not a PDF (no ``%PDF-`` header), unreadable, damaged or encrypted.
    """
    if isinstance(source, str | os.PathLike):
        return _inspect_path(source, text=text, max_size=max_size)
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        _check_header(data[: len(_HEADER)])
        if len(data) > max_size:
            return None
        return _read(io.BytesIO(data), text=text)
    if _is_seekable_file(source):
        return _inspect_file(source, text=text, max_size=max_size)
    return None


def _inspect_path(path: str | os.PathLike[Any], *, text: bool, max_size: int) -> PdfInfo | None:
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed below, after pypdf is done with it
    except OSError as exc:
        raise DocumentError(f"cannot read the file: {exc.strerror or exc}") from None
    with handle:
        try:
            _check_header(handle.read(len(_HEADER)))
            if os.fstat(handle.fileno()).st_size > max_size:
                return None
            handle.seek(0)
        except OSError as exc:
            raise DocumentError(f"cannot read the file: {exc.strerror or exc}") from None
        return _read(handle, text=text)


def _inspect_file(handle: Any, *, text: bool, max_size: int) -> PdfInfo | None:
    try:
        return _inspect_open_file(handle, text=text, max_size=max_size)
    except DocumentError:
        raise
    except (OSError, ValueError) as exc:  # a failing (or closed) file object
        raise DocumentError(f"cannot read the file: {exc}") from None


def _inspect_open_file(handle: Any, *, text: bool, max_size: int) -> PdfInfo | None:
    start = handle.tell()
    try:
        size = handle.seek(0, io.SEEK_END) - start
        handle.seek(start)
        _check_header(handle.read(len(_HEADER)))
        if size > max_size:
            return None
        handle.seek(start)
        stream: IO[bytes] = handle if start == 0 else cast("IO[bytes]", _Window(handle, start))
        return _read(stream, text=text)
    finally:
        handle.seek(start)


class _Window(io.RawIOBase):
    """
    A seekable file seen from ``start`` on: the PDF embedded at that offset, for pypdf,
    without copying it. Positions are moved by ``start``; reads go to the file itself.
    Closing the window leaves the file open (the caller owns it).
    """

    def __init__(self, handle: Any, start: int) -> None:
        super().__init__()
        self._handle = handle
        self._start = start

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        return bytes(self._handle.read(-1 if size is None else size))

    def readinto(self, buffer: Any) -> int:
        data = self._handle.read(len(memoryview(buffer)))
        memoryview(buffer).cast("B")[: len(data)] = data
        return len(data)

    def tell(self) -> int:
        return int(self._handle.tell()) - self._start

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            if offset < 0:
                raise ValueError(f"negative seek position {offset}")
            position = int(self._handle.seek(self._start + offset))
        else:
            position = int(self._handle.seek(offset, whence))
            if position < self._start:  # never before the window
                position = int(self._handle.seek(self._start))
        return position - self._start


def _is_seekable_file(source: object) -> bool:
    if not (hasattr(source, "read") and hasattr(source, "seek") and hasattr(source, "tell")):
        return False
    seekable = getattr(source, "seekable", None)
    try:
        return bool(seekable()) if callable(seekable) else True
    except (OSError, ValueError):
        return False


def _check_header(head: bytes) -> None:
    if head != _HEADER:
        raise DocumentError("not a PDF: the content does not start with %PDF-")


def _read(stream: IO[bytes], *, text: bool) -> PdfInfo:
    # pypdf logs (and warns about) every oddity it repairs; the builder reports problems itself.
    pypdf_logger = logging.getLogger("pypdf")
    level = pypdf_logger.level
    pypdf_logger.setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return _pages(stream, text=text)
    except DocumentError:
        raise
    except Exception as exc:  # pypdf raises many types for damaged files
        raise DocumentError(f"the PDF cannot be read ({type(exc).__name__})") from None
    finally:
        pypdf_logger.setLevel(level)


def _pages(stream: IO[bytes], *, text: bool) -> PdfInfo:
    # Imported here: pypdf is only needed when a document is actually inspected.
    from pypdf import PdfReader

    reader = PdfReader(stream, strict=False)
    if reader.is_encrypted:
        raise DocumentError("the PDF is encrypted; send an unencrypted PDF")
    pages = []
    for page in reader.pages:
        box = page.cropbox
        unit = float(page.user_unit or 1)
        width, height = abs(float(box.width)) * unit, abs(float(box.height)) * unit
        if (page.rotation or 0) % 180 == 90:
            width, height = height, width
        pages.append(PageInfo(width, height, page.extract_text() if text else ""))
    if not pages:
        raise DocumentError("the PDF has no pages")
    return PdfInfo(tuple(pages))
