"""The bounded board view: a token budget, one stated rule, and the loss counted where agent and trace see it."""

from __future__ import annotations

from pathlib import Path

from agentlab.agent.loop import run_agent
from agentlab.memory import Blackboard, Entry, view
from agentlab.memory.agent_tools import board_tools, post_finding_tool
from agentlab.memory.context import board_view_tool, count_tokens
from agentlab.testing.scripted import ScriptedModel, calls, final
from agentlab.trace import Trace


def _entries(n: int, words: int = 10) -> list[Entry]:
    return [Entry(f"finding/{i}", " ".join([f"w{i}"] * words), 1, seq=i) for i in range(1, n + 1)]


def test_everything_fits_nothing_is_lost() -> None:
    shown = view(_entries(3), budget=1000)
    assert shown.whole == ("finding/3", "finding/2", "finding/1")  # newest first
    assert shown.summarized == shown.dropped == () and shown.lost_tokens == 0
    assert "all shown" in shown.note


def test_newest_whole_then_summaries_then_dropped_within_the_budget() -> None:
    entries = _entries(12, words=40)
    shown = view(entries, budget=150)
    assert shown.tokens <= 150
    assert shown.whole and shown.summarized and shown.dropped
    order = list(shown.whole + shown.summarized + shown.dropped)
    assert order == [f"finding/{i}" for i in range(12, 0, -1)]  # one order: newest first, never interleaved
    assert len(order) == 12  # every entry accounted for
    full = sum(count_tokens(line) for line in shown.lines)
    assert full == shown.tokens and shown.lost_tokens > 0
    assert f"{len(shown.dropped)} dropped" in shown.text.splitlines()[0]


def test_entries_about_the_sub_task_go_first() -> None:
    entries = [*_entries(5), Entry("finding/orion", "Orion Gateway disk full", 1, seq=0)]
    shown = view(entries, budget=1000, relevant_to="why did the Orion Gateway fail?")
    assert shown.whole[0] == "finding/orion"


def test_the_loss_shows_in_the_trace_and_in_what_the_agent_reads(tmp_path: Path) -> None:
    trace = Trace("run")
    view(_entries(30), budget=60).trace_event(trace)
    (event,) = trace.events
    assert event.outcome == "trimmed" and "dropped" in event.detail
    board = Blackboard.local(str(tmp_path / "m.sqlite"), "run")
    for entry in _entries(30):
        board.post(entry.key, entry.value)
    text = board_view_tool(board, budget=60).fn(topic="")
    assert text.startswith("(board:") and "dropped" in text.splitlines()[0]


def test_agents_post_and_read_findings_through_tools(tmp_path: Path) -> None:
    board = Blackboard.local(str(tmp_path / "m.sqlite"), "run")
    post = calls(("post_finding", '{"key": "INC-1001", "finding": "full disk on the Orion Gateway (d-1)"}'))
    model = ScriptedModel([post, post, calls(("read_board", '{"topic": "INC-1001"}')), final("done")])
    result = run_agent("share what you found", model=model, tools=board_tools(board, view_budget=100))
    assert result.stop_reason == "answer"
    assert [e.key for e in board.log()] == ["finding/INC-1001"]  # the retried post landed once
    observations = [m["content"] for m in result.messages if m["role"] == "tool"]
    assert observations[0].startswith("posted") and observations[1].startswith("posted")
    assert "full disk" in observations[2] and observations[2].startswith("(board: 1 entries")
    other = post_finding_tool(board).fn(key="INC-1001", finding="something else")
    assert other.startswith("not posted") and "full disk" in other
