"""Checks for lab 04's simulator-graded task: the journal key of a sub-task's step, attacked on 200 seeds.

The learner's `step_key(step)` names each sub-task's step in the journal: its result is recorded under
that key, and a resumed supervisor looks the step up by it. Every seed's supervisor dies at a journal
write and a new one resumes the run, among re-plans in other words, under other ids, split and merged,
failing payments and crashed workers (`agentlab.sim.components.KEY`). Pass^k: on every seed the resumed
run redoes no journaled step, takes no other step's result, loses no sub-task and charges no order twice.
"""

from __future__ import annotations

from agentlab.grading.testkit import Answers, graded
from agentlab.sim.components import KEY
from agentlab.sim.passk import attack


@graded("key")
def test_a_resumed_run_finds_every_finished_step_and_only_its_own_on_200_seeds(answers: Answers) -> None:
    verdict = attack(KEY, answers.step_key)
    assert verdict.ok, verdict.message()
