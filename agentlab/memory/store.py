"""The blackboard's truth: an ordered log of versioned writes in SQLite (lab 05).

Every write is one row of `board_log`, committed before the write is acknowledged, so the board is its
log: the current value of a key is its highest version, and replaying the log in `seq` order rebuilds
the board exactly (`agentlab.memory.board.replay`). Nothing lives only in memory, which is what makes the
board survive the death of the process serving it: a new server opens the same file and carries on.

Each write runs in one `BEGIN IMMEDIATE` transaction — the database's write lock — so a compare-and-set
is atomic even when two servers (or two processes) share the file:

    1. a `write_id` seen before returns the first outcome (a retried write is not applied twice);
    2. a fencing token older than the newest issued for its resource is refused ("fenced");
    3. an `expected` version that is not the key's current version is refused ("stale");
    4. otherwise the row (key, version + 1, value) is appended as the board's next `seq`.

The file is the journal's by default (`AGENTLAB_JOURNAL`, else ~/.agentlab/journal.sqlite), in tables of
its own, so a resumed run finds its board where it finds its steps. WAL mode with synchronous=NORMAL:
a killed process loses nothing committed; an OS crash may lose the last commits (see journal_sqlite).

Left out: deleting or compacting a board's log, and replication to another machine (the file lives on
the host that serves it; a server database would implement these same few statements).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from agentlab.durable.journal import check_payload
from agentlab.durable.sqlite import default_path
from agentlab.memory.tables import Tables
from agentlab.memory.values import Entry, Fence, WriteResult

__all__ = ["BoardStore", "open_db"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS board_log (
    board TEXT NOT NULL, seq INTEGER NOT NULL, key TEXT NOT NULL, version INTEGER NOT NULL,
    value TEXT NOT NULL, writer TEXT NOT NULL, write_id TEXT, created REAL NOT NULL,
    PRIMARY KEY (board, seq), UNIQUE (board, key, version)
);
CREATE UNIQUE INDEX IF NOT EXISTS board_write_ids ON board_log (board, write_id) WHERE write_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS board_fences (
    board TEXT NOT NULL, resource TEXT NOT NULL, token INTEGER NOT NULL, PRIMARY KEY (board, resource)
);
"""

_COLUMNS = "key, value, version, seq, writer, created"


def open_db(path: str | None = None, busy_timeout: float = 30.0) -> sqlite3.Connection:
    """Open (creating if needed) the SQLite file at `path` (default: the journal's) in WAL mode."""
    where = path or default_path()
    if where != ":memory:":
        where = str(Path(where).expanduser())
        Path(where).parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(where, timeout=busy_timeout, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    return db


def _entry(row: tuple[Any, ...]) -> Entry:
    key, value, version, seq, writer, created = row
    return Entry(key, json.loads(value), version, seq, writer, created)


class BoardStore:
    """The board tables of one SQLite connection; every method is one short transaction."""

    def __init__(self, db: sqlite3.Connection, lock: threading.Lock | None = None) -> None:
        self.tables = Tables(db, _SCHEMA, lock)
        self.db = db
        self._transaction = self.tables.transaction
        self._lock = self.tables.lock

    def _current(self, board: str, key: str) -> Entry | None:
        row = self.db.execute(
            f"SELECT {_COLUMNS} FROM board_log WHERE board = ? AND key = ? ORDER BY version DESC LIMIT 1",
            (board, key),
        ).fetchone()
        return None if row is None else _entry(row)

    def write(
        self,
        board: str,
        key: str,
        value: Any,
        *,
        expected: int | None = None,
        fence: Fence | None = None,
        write_id: str | None = None,
        writer: str = "",
    ) -> WriteResult:
        """Append `key = value` unless it is a replay, fenced or stale (the steps of the module docstring).

        `expected`: the version the writer read (0: the key must be absent; None: write blindly, last
        writer wins). `write_id`: an idempotency key, so a write retried after a lost reply is not doubled.
        """
        check_payload(value, f"the value of {key!r}")
        text = json.dumps(value, allow_nan=False, separators=(",", ":"))
        with self._transaction() as db:
            if write_id is not None:
                row = db.execute(
                    f"SELECT {_COLUMNS} FROM board_log WHERE board = ? AND write_id = ?", (board, write_id)
                ).fetchone()
                if row is not None:
                    return WriteResult(True, _entry(row), replayed=True)
            current = self._current(board, key)
            if fence is not None:
                row = db.execute(
                    "SELECT token FROM board_fences WHERE board = ? AND resource = ?", (board, fence.resource)
                ).fetchone()
                if row is not None and fence.token < row[0]:
                    return WriteResult(False, current, "fenced")
                self._raise_fence(board, fence)
            version = current.version if current else 0
            if expected is not None and expected != version:
                return WriteResult(False, current, "stale")
            (seq,) = db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM board_log WHERE board = ?", (board,)).fetchone()
            created = time.time()
            db.execute(
                "INSERT INTO board_log (board, seq, key, version, value, writer, write_id, created) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (board, seq, key, version + 1, text, writer, write_id, created),
            )
        return WriteResult(True, Entry(key, json.loads(text), version + 1, seq, writer, created))

    def _raise_fence(self, board: str, fence: Fence) -> None:
        self.db.execute(
            "INSERT INTO board_fences (board, resource, token) VALUES (?, ?, ?) "
            "ON CONFLICT (board, resource) DO UPDATE SET token = max(token, excluded.token)",
            (board, fence.resource, fence.token),
        )

    def issue_token(self, board: str, resource: str) -> Fence:
        """The next fencing token for `resource`: one higher than any issued or seen before."""
        with self._transaction() as db:
            row = db.execute(
                "SELECT token FROM board_fences WHERE board = ? AND resource = ?", (board, resource)
            ).fetchone()
            fence = Fence(resource, (row[0] if row else 0) + 1)
            self._raise_fence(board, fence)
        return fence

    def get(self, board: str, key: str) -> Entry | None:
        """The key's current entry (its highest version), or None."""
        with self._lock:
            return self._current(board, key)

    def snapshot(self, board: str, prefix: str = "") -> dict[str, Entry]:
        """The current entry of every key starting with `prefix`, by key."""
        # SQLite's bare columns beside MAX() come from the row holding the maximum: the newest version
        query = (
            "SELECT key, value, MAX(version), seq, writer, created FROM board_log "
            "WHERE board = ? AND substr(key, 1, ?) = ? GROUP BY key ORDER BY key"
        )
        with self._lock:
            rows = self.db.execute(query, (board, len(prefix), prefix)).fetchall()
        return {row[0]: _entry(row) for row in rows}

    def log(self, board: str, after: int = 0, limit: int = 1000) -> list[Entry]:
        """The writes with seq > `after`, in order: poll with the last seq you saw, or replay from 0."""
        with self._lock:
            rows = self.db.execute(
                f"SELECT {_COLUMNS} FROM board_log WHERE board = ? AND seq > ? ORDER BY seq LIMIT ?",
                (board, after, limit),
            ).fetchall()
        return [_entry(row) for row in rows]

    def versions(self, board: str, keys: list[str]) -> dict[str, int]:
        """The current version of each key (0 for a key never written)."""
        with self._lock:
            return {key: (entry.version if (entry := self._current(board, key)) else 0) for key in keys}

    def last_seq(self, board: str) -> int:
        with self._lock:
            (seq,) = self.db.execute("SELECT COALESCE(MAX(seq), 0) FROM board_log WHERE board = ?", (board,)).fetchone()
        return int(seq)
