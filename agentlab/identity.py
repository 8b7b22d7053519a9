"""Step identity by content: one key for the journal, the Dask task and the idempotency key (labs 02, 04).

A step is named by *what* it is — (run id, path in the plan, kind or tool, canonical arguments) — never
by its position in a list, its completion order, or which attempt this is. Retries and re-executions of
the same step therefore carry the same key, and a service that has seen the key can return the first
result instead of acting twice. (Keys built from positions break as soon as steps finish out of order:
LangGraph #7780 and DBOS #688 are that failure.)
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

__all__ = ["canonical", "step_key"]


def canonical(value: Any) -> str:
    """Canonical JSON: sorted keys, no spaces, so equal arguments always serialise identically."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def step_key(run_id: str, path: str, kind: str, arguments: Any = None) -> str:
    """The step's identity: a short, stable hash of what the step is."""
    digest = hashlib.sha256(canonical([run_id, path, kind, arguments]).encode()).hexdigest()
    return f"{kind}-{digest[:24]}"
