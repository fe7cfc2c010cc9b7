"""Streaming downloads to disk: checks, atomic rename, no partial file on any failure."""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from consigno_async.downloads import DownloadedFile, resolve_destination, save_stream
from consigno_async.errors import ResponseFormatError

PDF = b"%PDF-1.7\n" + bytes(range(256)) * 100 + b"%%EOF\n"


async def chunks(data: bytes, size: int = 1000) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]
        await asyncio.sleep(0)


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


async def test_save_writes_checks_and_renames(tmp_path: Path) -> None:
    target = tmp_path / "out.pdf"
    result = await save_stream(
        chunks(PDF), target, content_type="application/pdf", expected_size=len(PDF)
    )
    assert isinstance(result, DownloadedFile)
    assert isinstance(result, os.PathLike)
    assert os.fspath(result) == str(target)
    assert result.path == target
    assert target.read_bytes() == PDF
    assert result.sha256 == hashlib.sha256(PDF).hexdigest()
    assert result.size == len(PDF)
    assert leftovers(tmp_path) == ["out.pdf"]


async def test_zip_magic_is_accepted(tmp_path: Path) -> None:
    data = b"PK\x03\x04" + b"z" * 50
    result = await save_stream(
        chunks(data), tmp_path / "a.zip", content_type="application/zip", expected_size=None
    )
    assert result.content_type == "application/zip"
    assert result.size == len(data)


@pytest.mark.parametrize(
    ("data", "content_type", "expected", "message"),
    [
        (PDF[:500], "application/pdf", len(PDF), "truncated"),
        (b"<html>oops</html>", "application/pdf", None, "magic"),
        (PDF, "application/zip", None, "magic"),
        (PDF, "text/html", None, "application/pdf or application/zip"),
    ],
)
async def test_bad_downloads_leave_nothing_behind(
    tmp_path: Path, data: bytes, content_type: str, expected: int | None, message: str
) -> None:
    target = tmp_path / "out.pdf"
    target.write_bytes(b"previous content")
    with pytest.raises(ResponseFormatError, match=message):
        await save_stream(chunks(data), target, content_type=content_type, expected_size=expected)
    assert leftovers(tmp_path) == ["out.pdf"]
    assert target.read_bytes() == b"previous content"


async def test_failure_mid_stream_removes_the_temporary_file(tmp_path: Path) -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield PDF[:100]
        raise ConnectionResetError("peer went away")

    with pytest.raises(ConnectionResetError):
        await save_stream(
            broken(), tmp_path / "x.pdf", content_type="application/pdf", expected_size=None
        )
    assert leftovers(tmp_path) == []


async def test_cancellation_mid_stream_removes_the_temporary_file(tmp_path: Path) -> None:
    started = asyncio.Event()

    async def endless() -> AsyncIterator[bytes]:
        yield PDF
        started.set()
        while True:
            await asyncio.sleep(0.01)
            yield b"x" * 100

    task = asyncio.create_task(
        save_stream(
            endless(), tmp_path / "x.pdf", content_type="application/pdf", expected_size=None
        )
    )
    await started.wait()
    await asyncio.sleep(0.05)
    assert any(name.endswith(".part") for name in leftovers(tmp_path))
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert leftovers(tmp_path) == []


def test_resolve_destination(tmp_path: Path) -> None:
    out = tmp_path / "out"
    path = resolve_destination(
        f"{out}/", content_type="application/zip", suggested_name=None, default_stem="abc"
    )
    assert path == out / "abc.zip"
    assert out.is_dir()
    named = resolve_destination(
        out, content_type="application/pdf", suggested_name="signed.pdf", default_stem="abc"
    )
    assert named == out / "signed.pdf"
    # A hostile suggestion cannot choose the directory.
    for hostile in ("../../etc/passwd", "/abs/evil.pdf", "..", ".hidden"):
        path = resolve_destination(
            out, content_type="application/pdf", suggested_name=hostile, default_stem="abc"
        )
        assert path.parent == out
        assert path.name in ("passwd", "evil.pdf", "abc.pdf")
    explicit = resolve_destination(
        tmp_path / "deep" / "audit.pdf",
        content_type="application/pdf",
        suggested_name="other.pdf",
        default_stem="abc",
    )
    assert explicit == tmp_path / "deep" / "audit.pdf"
    assert explicit.parent.is_dir()
