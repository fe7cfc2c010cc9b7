"""Every public method of ConsignoClient against the emulator (real HTTP on loopback)."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import pytest
from client_support import PDF, PDF2, builder, chunks, make_client, request_count, spec

from consigno_async import (
    ActionStatus,
    ConflictError,
    DocumentError,
    DocumentMetadata,
    DownloadedFile,
    NotFoundError,
    PdfaPolicy,
    RequestEvent,
    ResponseEvent,
    Workflow,
    WorkflowStatus,
)
from consigno_async.emulator import Emulator

MISSING = "0123456789abcdef01234567"


async def test_upload_document_from_every_source(
    consigno_emulator: Emulator, tmp_path: Path
) -> None:
    path = tmp_path / "from-path.pdf"
    path.write_bytes(PDF)
    async with make_client(consigno_emulator) as client:
        metas = [
            await client.upload_document(path, pdfa=PdfaPolicy.PREFERRED, label="Contract"),
            await client.upload_document(PDF, file_name="bytes.pdf"),
            await client.upload_document(io.BytesIO(PDF), file_name="file.pdf"),
            await client.upload_document(chunks(PDF, 100), file_name="stream.pdf"),
        ]
    for meta, name in zip(
        metas, ["from-path.pdf", "bytes.pdf", "file.pdf", "stream.pdf"], strict=True
    ):
        assert isinstance(meta, DocumentMetadata)
        assert meta.file_name == name
        assert meta.file_size == len(PDF)
        assert meta.page_count == 1
        assert len(meta.document_id) == 24
        assert meta.id == meta.document_id
    assert metas[0].pdfa_policy == 1
    stats = await consigno_emulator.stats()
    assert stats["documents_stored"] == 4
    assert stats["logins"] == 1  # lazy, once


async def test_upload_refuses_a_non_pdf_before_sending(consigno_emulator: Emulator) -> None:
    async with make_client(consigno_emulator) as client:
        with pytest.raises(DocumentError, match="not a PDF"):
            await client.upload_document(b"GIF89a not a pdf")
    stats = await consigno_emulator.stats()
    assert request_count(stats, "POST /api/v1/documents") == 0
    assert stats["logins"] == 0  # nothing was sent at all


async def test_launch_uploads_documents_then_creates_and_launches(
    consigno_emulator: Emulator,
) -> None:
    two_docs = builder("Two docs", documents=(("a.pdf", PDF), ("b.pdf", PDF2)))
    async with make_client(consigno_emulator) as client:
        wf = await client.launch(two_docs)
    assert isinstance(wf, Workflow)
    assert wf.status is WorkflowStatus.LAUNCHED
    assert wf.name == "Two docs"
    assert sorted(d.name or "" for d in wf.documents) == ["a.pdf", "b.pdf"]
    assert wf.actions[0].status is ActionStatus.STARTED
    assert wf.actions[0].signer is not None
    assert wf.actions[0].signer.email == "alice@example.com"
    assert wf.created_on is not None
    assert wf.created_on.tzinfo is not None
    stats = await consigno_emulator.stats()
    assert request_count(stats, "POST /api/v1/documents", 201) == 2
    assert stats["workflows_created"] == 1


async def test_launch_inline_spec_sends_no_upload(consigno_emulator: Emulator) -> None:
    async with make_client(consigno_emulator) as client:
        wf = await client.launch(spec("Inline", inline=True))
    assert wf.status is WorkflowStatus.LAUNCHED
    stats = await consigno_emulator.stats()
    assert request_count(stats, "POST /api/v1/documents") == 0
    assert stats["workflows_created"] == 1


async def test_draft_then_launch_workflow_then_get_and_delete(consigno_emulator: Emulator) -> None:
    draft_spec = spec("Draft", launch=False)
    async with make_client(consigno_emulator) as client:
        meta = await client.upload_document(PDF, file_name="nda.pdf")
        draft = await client.create_workflow(draft_spec, document_ids={"nda.pdf": meta.document_id})
        assert draft.status is WorkflowStatus.CREATED
        assert meta.document_id in draft.document_ids
        launched = await client.launch_workflow(draft.id)
        assert launched.status is WorkflowStatus.LAUNCHED
        fetched = await client.get_workflow(draft.id)
        assert fetched.id == draft.id
        assert fetched.status is WorkflowStatus.LAUNCHED
        assert fetched.to_dict()["id"] == draft.id
        deleted = await client.delete_workflow(draft.id)
        assert deleted.status is WorkflowStatus.DELETED
        assert (await client.get_workflow(draft.id)).status is WorkflowStatus.DELETED


async def test_create_workflow_launch_flag_overrides_the_spec(consigno_emulator: Emulator) -> None:
    async with make_client(consigno_emulator) as client:
        meta = await client.upload_document(PDF, file_name="nda.pdf")
        wf = await client.create_workflow(
            spec(launch=True), document_ids={"nda.pdf": meta.document_id}, launch=False
        )
    assert wf.status is WorkflowStatus.CREATED


async def test_unknown_and_malformed_ids(consigno_emulator: Emulator) -> None:
    async with make_client(consigno_emulator) as client:
        with pytest.raises(NotFoundError) as info:
            await client.get_workflow(MISSING)
        assert info.value.code == "5004"
        assert info.value.name == "ENTITY_NOT_FOUND"
        for bad in ("../../auth/logout", "ABCDEF0123456789ABCDEF01", "abc", MISSING + "0"):
            with pytest.raises(ValueError, match="24 lowercase hexadecimal"):
                await client.get_workflow(bad)
            with pytest.raises(ValueError):
                await client.download_documents(bad, "out/")
    stats = await consigno_emulator.stats()
    assert request_count(stats, "GET /api/v1/workflows/{id}") == 1


async def test_list_workflows_follows_pages_lazily(consigno_emulator: Emulator) -> None:
    async with make_client(consigno_emulator) as client:
        created = [await client.launch(spec(f"WF {i}", inline=True)) for i in range(5)]
        draft = await client.create_workflow(spec("Draft", inline=True, launch=False))
        seen = [wf async for wf in client.list_workflows(page_size=2)]
        assert [wf.id for wf in seen] == [draft.id] + [wf.id for wf in reversed(created)]
        stats = await consigno_emulator.stats()
        assert request_count(stats, "GET /api/v1/workflows") == 3  # pages of 2, 2 and 2
        launched = [wf.id async for wf in client.list_workflows(status=WorkflowStatus.LAUNCHED)]
        assert sorted(launched) == sorted(wf.id for wf in created)
        named = [wf.name async for wf in client.list_workflows(name="WF 3")]
        assert named == ["WF 3"]
        # Stopping early fetches no further page.
        before = request_count(await consigno_emulator.stats(), "GET /api/v1/workflows")
        async for _ in client.list_workflows(page_size=1):
            break
        after = request_count(await consigno_emulator.stats(), "GET /api/v1/workflows")
        assert after == before + 1
        page = await client.list_workflow_page(0, 3, descending=False)
        assert page.total == 6
        assert page.count == 3
        assert page.offset == 0
        assert page.workflows[0].id == created[0].id


async def test_downloads_documents_and_audit_trail(
    consigno_emulator: Emulator, tmp_path: Path
) -> None:
    async with make_client(consigno_emulator) as client:
        one = await client.launch(builder("One"))
        two = await client.launch(builder("Two", documents=(("a.pdf", PDF), ("b.pdf", PDF2))))
        with pytest.raises(ConflictError) as info:
            await client.download_audit_trail(one.id, tmp_path / "audit.pdf")
        assert info.value.code == "4091"
        assert not (tmp_path / "audit.pdf").exists()
        await consigno_emulator.sign(one.id)
        await consigno_emulator.sign(two.id)
        pdf = await client.download_documents(one.id, f"{tmp_path}/out/")
        assert isinstance(pdf, DownloadedFile)
        assert pdf.content_type == "application/pdf"
        assert pdf.path.parent == tmp_path / "out"
        assert pdf.path.suffix == ".pdf"
        data = pdf.path.read_bytes()
        assert data.startswith(PDF[:-6])  # the original, then the signature's update
        assert pdf.sha256 == hashlib.sha256(data).hexdigest()
        assert pdf.size == len(data)
        archive = await client.download_documents(two.id, tmp_path / "out")
        assert archive.content_type == "application/zip"
        assert archive.path.suffix == ".zip"
        with zipfile.ZipFile(archive) as zf:
            assert len(zf.namelist()) == 2
        audit = await client.download_audit_trail(one.id, tmp_path / "evidence" / "audit.pdf")
        assert audit.path == tmp_path / "evidence" / "audit.pdf"
        assert audit.path.read_bytes().startswith(b"%PDF-")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        [pdf.path.name, archive.path.name]
    )


async def test_verify_token_and_logout(consigno_emulator: Emulator) -> None:
    async with make_client(consigno_emulator) as client:
        assert await client.verify_token() is False  # no token yet, and no login for it
        assert (await consigno_emulator.stats())["logins"] == 0
        await client.list_workflow_page()
        assert client.user == "demo"
        assert await client.verify_token() is True
        await client.logout()
        assert client.user is None
        assert await client.verify_token() is False
        await client.logout()  # no token: nothing to do
        await client.list_workflow_page()  # logs in again, lazily
    stats = await consigno_emulator.stats()
    assert stats["logins"] == 2
    assert request_count(stats, "POST /api/v1/auth/logout") == 1


async def test_hooks_see_every_attempt(consigno_emulator: Emulator) -> None:
    events: list[object] = []

    async def async_hook(event: object) -> None:
        events.append(event)

    async with make_client(
        consigno_emulator, on_request=events.append, on_response=async_hook
    ) as client:
        await client.list_workflow_page()
    requests = [e for e in events if isinstance(e, RequestEvent)]
    responses = [e for e in events if isinstance(e, ResponseEvent)]
    assert [(e.method, e.path) for e in requests] == [
        ("POST", "/auth/login"),
        ("GET", "/workflows"),
    ]
    assert [e.status for e in responses] == [200, 200]
    assert all(e.elapsed >= 0 for e in responses)


async def test_reconcile_workflow_finds_by_document_id_and_by_name(
    consigno_emulator: Emulator,
) -> None:
    async with make_client(consigno_emulator) as client:
        import time

        since = time.time()
        meta = await client.upload_document(PDF, file_name="nda.pdf")
        ids = {"nda.pdf": meta.document_id}
        s = spec("Reconciled")
        assert await client.reconcile_workflow(s, document_ids=ids, since=since) is None
        wf = await client.create_workflow(s, document_ids=ids)
        found = await client.reconcile_workflow(s, document_ids=ids, since=since)
        assert found is not None
        assert found.id == wf.id
        inline = spec("Inline one", inline=True)
        assert await client.reconcile_workflow(inline, document_ids=None, since=since) is None
        made = await client.create_workflow(inline)
        again = await client.reconcile_workflow(inline, document_ids=None, since=since)
        assert again is not None
        assert again.id == made.id
        # Made before the window: not ours.
        later = time.time() + 60
        assert await client.reconcile_workflow(inline, document_ids=None, since=later) is None
