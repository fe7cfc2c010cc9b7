"""The batch journal: every transition is committed, survives a reopen, and reads back typed."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from consigno_async.journal import ItemState, Journal

WF = "b" * 24
DOC = "a" * 24


def test_transitions_read_back(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite") as journal:
        entry = journal.begin("k1")
        assert entry.state is ItemState.PENDING
        assert entry.attempts == 1
        assert entry.document_ids == {}
        assert not entry.create_may_have_happened

        journal.record_upload("k1", "nda.pdf", DOC)
        journal.record_upload("k1", "annex.pdf", "c" * 24)
        entry = journal.get("k1")
        assert entry is not None
        assert entry.state is ItemState.UPLOADING
        assert entry.document_ids == {"nda.pdf": DOC, "annex.pdf": "c" * 24}

        started = journal.mark_creating("k1", 1000.0)
        assert started == 1000.0
        assert journal.mark_creating("k1", 2000.0) == 1000.0  # the earliest attempt is kept
        entry = journal.get("k1")
        assert entry is not None
        assert entry.state is ItemState.CREATING
        assert entry.create_may_have_happened

        journal.mark_done("k1", WF)
        entry = journal.get("k1")
        assert entry is not None
        assert (entry.state, entry.workflow_id) == (ItemState.DONE, WF)
        assert not entry.create_may_have_happened


def test_survives_reopen_and_counts(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    with Journal(path) as journal:
        for key in ("a", "b", "c"):
            journal.begin(key)
        journal.mark_done("a", WF)
        journal.mark_failed("b", "BadRequestError: HTTP 400 nope")
    with Journal(path) as journal:
        counts = journal.counts()
        assert counts[ItemState.DONE] == 1
        assert counts[ItemState.FAILED] == 1
        assert counts[ItemState.PENDING] == 1
        assert counts[ItemState.CREATING] == 0
        assert len(journal) == 3
        assert [e.key for e in journal.entries()] == ["a", "b", "c"]
        assert [e.key for e in journal.entries(ItemState.FAILED)] == ["b"]
        failed = journal.get("b")
        assert failed is not None
        assert failed.error == "BadRequestError: HTTP 400 nope"
        # a rerun counts a new attempt, except for done items
        assert journal.begin("b").attempts == 2
        assert journal.begin("a").attempts == 1
        assert journal.get("zzz") is None


def test_wal_mode_and_unknown_key(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite") as journal:
        mode = sqlite3.connect(journal.path).execute("PRAGMA journal_mode").fetchone()[0]
        assert mode == "wal"
        with pytest.raises(KeyError):
            journal.mark_done("never-begun", WF)
        with pytest.raises(KeyError):
            journal.record_upload("never-begun", "x.pdf", DOC)


def test_occurrences_tell_identical_items_apart() -> None:
    with Journal(":memory:") as journal:
        assert [journal.occurrence("fp") for _ in range(3)] == [1, 2, 3]
        assert journal.occurrence("other") == 1
        journal.start_run()
        assert journal.occurrence("fp") == 1


def test_closed_journal_refuses_use(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite")
    journal.close()
    journal.close()
    assert journal.closed
    assert "closed" in repr(journal)
    with pytest.raises(ValueError, match="closed"):
        journal.begin("k")


def test_schema_version_mismatch_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    Journal(path).close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE meta SET value = '99' WHERE name = 'schema_version'")
    conn.commit()
    conn.close()
    with pytest.raises(ValueError, match="schema version 99"):
        Journal(path)


def test_commits_survive_sigkill(tmp_path: Path) -> None:
    """Each transition is committed before the call returns: a SIGKILL loses none."""
    path = tmp_path / "j.sqlite"
    script = f"""
import os, signal
from consigno_async.journal import Journal
j = Journal({str(path)!r})
for i in range(50):
    j.begin(f"k{{i}}")
    j.record_upload(f"k{{i}}", "doc.pdf", "a" * 24)
    if i % 2:
        j.mark_creating(f"k{{i}}")
    if i % 5 == 0:
        j.mark_done(f"k{{i}}", "b" * 24)
os.kill(os.getpid(), signal.SIGKILL)
"""
    proc = subprocess.run([sys.executable, "-c", script], check=False, timeout=60)
    assert proc.returncode == -9
    with Journal(path) as journal:
        counts = journal.counts()
        assert len(journal) == 50
        assert counts[ItemState.DONE] == 10
        assert counts[ItemState.CREATING] == 20  # odd, not multiple of 5: 25 odd - 5 odd done
        assert counts[ItemState.UPLOADING] == 20
        entry = journal.get("k7")
        assert entry is not None
        assert entry.document_ids == {"doc.pdf": "a" * 24}
        assert entry.create_may_have_happened
