"""Shared memory for agents on a cluster (lab 05; course §5 "Shared Memory and Interoperation Protocols").

Parallel workers are useful only if they can share what they learn — and shared state brings the
hazards of any distributed state. One module per idea:

    values     Entry, WriteResult, Fence, StaleRead: what the memory hands out
    store      the board's truth: an ordered log of versioned writes in SQLite (compare-and-set, fencing)
    server     the memory server: a Dask actor in front of that file, restarted if its process dies
    board      Blackboard: get / write(expected=) / update / log / wait_for / stale / issue_token
    naive      why the naive way fails: read-modify-write on a Dask Variable loses updates
    fencing    a Dask Lock held by two holders after a pause, and the fencing token that refuses one
    context    a bounded view of the board for each agent: a token budget and a stated trimming rule
    agent_tools  read_board and post_finding: the board as tools agents on any worker call
    budget     cluster-wide budgets (tokens, cost, requests/minute) that fail closed: pure admit and settle
    ledger     the budgets' spend and reservations, beside the board
    budgeted   SharedBudget and BudgetedModel: a model that stops the run with "budget" when it runs out
    longterm   LongTermMemory: findings kept across runs, searched through the retrieval tool (SQLite FTS5)

`agentlab.memory` sits with the protocols, above orchestration (layer 6 of tests/test_layering.py): it
may import the values, models, tools, rpc, services, loop, journal and orchestration modules; nothing
below it imports it.
"""

from agentlab.memory.agent_tools import board_tools
from agentlab.memory.board import Blackboard, replay
from agentlab.memory.budget import Budget, Spend
from agentlab.memory.budgeted import BudgetedModel, SharedBudget
from agentlab.memory.context import ContextView, board_view_tool, view
from agentlab.memory.longterm import HashingEmbedder, LongTermMemory, OpenAIEmbedder, embedder_from_env
from agentlab.memory.server import MemoryServer, ServerHandle
from agentlab.memory.values import Entry, Fence, StaleRead, WriteResult

__all__ = [
    "Blackboard",
    "Budget",
    "BudgetedModel",
    "ContextView",
    "Entry",
    "Fence",
    "HashingEmbedder",
    "LongTermMemory",
    "MemoryServer",
    "OpenAIEmbedder",
    "ServerHandle",
    "SharedBudget",
    "Spend",
    "StaleRead",
    "WriteResult",
    "board_tools",
    "board_view_tool",
    "embedder_from_env",
    "replay",
    "view",
]
