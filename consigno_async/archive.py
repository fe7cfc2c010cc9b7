"""
The evidence bundle: everything a compliance team keeps about one signed workflow.

:func:`archive` writes, into one directory:

- the signed documents (``documents.pdf``, or ``documents.zip`` when there are several),
- the audit trail (``audit-trail.pdf``),
- the workflow as the service reported it (``workflow.json``),
- ``manifest.json``: the size and SHA-256 of each of those files, the workflow's id, name
  and status, and when the bundle was made.

The bundle is built in a hidden directory beside the destination and renamed into place
only once complete, so a failed or cancelled archive leaves nothing half-written.
:func:`verify_archive` re-hashes a bundle against its manifest::

    bundle = await archive(client, workflow_id, "evidence/nda-2026-001")
    assert verify_archive(bundle.path) == []
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import os
import shutil
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import orjson

from ._version import __version__

if TYPE_CHECKING:
    from .client import ConsignoClient
    from .responses import Workflow

__all__ = [
    "MANIFEST_FORMAT",
    "MANIFEST_NAME",
    "ArchiveResult",
    "ManifestEntry",
    "archive",
    "build_manifest",
    "file_digest",
    "verify_archive",
]

MANIFEST_NAME = "manifest.json"
MANIFEST_FORMAT = "consigno-evidence-bundle/1"
AUDIT_NAME = "audit-trail.pdf"
WORKFLOW_NAME = "workflow.json"
DOCUMENTS_STEM = "documents"
_CHUNK = 1 << 20


@attrs.frozen
class ManifestEntry:
    """One file of a bundle: its name inside the bundle, role, size and SHA-256 (hex)."""

    path: str
    role: str
    size: int
    sha256: str


@attrs.frozen
class ArchiveResult:
    """
    What :func:`archive` made.

    Attributes:
        path: the bundle's directory.
        workflow_id: the archived workflow.
        files: the manifest's entries (documents, audit trail, workflow JSON).
        manifest: the path of ``manifest.json``.
    """

    path: Path
    workflow_id: str
    files: tuple[ManifestEntry, ...]

    @property
    def manifest(self) -> Path:
        """The bundle's ``manifest.json``."""
        return self.path / MANIFEST_NAME


def file_digest(path: str | os.PathLike[str]) -> tuple[int, str]:
    """The size and SHA-256 (hex) of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def build_manifest(
    bundle: str | os.PathLike[str],
    files: Iterable[tuple[str, str]],
    workflow: Mapping[str, Any],
    *,
    created: dt.datetime | None = None,
) -> dict[str, Any]:
    """
    The manifest of ``bundle`` as a dict, hashing each ``(name, role)`` of ``files``
    (names relative to the bundle). ``workflow`` is the workflow's JSON object.

    The manifest lists each file's ``path``, ``role``, ``size`` and ``sha256``, plus the
    workflow's ``id``, ``name`` and ``status``; it never holds secrets (the service's
    workflow JSON carries none: no token, no secret answer).
    """
    root = Path(bundle)
    entries = []
    for name, role in files:
        size, sha = file_digest(root / name)
        entries.append({"path": name, "role": role, "size": size, "sha256": sha})
    stamp = (created or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    return {
        "format": MANIFEST_FORMAT,
        "generator": f"consigno_async {__version__}",
        "createdAt": stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "workflow": {
            "id": workflow.get("id"),
            "name": workflow.get("name"),
            "status": workflow.get("status"),
        },
        "files": entries,
    }


def verify_archive(bundle: str | os.PathLike[str]) -> list[str]:
    """
    Check a bundle against its manifest: every listed file is present with the recorded
    size and SHA-256, and no file is there that the manifest does not list. Returns the
    problems found (an empty list for an intact bundle).
    """
    root = Path(bundle)
    try:
        manifest = orjson.loads((root / MANIFEST_NAME).read_bytes())
    except FileNotFoundError:
        return [f"{MANIFEST_NAME} is missing"]
    except orjson.JSONDecodeError:
        return [f"{MANIFEST_NAME} is not valid JSON"]
    if manifest.get("format") != MANIFEST_FORMAT:
        return [f"{MANIFEST_NAME} has an unknown format {manifest.get('format')!r}"]
    problems: list[str] = []
    listed = set()
    for entry in manifest.get("files", []):
        name = str(entry.get("path"))
        listed.add(name)
        target = root / name
        if Path(name).is_absolute() or ".." in Path(name).parts:
            problems.append(f"{name}: path escapes the bundle")
            continue
        if not target.is_file():
            problems.append(f"{name}: missing")
            continue
        size, sha = file_digest(target)
        if size != entry.get("size"):
            problems.append(f"{name}: size {size}, manifest says {entry.get('size')}")
        if sha != entry.get("sha256"):
            problems.append(f"{name}: SHA-256 does not match the manifest")
    for path in sorted(root.iterdir()):
        if path.name != MANIFEST_NAME and path.name not in listed:
            problems.append(f"{path.name}: not listed in the manifest")
    return problems


def _workflow_json(workflow: Workflow) -> dict[str, Any]:
    """The workflow's JSON object, in the service's wire names."""
    return workflow.to_dict()


async def archive(
    client: ConsignoClient,
    workflow_id: str,
    dest_dir: str | os.PathLike[str],
    *,
    overwrite: bool = False,
) -> ArchiveResult:
    """
    Save the evidence bundle of ``workflow_id`` into ``dest_dir`` (see the module
    docstring for its content) and return an :class:`ArchiveResult`.

    The workflow must be completed: the service refuses the audit trail before
    (:class:`~consigno_async.errors.ConflictError`, code 4091). ``dest_dir`` must not exist
    (or be empty) unless ``overwrite`` is true, in which case an existing bundle is
    replaced only once the new one is complete. Nothing is left behind on failure.

    Example::

        bundle = await archive(client, wf.id, "evidence/" + wf.id)
        print(bundle.manifest.read_text())
    """
    dest = Path(dest_dir)
    staging = _prepare(dest, overwrite)
    try:
        workflow = await client.get_workflow(workflow_id)
        documents = Path(await client.download_documents(workflow_id, staging))
        await client.download_audit_trail(workflow_id, staging / AUDIT_NAME)
        data = _workflow_json(workflow)
        manifest = await asyncio.to_thread(_finish, staging, documents, data)
        _move_into_place(staging, dest)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    entries = tuple(
        ManifestEntry(e["path"], e["role"], e["size"], e["sha256"]) for e in manifest["files"]
    )
    return ArchiveResult(path=dest, workflow_id=workflow_id, files=entries)


def _prepare(dest: Path, overwrite: bool) -> Path:
    """Check the destination and make the hidden staging directory beside it."""
    if dest.exists() and not overwrite and (not dest.is_dir() or any(dest.iterdir())):
        raise FileExistsError(f"{dest} already exists and is not empty")
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = dest.parent / f".{dest.name}.partial-{uuid.uuid4().hex[:12]}"
    staging.mkdir(mode=0o700)
    return staging


def _finish(staging: Path, documents: Path, workflow: Mapping[str, Any]) -> dict[str, Any]:
    """Name the documents, write workflow.json and manifest.json; return the manifest."""
    if documents.parent.resolve() != staging.resolve():
        raise RuntimeError(f"download_documents wrote outside the bundle: {documents}")
    documents_name = DOCUMENTS_STEM + (documents.suffix.lower() or ".pdf")
    if documents.name != documents_name:
        documents.rename(staging / documents_name)
    _write_private(
        staging / WORKFLOW_NAME,
        orjson.dumps(workflow, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS),
    )
    files = [
        (documents_name, "signed-documents"),
        (AUDIT_NAME, "audit-trail"),
        (WORKFLOW_NAME, "workflow"),
    ]
    manifest = build_manifest(staging, files, workflow)
    _write_private(staging / MANIFEST_NAME, orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
    return manifest


def _write_private(path: Path, data: bytes) -> None:
    """Write a file readable by its owner only, like the downloaded documents."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def _move_into_place(staging: Path, dest: Path) -> None:
    if dest.is_dir() and not any(dest.iterdir()):
        dest.rmdir()
    if not dest.exists():
        staging.rename(dest)
        return
    old = dest.parent / f".{dest.name}.old-{uuid.uuid4().hex[:12]}"
    dest.rename(old)
    staging.rename(dest)
    if old.is_dir():
        shutil.rmtree(old, ignore_errors=True)
    else:
        old.unlink()
