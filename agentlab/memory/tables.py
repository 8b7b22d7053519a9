"""SQLite plumbing the memory's tables share: one connection, one lock, short write transactions (lab 05)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["Tables"]


class Tables:
    """Tables on one SQLite connection; `transaction()` holds the database's write lock from the first read
    to the commit, so a read-then-write inside it cannot interleave with another writer's."""

    def __init__(self, db: sqlite3.Connection, schema: str, lock: threading.Lock | None = None) -> None:
        self.db = db
        self.lock = lock or threading.Lock()
        """Held by every use of the connection: reads too, since the connection is shared across threads.
        Tables on one connection must share one lock (SQLite has one transaction per connection)."""
        with self.transaction():
            for statement in schema.split(";"):
                if statement.strip():
                    db.execute(statement)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self.lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
                self.db.execute("COMMIT")
            except BaseException:
                if self.db.in_transaction:
                    self.db.execute("ROLLBACK")
                raise
