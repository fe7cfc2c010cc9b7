"""PDF inspection: page count, page sizes and text, from every kind of source."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from pdfs import ANCHOR_PDF, NOT_PDF, TWO_SIZES_PDF
from pypdf import PdfReader, PdfWriter

from consigno_async.errors import DocumentError
from consigno_async.pdfgen import Page, make_pdf, write_large_pdf
from consigno_async.pdfinfo import MAX_INSPECT_SIZE, _Window, inspect_pdf


def test_bytes_with_anchor_text() -> None:
    """Bytes give one letter page whose text holds the tag."""
    info = inspect_pdf(ANCHOR_PDF, text=True)
    assert info is not None
    assert info.page_count == 1
    assert (info.pages[0].width, info.pages[0].height) == (612, 792)
    assert "{{sig-bob}}" in info.pages[0].text


def test_two_pages_of_different_sizes(tmp_path: Path) -> None:
    """Each page reports its own size; read from a path."""
    path = tmp_path / "two.pdf"
    path.write_bytes(TWO_SIZES_PDF)
    info = inspect_pdf(path, text=True)
    assert info is not None
    assert [(p.width, p.height) for p in info.pages] == [(612, 792), (842, 595)]
    assert "[[p2]]" not in info.pages[0].text
    assert "[[p2]]" in info.pages[1].text


def test_text_is_only_extracted_on_request() -> None:
    """Without text=True no text is extracted (it is the slow part)."""
    info = inspect_pdf(ANCHOR_PDF)
    assert info is not None
    assert info.pages[0].text == ""


def test_file_object_is_left_where_it_was() -> None:
    """A seekable file is read and put back at its position, even a non-zero one."""
    handle = io.BytesIO(b"junk" + TWO_SIZES_PDF)
    handle.seek(4)
    info = inspect_pdf(handle)
    assert info is not None
    assert info.page_count == 2
    assert handle.tell() == 4


class _CountingFile(io.FileIO):
    """A real file that remembers the largest single read asked of it."""

    largest_read = 0

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        self.largest_read = max(self.largest_read, len(data))
        return data

    def readinto(self, buffer: Any) -> int:
        count = super().readinto(buffer) or 0
        self.largest_read = max(self.largest_read, count)
        return count


def test_file_positioned_mid_way_is_read_in_place(tmp_path: Path) -> None:
    """
    A PDF that starts mid-way in a file (after 2 MiB of other data) is inspected through a
    window on the file, without reading the rest into memory, and the position is restored.
    """
    prefix = b"\0" * (2 * 1024 * 1024)
    path = tmp_path / "embedded.bin"
    path.write_bytes(prefix + ANCHOR_PDF + b"\0" * (2 * 1024 * 1024))
    with _CountingFile(path, "rb") as handle:
        handle.seek(len(prefix))
        info = inspect_pdf(handle, text=True)
        assert info is not None
        assert info.page_count == 1
        assert "{{sig-bob}}" in info.pages[0].text
        assert handle.tell() == len(prefix)
        assert handle.largest_read < 1024 * 1024  # never the 2 MiB tail in one go
        assert not handle.closed


def test_window_offsets_every_position() -> None:
    """The window moves seek/tell by the start offset and never goes before it."""
    handle = io.BytesIO(b"0123456789")
    window = _Window(handle, 4)
    assert window.seek(0) == 0
    assert window.read(2) == b"45"
    assert window.tell() == 2
    assert window.seek(1, io.SEEK_CUR) == 3
    assert window.read() == b"789"
    assert window.seek(-2, io.SEEK_END) == 4
    assert window.read(1) == b"8"
    assert window.seek(-100, io.SEEK_CUR) == 0
    buffer = bytearray(3)
    assert window.readinto(buffer) == 3
    assert bytes(buffer) == b"456"
    with pytest.raises(ValueError, match="negative"):
        window.seek(-1)
    window.close()
    assert not handle.closed


def test_rotated_page_swaps_width_and_height() -> None:
    """A page rotated by 90 degrees is as wide as its box is high."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf([Page(300, 500)]))))
    writer.pages[0].rotate(90)
    buffer = io.BytesIO()
    writer.write(buffer)
    info = inspect_pdf(buffer.getvalue())
    assert info is not None
    assert (info.pages[0].width, info.pages[0].height) == (500, 300)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (NOT_PDF, "%PDF-"),
        (b"", "%PDF-"),
        (b"%PDF-1.4\nthis is not a PDF body at all", "cannot be read"),
        (ANCHOR_PDF[:300], "cannot be read"),
    ],
)
def test_not_a_pdf(data: bytes, reason: str) -> None:
    """Wrong header, garbage or truncation: DocumentError saying why."""
    with pytest.raises(DocumentError, match="PDF") as info:
        inspect_pdf(data)
    assert reason in str(info.value)


def test_encrypted_pdf_is_refused() -> None:
    """An encrypted PDF cannot be signed: DocumentError."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(ANCHOR_PDF)))
    writer.encrypt("owner-pass", algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    with pytest.raises(DocumentError, match="encrypted"):
        inspect_pdf(buffer.getvalue())


def test_missing_file_is_unreadable(tmp_path: Path) -> None:
    """A path that does not exist: DocumentError, not OSError."""
    with pytest.raises(DocumentError, match="cannot read"):
        inspect_pdf(tmp_path / "absent.pdf")


def test_async_stream_and_unseekable_file_are_skipped() -> None:
    """Sources that cannot be read twice are not inspected (None)."""

    async def stream() -> AsyncIterator[bytes]:
        yield ANCHOR_PDF

    class Pipe(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def seekable(self) -> bool:
            return False

    agen = stream()
    assert inspect_pdf(agen) is None
    assert inspect_pdf(Pipe()) is None
    assert inspect_pdf(object()) is None


def test_size_limit_skips_but_still_checks_header(tmp_path: Path) -> None:
    """Over max_size: None for a PDF, DocumentError for a non-PDF (the header is cheap)."""
    assert inspect_pdf(ANCHOR_PDF, max_size=100) is None
    assert inspect_pdf(io.BytesIO(ANCHOR_PDF), max_size=100) is None
    path = tmp_path / "a.pdf"
    path.write_bytes(ANCHOR_PDF)
    assert inspect_pdf(path, max_size=100) is None
    with pytest.raises(DocumentError):
        inspect_pdf(NOT_PDF * 10, max_size=100)


@pytest.mark.slow
def test_large_file_is_not_inspected(tmp_path: Path) -> None:
    """A PDF over 64 MiB on disk is skipped (not read into memory); a large non-PDF is refused."""
    big = tmp_path / "big.pdf"
    write_large_pdf(big, MAX_INSPECT_SIZE + (1 << 20))
    assert big.stat().st_size > MAX_INSPECT_SIZE
    assert inspect_pdf(big, text=True) is None
    junk = tmp_path / "junk.bin"
    with junk.open("wb") as handle:
        handle.write(b"GIF89a")
        handle.truncate(MAX_INSPECT_SIZE + 1)  # sparse: nothing big is written
    with pytest.raises(DocumentError, match="%PDF-"):
        inspect_pdf(junk)


def test_failing_or_closed_file_objects() -> None:
    """A file whose read fails gives DocumentError; a closed file is skipped (None)."""

    class Broken(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            raise OSError("device error")

    with pytest.raises(DocumentError, match="device error"):
        inspect_pdf(Broken(ANCHOR_PDF))
    closed = io.BytesIO(ANCHOR_PDF)
    closed.close()
    assert inspect_pdf(closed) is None
    with pytest.raises(DocumentError, match="%PDF-"):
        inspect_pdf(io.BytesIO(NOT_PDF))
