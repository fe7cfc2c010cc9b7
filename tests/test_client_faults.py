"""Retries, reconciliation and bad bodies, staged with the emulator's faults."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from client_support import PDF, chunks, make_client, request_count, spec

from consigno_async import (
    AmbiguousOutcomeError,
    ConnectError,
    RateLimitError,
    ResponseFormatError,
    RetryEvent,
    ServerError,
    StreamConsumedError,
    Workflow,
)
from consigno_async.emulator import Emulator

CREATE = "POST /api/v1/workflows"
GET_ONE = "GET /api/v1/workflows/{id}"
UPLOAD = "POST /api/v1/documents"
WORKFLOWS = "/api/v1/workflows"


async def _workflow(emu: Emulator) -> Workflow:
    async with make_client(emu) as client:
        return await client.create_workflow(spec("Target", inline=True))


async def test_429_storm_honours_retry_after(consigno_emulator: Emulator) -> None:
    wf = await _workflow(consigno_emulator)
    retries: list[RetryEvent] = []
    await consigno_emulator.add_fault(
        status=429, retryAfter=0.05, paths=[f"{WORKFLOWS}/{wf.id}"], count=3
    )
    async with make_client(consigno_emulator, on_retry=retries.append) as client:
        started = time.monotonic()
        assert (await client.get_workflow(wf.id)).id == wf.id
        elapsed = time.monotonic() - started
    assert [(e.delay, e.reason) for e in retries] == [(0.05, "HTTP 429")] * 3
    assert elapsed >= 0.15
    stats = await consigno_emulator.stats()
    assert request_count(stats, GET_ONE, 429) == 3
    assert request_count(stats, GET_ONE, 200) == 1


async def test_endless_429_gives_up_with_rate_limit_error(consigno_emulator: Emulator) -> None:
    wf = await _workflow(consigno_emulator)
    await consigno_emulator.add_fault(status=429, retryAfter=0.01, paths=[f"{WORKFLOWS}/{wf.id}"])
    async with make_client(consigno_emulator, max_retries=2) as client:
        with pytest.raises(RateLimitError) as info:
            await client.get_workflow(wf.id)
    assert info.value.retry_after == 0.01
    assert info.value.code == "4290"
    assert request_count(await consigno_emulator.stats(), GET_ONE, 429) == 3


async def test_a_retry_after_beyond_the_limit_is_not_waited_for(
    consigno_emulator: Emulator,
) -> None:
    wf = await _workflow(consigno_emulator)
    await consigno_emulator.add_fault(status=503, retryAfter=600, paths=[f"{WORKFLOWS}/{wf.id}"])
    async with make_client(consigno_emulator) as client:
        with pytest.raises(ServerError) as info:
            await client.get_workflow(wf.id)
    assert info.value.status == 503
    assert request_count(await consigno_emulator.stats(), GET_ONE) == 1


async def test_503_storm_on_create_is_retried_without_duplicates(
    consigno_emulator: Emulator,
) -> None:
    await consigno_emulator.add_fault(
        status=503, retryAfter=0.01, paths=[WORKFLOWS], methods=["POST"], count=2
    )
    async with make_client(consigno_emulator) as client:
        meta = await client.upload_document(PDF, file_name="nda.pdf")
        wf = await client.create_workflow(spec(), document_ids={"nda.pdf": meta.document_id})
    stats = await consigno_emulator.stats()
    assert request_count(stats, CREATE, 503) == 2
    assert request_count(stats, CREATE, 201) == 1
    assert stats["workflows_created"] == 1
    assert wf.status == 1


async def test_gateway_502_on_get_is_retried_but_500_is_not(consigno_emulator: Emulator) -> None:
    wf = await _workflow(consigno_emulator)
    await consigno_emulator.add_fault(status=502, paths=[f"{WORKFLOWS}/{wf.id}"], count=2)
    async with make_client(consigno_emulator) as client:
        assert (await client.get_workflow(wf.id)).id == wf.id
        await consigno_emulator.add_fault(status=500, paths=[f"{WORKFLOWS}/{wf.id}"], count=1)
        with pytest.raises(ServerError) as info:
            await client.get_workflow(wf.id)
    assert info.value.status == 500
    assert info.value.message  # the framework-shaped body was decoded
    stats = await consigno_emulator.stats()
    assert request_count(stats, GET_ONE, 502) == 2
    assert request_count(stats, GET_ONE, 500) == 1


async def test_persistent_html_error_page_becomes_response_format_error(
    consigno_emulator: Emulator,
) -> None:
    wf = await _workflow(consigno_emulator)
    await consigno_emulator.add_fault(html=502, paths=[f"{WORKFLOWS}/{wf.id}"])
    async with make_client(consigno_emulator, max_retries=1) as client:
        with pytest.raises(ResponseFormatError) as info:
            await client.get_workflow(wf.id)
    assert info.value.status == 502
    assert "HTML" in str(info.value)
    assert "<" in info.value.snippet
    assert request_count(await consigno_emulator.stats(), GET_ONE, 502) == 2


async def test_truncated_body_is_retried_then_reported(consigno_emulator: Emulator) -> None:
    wf = await _workflow(consigno_emulator)
    await consigno_emulator.add_fault(truncate=True, paths=[f"{WORKFLOWS}/{wf.id}"], count=1)
    async with make_client(consigno_emulator, max_retries=1) as client:
        assert (await client.get_workflow(wf.id)).id == wf.id
        await consigno_emulator.add_fault(truncate=True, paths=[f"{WORKFLOWS}/{wf.id}"])
        with pytest.raises(ResponseFormatError, match="truncated"):
            await client.get_workflow(wf.id)


@pytest.mark.parametrize("inline", [False, True])
async def test_drop_after_commit_on_create_reconciles_without_duplicate(
    consigno_emulator: Emulator, inline: bool
) -> None:
    await consigno_emulator.add_fault(
        drop="after_commit", paths=[WORKFLOWS], methods=["POST"], count=1
    )
    s = spec("Dropped", inline=inline)
    async with make_client(consigno_emulator) as client:
        ids = None
        if not inline:
            meta = await client.upload_document(PDF, file_name="nda.pdf")
            ids = {"nda.pdf": meta.document_id}
        wf = await client.create_workflow(s, document_ids=ids)
        assert wf.name == "Dropped"
        assert [w.id async for w in client.list_workflows()] == [wf.id]
    stats = await consigno_emulator.stats()
    assert stats["workflows_created"] == 1
    assert request_count(stats, CREATE, "drop") == 1
    assert request_count(stats, CREATE, 201) == 0  # found, not created again


async def test_drop_before_commit_reconciles_to_nothing_then_creates_once(
    consigno_emulator: Emulator,
) -> None:
    await consigno_emulator.add_fault(
        drop="before_commit", paths=[WORKFLOWS], methods=["POST"], count=1
    )
    async with make_client(consigno_emulator) as client:
        meta = await client.upload_document(PDF, file_name="nda.pdf")
        wf = await client.create_workflow(spec(), document_ids={"nda.pdf": meta.document_id})
    stats = await consigno_emulator.stats()
    assert stats["workflows_created"] == 1
    assert request_count(stats, CREATE, 201) == 1
    assert meta.document_id in wf.document_ids


async def test_create_that_never_gets_through_says_nothing_was_created(
    consigno_emulator: Emulator,
) -> None:
    await consigno_emulator.add_fault(drop="before_commit", paths=[WORKFLOWS], methods=["POST"])
    async with make_client(consigno_emulator, max_retries=2) as client:
        with pytest.raises(ConnectError, match="no workflow was created") as info:
            await client.create_workflow(spec(inline=True))
    assert isinstance(info.value.__cause__, AmbiguousOutcomeError)
    assert (await consigno_emulator.stats())["workflows_created"] == 0


async def test_when_the_search_fails_the_outcome_is_reported_ambiguous(
    consigno_emulator: Emulator,
) -> None:
    await consigno_emulator.add_fault(
        drop="after_commit", paths=[WORKFLOWS], methods=["POST"], count=1
    )
    await consigno_emulator.add_fault(
        status=503, retryAfter=0.01, paths=[WORKFLOWS], methods=["GET"]
    )
    s = spec("Unknown fate", secret_answer="Rex the first dog")
    async with make_client(consigno_emulator, max_retries=1) as client:
        meta = await client.upload_document(PDF, file_name="nda.pdf")
        with pytest.raises(AmbiguousOutcomeError) as info:
            await client.create_workflow(s, document_ids={"nda.pdf": meta.document_id})
    exc = info.value
    assert exc.operation == "create_workflow"
    assert exc.known["workflow_name"] == "Unknown fate"
    assert exc.known["document_ids"] == [meta.document_id]
    assert "Rex the first dog" not in f"{exc} {exc.known!r}"
    assert (await consigno_emulator.stats())["workflows_created"] == 1


async def test_upload_retried_after_503_resends_the_whole_file(
    consigno_emulator: Emulator, tmp_path: Path
) -> None:
    path = tmp_path / "doc.pdf"
    path.write_bytes(PDF)
    await consigno_emulator.add_fault(
        status=503, retryAfter=0.01, paths=["/api/v1/documents"], count=1
    )
    async with make_client(consigno_emulator) as client:
        meta = await client.upload_document(path)
    assert meta.file_size == len(PDF)
    stats = await consigno_emulator.stats()
    assert request_count(stats, UPLOAD, 503) == 1
    assert stats["documents_stored"] == 1


async def test_one_shot_stream_cannot_be_retried(consigno_emulator: Emulator) -> None:
    await consigno_emulator.add_fault(
        status=503, retryAfter=0.01, paths=["/api/v1/documents"], count=1
    )
    async with make_client(consigno_emulator) as client:
        with pytest.raises(StreamConsumedError) as info:
            await client.upload_document(chunks(PDF), file_name="s.pdf")
    assert isinstance(info.value.__cause__, ServerError)
    assert (await consigno_emulator.stats())["documents_stored"] == 0


async def test_upload_dropped_after_commit_is_ambiguous(consigno_emulator: Emulator) -> None:
    await consigno_emulator.add_fault(drop="after_commit", paths=["/api/v1/documents"], count=1)
    async with make_client(consigno_emulator) as client:
        with pytest.raises(AmbiguousOutcomeError) as info:
            await client.upload_document(PDF, file_name="lost.pdf")
    assert info.value.operation == "upload_document"
    assert info.value.known["file_name"] == "lost.pdf"
    assert request_count(await consigno_emulator.stats(), UPLOAD) == 1  # not blindly resent


async def test_truncated_download_is_retried_and_leaves_no_partial_file(
    consigno_emulator: Emulator, tmp_path: Path
) -> None:
    wf = await _workflow(consigno_emulator)
    await consigno_emulator.sign(wf.id)
    path = f"{WORKFLOWS}/{wf.id}/documents"
    await consigno_emulator.add_fault(truncate=True, paths=[path], count=1)
    async with make_client(consigno_emulator, max_retries=1) as client:
        good = await client.download_documents(wf.id, tmp_path / "signed.pdf")
        assert good.path.read_bytes().startswith(b"%PDF-")
        await consigno_emulator.add_fault(truncate=True, paths=[path])
        with pytest.raises(ResponseFormatError, match="truncated"):
            await client.download_documents(wf.id, tmp_path / "other.pdf")
    assert sorted(os.listdir(tmp_path)) == ["signed.pdf"]


async def test_a_slow_answer_past_the_timeout_raises_timeout_error(
    consigno_emulator: Emulator,
) -> None:
    """timeout= bounds each attempt; a stalled answer ends as the library's TimeoutError."""
    from consigno_async import TimeoutError as ConsignoTimeout
    from consigno_async import TransportError

    wf = await _workflow(consigno_emulator)
    await consigno_emulator.add_fault(latencyMs=3000, paths=[f"{WORKFLOWS}/{wf.id}"], count=1)
    async with make_client(consigno_emulator, timeout=0.3, max_retries=0) as client:
        started = time.monotonic()
        with pytest.raises(ConsignoTimeout) as info:
            await client.get_workflow(wf.id)
        assert time.monotonic() - started < 2.5
        assert isinstance(info.value, TransportError)
        assert isinstance(info.value, TimeoutError)  # the builtin, for existing except clauses
        # The client is still usable once the stalled call has given up.
        assert (await client.get_workflow(wf.id)).id == wf.id


def test_default_timeouts_bound_calls_in_all_and_transfers_by_silence() -> None:
    """JSON calls get one overall deadline; uploads and downloads only a silence limit."""
    from consigno_async import ConsignoClient

    client = ConsignoClient("http://127.0.0.1:9/api/v1", username="u", password="p")
    assert client._core.timeout.total == 120
    assert client._core.transfer_timeout.total is None
    assert client._core.transfer_timeout.sock_read == 120
    explicit = ConsignoClient("http://127.0.0.1:9/api/v1", username="u", password="p", timeout=5)
    assert explicit._core.timeout.total == explicit._core.transfer_timeout.total == 5
