"""Checks for lab 04's tasks (labs/04_durability.ipynb): a payment's key, the work a kill loses, the ledger's
first-writer-wins, and what a position log hands back."""

from __future__ import annotations

from typing import Any

import pytest

from agentlab.grading.testkit import Answers, call, close, graded, number

PAY = {"order": "lab04-a/a", "sku": "NR-1001", "amount": 10.0}


def _key(answers: Answers, *args: Any) -> str:
    got = answers.payment_key(*args)
    assert isinstance(got, str) and got, f"{call('payment_key', *args)} returned {got!r}: a key is a non-empty str"
    return got


@graded("payment")
def test_the_same_payment_gets_the_same_key_whatever_the_order_of_its_arguments(answers: Answers) -> None:
    shuffled = {"amount": 10.0, "sku": "NR-1001", "order": "lab04-a/a"}
    first, again = _key(answers, "lab04-a", "pay", PAY), _key(answers, "lab04-a", "pay", shuffled)
    assert first == again, (
        f"{call('payment_key', 'lab04-a', 'pay', PAY)} and the same call with the arguments listed in another "
        f"order gave different keys ({first!r} vs {again!r}): a model may list arguments in any order, and "
        "the payments API would charge twice"
    )
    nested = ({"order": "x", "meta": {"a": 1, "b": 2}}, {"meta": {"b": 2, "a": 1}, "order": "x"})
    assert _key(answers, "r", "pay", nested[0]) == _key(answers, "r", "pay", nested[1]), (
        "two calls whose arguments differ only in the order of a nested dict's entries gave different keys"
    )


@graded("payment")
@pytest.mark.parametrize(
    "other",
    [
        ("lab04-b", "pay", PAY),
        ("lab04-a", "refund", PAY),
        ("lab04-a", "pay", {**PAY, "amount": 12.0}),
        ("lab04-a", "pay", {**PAY, "order": "lab04-a/b"}),
    ],
    ids=["run", "tool", "amount", "order"],
)
def test_different_payments_get_different_keys(answers: Answers, other: tuple[Any, ...]) -> None:
    base = _key(answers, "lab04-a", "pay", PAY)
    assert _key(answers, *other) != base, (
        f"{call('payment_key', *other)} gave the same key as {call('payment_key', 'lab04-a', 'pay', PAY)}: the "
        "payments API would treat the second payment as a retry of the first and never make it"
    )


@graded("payment")
def test_the_parts_of_a_key_cannot_run_into_each_other(answers: Answers) -> None:
    one, two = ("a-b", "c", {"n": 1}), ("a", "b-c", {"n": 1})
    assert _key(answers, *one) != _key(answers, *two), (
        f"{call('payment_key', *one)} and {call('payment_key', *two)} gave the same key: two different "
        "(run, tool) pairs must not collide however their names are spelled"
    )


@graded("lost")
@pytest.mark.parametrize(
    ("intervals", "kill_at", "expected", "why"),
    [
        ([[0.0, 1.0], [0.0, 1.2]], 2.0, 0.0, "every sub-task had finished, so every result was in the journal"),
        ([[3.0, 4.0]], 2.0, 0.0, "nothing had started yet"),
        ([[0.0, 1.0], [0.5, 1.5], [1.2, 2.2]], 1.3, 0.8 + 0.1, "two sub-tasks were in flight at the kill"),
        ([[0.0, 1.0], [1.0, 3.0]], 1.0, 0.0, "the first had just finished, the second had not begun to work"),
    ],
)
def test_lost_work_is_the_work_in_flight_at_the_kill(
    answers: Answers, intervals: list[list[float]], kill_at: float, expected: float, why: str
) -> None:
    got = number(answers.lost_work(intervals, kill_at), call("lost_work", intervals, kill_at))
    assert close(got, expected), (
        f"{call('lost_work', intervals, kill_at)} returned {got:.4g}, expected {expected:.4g}: {why}"
    )


@graded("ledger")
def test_a_copy_that_runs_twice_is_charged_once(answers: Answers) -> None:
    attempts = [["k-a", "a", 10.0], ["k-b", "b", 10.0], ["k-a", "a", 10.0]]
    got = [list(c) for c in answers.ledger(attempts)]
    assert got == [["k-a", "a", 10.0], ["k-b", "b", 10.0]], (
        f"{call('ledger', attempts)} returned {got}: the third attempt is a second copy of the first payment"
    )


@graded("ledger")
def test_one_order_may_be_paid_by_two_different_payments(answers: Answers) -> None:
    attempts = [["k-1", "a", 10.0], ["k-2", "a", 4.0]]
    got = [list(c) for c in answers.ledger(attempts)]
    assert got == attempts, (
        f"{call('ledger', attempts)} returned {got}: these are two different payments (two keys) for one order, "
        "say the goods and their shipping; the API cannot know they are one"
    )


@graded("ledger")
def test_the_first_charge_with_a_key_stands(answers: Answers) -> None:
    attempts = [["k-a", "a", 10.0], ["k-b", "b", 3.0], ["k-a", "a", 99.0], ["k-b", "b", 3.0]]
    got = [list(c) for c in answers.ledger(attempts)]
    assert got == [["k-a", "a", 10.0], ["k-b", "b", 3.0]], (
        f"{call('ledger', attempts)} returned {got}: once a key has been charged, a later attempt with that key "
        "gets the first charge back, whatever it asks for, and the ledger keeps the order charges were made in"
    )


@graded("positions")
@pytest.mark.parametrize(
    ("plan", "finished", "expected"),
    [
        (list("abc"), list("abc"), 3),
        (list("abcdef"), list("fedcba"), 0),
        (list("abcde"), list("edcba"), 1),
        (list("abcd"), list("bacd"), 2),
        (list("abcd"), list("ab"), 2),
        (list("abcd"), list("ca"), 0),
        (list("abc"), [], 0),
    ],
)
def test_a_position_log_is_right_only_where_order_held(
    answers: Answers, plan: list[str], finished: list[str], expected: int
) -> None:
    got = number(answers.position_log_right(plan, finished), call("position_log_right", plan, finished))
    assert got == expected, (
        f"{call('position_log_right', plan, finished)} returned {got:g}, expected {expected}: a position log "
        "hands the i-th sub-task of the plan whatever was recorded i-th (and nothing if fewer were recorded)"
    )
