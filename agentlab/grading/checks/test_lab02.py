"""Checks for lab 02's tasks (labs/02_tools_as_rpc.ipynb): each computes its reference with agentlab's own
contract code (the validator, `backoff`, `admit`/`record`, `take_token`), never with a copy of the answer."""

from __future__ import annotations

import json
import math
import random
from typing import Any, Literal

import pytest

from agentlab.agent.tools import Toolbox, tool
from agentlab.errors import AgentlabError
from agentlab.grading.testkit import Answers, call, close, graded, number
from agentlab.rpc.contract import (
    BreakerPolicy,
    BreakerState,
    Bucket,
    RateLimit,
    RetryPolicy,
    admit,
    backoff,
    record,
    take_token,
)
from agentlab.wire import ToolCall

# -- 1. the schema refuses before the function runs --------------------------------------------

CASES: dict[str, dict[str, Any]] = {
    "A": {"city": "Lisbon"},
    "B": {"days": 3},
    "C": {"city": "Lisbon", "units": "K"},
    "D": {"city": "Lisbon", "days": "3"},
    "E": {"city": "Lisbon", "days": 2.5},
    "F": {"city": "Lisbon", "days": 9},
    "G": {"city": "Lisbon", "country": "PT"},
}


def _refused() -> set[str]:
    def get_forecast(city: str, days: int = 1, units: Literal["C", "F"] = "C") -> str:
        """Get the weather forecast for a city.

        Args:
            city: the city's name, e.g. Lisbon.
            days: how many days ahead (1-7).
            units: degrees Celsius or Fahrenheit.
        """
        return city

    box = Toolbox([tool(get_forecast)])
    refused = set()
    for letter, arguments in CASES.items():
        try:
            box.bind(ToolCall(letter, "get_forecast", json.dumps(arguments)))
        except AgentlabError:
            refused.add(letter)
    return refused


@graded("schema")
def test_refused_matches_the_validator(answers: Answers) -> None:
    got = answers.REFUSED
    assert isinstance(got, set | frozenset | list | tuple) and all(isinstance(x, str) for x in got), (
        f"REFUSED must be a set of letters like {{'A', 'B'}}, got {got!r}"
    )
    letters = {x.strip().upper() for x in got}
    assert letters <= set(CASES), f"REFUSED holds {sorted(letters - set(CASES))}, which are not among A-G"
    wrong = len(letters ^ _refused())
    assert wrong == 0, (
        f"{wrong} of your 7 verdicts differ from the validator's: try the doubtful ones with "
        "call(box, 'get_forecast', ...) in section 1's cell, and read what the model would see"
    )


# -- 2. a timeout from measured latencies ----------------------------------------------------------


def _pick(latencies: list[float], keep: float) -> float:
    ordered = sorted(latencies)
    return next(x for x in ordered if sum(y <= x for y in ordered) >= keep * len(ordered) - 1e-9)


@graded("timeout")
@pytest.mark.parametrize(
    ("latencies", "keep"),
    [
        ([0.1] * 9 + [5.0], 0.9),
        ([0.1] * 9 + [5.0], 0.95),
        ([0.3, 0.1, 0.4, 0.2], 0.5),
        ([0.3, 0.1, 0.4, 0.2], 1.0),
        ([0.25, 0.05, 0.9, 0.1, 0.12, 0.3, 0.07, 2.0], 0.75),
        ([0.2], 0.5),
    ],
)
def test_pick_timeout_keeps_the_share_and_no_more(answers: Answers, latencies: list[float], keep: float) -> None:
    got = number(answers.pick_timeout(list(latencies), keep), call("pick_timeout", latencies, keep))
    finished = sum(x <= got for x in latencies) / len(latencies)
    assert finished >= keep - 1e-9, (
        f"{call('pick_timeout', latencies, keep)} returned {got:g}: only {finished:.0%} of those calls finish "
        f"within it, fewer than {keep:.0%}"
    )
    assert close(got, _pick(latencies, keep)), (
        f"{call('pick_timeout', latencies, keep)} returned {got:g}: {finished:.0%} of the calls finish within it, "
        f"but a shorter timeout among the measured latencies also keeps {keep:.0%}"
    )


# -- 3. the worst case of a jittered retry schedule ---------------------------------------------


@graded("retry")
@pytest.mark.parametrize(
    ("attempts", "base", "cap", "timeout"),
    [(1, 0.1, 1.0, 0.5), (2, 0.1, 1.0, 0.5), (5, 0.1, 1.0, 0.5), (8, 0.1, 1.0, 0.5), (4, 0.5, 10.0, 2.0)],
)
def test_worst_case_wait_bounds_every_schedule(
    answers: Answers, attempts: int, base: float, cap: float, timeout: float
) -> None:
    what = call("worst_case_wait", attempts, base, cap, timeout)
    got = number(answers.worst_case_wait(attempts, base, cap, timeout), what)
    policy = RetryPolicy(attempts=attempts, base=base, cap=cap, jitter=False)
    expected = attempts * timeout + sum(backoff(policy, n, random.Random(0)) for n in range(1, attempts))
    assert close(got, expected, rel=1e-9), (
        f"{what} returned {got:.4g}, expected {expected:.4g}: count the attempts, and the waits between them "
        "as long as full jitter can make them"
    )


# -- 4. an idempotency key from the call's content ----------------------------------------------


def _key(answers: Answers, run_id: str, name: str, arguments: dict[str, Any]) -> str:
    got = answers.call_key(run_id, name, dict(arguments))
    assert isinstance(got, str) and got, (
        f"{call('call_key', run_id, name, arguments)} must return a non-empty str, got {got!r}"
    )
    return got


ORDER = {"sku": "NR-1001", "amount": 19.99, "order": "ORD-42"}


@graded("key")
def test_the_same_call_gets_the_same_key_in_any_argument_order(answers: Answers) -> None:
    first = _key(answers, "lab02", "pay", ORDER)
    again = _key(answers, "lab02", "pay", ORDER)
    reordered = _key(answers, "lab02", "pay", dict(reversed(list(ORDER.items()))))
    assert first == again, "two calls of call_key with the same content gave different keys: a retry would charge again"
    assert first == reordered, (
        f"the same payment with its arguments in another order got another key ({first[:16]}... vs "
        f"{reordered[:16]}...): a model may write them in any order"
    )


@graded("key")
@pytest.mark.parametrize(
    ("run_id", "name", "change", "what"),
    [
        ("lab02-b", "pay", {}, "another run"),
        ("lab02", "refund", {}, "another tool"),
        ("lab02", "pay", {"amount": 19.98}, "another amount"),
        ("lab02", "pay", {"order": "ORD-43"}, "another order"),
        ("lab02", "pay", {"sku": "NR-1002"}, "another product"),
        ("lab02", "pay", {"amount": "19.99"}, "the amount as a string"),
        ("lab0", "2pay", {}, "the run and tool split elsewhere"),
    ],
)
def test_another_call_gets_another_key(
    answers: Answers, run_id: str, name: str, change: dict[str, Any], what: str
) -> None:
    base = _key(answers, "lab02", "pay", ORDER)
    other = _key(answers, run_id, name, {**ORDER, **change})
    assert base != other, (
        f"{what} ({call('call_key', run_id, name, {**ORDER, **change})}) got the same key as "
        f"{call('call_key', 'lab02', 'pay', ORDER)}: the service would replay the first payment's answer "
        "instead of making this one"
    )


# -- 5. the breaker's life ---------------------------------------------------------------------


def _walk(calls: list[tuple[float, bool]], failures: int, reset_after: float) -> list[str]:
    policy, state, admitted = BreakerPolicy(failures, reset_after), BreakerState(), []
    for t, up in calls:
        probe = state.state == "open"
        allowed, state = admit(state, policy, t)
        admitted.append(("probe" if probe else "closed") if allowed else "refused")
        if allowed:
            state = record(state, policy, up, t)
    return admitted


_LIVES = {
    "a failed probe re-opens": (
        [(0.0, False), (0.1, False), (0.2, False), (0.5, False), (1.3, False), (1.5, False), (2.4, True), (2.5, True)],
        3,
        1.0,
    ),
    "a success resets the count": (
        [(0.0, False), (0.1, False), (0.2, True), (0.3, False), (0.4, False), (0.5, True)],
        3,
        1.0,
    ),
    "probe exactly at reset_after": ([(0.0, False), (0.0, False), (2.0, True), (2.1, False)], 2, 2.0),
    "open at once": ([(0.0, False), (0.5, True), (1.0, True), (1.6, True)], 1, 1.0),
    "refused while the service is back": ([(0.0, False), (0.1, False), (0.2, True), (0.3, True), (1.2, True)], 2, 1.0),
}


@graded("breaker")
@pytest.mark.parametrize("life", list(_LIVES))
def test_breaker_walk_follows_the_contract(answers: Answers, life: str) -> None:
    calls, failures, reset_after = _LIVES[life]
    what = call("breaker_walk", calls, failures, reset_after)
    got = answers.breaker_walk([list(c) for c in calls], failures, reset_after)
    expected = _walk(calls, failures, reset_after)
    assert isinstance(got, list | tuple) and len(got) == len(calls), (
        f"{what} must return one of 'closed', 'probe', 'refused' per call ({len(calls)}), got {got!r}"
    )
    wrong = next((i for i, (g, e) in enumerate(zip(got, expected, strict=True)) if g != e), None)
    assert wrong is None, (
        f"call {wrong + 1} (t = {calls[wrong][0]}) was admitted as {expected[wrong]!r} by agentlab's breaker, not "
        f"{got[wrong]!r} — {life}: {what} returned {list(got)}"
    )


# -- 6. a token bucket's pace ------------------------------------------------------------------------


def _last_start(n: int, per_second: float, burst: int) -> float:
    limit, now = RateLimit(per_second, burst), 0.0
    bucket = Bucket(float(burst), 0.0)
    for _ in range(n):
        wait, bucket = take_token(bucket, limit, now)
        now += wait
    return now


@graded("ratelimit")
@pytest.mark.parametrize(
    ("n", "per_second", "burst"), [(6, 4, 1), (1, 4, 1), (6, 4, 4), (3, 10, 5), (100, 2.5, 1), (9, 1, 3)]
)
def test_min_duration_follows_the_bucket(answers: Answers, n: int, per_second: float, burst: int) -> None:
    what = call("min_duration", n, per_second, burst)
    got = number(answers.min_duration(n, per_second, burst), what)
    expected = _last_start(n, per_second, burst)
    assert close(got, expected, rel=1e-6, abs_tol=1e-6), (
        f"{what} returned {got:.4g}, expected {expected:.4g}: how many of the requests can go at once, "
        "and how long does each of the others wait for its token?"
    )


# -- 7. a fallback that refuses stale results ----------------------------------------------------

CACHE = {"INC-2108 root cause": (100.0, "[kb-0212] the root cause"), "refund policy": (10.0, "[kb-0101] 30 days")}


@graded("fallback")
@pytest.mark.parametrize(
    ("query", "now", "max_age", "fresh"),
    [
        ("INC-2108 root cause", 130.0, 60.0, True),
        ("INC-2108 root cause", 160.0, 60.0, True),
        ("INC-2108 root cause", 161.0, 60.0, False),
        ("refund policy", 130.0, 60.0, False),
        ("refund policy", 130.0, 1000.0, True),
        ("INC-9999 root cause", 100.0, 60.0, None),
    ],
)
def test_cached_answer_serves_only_fresh_entries(
    answers: Answers, query: str, now: float, max_age: float, fresh: bool | None
) -> None:
    what = call("cached_answer", query, "<cache>", now, max_age)
    got = answers.cached_answer(query, {q: list(v) for q, v in CACHE.items()}, now, max_age)
    if not fresh:
        reason = "nothing is cached for that query" if fresh is None else "that entry is too old"
        assert got is None, f"{what} returned {got!r}, expected None: {reason}"
        return
    expected = "(cached result) " + CACHE[query][1]
    age = now - CACHE[query][0]
    assert got == expected, (
        f"{what} returned {got!r}, expected {expected!r}: the entry is {age:g} s old, max_age {max_age:g}"
    )


# -- 8. when the sandbox stops a program -----------------------------------------------------------


@graded("sandbox")
@pytest.mark.parametrize(
    ("wall", "cpu", "busy", "expected"),
    [(1.0, None, False, 1.0), (5.0, 1, True, 1.0), (5.0, 1, False, 5.0), (0.5, 2, True, 0.5), (3.0, None, True, 3.0)],
)
def test_stopped_after_knows_which_limit_bites(
    answers: Answers, wall: float, cpu: float | None, busy: bool, expected: float
) -> None:
    what = call("stopped_after", wall, cpu, busy=busy)
    got = number(answers.stopped_after(wall, cpu, busy), what)
    kind = "keeps its core busy" if busy else "mostly sleeps"
    assert close(got, expected), (
        f"{what} returned {got:g}, expected {expected:g}: a program that {kind} — which clock runs out first?"
    )


# -- 9. an allowlist for one agent's job --------------------------------------------------------------

JOB_NEEDS = {"get_price": "price questions", "search_kb": "policy questions"}
NEVER = {"pay", "refund", "run_python"}


@graded("approved")
def test_approved_is_what_the_job_needs(answers: Answers) -> None:
    got = answers.APPROVED
    assert isinstance(got, set | frozenset | list | tuple) and all(isinstance(x, str) for x in got), (
        f"APPROVED must be a set of tool names, got {got!r}"
    )
    names = set(got)
    unknown = names - set(JOB_NEEDS) - NEVER
    assert not unknown, f"APPROVED holds {sorted(unknown)}: the toolbox has no such tool"
    forbidden = sorted(names & NEVER)
    assert not forbidden, f"APPROVED lets the agent call {forbidden[0]!r}: re-read what this agent must never do"
    for name, need in JOB_NEEDS.items():
        assert name in names, f"without {name!r} the agent cannot answer {need}"


# -- 10. the sharding decision -----------------------------------------------------------------------


def _best(n_docs: int, capacity: int, scan_s: float, task_s: float, workers: int) -> int:
    fits = [s for s in range(1, workers + 1) if math.ceil(n_docs / s) <= capacity]
    return min(fits, key=lambda s: (math.ceil(n_docs / s) * scan_s + s * task_s, s))


@graded("shards")
@pytest.mark.parametrize(
    ("n_docs", "capacity", "scan_s", "task_s", "workers", "why"),
    [
        (300, 1_000_000, 3e-7, 5e-3, 8, "a small corpus whose scan is far cheaper than a task"),
        (3_000_000, 1_000_000, 1e-10, 5e-3, 8, "a corpus three times one worker's capacity, cheap to scan"),
        (10_000_000, 1_000_000, 1e-7, 5e-3, 64, "a large corpus whose scan dominates"),
        (2_000_000, 5_000_000, 1e-7, 1e-3, 32, "a corpus that fits one worker but is slow to scan"),
        (1_000, 1_000, 1e-3, 1e-4, 4, "a corpus exactly one worker's capacity"),
    ],
)
def test_shards_for_takes_the_fastest_layout_that_fits(
    answers: Answers, n_docs: int, capacity: int, scan_s: float, task_s: float, workers: int, why: str
) -> None:
    what = call("shards_for", n_docs, capacity, scan_s, task_s, workers)
    got = number(answers.shards_for(n_docs, capacity, scan_s, task_s, workers), what)
    expected = _best(n_docs, capacity, scan_s, task_s, workers)
    fits = got == int(got) and 1 <= got <= workers and math.ceil(n_docs / got) <= capacity
    assert fits, f"{what} returned {got:g} ({why}): that layout does not fit the workers' capacity"
    latency = math.ceil(n_docs / got) * scan_s + got * task_s
    best = math.ceil(n_docs / expected) * scan_s + expected * task_s
    assert int(got) == expected, (
        f"{what} returned {got:g} ({why}): a query would take {latency * 1000:.3g} ms; another layout that fits "
        f"is faster ({best * 1000:.3g} ms), or as fast with fewer shards"
    )
