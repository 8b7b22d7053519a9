"""Checks for lab 05's simulator-graded task: an increment, one message at a time, attacked on 200 seeds.

The learner's `increment_step(key, replies)` is the agent's side of every increment; three agents run
on one real memory server, interleaved message by message, while it crashes and restarts, lease
holders pause and writes are delivered twice (`agentlab.sim.components.INCREMENT`). Pass^k: on every
seed the counter is linearizable, every acknowledged write is durable and every increment lands.
"""

from __future__ import annotations

from agentlab.grading.testkit import Answers, graded
from agentlab.sim.components import INCREMENT
from agentlab.sim.passk import attack


@graded("increment")
def test_no_increment_is_lost_on_200_seeds(answers: Answers) -> None:
    verdict = attack(INCREMENT, answers.increment_step)
    assert verdict.ok, verdict.message()
