"""agentlab: learn distributed agent orchestration by running it (on Dask, offline by default).

The names a learner types most; everything else lives in its own module (see the README's layout).
They are loaded when first used, so `import agentlab.durable.journal` loads the journal and not the model stack.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agentlab.agent.loop import RunResult, run_agent
    from agentlab.agent.retrieval import Index, search_tool
    from agentlab.agent.tools import Tool, Toolbox, tool
    from agentlab.analysis import amdahl_ceiling, amdahl_speedup, critical_path_latency, expected_turns, sum_over_max
    from agentlab.cluster import connect
    from agentlab.durable.sqlite import SqliteJournal
    from agentlab.errors import AgentlabError
    from agentlab.fanout.plan import Plan
    from agentlab.fanout.rounds import FanOutPolicy
    from agentlab.fanout.supervisor import FanOutResult, Supervisor
    from agentlab.latency import Latency
    from agentlab.models.chat import ChatModel, from_env, offline_model
    from agentlab.models.config import ModelConfig
    from agentlab.rpc.contract import ToolPolicy
    from agentlab.rpc.guarded import GuardedToolbox
    from agentlab.steps import SubTask
    from agentlab.testing.scripted import ScriptedModel
    from agentlab.trace import Trace

_HOMES = {
    "AgentlabError": "agentlab.errors",
    "ChatModel": "agentlab.models.chat",
    "FanOutPolicy": "agentlab.fanout.rounds",
    "FanOutResult": "agentlab.fanout.supervisor",
    "GuardedToolbox": "agentlab.rpc.guarded",
    "Index": "agentlab.agent.retrieval",
    "Latency": "agentlab.latency",
    "ModelConfig": "agentlab.models.config",
    "Plan": "agentlab.fanout.plan",
    "RunResult": "agentlab.agent.loop",
    "ScriptedModel": "agentlab.testing.scripted",
    "SqliteJournal": "agentlab.durable.sqlite",
    "SubTask": "agentlab.steps",
    "Supervisor": "agentlab.fanout.supervisor",
    "Tool": "agentlab.agent.tools",
    "ToolPolicy": "agentlab.rpc.contract",
    "Toolbox": "agentlab.agent.tools",
    "Trace": "agentlab.trace",
    "amdahl_ceiling": "agentlab.analysis",
    "amdahl_speedup": "agentlab.analysis",
    "connect": "agentlab.cluster",
    "critical_path_latency": "agentlab.analysis",
    "expected_turns": "agentlab.analysis",
    "from_env": "agentlab.models.chat",
    "offline_model": "agentlab.models.chat",
    "run_agent": "agentlab.agent.loop",
    "search_tool": "agentlab.agent.retrieval",
    "sum_over_max": "agentlab.analysis",
    "tool": "agentlab.agent.tools",
}

__all__ = [
    "AgentlabError",
    "ChatModel",
    "FanOutPolicy",
    "FanOutResult",
    "GuardedToolbox",
    "Index",
    "Latency",
    "ModelConfig",
    "Plan",
    "RunResult",
    "ScriptedModel",
    "SqliteJournal",
    "SubTask",
    "Supervisor",
    "Tool",
    "ToolPolicy",
    "Toolbox",
    "Trace",
    "amdahl_ceiling",
    "amdahl_speedup",
    "connect",
    "critical_path_latency",
    "expected_turns",
    "from_env",
    "offline_model",
    "run_agent",
    "search_tool",
    "sum_over_max",
    "tool",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    """Load a public name from its module the first time it is asked for (PEP 562)."""
    if name not in _HOMES:
        raise AttributeError(f"module 'agentlab' has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOMES[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOMES])
