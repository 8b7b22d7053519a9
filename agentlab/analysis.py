"""Analysis: the course's performance models, as small pure functions (labs 01 and 03).

E[T] = 1/q                      expected turns when each unfinished turn succeeds with probability q
critical path ≈ E[T]·(ℓ_reason + ℓ_act)
"""

from __future__ import annotations

__all__ = ["critical_path_latency", "expected_turns"]


def expected_turns(q: float) -> float:
    """Mean of a geometric number of turns with per-turn success probability q."""
    if not 0.0 < q <= 1.0:
        raise ValueError(f"q must be in (0, 1], got {q}")
    return 1.0 / q


def critical_path_latency(q: float, reason_s: float, act_s: float) -> float:
    """Expected wall time of one agent's sequential loop: E[T] turns of reasoning plus acting."""
    return expected_turns(q) * (reason_s + act_s)
