"""Checks for lab 02's simulator-graded task: the idempotency key of a payment, attacked on 200 seeds.

The learner's `payment_key(call)` is plugged in where agentlab makes a `pay` call's key; the nemesis
loses replies, fails the desk, rewords and re-ids re-plans, splits and merges them, and crashes
workers and the supervisor (`agentlab.sim.components.PAYMENT`). Pass^k: every seed must charge each
order at most once, and charge every order the run says it paid.
"""

from __future__ import annotations

from agentlab.grading.testkit import Answers, graded
from agentlab.sim.components import PAYMENT
from agentlab.sim.passk import attack


@graded("payment")
def test_the_payment_key_charges_each_order_once_on_200_seeds(answers: Answers) -> None:
    verdict = attack(PAYMENT, answers.payment_key)
    assert verdict.ok, verdict.message()
