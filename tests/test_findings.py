"""The supervisor and a shared findings board: it posts each finding once and its reduce step reads what
executors (or other runs) posted — on the real blackboard, served in-process."""

from __future__ import annotations

from pathlib import Path

from agentlab.fanout.supervisor import Supervisor
from agentlab.memory import Blackboard
from agentlab.testing import InlineDispatcher
from agentlab.testing.runners import SleepRunner
from agentlab.testing.scripted import ScriptedModel, calls

PLAN = '{"subtasks": [{"id": "a", "goal": "find A"}, {"id": "b", "goal": "find B"}]}'


def _run(board: Blackboard, run_id: str) -> tuple[ScriptedModel, str]:
    model = ScriptedModel([calls(("make_plan", PLAN)), calls(("finish", '{"answer": "A and B"}'))])
    timing = SleepRunner(fail=frozenset({"b"}))
    inline = InlineDispatcher(timing)
    result = Supervisor(None, model, runner=timing, dispatch=inline, clock=inline.clock, board=board).run(
        "find A and B", run_id
    )
    return model, result.stop_reason


def test_findings_are_posted_once_and_others_findings_reach_the_reduce_step(tmp_path: Path) -> None:
    board = Blackboard.local(str(tmp_path / "board.sqlite"), "team")
    board.post("finding/INC-1 root cause", "a full disk on the gateway [kb-0001]")  # an executor's post_finding
    model, reason = _run(board, "r1")
    assert reason == "answer"
    found = board.read("finding/")
    assert found["finding/r1/a"].value == "a ok" and "finding/r1/b" not in found  # a failure is not a finding
    reduce_prompt = model.requests[-1][0][-1]["content"]
    assert "[finding/INC-1 root cause] (board, done) a full disk on the gateway" in reduce_prompt
    assert "finding/r1/a" not in reduce_prompt  # its own sub-tasks are there as results, not twice
    seq = board.last_seq()
    _run(board, "r1")  # the same run again: its findings are not posted a second time
    assert board.last_seq() == seq
    model2, _ = _run(board, "r2")  # another run reads the first run's findings
    assert "[finding/r1/a] (board, done) a ok" in model2.requests[-1][0][-1]["content"]
