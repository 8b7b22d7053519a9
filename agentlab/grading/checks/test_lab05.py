"""Checks for lab 05's tasks (labs/05_shared_memory.ipynb): a lost update replayed by hand, the log rebuilt,
a fenced store, the bounded view's rule, a budget's admission, and rank fusion."""

from __future__ import annotations

from typing import Any

import pytest

from agentlab.grading.testkit import Answers, call, graded, number


@graded("naive")
@pytest.mark.parametrize(
    ("schedule", "expected", "why"),
    [
        ([["A", "read"], ["A", "write"], ["B", "read"], ["B", "write"]], 2, "one after the other, nothing is lost"),
        ([["A", "read"], ["B", "read"], ["A", "write"], ["B", "write"]], 1, "both read 0 before either wrote"),
        (
            [["A", "read"], ["B", "read"], ["C", "read"], ["C", "write"], ["B", "write"], ["A", "write"]],
            1,
            "all three read 0 before any wrote",
        ),
        (
            [["A", "read"], ["B", "read"], ["B", "write"], ["B", "read"], ["B", "write"], ["A", "write"]],
            1,
            "A's write lands last, computed from the 0 it read first",
        ),
        ([], 0, "no increments"),
    ],
)
def test_the_naive_counter_loses_what_was_read_before_another_write(
    answers: Answers, schedule: list[list[str]], expected: int, why: str
) -> None:
    got = number(answers.naive_final(schedule), call("naive_final", schedule))
    assert got == expected, f"{call('naive_final', schedule)} returned {got:g}, expected {expected}: {why}"


@graded("replay")
def test_the_log_rebuilds_the_state_in_seq_order_whatever_order_it_arrives_in(answers: Answers) -> None:
    log = [
        [5, "finding/a", "v3"],
        [1, "finding/a", "v1"],
        [2, "finding/b", "only"],
        [3, "finding/a", "v2"],
        [4, "x", 1],
    ]
    got = answers.rebuild(log)
    expected = {"finding/a": "v3", "finding/b": "only", "x": 1}
    assert got == expected, (
        f"{call('rebuild', log)} returned {got!r}, expected {expected!r}: the log reached you out of order; "
        "the seq numbers say which write came last"
    )


@graded("replay")
def test_an_empty_log_is_an_empty_board(answers: Answers) -> None:
    got = answers.rebuild([])
    assert got == {}, f"{call('rebuild', [])} returned {got!r}: an empty log rebuilds an empty board"


@graded("fence")
@pytest.mark.parametrize(
    ("writes", "expected", "why"),
    [
        ([[1, "A"], [2, "B"], [1, "A late"]], ["A", "B"], "A's token 1 is older than B's 2 when A writes late"),
        ([[2, "B"], [2, "B again"]], ["B", "B again"], "the holder of the newest token may write more than once"),
        ([[1, "A"], [3, "C"], [2, "B"], [3, "C2"], [4, "D"]], ["A", "C", "C2", "D"], "B's token 2 arrived after 3"),
        ([], [], "nothing was written"),
    ],
)
def test_a_fenced_store_refuses_only_older_tokens(
    answers: Answers, writes: list[list[Any]], expected: list[str], why: str
) -> None:
    got = answers.fenced(writes)
    assert list(got) == expected, f"{call('fenced', writes)} returned {got!r}, expected {expected!r}: {why}"


@graded("view")
@pytest.mark.parametrize(
    ("sizes", "budget", "expected"),
    [
        ([[10, 3], [10, 3]], 100, ["whole", "whole"]),
        ([[50, 5], [60, 5], [10, 2]], 100, ["whole", "summary", "summary"]),
        ([[50, 5], [60, 5], [10, 2], [40, 40]], 60, ["whole", "summary", "summary", "dropped"]),
        ([[50, 5], [60, 5], [40, 40], [1, 1]], 60, ["whole", "summary", "dropped", "dropped"]),
        ([[200, 10], [5, 2]], 100, ["summary", "summary"]),
        ([[200, 150], [5, 2]], 100, ["dropped", "dropped"]),
    ],
)
def test_the_view_keeps_whole_then_summaries_then_drops(
    answers: Answers, sizes: list[list[int]], budget: int, expected: list[str]
) -> None:
    got = answers.plan_view(sizes, budget)
    assert list(got) == expected, (
        f"{call('plan_view', sizes, budget)} returned {got!r}, expected {expected!r}: entries come in priority "
        "order, and an entry is never shown in more detail than one ranked above it"
    )


@graded("admit")
@pytest.mark.parametrize(
    ("args", "expected", "why"),
    [
        ((1000, 0, 0, 100, 64), 64, "plenty left: the whole allowance"),
        ((1000, 800, 0, 150, 64), 50, "50 tokens are left after the prompt"),
        ((1000, 600, 200, 150, 64), 50, "the 200 tokens other agents have reserved are not free"),
        ((1000, 800, 0, 190, 64), 0, "10 tokens after the prompt are too few for a useful reply"),
        ((1000, 800, 0, 184, 64), 16, "exactly the fewest worth a step"),
        ((1000, 581, 0, 420, 64), 0, "the prompt alone does not fit in what is left"),
        ((1000, 0, 0, 100, 8), 8, "an allowance below the minimum is all the step asks for"),
    ],
)
def test_a_step_gets_the_completion_cap_the_budget_can_cover(
    answers: Answers, args: tuple[int, ...], expected: int, why: str
) -> None:
    got = number(answers.completion_cap(*args), call("completion_cap", *args))
    assert got == expected, f"{call('completion_cap', *args)} returned {got:g}, expected {expected}: {why}"


def _rrf(rankings: list[list[str]], k: int) -> list[str]:
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, doc in enumerate(ranking, start=1):
            scores[doc] = scores.get(doc, 0.0) + 1 / (k + rank)
    return sorted(scores, key=lambda doc: -scores[doc])


@graded("fuse")
@pytest.mark.parametrize(
    "rankings",
    [
        [["a", "b", "c"]],
        [["a", "b", "c"], ["c", "b", "a"]],
        [["a", "b", "c", "d"], ["d", "c"]],
        [["x", "y"], ["z", "y"], ["y"]],
    ],
)
def test_fusion_favours_what_several_rankings_agree_on(answers: Answers, rankings: list[list[str]]) -> None:
    got = list(answers.fuse(rankings, 60))
    expected = _rrf(rankings, 60)
    assert got == expected, (
        f"{call('fuse', rankings, 60)} returned {got!r}, expected {expected!r} (each ranking's best at rank 1; "
        "ties keep the order in which the ids first appear)"
    )


@graded("fuse")
def test_a_small_k_lets_a_top_rank_win(answers: Answers) -> None:
    rankings = [["a", "b", "c"], ["b", "c", "a"], ["c", "a", "b"], ["a"]]
    for k in (1, 60):
        got = list(answers.fuse(rankings, k))
        assert got == _rrf(rankings, k), f"{call('fuse', rankings, k)} returned {got!r}, expected {_rrf(rankings, k)!r}"


@graded("lease")
@pytest.mark.parametrize(("args", "expected"), [((30.0, 10.0), 40.0), ((0.5, 0.2), 0.7), ((1.0, 1.0), 2.0)])
def test_a_paused_holders_lease_is_freed_within_timeout_plus_one_check(
    answers: Answers, args: tuple[float, float], expected: float
) -> None:
    got = number(answers.longest_wait(*args), call("longest_wait", *args))
    assert abs(got - expected) < 1e-9, (
        f"{call('longest_wait', *args)} returned {got:g}, expected {expected:g}: the lease must first go unrefreshed "
        f"for {args[0]:g} s, and the scheduler notices only when it next looks"
    )
