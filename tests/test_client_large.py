"""A 200 MB document, up and down, streamed: memory stays flat and nothing partial survives."""

from __future__ import annotations

import asyncio
import hashlib
import os
import tracemalloc
from pathlib import Path

import pytest
from client_support import make_client

from consigno_async import WorkflowStatus
from consigno_async.builder import WorkflowBuilder
from consigno_async.emulator import Emulator
from consigno_async.pdfgen import write_large_pdf

SIZE = 200 * 1024 * 1024
pytestmark = pytest.mark.slow


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


async def test_200_mb_upload_and_download_are_streamed(
    consigno_emulator: Emulator, tmp_path: Path
) -> None:
    big = tmp_path / "big.pdf"
    write_large_pdf(big, SIZE)
    size = big.stat().st_size
    out = tmp_path / "out"
    out.mkdir()
    async with make_client(consigno_emulator) as client:
        tracemalloc.start()
        try:
            meta = await client.upload_document(big)
            _, upload_peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert meta.file_size == size
        spec = (
            WorkflowBuilder("Big")
            .document(big, key="big.pdf")
            .signer(
                "a",
                first_name="A",
                last_name="B",
                email="a@example.com",
                phone="+15145550100",
                amr=["link", "sms"],
            )
            .field("a", document="big.pdf", page=1, x=72, y=650)
        )
        wf = await client.create_workflow(spec.build(), document_ids={"big.pdf": meta.document_id})
        assert wf.status is WorkflowStatus.LAUNCHED
        await consigno_emulator.sign(wf.id)

        # A download cancelled half-way leaves nothing behind...
        task = asyncio.create_task(client.download_documents(wf.id, out / "signed.pdf"))
        for _ in range(2000):
            if any(name.endswith(".part") for name in os.listdir(out)):
                break
            await asyncio.sleep(0.001)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert os.listdir(out) == []

        # ...and a complete one is checked, hashed and renamed into place.
        tracemalloc.start()
        try:
            result = await client.download_documents(wf.id, out / "signed.pdf")
            _, download_peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert result.size > (meta.file_size or 0)  # the original plus the signature page
    assert result.sha256 == _sha256(result.path)
    assert os.listdir(out) == ["signed.pdf"]
    # Both ends of the transfer live in this process (client and emulator): streamed, the
    # Python heap never holds more than a few chunks; reading the file would take 200 MB.
    assert upload_peak < 16 * 1024 * 1024, upload_peak
    assert download_peak < 16 * 1024 * 1024, download_peak
