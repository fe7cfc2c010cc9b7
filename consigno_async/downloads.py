"""
Streaming a download to disk: never whole in memory, never a partial file left behind.

The service answers ``POST /workflows/{id}/documents`` and ``POST /workflows/{id}/audit`` with
a PDF (one document) or a zip (several). :func:`save_stream` writes the body chunk by chunk to
a temporary file **beside** the destination (same directory, so the final rename is atomic
and never crosses file systems), computing the SHA-256 on the way, then checks:

- the length, when the response announced one;
- the magic bytes: ``%PDF-`` for ``application/pdf``, ``PK`` for ``application/zip``;

and only then renames the file into place. On any failure, including cancellation, the
temporary file is removed and the destination is untouched.

The result is a :class:`DownloadedFile`, which is an :class:`os.PathLike` (so it can be passed
to ``open()`` directly) and also carries the content type, size and SHA-256.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import AsyncIterator
from contextlib import suppress
from pathlib import Path
from typing import Final

import attrs

from .errors import ResponseFormatError

__all__ = ["DownloadedFile", "resolve_destination", "save_stream", "suffix_for"]

_MAGIC: Final = {"application/pdf": (b"%PDF-",), "application/zip": (b"PK\x03\x04", b"PK\x05\x06")}
_SUFFIX: Final = {"application/pdf": ".pdf", "application/zip": ".zip"}


@attrs.frozen
class DownloadedFile(os.PathLike[str]):
    """
    A file the client downloaded, already checked and renamed into place.

    It is path-like: ``open(downloaded)``, ``Path(downloaded)`` and ``os.fspath`` all work.

    Attributes:
        path: where the file is.
        content_type: ``"application/pdf"`` or ``"application/zip"``.
        sha256: the hex SHA-256 of the file's bytes, computed while it was written.
        size: its size in bytes.
    """

    path: Path
    content_type: str
    sha256: str
    size: int

    def __fspath__(self) -> str:
        return os.fspath(self.path)

    def __str__(self) -> str:
        return os.fspath(self.path)


def suffix_for(content_type: str) -> str:
    """The file suffix for a content type: ``.pdf``, ``.zip``, else ``.bin``."""
    return _SUFFIX.get(content_type, ".bin")


def resolve_destination(
    destination: str | os.PathLike[str],
    *,
    content_type: str,
    suggested_name: str | None,
    default_stem: str,
) -> Path:
    """
    The final path for a download.

    A destination that is an existing directory, or that ends with a path separator, is a
    directory: the file takes the name the service suggested (``Content-Disposition``, reduced
    to its last component) or ``<default_stem>.pdf|.zip`` from the content type. Anything
    else is the file path itself. Missing parent directories are created.

    >>> resolve_destination("out/", content_type="application/zip", suggested_name=None,
    ...                     default_stem="abc").name
    'abc.zip'
    """
    raw = os.fspath(destination)
    path = Path(raw)
    if raw.endswith((os.sep, "/")) or path.is_dir():
        name = _safe_name(suggested_name) or f"{default_stem}{suffix_for(content_type)}"
        path = path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _safe_name(name: str | None) -> str | None:
    # The service's suggestion must never choose the directory: keep the last component only.
    if not name:
        return None
    base = os.path.basename(name.replace("\\", "/")).strip()
    if base in ("", ".", "..") or base.startswith("."):
        return None
    return base


async def save_stream(
    chunks: AsyncIterator[bytes],
    path: Path,
    *,
    content_type: str,
    expected_size: int | None,
) -> DownloadedFile:
    """
    Write ``chunks`` to ``path`` through a temporary file beside it, check, then rename.

    Raises:
        ResponseFormatError: the content type is neither PDF nor zip, the body does not
            start with the matching magic bytes, or its length is not the announced one.
            The destination is left untouched and the temporary file removed.
    """
    magics = _MAGIC.get(content_type)
    if magics is None:
        raise ResponseFormatError(
            "a download must be application/pdf or application/zip",
            content_type=content_type,
        )
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    digest = hashlib.sha256()
    size = 0
    head = b""
    try:
        with os.fdopen(fd, "wb") as file:
            # Page-cache writes of 256 KiB take microseconds: writing inline is cheaper than a
            # thread hop per chunk, and keeps cancellation simple (no write outlives the task).
            async for chunk in chunks:
                if len(head) < 8:
                    head += chunk[: 8 - len(head)]
                file.write(chunk)
                digest.update(chunk)
                size += len(chunk)
        if expected_size is not None and size != expected_size:
            raise ResponseFormatError(
                f"download truncated: got {size} bytes of the {expected_size} announced",
                content_type=content_type,
            )
        if not head.startswith(magics):
            raise ResponseFormatError(
                f"the downloaded body is not a valid {suffix_for(content_type)[1:].upper()} "
                "(wrong magic bytes)",
                content_type=content_type,
                snippet=head.decode("latin-1"),
            )
        os.replace(tmp_name, path)
    except BaseException:
        # Cancellation included: no partial file survives.
        with suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    return DownloadedFile(
        path=path, content_type=content_type, sha256=digest.hexdigest(), size=size
    )
