"""The budget ledger: each budget's spend and reservations in SQLite, beside the board (lab 05).

`reserve` reads the budget's row, asks the pure `agentlab.memory.budget.admit`, and records the
reservation (the prompt and the completion cap it was granted), all in one `BEGIN IMMEDIATE`
transaction: two agents racing for the last tokens are serialised by the database's write lock, so at
most one of them gets them. `settle` replaces a reservation by the usage the endpoint reported
(`agentlab.memory.budget.settlement`); a step that reported more than it reserved is also written to
`budget_overspends`, which closes the budget. The rows live in the memory server's file, so the spend of
a run survives the death of the process serving it, like the board.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from dataclasses import fields
from typing import Any

from agentlab.memory.budget import WINDOW_S, Admission, Budget, Spend, admit, reservation, settlement
from agentlab.memory.tables import Tables

__all__ = ["LedgerStore"]

_SPEND_FIELDS = tuple(f.name for f in fields(Spend))


def _row(spend: Spend) -> dict[str, Any]:
    """A `Spend` as the plain dict the server sends back (its fields are numbers and a tuple of them)."""
    return {name: getattr(spend, name) for name in _SPEND_FIELDS}


_SCHEMA = """
CREATE TABLE IF NOT EXISTS budget_ledger (
    name TEXT PRIMARY KEY, tokens INTEGER NOT NULL DEFAULT 0, cost REAL NOT NULL DEFAULT 0,
    requests INTEGER NOT NULL DEFAULT 0, refused INTEGER NOT NULL DEFAULT 0, recent TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE IF NOT EXISTS budget_reservations (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, tokens INTEGER NOT NULL, cost REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS budget_overspends (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, tokens INTEGER NOT NULL, cost REAL NOT NULL
);
"""


class LedgerStore:
    """Budgets' spend and in-flight reservations on one SQLite connection."""

    def __init__(self, db: sqlite3.Connection, lock: threading.Lock | None = None) -> None:
        self.tables = Tables(db, _SCHEMA, lock)
        self.db = db
        self._transaction = self.tables.transaction

    def _spend(self, name: str) -> Spend:
        self.db.execute("INSERT OR IGNORE INTO budget_ledger (name) VALUES (?)", (name,))
        tokens, cost, requests, refused, recent = self.db.execute(
            "SELECT tokens, cost, requests, refused, recent FROM budget_ledger WHERE name = ?", (name,)
        ).fetchone()
        reserved_tokens, reserved_cost = self.db.execute(
            "SELECT COALESCE(SUM(tokens), 0), COALESCE(SUM(cost), 0) FROM budget_reservations WHERE name = ?",
            (name,),
        ).fetchone()
        (overspent,) = self.db.execute("SELECT COUNT(*) FROM budget_overspends WHERE name = ?", (name,)).fetchone()
        return Spend(
            tokens, cost, reserved_tokens, reserved_cost, requests, refused, overspent, tuple(json.loads(recent))
        )

    def reserve(
        self, budget: Budget, prompt_tokens: int, now: float, ceiling: int | None = None
    ) -> tuple[Admission, str]:
        """Admit one step and reserve its worst case (its prompt, and its completion cap at most `ceiling`);
        the reservation id, or "" when refused."""
        with self._transaction() as db:
            spend = self._spend(budget.name)
            decision = admit(budget, spend, prompt_tokens, now, ceiling)
            if not decision.ok:
                db.execute("UPDATE budget_ledger SET refused = refused + 1 WHERE name = ?", (budget.name,))
                return decision, ""
            recent = [t for t in spend.recent if t > now - WINDOW_S] + [now]
            db.execute(
                "UPDATE budget_ledger SET requests = requests + 1, recent = ? WHERE name = ?",
                (json.dumps(recent), budget.name),
            )
            rid = uuid.uuid4().hex
            tokens, cost = reservation(budget, prompt_tokens, decision.completion)
            db.execute(
                "INSERT INTO budget_reservations (id, name, tokens, cost) VALUES (?, ?, ?, ?)",
                (rid, budget.name, tokens, cost),
            )
        return decision, rid

    def settle(self, budget: Budget, rid: str, prompt_tokens: int, completion_tokens: int) -> dict[str, Any]:
        """Replace reservation `rid` by what the step really used (0, 0 to release it unused); usage past
        the reservation is charged too, and recorded as an overspend, which closes the budget."""
        with self._transaction() as db:
            row = db.execute("SELECT tokens, cost FROM budget_reservations WHERE id = ?", (rid,)).fetchone()
            if row is not None:  # settling twice (a retried call) charges once
                charge = settlement(budget, (row[0], row[1]), prompt_tokens, completion_tokens)
                db.execute("DELETE FROM budget_reservations WHERE id = ?", (rid,))
                db.execute(
                    "UPDATE budget_ledger SET tokens = tokens + ?, cost = cost + ? WHERE name = ?",
                    (charge.tokens, charge.cost, budget.name),
                )
                if charge.overspent:
                    db.execute(
                        "INSERT INTO budget_overspends (id, name, tokens, cost) VALUES (?, ?, ?, ?)",
                        (rid, budget.name, charge.over_tokens, charge.over_cost),
                    )
            return _row(self._spend(budget.name))

    def spend(self, name: str) -> dict[str, Any]:
        """The budget's ledger row as a dict (what `Spend` holds)."""
        with self._transaction():
            return _row(self._spend(name))

    def reset(self, name: str) -> None:
        """Forget a budget's spend and reservations (a new run under an old name)."""
        with self._transaction() as db:
            db.execute("DELETE FROM budget_ledger WHERE name = ?", (name,))
            db.execute("DELETE FROM budget_reservations WHERE name = ?", (name,))
            db.execute("DELETE FROM budget_overspends WHERE name = ?", (name,))
