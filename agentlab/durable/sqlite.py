"""The journal in a local SQLite file: one row per step event, safe across threads and processes (lab 04).

`SqliteJournal` is the `agentlab.durable.journal.JournalStore` the supervisor uses by default. The file is
`AGENTLAB_JOURNAL`, else `~/.agentlab/journal.sqlite`; `":memory:"` gives a throwaway journal.

Durability. The file runs in WAL mode with `synchronous=NORMAL`: every append is committed before it
returns, so a process that crashes or is killed loses nothing it recorded (the tests SIGKILL a writer).
On power loss or an OS crash the last few commits may be lost, though the file stays consistent; pass
`synchronous="FULL"` to fsync every commit and survive that too, at several times the write latency.

Concurrency. One connection per journal, guarded by a lock, so several supervisor threads can record at
once; other processes may write the same file, waiting up to `busy_timeout` seconds for the write lock
instead of failing with "database is locked".

Faults. Every SQLite error — a read-only file, a full disk, a lock another process holds past
`busy_timeout`, a truncated or foreign file — becomes `JournalUnavailable`, naming the file and what
to do (`explain`); a failed write is rolled back whole, so nothing recorded before it is lost.

Schema. `schema_version` holds the file's version. A fresh file is created at version 1 and brought up
to `SCHEMA_VERSION` by `MIGRATIONS`; a file from a newer agentlab is refused, never guessed at.

Left out: vacuuming, deleting runs, and compressing payloads.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from types import TracebackType
from typing import Any

from agentlab.durable.journal import RUN_STATUSES, STATUSES, RunInfo, Step, check_payload
from agentlab.errors import ConfigError, JournalMismatch, JournalUnavailable, UsageError

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "SqliteJournal", "default_path", "explain"]

SCHEMA_VERSION = 2

# Version 1, the starting point of every file. UNIQUE(run_id, key, status) makes re-recording a no-op,
# and its index (run_id, key, status) is the (run_id, key) lookup index too.
_SCHEMA_V1 = """
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, goal TEXT NOT NULL, created REAL NOT NULL,
    status TEXT NOT NULL, answer TEXT NOT NULL DEFAULT '', meta TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS steps (
    seq INTEGER PRIMARY KEY, run_id TEXT NOT NULL, key TEXT NOT NULL, kind TEXT NOT NULL,
    path TEXT NOT NULL, status TEXT NOT NULL, payload TEXT NOT NULL, created REAL NOT NULL,
    UNIQUE (run_id, key, status)
);
"""

MIGRATIONS: dict[int, str] = {
    # 1 → 2: a run says why it ended (agentlab.steps.STOP_REASONS), not only finished or failed
    1: "ALTER TABLE runs ADD COLUMN stop_reason TEXT NOT NULL DEFAULT ''",
}
"""{version: SQL that upgrades a file from that version to the next}: add one per schema change (and
bump SCHEMA_VERSION). Statements are separated by ";" and run in the opening transaction."""

_STEP_COLUMNS = "seq, run_id, key, kind, path, status, payload, created"

# One statement, so it is atomic against other writers: skip the event if this (run, key, status) is
# recorded already (OR IGNORE) or the key is done already (NOT EXISTS).
_APPEND = """
INSERT OR IGNORE INTO steps (run_id, key, kind, path, status, payload, created)
SELECT ?, ?, ?, ?, ?, ?, ?
WHERE NOT EXISTS (SELECT 1 FROM steps WHERE run_id = ? AND key = ? AND status = 'done')
"""

_GET = f"""
SELECT {_STEP_COLUMNS} FROM steps WHERE run_id = ? AND key = ?
ORDER BY status = 'done' DESC, seq DESC LIMIT 1
"""

_RUN_COLUMNS = """run_id, goal, created, status, answer, meta,
       (SELECT COUNT(*) FROM steps s WHERE s.run_id = r.run_id AND s.status = 'done'), stop_reason"""
_RUNS = f"SELECT {_RUN_COLUMNS} FROM runs r ORDER BY created, run_id"
_RUN = f"SELECT {_RUN_COLUMNS} FROM runs r WHERE run_id = ?"


def default_path() -> str:
    """`AGENTLAB_JOURNAL` if set, else `~/.agentlab/journal.sqlite`."""
    return os.environ.get("AGENTLAB_JOURNAL") or str(Path.home() / ".agentlab" / "journal.sqlite")


def _run(row: tuple[Any, ...]) -> RunInfo:
    return RunInfo(row[0], row[1], row[2], row[3], row[4], json.loads(row[5]), row[6], row[7])


def _step(row: tuple[Any, ...]) -> Step:
    seq, run_id, key, kind, path, status, payload, created = row
    return Step(run_id, key, kind, path, status, json.loads(payload), created, seq)


_ELSEWHERE = "or point --journal (AGENTLAB_JOURNAL) at another file"

# SQLite's primary result codes (https://sqlite.org/rescode.html) and what each asks of the user
_ADVICE = {
    5: "is locked by another process (longer than {wait:g} s): let that run finish or stop it, " + _ELSEWHERE,
    6: "is locked by another process (longer than {wait:g} s): let that run finish or stop it, " + _ELSEWHERE,
    8: "is read-only: make the file and its folder writable (chmod u+w), " + _ELSEWHERE,
    10: "could not be read or written (a disk I/O error): check the disk, " + _ELSEWHERE,
    11: "is damaged (truncated or overwritten): move it aside and start a new one "
    "(`sqlite3 {path} .recover` may save what it holds)",
    13: "cannot grow: its disk is full (or the file reached its size limit): free some space, " + _ELSEWHERE,
    14: "cannot be opened: check that its folder exists and is writable, " + _ELSEWHERE,
    26: "is not an agentlab journal (not an SQLite file, or truncated to nothing): move it aside, " + _ELSEWHERE,
}


def _full(path: str) -> bool:
    """True if the disk holding `path` has (almost) no space left for an unprivileged writer."""
    try:
        stats = os.statvfs(Path(path).parent)
    except OSError:
        return False
    return stats.f_bavail * stats.f_frsize < 64 * 1024


def explain(exc: sqlite3.Error, path: str, doing: str, wait: float) -> JournalUnavailable:
    """The error a user reads for an SQLite fault: which file, what failed, and what to do."""
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else -1
    if primary in (10, 14) and _full(path):  # a full disk often shows as an I/O error (its -shm file cannot grow)
        primary = 13
    advice = _ADVICE.get(primary)
    what = advice.format(wait=wait, path=path) if advice else f"failed: {exc}; check the file, " + _ELSEWHERE
    return JournalUnavailable(f"the journal {path} {what} (while {doing}: {exc})")


class SqliteJournal:
    """A `JournalStore` in one SQLite file (or `":memory:"`); use it as a context manager, or `close()` it."""

    def __init__(
        self, path: str | os.PathLike[str] | None = None, *, synchronous: str = "NORMAL", busy_timeout: float = 10.0
    ) -> None:
        """`synchronous`: "NORMAL" (survives process crashes) or "FULL" (also power loss; slower).
        `busy_timeout`: seconds to wait for another process's write lock before giving up."""
        if synchronous not in ("NORMAL", "FULL"):
            raise UsageError(f"synchronous must be 'NORMAL' or 'FULL', not {synchronous!r}")
        self.path = str(path if path is not None else default_path())
        if self.path != ":memory:":
            self.path = str(Path(self.path).expanduser())
            try:
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise JournalUnavailable(
                    f"the journal {self.path} cannot be created: its folder cannot be made ({exc.strerror}); "
                    + _ELSEWHERE
                ) from exc
        self.busy_timeout = busy_timeout
        self._lock = threading.Lock()
        with self._guard("opening it"):
            # autocommit (isolation_level=None): each statement commits on its own unless we BEGIN
            self._db = sqlite3.connect(self.path, timeout=busy_timeout, isolation_level=None, check_same_thread=False)
        try:
            with self._guard("opening it"):
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute(f"PRAGMA synchronous={synchronous}")
                self.version = self._prepare()
        except BaseException:
            self._db.close()
            raise

    @contextmanager
    def _guard(self, doing: str) -> Iterator[None]:
        """Turn an SQLite fault inside the block into `JournalUnavailable` (see `explain`)."""
        try:
            yield
        except sqlite3.Error as exc:
            raise explain(exc, self.path, doing, self.busy_timeout) from exc

    def _rollback(self) -> None:
        """Undo an open transaction, if SQLite has not undone it already (it does after a full disk)."""
        if self._db.in_transaction:  # a failing rollback is not reported: the first error is the one to tell
            with suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")

    def _prepare(self) -> int:
        """Create or migrate the schema, in one write transaction so two processes opening it cannot race."""
        db = self._db
        if self._current():
            return SCHEMA_VERSION  # nothing to write: a read-only or busy file can still be read
        db.execute("BEGIN IMMEDIATE")
        try:
            for statement in _SCHEMA_V1.split(";"):
                if statement.strip():
                    db.execute(statement)
            row = db.execute("SELECT max(version) FROM schema_version").fetchone()
            version = 1 if row[0] is None else int(row[0])
            if version > SCHEMA_VERSION:
                raise ConfigError(
                    f"the journal {self.path} has schema version {version}, newer than this agentlab's "
                    f"{SCHEMA_VERSION}: upgrade agentlab, or use another file (AGENTLAB_JOURNAL)"
                )
            while version < SCHEMA_VERSION:
                for statement in MIGRATIONS[version].split(";"):
                    if statement.strip():
                        db.execute(statement)
                version += 1
            if row[0] != version:
                db.execute("DELETE FROM schema_version")
                db.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))
            db.execute("COMMIT")
        except BaseException:
            self._rollback()
            raise
        return version

    def _current(self) -> bool:
        """True if the file already has this version's schema (read without taking the write lock)."""
        found = self._db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'")
        if found.fetchone() is None:
            return False
        row = self._db.execute("SELECT max(version) FROM schema_version").fetchone()
        return bool(row[0] == SCHEMA_VERSION)

    def append(self, step: Step) -> bool:
        """Record a step event; True if it was new (see `JournalStore.append`)."""
        args = self._row(step)
        with self._lock, self._guard(f"recording step {step.path}"):
            cursor = self._db.execute(_APPEND, args)
        return cursor.rowcount == 1

    def append_many(self, steps: Sequence[Step]) -> list[bool]:
        """Record several step events in one transaction: one commit (one disk sync) for a whole batch of
        results, instead of one each (see `JournalStore.append_many`)."""
        rows = [self._row(step) for step in steps]  # checked before anything is written
        new = []
        with self._lock, self._guard(f"recording {len(rows)} step(s)"):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                new = [self._db.execute(_APPEND, row).rowcount == 1 for row in rows]
                self._db.execute("COMMIT")
            except BaseException:
                self._rollback()  # all or none: the batch is undone, what was recorded before stays
                raise
        return new

    @staticmethod
    def _row(step: Step) -> tuple[Any, ...]:
        if step.status not in STATUSES:
            raise UsageError(f"a step's status is one of {STATUSES}, not {step.status!r}")
        check_payload(step.payload, f"the payload of step {step.path} ({step.key})")
        payload = json.dumps(step.payload, allow_nan=False, separators=(",", ":"))
        return (step.run_id, step.key, step.kind, step.path, step.status, payload, step.created, step.run_id, step.key)

    def get(self, run_id: str, key: str) -> Step | None:
        """The step's "done" event if it has one, else its latest event; None if never recorded."""
        with self._lock, self._guard("reading a step"):
            row = self._db.execute(_GET, (run_id, key)).fetchone()
        return None if row is None else _step(row)

    def steps(self, run_id: str) -> list[Step]:
        """Every event of the run, in recording order."""
        with self._lock, self._guard(f"reading the steps of run {run_id!r}"):
            rows = self._db.execute(f"SELECT {_STEP_COLUMNS} FROM steps WHERE run_id = ? ORDER BY seq", (run_id,))
            fetched = rows.fetchall()
        return [_step(row) for row in fetched]

    def start_run(self, run_id: str, goal: str, meta: Mapping[str, Any] | None = None) -> bool:
        """Begin a run, or mark an existing one running again to resume it; True if it is new.

        Resuming with a different goal is refused: the steps it would skip were done for another goal.
        """
        check_payload(dict(meta or {}), "the run's meta")
        with self._lock, self._guard(f"starting run {run_id!r}"):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = self._db.execute("SELECT goal FROM runs WHERE run_id = ?", (run_id,)).fetchone()
                if row is not None and row[0] != goal:
                    raise JournalMismatch(
                        f"run {run_id!r} was started with the goal {row[0]!r}, not {goal!r}: resuming it would "
                        "skip steps done for another goal; use another --run-id"
                    )
                if row is None:
                    self._db.execute(
                        "INSERT INTO runs (run_id, goal, created, status, meta) VALUES (?, ?, ?, 'running', ?)",
                        (run_id, goal, time.time(), json.dumps(dict(meta or {}))),
                    )
                else:
                    self._db.execute(
                        "UPDATE runs SET status = 'running', answer = '', stop_reason = '' WHERE run_id = ?", (run_id,)
                    )
                self._db.execute("COMMIT")
            except BaseException:
                self._rollback()  # an interrupt may land after SQLite already rolled back
                raise
        return row is None

    def finish_run(self, run_id: str, status: str, answer: str = "", stop_reason: str = "") -> None:
        """Mark a run "finished" or "failed", with its answer and why it stopped."""
        if status not in RUN_STATUSES or status == "running":
            raise UsageError(f"a run finishes as 'finished' or 'failed', not {status!r}")
        with self._lock, self._guard(f"marking run {run_id!r} {status}"):
            cursor = self._db.execute(
                "UPDATE runs SET status = ?, answer = ?, stop_reason = ? WHERE run_id = ?",
                (status, answer, stop_reason, run_id),
            )
        if cursor.rowcount == 0:
            raise UsageError(f"no run {run_id!r} in the journal {self.path}")

    def run(self, run_id: str) -> RunInfo | None:
        """One run, or None if the journal has never seen it."""
        with self._lock, self._guard(f"reading run {run_id!r}"):
            row = self._db.execute(_RUN, (run_id,)).fetchone()
        return None if row is None else _run(row)

    def runs(self) -> list[RunInfo]:
        """Every run, oldest first, with how many of its steps are done."""
        with self._lock, self._guard("listing its runs"):
            rows = self._db.execute(_RUNS).fetchall()
        return [_run(row) for row in rows]

    def checkpoint(self) -> None:
        """Move the write-ahead log into the main file and truncate it (so the file's size is the data's)."""
        with self._lock, self._guard("checkpointing it"):
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        with self._lock, self._guard("closing it"):
            self._db.close()

    def __enter__(self) -> SqliteJournal:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SqliteJournal({self.path!r}, schema version {self.version})"
