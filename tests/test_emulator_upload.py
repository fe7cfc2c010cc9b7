"""A 100 MB upload streamed through the emulator with its memory bounded, then signed and
downloaded (streamed too)."""

from __future__ import annotations

import os
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
from emulator_support import body, call, create, login
from pypdf import PdfReader

from consigno_async.emulator import Emulator
from consigno_async.emulator.documents import MEMORY_LIMIT
from consigno_async.pdfgen import Page, write_large_pdf

SIZE = 100 * 1024 * 1024
MiB = 1024 * 1024


@pytest_asyncio.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.mark.slow
async def test_100_mb_upload_keeps_server_memory_bounded(
    http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    source = tmp_path / "large.pdf"
    write_large_pdf(source, SIZE, [Page(lines=["Large contract"]), Page(lines=["Page two"])])
    size = source.stat().st_size
    data_dir = tmp_path / "emulator-data"
    async with Emulator(data_dir=data_dir) as emu:
        token = await login(http, emu)
        tracemalloc.start()
        try:
            with source.open("rb") as handle:
                form = aiohttp.FormData()
                form.add_field("uploadData", '{"pdfaPolicy": 0}')
                form.add_field("file", handle, filename="large.pdf", content_type="application/pdf")
                status, data, _ = await call(
                    http, "POST", f"{emu.base_url}/documents", token, data=form
                )
            _, upload_peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert status == 201, data
        meta = data["response"]["metadata"]
        assert (meta["fileSize"], meta["pageCount"]) == (size, 2)
        stats = await emu.stats()
        # What the upload reader held at once: one chunk past the in-memory threshold at most.
        assert stats["max_upload_buffer_bytes"] <= MEMORY_LIMIT + 64 * 1024
        assert stats["bytes_received"] >= size
        # Everything the process allocated during the upload (client and server together).
        assert upload_peak < 8 * MiB, upload_peak
        stored = data_dir / "documents" / f"{meta['documentId']}.pdf"
        assert stored.stat().st_size == size

        workflow = await create(http, emu, token, body([meta["documentId"]]))
        await emu.sign(workflow["id"])
        received = 0
        target = tmp_path / "signed.pdf"
        tracemalloc.start()
        try:
            async with http.post(
                f"{emu.base_url}/workflows/{workflow['id']}/documents",
                data={"X-Auth-Token": token},
            ) as response:
                assert response.status == 200
                length = int(response.headers["Content-Length"])
                with target.open("wb") as sink:
                    async for chunk in response.content.iter_chunked(MiB):
                        sink.write(chunk)
                        received += len(chunk)
            _, download_peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert received == length > size
        assert download_peak < 8 * MiB, download_peak
        with target.open("rb") as handle, source.open("rb") as original:
            assert handle.read(MiB) == original.read(MiB)
            handle.seek(-1024, os.SEEK_END)
            assert handle.read().rstrip().endswith(b"%%EOF")
        reader = PdfReader(target)
        assert len(reader.pages) == 3
        assert "Signed electronically" in reader.pages[2].extract_text()
        status, _, _ = await call(
            http, "POST", f"{emu.base_url}/workflows/{workflow['id']}/audit", token
        )
        assert status == 200
    assert data_dir.exists()  # a given data directory is kept
