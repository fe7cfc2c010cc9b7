"""
The batch journal: a small SQLite file that remembers, item by item, what a batch has done.

:func:`consigno_async.batch.launch_many` writes one row per item and commits every
transition as it happens, so a process killed at any instant leaves a journal that says
exactly how far each item got::

    pending ──► uploading ──► creating ──► done
       │            │             │
       └────────────┴─────────────┴──► failed   (the error, kept for the report)

- ``pending``: the item was seen; nothing was sent for it yet.
- ``uploading``: some documents are uploaded; their ids are recorded one by one, as each
  upload answers, so a rerun re-uses them instead of uploading them again.
- ``creating``: the create request may have been sent. A rerun must not blindly create
  again: it asks the client to *reconcile* (find the workflow the lost create may have made,
  searching from ``create_started``) first.
- ``done``: the workflow id is recorded; a rerun skips the item.
- ``failed``: the last attempt failed with ``error``; a rerun tries again (reconciling first
  if a create had been sent).

The journal is pure storage: it never touches the network. It uses the standard library's
:mod:`sqlite3` in WAL mode; with ``durable=False`` (the default) a commit survives the
process being killed (SIGKILL) but not the machine losing power; ``durable=True`` also
syncs each commit to disk.

Example::

    >>> from consigno_async.journal import Journal
    >>> with Journal(":memory:") as journal:
    ...     entry = journal.begin("contract-1")
    ...     journal.record_upload("contract-1", "nda.pdf", "a" * 24)
    ...     started = journal.mark_creating("contract-1")
    ...     journal.mark_done("contract-1", "b" * 24)
    ...     journal.get("contract-1").state
    <ItemState.DONE: 'done'>
"""

from __future__ import annotations

import enum
import os
import sqlite3
import time
from collections.abc import Iterator, Mapping
from types import TracebackType

import attrs
import orjson

__all__ = ["ItemState", "Journal", "JournalEntry"]

_SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS items (
    key            TEXT PRIMARY KEY,
    state          TEXT NOT NULL,
    document_ids   TEXT NOT NULL DEFAULT '{}',
    workflow_id    TEXT,
    error          TEXT,
    create_started REAL,
    attempts       INTEGER NOT NULL DEFAULT 0,
    created        REAL NOT NULL,
    updated        REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS items_state ON items(state);
"""


class ItemState(enum.StrEnum):
    """Where one batch item stands in the journal (see the module docstring's diagram)."""

    PENDING = "pending"
    UPLOADING = "uploading"
    CREATING = "creating"
    DONE = "done"
    FAILED = "failed"


@attrs.frozen
class JournalEntry:
    """
    One item's row, as read from the journal.

    Attributes:
        key: the item's key (given by the caller, or the spec's fingerprint).
        state: an :class:`ItemState`.
        document_ids: document key -> uploaded document id, for the uploads that answered.
        workflow_id: the created workflow's id, once known.
        error: the last error's one-line description, for failed items.
        create_started: when (epoch seconds) a create request was last about to be sent;
            None if no create was ever attempted. A rerun reconciles from this time.
        attempts: how many times the batch started working on this item.
    """

    key: str
    state: ItemState
    document_ids: Mapping[str, str]
    workflow_id: str | None
    error: str | None
    create_started: float | None
    attempts: int

    @property
    def create_may_have_happened(self) -> bool:
        """True when a create was attempted but its outcome is not recorded as done."""
        return self.create_started is not None and self.state is not ItemState.DONE


class Journal:
    """
    A batch journal stored in an SQLite file (WAL mode, one commit per transition).

    Open it with a path (created if missing) or ``":memory:"`` for a throw-away journal.
    Use it as a context manager, or call :meth:`close`. It is meant to be used from one
    thread (the event loop's); each call is a short local transaction.

    Args:
        path: the SQLite file.
        durable: also fsync each commit (``synchronous=FULL``), surviving power loss, at a
            cost of a disk sync per transition. Off by default: commits still survive the
            process being killed.
    """

    def __init__(self, path: str | os.PathLike[str], *, durable: bool = False) -> None:
        self.path = os.fspath(path)
        self._conn: sqlite3.Connection | None = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False
        )
        conn = self._conn
        conn.execute("PRAGMA busy_timeout = 5000")
        if self.path != ":memory:":
            conn.execute("PRAGMA journal_mode = WAL")
        conn.execute(f"PRAGMA synchronous = {'FULL' if durable else 'NORMAL'}")
        conn.executescript(_SCHEMA)
        conn.execute(
            "INSERT OR IGNORE INTO meta(name, value) VALUES ('schema_version', ?)",
            (str(_SCHEMA_VERSION),),
        )
        version = conn.execute("SELECT value FROM meta WHERE name = 'schema_version'").fetchone()
        if int(version[0]) != _SCHEMA_VERSION:
            conn.close()
            self._conn = None
            raise ValueError(
                f"journal {self.path!r} has schema version {version[0]}, "
                f"this version of consigno_async reads version {_SCHEMA_VERSION}"
            )
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS seen (key TEXT PRIMARY KEY, n INTEGER)")

    # -- lifecycle ------------------------------------------------------------------------

    def __enter__(self) -> Journal:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the file. Safe to call twice."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._conn is None

    def __repr__(self) -> str:
        return f"Journal({self.path!r}{', closed' if self.closed else ''})"

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise ValueError(f"journal {self.path!r} is closed")
        return self._conn

    # -- per-run key allocation -----------------------------------------------------------

    def start_run(self) -> None:
        """Forget the keys seen by the previous run (see :meth:`occurrence`)."""
        self._db().execute("DELETE FROM seen")

    def occurrence(self, key: str) -> int:
        """
        Count ``key`` as seen once more in this run and return how many times it was seen
        (1 the first time). The batch uses it to tell identical items apart: the second
        identical spec of a batch is journaled as ``"<fingerprint>#2"``. The counts live in
        a temporary table, so a huge batch does not keep them in Python memory.
        """
        row = (
            self._db()
            .execute(
                "INSERT INTO seen(key, n) VALUES (?, 1) "
                "ON CONFLICT(key) DO UPDATE SET n = n + 1 RETURNING n",
                (key,),
            )
            .fetchone()
        )
        return int(row[0])

    # -- transitions (each one is committed before it returns) ----------------------------

    def begin(self, key: str) -> JournalEntry:
        """
        Register ``key`` (as ``pending``) if it is new, count one more attempt unless it is
        done, and return its entry as it now stands.
        """
        now = time.time()
        db = self._db()
        db.execute(
            "INSERT INTO items(key, state, created, updated) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(key) DO NOTHING",
            (key, ItemState.PENDING.value, now, now),
        )
        db.execute(
            "UPDATE items SET attempts = attempts + 1, updated = ? WHERE key = ? AND state != ?",
            (now, key, ItemState.DONE.value),
        )
        entry = self.get(key)
        assert entry is not None
        return entry

    def record_upload(self, key: str, document_key: str, document_id: str) -> None:
        """Record that ``document_key`` of item ``key`` was uploaded as ``document_id``."""
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            row = db.execute("SELECT document_ids FROM items WHERE key = ?", (key,)).fetchone()
            if row is None:
                raise KeyError(key)
            ids = orjson.loads(row[0])
            ids[document_key] = document_id
            db.execute(
                "UPDATE items SET document_ids = ?, "
                "state = CASE WHEN state IN ('pending', 'failed') THEN 'uploading' "
                "ELSE state END, updated = ? WHERE key = ?",
                (orjson.dumps(ids).decode(), time.time(), key),
            )
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def forget_uploads(self, key: str) -> None:
        """Drop the recorded document ids of ``key`` (they turned out to be unusable)."""
        self._update(key, "document_ids = '{}'")

    def mark_creating(self, key: str, started: float | None = None) -> float:
        """
        Record that the create request of ``key`` is about to be sent, at ``started``
        (epoch seconds, default now). The earliest attempt's time is kept, so a later
        reconcile searches from the first create that may have happened. Returns the time
        recorded. Called *before* sending: a kill during the request leaves ``creating``
        behind, and the rerun reconciles.
        """
        stamp = time.time() if started is None else started
        self._update(key, "state = 'creating', create_started = COALESCE(create_started, ?)", stamp)
        entry = self.get(key)
        assert entry is not None
        assert entry.create_started is not None
        return entry.create_started

    def mark_done(self, key: str, workflow_id: str) -> None:
        """Record that ``key`` made workflow ``workflow_id``. Final."""
        self._update(key, "state = 'done', workflow_id = ?, error = NULL", workflow_id)

    def mark_failed(self, key: str, error: str) -> None:
        """Record that the last attempt at ``key`` failed; ``error`` is one line, no secret."""
        self._update(key, "state = 'failed', error = ?", error[:1000])

    def _update(self, key: str, assignments: str, *params: object) -> None:
        cursor = self._db().execute(
            f"UPDATE items SET {assignments}, updated = ? WHERE key = ?",
            (*params, time.time(), key),
        )
        if cursor.rowcount != 1:
            raise KeyError(key)

    # -- reading --------------------------------------------------------------------------

    def get(self, key: str) -> JournalEntry | None:
        """The entry of ``key``, or None if the journal never saw it."""
        row = (
            self._db()
            .execute(
                "SELECT key, state, document_ids, workflow_id, error, create_started, attempts "
                "FROM items WHERE key = ?",
                (key,),
            )
            .fetchone()
        )
        return None if row is None else _entry(row)

    def entries(self, state: ItemState | None = None) -> Iterator[JournalEntry]:
        """Every entry (optionally only those in ``state``), oldest first, read lazily."""
        sql = (
            "SELECT key, state, document_ids, workflow_id, error, create_started, attempts "
            "FROM items"
        )
        params: tuple[str, ...] = ()
        if state is not None:
            sql += " WHERE state = ?"
            params = (ItemState(state).value,)
        cursor = self._db().execute(sql + " ORDER BY created, rowid", params)
        for row in cursor:
            yield _entry(row)

    def counts(self) -> dict[ItemState, int]:
        """How many items are in each state (every state is present, zero if none)."""
        result = dict.fromkeys(ItemState, 0)
        for state, count in self._db().execute("SELECT state, COUNT(*) FROM items GROUP BY state"):
            result[ItemState(state)] = int(count)
        return result

    def __len__(self) -> int:
        row = self._db().execute("SELECT COUNT(*) FROM items").fetchone()
        return int(row[0])


def _entry(row: tuple[object, ...]) -> JournalEntry:
    key, state, document_ids, workflow_id, error, create_started, attempts = row
    return JournalEntry(
        key=str(key),
        state=ItemState(str(state)),
        document_ids=orjson.loads(str(document_ids)),
        workflow_id=None if workflow_id is None else str(workflow_id),
        error=None if error is None else str(error),
        create_started=None if create_started is None else float(str(create_started)),
        attempts=int(str(attempts)),
    )
