"""launch_many: order, bad items in place, faults, token expiry, journal resume, SIGKILL."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import sys
import textwrap
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from batch_support import PDF, builder, invalid_builder

from consigno_async import WorkflowStatus, WorkflowValidationError
from consigno_async.archive import verify_archive
from consigno_async.batch import BatchProgress, LaunchItem, LaunchResult, iter_launch, launch_many
from consigno_async.client import ConsignoClient
from consigno_async.emulator import Emulator
from consigno_async.journal import ItemState, Journal

TESTS = Path(__file__).parent


@pytest.fixture
async def client(consigno_emulator: Emulator) -> AsyncIterator[ConsignoClient]:
    creds = consigno_emulator.credentials
    async with ConsignoClient(
        consigno_emulator.base_url,
        username=creds.username,
        password=creds.password,
        max_retries=10,
        concurrency=16,
    ) as c:
        yield c


async def names_in_service(client: ConsignoClient) -> list[str]:
    return [wf.name async for wf in client.list_workflows()]


async def test_results_in_input_order_with_bad_items_in_place(
    client: ConsignoClient, consigno_emulator: Emulator
) -> None:
    items: list[Any] = [
        builder("good 0"),
        invalid_builder("no signer"),
        builder("good 2").build(),
        42,
        ("my-key", builder("good 4")),
        LaunchItem(builder("good 5", parallel=True), key="key-5"),
    ]
    seen: list[BatchProgress] = []
    results = await launch_many(client, items, concurrency=3, progress=seen.append)
    assert [r.index for r in results] == list(range(6))
    assert [r.ok for r in results] == [True, False, True, False, True, True]
    assert isinstance(results[1].error, WorkflowValidationError)
    assert "no_signer" in results[1].error.codes
    assert isinstance(results[3].error, TypeError)
    assert results[4].key == "my-key"
    for result in (results[0], results[2], results[4], results[5]):
        assert result.workflow is not None
        assert result.workflow.id == result.workflow_id
        assert result.unwrap() == result.workflow_id
    assert results[5].workflow is not None
    assert {a.step for a in results[5].workflow.actions} == {1}
    with pytest.raises(TypeError):
        results[3].unwrap()
    assert seen[-1] == BatchProgress(done=4, failed=2, in_flight=0, total=6)
    assert max(p.in_flight for p in seen) <= 3
    assert sorted(await names_in_service(client)) == ["good 0", "good 2", "good 4", "good 5"]
    stats = await consigno_emulator.stats()
    assert stats["workflows_created"] == 4


async def test_300_with_faults_and_token_expiry_none_twice(
    client: ConsignoClient, consigno_emulator: Emulator
) -> None:
    emu = consigno_emulator
    await emu.add_fault(status=429, rate=0.1, retry_after=0.01, paths=["/api/v1/"])
    await emu.add_fault(status=503, rate=0.1, retry_after=0.01, paths=["/api/v1/"])
    expiries: list[asyncio.Task[int]] = []

    fired: set[int] = set()

    def expire_now_and_then(progress: BatchProgress) -> None:
        # progress is reported as items start and end: fire once per threshold
        if progress.done in (60, 150, 240) and progress.done not in fired:
            fired.add(progress.done)
            expiries.append(asyncio.ensure_future(emu.expire_tokens()))

    results = await launch_many(
        client,
        (builder(f"bulk {i:03d}") for i in range(300)),
        concurrency=16,
        progress=expire_now_and_then,
    )
    await asyncio.gather(*expiries)
    assert len(expiries) == 3
    assert all(r.ok for r in results), [r.error for r in results if not r.ok][:3]
    await emu.clear_faults()
    stats = await emu.stats()
    assert stats["faults_injected"] > 50
    expired = sum(t.result() for t in expiries)
    assert expired == 3  # each expiry found the token of the login before it
    assert stats["logins"] == 1 + expired  # the first login, then one per forced expiry
    assert stats["requests"]["POST /api/v1/workflows"].get("401", 0) > 0
    assert stats["workflows_created"] == 300
    names = await names_in_service(client)
    assert sorted(names) == [f"bulk {i:03d}" for i in range(300)]
    assert len({r.workflow_id for r in results}) == 300


async def test_streaming_reads_a_bounded_window_ahead(client: ConsignoClient) -> None:
    pulled = 0

    def items() -> Iterator[Any]:
        nonlocal pulled
        for i in range(40):
            pulled += 1
            yield builder(f"stream {i}")

    seen: list[BatchProgress] = []
    index = 0
    async for result in iter_launch(client, items(), concurrency=2, window=4, progress=seen.append):
        assert result.index == index
        assert result.ok
        assert pulled <= index + 1 + 4
        index += 1
    assert index == 40
    assert seen[-1].total is None
    assert seen[-1].done == 40


async def test_async_iterable_input(client: ConsignoClient) -> None:
    async def items() -> AsyncIterator[Any]:
        for i in range(5):
            await asyncio.sleep(0)
            yield builder(f"async {i}")

    results = await launch_many(client, items(), concurrency=2)
    assert [r.workflow.name for r in results if r.workflow] == [f"async {i}" for i in range(5)]


async def test_breaking_out_cancels_the_rest(client: ConsignoClient) -> None:
    def batch_tasks() -> list[asyncio.Task[Any]]:
        return [t for t in asyncio.all_tasks() if "_Batch.run" in t.get_coro().__qualname__]

    stream = iter_launch(client, (builder(f"cut {i}") for i in range(30)), concurrency=4)
    first = await anext(stream)
    assert first.ok
    assert batch_tasks()
    await stream.aclose()
    assert batch_tasks() == []
    # the client is still usable
    assert (await launch_many(client, [builder("after")]))[0].ok


async def test_journal_skips_done_and_tells_identical_items_apart(
    client: ConsignoClient, consigno_emulator: Emulator, tmp_path: Path
) -> None:
    journal = tmp_path / "batch.sqlite"
    items = [builder("same"), builder("same"), builder("other"), invalid_builder("bad")]
    first = await launch_many(client, items, journal=journal)
    assert [r.ok for r in first] == [True, True, True, False]
    assert first[0].key is not None
    assert first[1].key == f"{first[0].key}#2"
    again = await launch_many(client, items, journal=journal)
    assert [r.skipped for r in again] == [True, True, True, False]
    assert [r.workflow_id for r in again[:3]] == [r.workflow_id for r in first[:3]]
    assert (await consigno_emulator.stats())["workflows_created"] == 3
    with Journal(journal) as log:
        assert log.counts()[ItemState.DONE] == 3
    dup = await launch_many(client, [("k", builder("x")), ("k", builder("y"))])
    assert all(r.ok for r in dup)  # without a journal, keys are only labels
    dup = await launch_many(client, [("k", builder("x")), ("k", builder("y"))], journal=journal)
    assert dup[0].ok
    assert isinstance(dup[1].error, ValueError)
    assert "more than once" in str(dup[1].error)


async def test_rerun_reuses_uploads_and_reconciles_in_flight_creates(
    client: ConsignoClient, consigno_emulator: Emulator, tmp_path: Path
) -> None:
    emu = consigno_emulator
    uploaded_only = builder("uploaded only").build()
    created_unrecorded = builder("created, not recorded").build()
    with Journal(tmp_path / "j.sqlite") as journal:
        # A run that died after an upload answered:
        meta = await client.upload_document(PDF, file_name="contract.pdf")
        journal.begin(uploaded_only.fingerprint())
        journal.record_upload(uploaded_only.fingerprint(), "contract", meta.document_id)
        # A run that died after its create was sent (and acted on by the service):
        meta2 = await client.upload_document(PDF, file_name="contract.pdf")
        key2 = created_unrecorded.fingerprint()
        journal.begin(key2)
        journal.record_upload(key2, "contract", meta2.document_id)
        journal.mark_creating(key2)
        made = await client.create_workflow(created_unrecorded, {"contract": meta2.document_id})
        before = await emu.stats()

        results = await launch_many(client, [uploaded_only, created_unrecorded], journal=journal)

        after = await emu.stats()
        assert [r.ok for r in results] == [True, True]
        assert results[1].reconciled
        assert results[1].workflow_id == made.id
        assert results[0].workflow is not None
        assert meta.document_id in results[0].workflow.document_ids
        uploads = after["requests"]["POST /api/v1/documents"]["201"]
        assert uploads == before["requests"]["POST /api/v1/documents"]["201"]
        assert after["workflows_created"] == before["workflows_created"] + 1
        entry = journal.get(key2)
        assert entry is not None
        assert (entry.state, entry.workflow_id) == (ItemState.DONE, made.id)


async def test_lost_create_answer_is_reconciled(
    client: ConsignoClient, consigno_emulator: Emulator, tmp_path: Path
) -> None:
    await consigno_emulator.add_fault(
        drop="after_commit", paths=["/api/v1/workflows"], methods=["POST"], count=3
    )
    results = await launch_many(
        client, [builder(f"dropped {i}") for i in range(5)], journal=tmp_path / "j.sqlite"
    )
    assert all(r.ok for r in results), [r.error for r in results]
    stats = await consigno_emulator.stats()
    assert stats["workflows_created"] == 5
    assert len(set(await names_in_service(client))) == 5


KILLED_RUN = textwrap.dedent(
    """
    import asyncio, sys
    sys.path.insert(0, {tests!r})
    from batch_support import builder
    from consigno_async.client import ConsignoClient
    from consigno_async.batch import launch_many

    async def main():
        async with ConsignoClient({base_url!r}, username={user!r}, password=sys.argv[1],
                                  max_retries=10) as client:
            await launch_many(client, (builder(f"kill {{i:03d}}") for i in range({count})),
                              concurrency=8, journal={journal!r})
            print("FINISHED", flush=True)

    asyncio.run(main())
    """
)


def _count_in(journal: Path, state: str) -> int:
    try:
        with sqlite3.connect(f"file:{journal}?mode=ro", uri=True) as conn:
            query = "SELECT COUNT(*) FROM items WHERE state=?"
            return int(conn.execute(query, (state,)).fetchone()[0])
    except sqlite3.Error:
        return 0


async def test_sigkill_mid_run_then_rerun_launches_each_item_once(
    client: ConsignoClient, consigno_emulator: Emulator, tmp_path: Path
) -> None:
    emu = consigno_emulator
    count = 80
    journal = tmp_path / "killed.sqlite"
    # Slow creates down so that the kill lands with creates in flight.
    await emu.add_fault(latency_ms=150, paths=["/api/v1/workflows"], methods=["POST"])
    script = KILLED_RUN.format(
        tests=str(TESTS),
        base_url=emu.base_url,
        user=emu.credentials.username,
        count=count,
        journal=str(journal),
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, emu.credentials.password, stdout=asyncio.subprocess.PIPE
    )
    try:
        async with asyncio.timeout(60):
            # Kill once 25 are done AND a create is in flight (each lasts >= 150 ms, so it
            # is still in flight when the signal lands a few milliseconds later).
            while (  # noqa: ASYNC110 - another process writes it
                _count_in(journal, "done") < 25 or _count_in(journal, "creating") < 1
            ):
                await asyncio.sleep(0.01)
    finally:
        proc.send_signal(signal.SIGKILL)
        out, _ = await proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    assert b"FINISHED" not in out
    created_before = (await emu.stats())["workflows_created"]
    assert 25 <= created_before < count
    with Journal(journal) as log:
        counts = log.counts()
    assert counts[ItemState.DONE] < count
    assert counts[ItemState.CREATING] >= 1  # the kill landed with creates in flight

    results = await launch_many(
        client, (builder(f"kill {i:03d}") for i in range(count)), concurrency=8, journal=journal
    )
    assert all(r.ok for r in results), [r.error for r in results if not r.ok][:3]
    assert sum(r.skipped for r in results) == counts[ItemState.DONE]
    stats = await emu.stats()
    assert stats["workflows_created"] == count
    names = await names_in_service(client)
    assert sorted(names) == [f"kill {i:03d}" for i in range(count)]


def test_launch_result_ok_and_unwrap() -> None:
    ok = LaunchResult(0, "k", workflow_id="a" * 24)
    assert ok.ok
    assert ok.unwrap() == "a" * 24
    bad = LaunchResult(1, "k", error=ValueError("x"))
    assert not bad.ok
    with pytest.raises(ValueError):
        bad.unwrap()
    assert BatchProgress(3, 1, 2, None).finished == 4


async def test_client_methods_delegate(
    client: ConsignoClient, consigno_emulator: Emulator, tmp_path: Path
) -> None:
    results = await client.launch_many([builder("m0"), builder("m1")], concurrency=2)
    assert [r.ok for r in results] == [True, True]
    ids = [r.unwrap() for r in results]
    streamed = [r async for r in client.iter_launch([builder("m2")], journal=tmp_path / "j")]
    assert streamed[0].ok
    await consigno_emulator.sign(ids[0])
    await consigno_emulator.sign(ids[1])
    done = await client.wait_for_completion(ids[0], poll_interval=0.05, timeout=5)
    assert done.status is WorkflowStatus.COMPLETED
    changes = [c async for c in client.watch(ids, poll_interval=0.05)]
    assert {c.workflow_id for c in changes} == set(ids)
    bundle = await client.archive(ids[0], tmp_path / "bundle")
    assert verify_archive(bundle.path) == []
