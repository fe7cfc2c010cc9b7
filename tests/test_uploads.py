"""Document sources: PDF check before sending, streamed multipart, replay or refusal on retry."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from consigno_async.errors import DocumentError, StreamConsumedError
from consigno_async.pdfgen import Page, make_pdf
from consigno_async.uploads import CHUNK_SIZE, open_source, upload_data

PDF = make_pdf([Page(612, 792, lines=["Hello"])])


class Collect:
    """A stand-in for aiohttp's stream writer that records what a body writes."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    async def write(self, chunk: bytes) -> None:
        self.chunks.append(bytes(chunk))

    @property
    def data(self) -> bytes:
        return b"".join(self.chunks)


async def render(source: Any, **meta: Any) -> bytes:
    body, close = source.open(upload_data(meta.get("pdfa", 1), meta.get("label")))
    try:
        out = Collect()
        await body.write(out)  # type: ignore[arg-type]
        return out.data
    finally:
        close()


def file_part(body: bytes) -> bytes:
    """The raw bytes of the ``file`` part of a rendered multipart body."""
    start = body.index(b"%PDF-")
    end = body.index(b"\r\n--", start)
    return body[start:end]


async def test_path_source_streams_the_file_with_upload_data(tmp_path: Path) -> None:
    path = tmp_path / "contract.pdf"
    path.write_bytes(PDF)
    source = await open_source(path)
    assert source.file_name == "contract.pdf"
    assert source.size == len(PDF)
    body = await render(source, pdfa=2, label="Contract")
    assert b'name="uploadData"' in body
    assert b'name="file"; filename="contract.pdf"' in body
    meta = body[body.index(b"{") : body.index(b"}") + 1]
    assert json.loads(meta) == {"pdfaPolicy": 2, "documentLabel": "Contract"}
    assert file_part(body) == PDF
    # A retry sends the same bytes again (the file is reopened).
    assert file_part(await render(source)) == PDF


async def test_large_path_is_read_in_chunks(tmp_path: Path) -> None:
    path = tmp_path / "big.pdf"
    path.write_bytes(PDF + b"%" * (3 * CHUNK_SIZE))
    source = await open_source(path)
    body, close = source.open({})
    out = Collect()
    await body.write(out)  # type: ignore[arg-type]
    close()
    assert max(len(c) for c in out.chunks) <= CHUNK_SIZE
    assert len(file_part(out.data)) == len(PDF) + 3 * CHUNK_SIZE


async def test_bytes_source_and_upload_data_without_label() -> None:
    source = await open_source(PDF, file_name="a.pdf")
    body = await render(source, pdfa=0)
    assert b'{"pdfaPolicy":0}' in body
    assert file_part(body) == PDF
    assert source.replayable


async def test_seekable_file_is_sought_back_for_each_attempt() -> None:
    handle = io.BytesIO(b"junk" + PDF)
    handle.seek(4)
    source = await open_source(handle, file_name="f.pdf")
    assert source.size == len(PDF)
    assert source.replayable
    assert file_part(await render(source)) == PDF
    assert file_part(await render(source)) == PDF
    assert not handle.closed  # the caller's file is the caller's to close


async def test_async_iterator_is_one_shot() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield PDF[:2]  # the magic spans chunks
        yield PDF[2:10]
        yield PDF[10:]

    source = await open_source(chunks(), file_name="s.pdf")
    assert not source.replayable
    assert source.size is None
    assert file_part(await render(source)) == PDF
    with pytest.raises(StreamConsumedError, match="one-shot"):
        source.open({})


async def test_unseekable_file_is_one_shot_but_sends_everything() -> None:
    class Pipe(io.RawIOBase):
        def __init__(self, data: bytes) -> None:
            self._data = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def seekable(self) -> bool:
            return False

        def read(self, size: int = -1) -> bytes:
            return self._data.read(size)

    source = await open_source(Pipe(PDF))
    assert not source.replayable
    assert file_part(await render(source)) == PDF
    with pytest.raises(StreamConsumedError):
        source.open({})


@pytest.mark.parametrize(
    "bad",
    [b"GIF89a....", b"", b"%PD"],
)
async def test_not_a_pdf_is_refused_before_sending(bad: bytes, tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="not a PDF"):
        await open_source(bad)
    path = tmp_path / "x.pdf"
    path.write_bytes(bad)
    with pytest.raises(DocumentError, match="not a PDF"):
        await open_source(path)

    async def stream() -> AsyncIterator[bytes]:
        yield bad

    with pytest.raises(DocumentError, match="not a PDF"):
        await open_source(stream())


async def test_unsupported_and_unreadable_sources(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="cannot read"):
        await open_source(tmp_path / "missing.pdf")
    with pytest.raises(DocumentError, match="binary"):
        await open_source(io.StringIO("%PDF-1.7"))
    with pytest.raises(DocumentError, match="unsupported"):
        await open_source(12345)  # type: ignore[arg-type]


async def test_repr_names_the_kind_not_the_content() -> None:
    source = await open_source(PDF, file_name="a.pdf")
    assert repr(source) == f"<UploadSource 'a.pdf' (bytes, size={len(PDF)})>"
