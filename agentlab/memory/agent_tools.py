"""The board as tools an agent calls: post a finding, read the board within a token budget (lab 05).

    toolkit = Toolkit(extra=board_tools(board, view_budget=400))   # every agent of a supervised run
    run_agent(goal, model=model, tools=[*board_tools(board), search_tool(index)])

The tools hold a picklable `Blackboard`, so they travel to the workers with the agents that use them.
A post carries a write id made from its key and text, so a tool call retried by its RPC policy (or a
sub-task Dask runs twice) posts once; a different finding under a key already taken is refused, and the
agent is told so, with the finding that is there.
"""

from __future__ import annotations

import hashlib

from agentlab.agent.tools import Tool, tool
from agentlab.memory.board import Blackboard
from agentlab.memory.context import board_view_tool

__all__ = ["board_tools", "post_finding_tool"]


def post_finding_tool(board: Blackboard, name: str = "post_finding") -> Tool:
    """A tool that posts a finding under "finding/<key>" on `board`, once."""

    def post_finding(key: str, finding: str) -> str:
        """Post a finding to the shared board, for the other agents and the supervisor to read.

        Args:
            key: a short name for the finding, e.g. "INC-1001 root cause".
            finding: what you found, with its source.
        """
        write_id = hashlib.sha256(f"{key}\n{finding}".encode()).hexdigest()[:24]
        result = board.post(f"finding/{key}", finding, write_id=write_id)
        if result.ok and result.entry is not None:
            return f"posted finding/{key} (seq {result.entry.seq})"
        there = result.entry.value if result.entry else ""
        return f"not posted: finding/{key} is already on the board: {there}"

    made: Tool = tool(post_finding, name=name)
    return made


def board_tools(board: Blackboard, view_budget: int = 400) -> tuple[Tool, Tool]:
    """`read_board` (a view of the findings within `view_budget` tokens) and `post_finding`."""
    return board_view_tool(board, view_budget, prefix="finding/"), post_finding_tool(board)
