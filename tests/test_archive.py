"""The evidence bundle: manifest with SHA-256, verification, and archive() on the emulator."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest
from batch_support import PDF, builder

from consigno_async.archive import (
    MANIFEST_FORMAT,
    archive,
    build_manifest,
    file_digest,
    verify_archive,
)
from consigno_async.client import ConsignoClient
from consigno_async.emulator import Emulator
from consigno_async.errors import ConflictError


def _bundle(root: Path) -> Path:
    root.mkdir()
    (root / "documents.pdf").write_bytes(b"%PDF-1.4 signed")
    (root / "audit-trail.pdf").write_bytes(b"%PDF-1.4 audit")
    (root / "workflow.json").write_bytes(b'{"id": "x"}')
    files = [
        ("documents.pdf", "signed-documents"),
        ("audit-trail.pdf", "audit-trail"),
        ("workflow.json", "workflow"),
    ]
    workflow = {"id": "a" * 24, "name": "NDA", "status": 2}
    created = dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.UTC)
    manifest = build_manifest(root, files, workflow, created=created)
    (root / "manifest.json").write_bytes(orjson.dumps(manifest))
    return root


def test_file_digest_matches_hashlib(tmp_path: Path) -> None:
    data = b"x" * (3 << 20) + b"tail"
    (tmp_path / "f").write_bytes(data)
    assert file_digest(tmp_path / "f") == (len(data), hashlib.sha256(data).hexdigest())


def test_manifest_lists_each_file_with_its_hash(tmp_path: Path) -> None:
    root = _bundle(tmp_path / "b")
    manifest = orjson.loads((root / "manifest.json").read_bytes())
    assert manifest["format"] == MANIFEST_FORMAT
    assert manifest["createdAt"] == "2026-12-04T12:00:00.000Z"
    assert manifest["workflow"] == {"id": "a" * 24, "name": "NDA", "status": 2}
    by_path = {e["path"]: e for e in manifest["files"]}
    assert set(by_path) == {"documents.pdf", "audit-trail.pdf", "workflow.json"}
    assert by_path["documents.pdf"]["sha256"] == hashlib.sha256(b"%PDF-1.4 signed").hexdigest()
    assert by_path["documents.pdf"]["size"] == len(b"%PDF-1.4 signed")
    assert by_path["audit-trail.pdf"]["role"] == "audit-trail"
    assert verify_archive(root) == []


def test_verify_reports_tampering_missing_and_extra_files(tmp_path: Path) -> None:
    root = _bundle(tmp_path / "b")
    (root / "documents.pdf").write_bytes(b"%PDF-1.4 forged!")
    (root / "audit-trail.pdf").unlink()
    (root / "notes.txt").write_text("extra")
    problems = verify_archive(root)
    assert any(p.startswith("documents.pdf: SHA-256") for p in problems)
    assert any(p.startswith("documents.pdf: size") for p in problems)
    assert "audit-trail.pdf: missing" in problems
    assert "notes.txt: not listed in the manifest" in problems
    assert len(problems) == 4


def test_verify_without_or_with_a_bad_manifest(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert verify_archive(empty) == ["manifest.json is missing"]
    (empty / "manifest.json").write_text("{nope")
    assert verify_archive(empty) == ["manifest.json is not valid JSON"]
    (empty / "manifest.json").write_text('{"format": "other/9"}')
    assert "unknown format" in verify_archive(empty)[0]
    (empty / "manifest.json").write_bytes(
        orjson.dumps({"format": MANIFEST_FORMAT, "files": [{"path": "../x", "size": 1}]})
    )
    assert verify_archive(empty) == ["../x: path escapes the bundle"]


# --- archive() against the emulator ---------------------------------------------------------


@pytest.fixture
async def client(consigno_emulator: Emulator) -> AsyncIterator[ConsignoClient]:
    creds = consigno_emulator.credentials
    async with ConsignoClient(
        consigno_emulator.base_url, username=creds.username, password=creds.password
    ) as c:
        yield c


async def test_archive_a_completed_workflow(
    client: ConsignoClient, consigno_emulator: Emulator, tmp_path: Path
) -> None:
    wf = await client.launch(builder("to archive"))
    await consigno_emulator.sign(wf.id)
    bundle = await archive(client, wf.id, tmp_path / "evidence" / wf.id)
    assert bundle.path == tmp_path / "evidence" / wf.id
    assert sorted(p.name for p in bundle.path.iterdir()) == [
        "audit-trail.pdf",
        "documents.pdf",
        "manifest.json",
        "workflow.json",
    ]
    assert verify_archive(bundle.path) == []
    assert (bundle.path / "documents.pdf").read_bytes().startswith(b"%PDF-")
    saved = orjson.loads((bundle.path / "workflow.json").read_bytes())
    assert saved["id"] == wf.id
    assert saved["status"] == 2
    assert "secretAnswer" not in (bundle.path / "workflow.json").read_text()
    manifest = orjson.loads(bundle.manifest.read_bytes())
    assert manifest["workflow"]["status"] == 2
    assert {e.path for e in bundle.files} == {"documents.pdf", "audit-trail.pdf", "workflow.json"}
    for entry in bundle.files:
        assert file_digest(bundle.path / entry.path) == (entry.size, entry.sha256)
    assert [p.name for p in (tmp_path / "evidence").iterdir()] == [wf.id]  # no staging left

    with pytest.raises(FileExistsError):
        await archive(client, wf.id, bundle.path)
    again = await archive(client, wf.id, bundle.path, overwrite=True)
    assert verify_archive(again.path) == []
    assert [p.name for p in (tmp_path / "evidence").iterdir()] == [wf.id]


async def test_several_documents_make_a_zip(
    client: ConsignoClient, consigno_emulator: Emulator, tmp_path: Path
) -> None:
    b = builder("two documents").document(PDF, key="annex", file_name="annex.pdf")
    b.field("a", document="annex", page=1, x=72, y=600)
    wf = await client.launch(b)
    await consigno_emulator.sign(wf.id)
    bundle = await archive(client, wf.id, tmp_path / "zip")
    assert (bundle.path / "documents.zip").read_bytes().startswith(b"PK")
    assert verify_archive(bundle.path) == []


async def test_an_unfinished_workflow_leaves_nothing_behind(
    client: ConsignoClient, tmp_path: Path
) -> None:
    wf = await client.launch(builder("not signed"))
    with pytest.raises(ConflictError) as info:
        await archive(client, wf.id, tmp_path / "never")
    assert info.value.code == "4091"
    assert list(tmp_path.iterdir()) == []  # noqa: ASYNC240
