"""
Document sources for ``POST /documents``, sent as streamed multipart.

A document can come from a path, ``bytes``, a binary file object, or an async iterator of
bytes. :func:`open_source` checks it is a PDF (``%PDF-``) before anything is sent and returns
an :class:`UploadSource`, from which the client builds one multipart body per attempt:

- the ``uploadData`` part: JSON ``{"pdfaPolicy": 1, "documentLabel": "…"}``;
- the ``file`` part: the PDF, read in 256 KiB chunks in a worker thread (files) or pulled from
  the iterator, so a 200 MB document never sits in memory.

A retried upload resends from the start: a path is reopened, a file object is sought back to
where it was when given, bytes are resent. An async iterator (or an unseekable file) can be
read only once; resending it raises :class:`~consigno_async.errors.StreamConsumedError`
instead of sending a truncated document.
"""

from __future__ import annotations

import asyncio
import io
import os
from abc import abstractmethod
from collections.abc import AsyncIterable, AsyncIterator
from contextlib import suppress
from pathlib import Path
from typing import IO, Any, Final

import aiohttp
import orjson
from aiohttp.abc import AbstractStreamWriter
from aiohttp.payload import Payload

from .enums import PdfaPolicy
from .errors import DocumentError, StreamConsumedError

__all__ = ["CHUNK_SIZE", "PDF_MAGIC", "DocumentSource", "UploadSource", "open_source"]

#: The first bytes of every PDF.
PDF_MAGIC: Final = b"%PDF-"

#: Size of each read from a file (larger chunks cost fewer thread hops; 256 KiB keeps memory flat).
CHUNK_SIZE: Final = 256 * 1024

#: Anything :func:`open_source` accepts.
DocumentSource = (
    str | os.PathLike[str] | bytes | bytearray | memoryview | IO[bytes] | AsyncIterable[bytes]
)


class _StreamedPayload(Payload):
    """
    A document part streamed to the writer, never held whole nor decoded to text.

    Subclasses implement :meth:`write_with_length`; :meth:`write` sends everything.
    """

    _autoclose = True  # the source's owner closes it, not aiohttp

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        raise TypeError("a streamed document part cannot be decoded to text")

    async def write(self, writer: AbstractStreamWriter) -> None:
        await self.write_with_length(writer, None)

    @abstractmethod
    async def write_with_length(
        self, writer: AbstractStreamWriter, content_length: int | None
    ) -> None:
        """Send the part (at most ``content_length`` bytes where the subclass honours it)."""


class _FilePayload(_StreamedPayload):
    """A file read in chunks in a worker thread; the caller owns (and closes) the file."""

    def __init__(self, file: IO[bytes], size: int | None, **kwargs: Any) -> None:
        super().__init__(file, **kwargs)
        self._file = file
        self._size = size

    async def write_with_length(
        self, writer: AbstractStreamWriter, content_length: int | None
    ) -> None:
        loop = asyncio.get_running_loop()
        remaining = content_length
        read = self._file.read
        while remaining is None or remaining > 0:
            size = CHUNK_SIZE if remaining is None else min(CHUNK_SIZE, remaining)
            chunk = await loop.run_in_executor(None, read, size)
            if not chunk:
                return
            if remaining is not None:
                remaining -= len(chunk)
            await writer.write(chunk)


class _IteratorPayload(_StreamedPayload):
    """An async iterator of bytes, with the chunks already pulled to check the PDF magic."""

    def __init__(self, head: list[bytes], rest: AsyncIterator[bytes], **kwargs: Any) -> None:
        super().__init__(rest, **kwargs)
        self._head = head
        self._rest = rest

    async def write_with_length(
        self, writer: AbstractStreamWriter, content_length: int | None
    ) -> None:
        for chunk in self._head:
            await writer.write(chunk)
        self._head = []
        async for chunk in self._rest:
            if chunk:
                await writer.write(bytes(chunk))


class UploadSource:
    """
    A checked PDF source that can build a multipart body for each upload attempt.

    Use :func:`open_source` to make one. Each :meth:`open` returns the body and a cleanup
    coroutine; the client awaits the cleanup after the attempt, whatever happened.
    """

    __slots__ = (
        "_consumed",
        "_file",
        "_file_start",
        "_head",
        "_iterator",
        "_path",
        "_size",
        "_value",
        "file_name",
    )

    def __init__(self, file_name: str) -> None:
        self.file_name = file_name
        self._path: Path | None = None
        self._value: bytes | None = None
        self._file: IO[bytes] | None = None
        self._file_start: int | None = None
        self._head: list[bytes] = []
        self._iterator: AsyncIterator[bytes] | None = None
        self._size: int | None = None
        self._consumed = False

    @property
    def size(self) -> int | None:
        """The document's size in bytes, when it is known before sending."""
        return self._size

    @property
    def replayable(self) -> bool:
        """True when the document can be sent again (path, bytes or seekable file)."""
        return self._iterator is None and (self._file is None or self._file_start is not None)

    def open(self, upload_data: dict[str, Any]) -> tuple[aiohttp.MultipartWriter, _Closer]:
        """
        A fresh multipart body (``uploadData`` then ``file``) for one attempt.

        Raises:
            StreamConsumedError: a one-shot source was already sent once.
        """
        if self._consumed and not self.replayable:
            raise StreamConsumedError(
                f"document {self.file_name!r} came from a one-shot stream that was already "
                "sent once; pass a path, bytes or a seekable file to allow retries"
            )
        self._consumed = True
        close = _Closer()
        headers = {aiohttp.hdrs.CONTENT_TYPE: "application/pdf"}
        part: Payload
        if self._value is not None:
            part = aiohttp.payload.BytesPayload(self._value, headers=headers)
        elif self._path is not None:
            try:
                file = self._path.open("rb")
            except OSError as exc:
                raise DocumentError(f"cannot read document {self.file_name!r}: {exc}") from exc
            close.file = file
            part = _FilePayload(file, self._size, headers=headers)
        elif self._file is not None:
            if self._file_start is not None:
                self._file.seek(self._file_start)
            part = _FilePayload(self._file, self._size, headers=headers)
        else:
            assert self._iterator is not None
            part = _IteratorPayload(self._head, self._iterator, headers=headers)
            self._head = []
        writer = aiohttp.MultipartWriter("form-data")
        meta = writer.append_payload(
            aiohttp.payload.BytesPayload(
                orjson.dumps(upload_data), headers={aiohttp.hdrs.CONTENT_TYPE: "application/json"}
            )
        )
        meta.set_content_disposition("form-data", name="uploadData")
        file_part = writer.append_payload(part)
        file_part.set_content_disposition("form-data", name="file", filename=self.file_name)
        return writer, close

    def __repr__(self) -> str:
        kind = (
            "path"
            if self._path is not None
            else "bytes"
            if self._value is not None
            else "file"
            if self._file is not None
            else "stream"
        )
        return f"<UploadSource {self.file_name!r} ({kind}, size={self._size})>"


class _Closer:
    """Closes what one attempt opened (a file the client opened from a path)."""

    __slots__ = ("file",)

    def __init__(self) -> None:
        self.file: IO[bytes] | None = None

    def __call__(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None


def upload_data(pdfa: PdfaPolicy | int, label: str | None) -> dict[str, Any]:
    """The JSON of the ``uploadData`` part (no ``null`` members: the service may reject them)."""
    data: dict[str, Any] = {"pdfaPolicy": int(pdfa)}
    if label is not None:
        data["documentLabel"] = label
    return data


async def open_source(source: DocumentSource, *, file_name: str | None = None) -> UploadSource:
    """
    Check a document source and prepare it for upload.

    Raises:
        DocumentError: the source is not a PDF, cannot be read, or is of an unsupported type
            (text files, strings of content…).
    """
    if isinstance(source, str | os.PathLike):
        return _from_path(Path(source), file_name)
    if isinstance(source, bytes | bytearray | memoryview):
        value = bytes(source)
        name = file_name or "document.pdf"
        _check_magic(value[: len(PDF_MAGIC)], name)
        src = UploadSource(name)
        src._value = value
        src._size = len(value)
        return src
    if isinstance(source, io.TextIOBase):
        raise DocumentError("a document file must be opened in binary mode ('rb')")
    if hasattr(source, "read"):
        return _from_file(source, file_name)  # type: ignore[arg-type]
    if hasattr(source, "__aiter__"):
        return await _from_iterator(source, file_name)
    raise DocumentError(
        f"unsupported document source {type(source).__name__}: pass a path, bytes, a binary "
        "file object or an async iterator of bytes"
    )


def _from_path(path: Path, file_name: str | None) -> UploadSource:
    name = file_name or path.name
    try:
        with path.open("rb") as file:
            head = file.read(len(PDF_MAGIC))
            size = os.fstat(file.fileno()).st_size
    except OSError as exc:
        raise DocumentError(f"cannot read document {name!r}: {exc.strerror or exc}") from exc
    _check_magic(head, name)
    src = UploadSource(name)
    src._path = path
    src._size = size
    return src


def _from_file(file: IO[bytes], file_name: str | None) -> UploadSource:
    name = file_name or os.path.basename(str(getattr(file, "name", "") or "")) or "document.pdf"
    start: int | None = None
    with suppress(OSError, AttributeError, ValueError):
        if file.seekable():
            start = file.tell()
    head = file.read(len(PDF_MAGIC))
    if not isinstance(head, bytes | bytearray):
        raise DocumentError(f"document {name!r}: the file object must be opened in binary mode")
    _check_magic(bytes(head), name)
    src = UploadSource(name)
    src._file = file
    if start is not None:
        file.seek(start)
        src._file_start = start
        with suppress(OSError, AttributeError, ValueError, io.UnsupportedOperation):
            src._size = os.fstat(file.fileno()).st_size - start
        if src._size is None and isinstance(file, io.BytesIO):
            src._size = len(file.getbuffer()) - start
    else:
        # Unseekable: the bytes read for the check are sent first, then the rest.
        src._file = None
        src._iterator = _rest_of_file(file)
        src._head = [bytes(head)]
    return src


async def _rest_of_file(file: IO[bytes]) -> AsyncIterator[bytes]:
    loop = asyncio.get_running_loop()
    while chunk := await loop.run_in_executor(None, file.read, CHUNK_SIZE):
        yield chunk


async def _from_iterator(source: AsyncIterable[bytes], file_name: str | None) -> UploadSource:
    name = file_name or "document.pdf"
    iterator = aiter(source)
    head: list[bytes] = []
    got = 0
    while got < len(PDF_MAGIC):
        try:
            chunk = await anext(iterator)
        except StopAsyncIteration:
            break
        if not isinstance(chunk, bytes | bytearray | memoryview):
            raise DocumentError(f"document {name!r}: the async iterator must yield bytes")
        head.append(bytes(chunk))
        got += len(chunk)
    _check_magic(b"".join(head)[: len(PDF_MAGIC)], name)
    src = UploadSource(name)
    src._head = head
    src._iterator = iterator
    return src


def _check_magic(head: bytes, name: str) -> None:
    if head != PDF_MAGIC:
        raise DocumentError(f"document {name!r} is not a PDF (it does not start with %PDF-)")
