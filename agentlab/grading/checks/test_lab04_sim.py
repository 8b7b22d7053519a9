"""Checks for lab 04's simulator-graded task: the resume rule, attacked on 200 seeds.

The learner's `replay_on_resume(step)` decides which of the journal's done steps a resumed supervisor
takes as they were; every seed's supervisor dies at a journal write and a new one resumes the run,
among failing payments and crashed workers (`agentlab.sim.components.RESUME`). Pass^k: on every seed
the resumed run redoes no journaled step, loses no sub-task and charges no order twice.
"""

from __future__ import annotations

from agentlab.grading.testkit import Answers, graded
from agentlab.sim.components import RESUME
from agentlab.sim.passk import attack


@graded("resume")
def test_a_resumed_run_redoes_nothing_on_200_seeds(answers: Answers) -> None:
    verdict = attack(RESUME, answers.replay_on_resume)
    assert verdict.ok, verdict.message()
