"""agentlab: learn distributed agent orchestration by running it (on Dask, offline by default).

The names a learner types most; everything else lives in its own module (see the README's layout).
"""

from agentlab.analysis import amdahl_ceiling, amdahl_speedup, critical_path_latency, expected_turns, sum_over_max
from agentlab.cluster import connect
from agentlab.errors import AgentlabError
from agentlab.fanout import FanOutPolicy
from agentlab.guarded import GuardedToolbox
from agentlab.journal_sqlite import SqliteJournal
from agentlab.latency import Latency
from agentlab.loop import RunResult, run_agent
from agentlab.models import ChatModel, ModelConfig, from_env, offline_model
from agentlab.plan import Plan, SubTask
from agentlab.retrieval import Index, search_tool
from agentlab.rpc import ToolPolicy
from agentlab.scripted import ScriptedModel
from agentlab.supervisor import FanOutResult, Supervisor
from agentlab.tools import Tool, Toolbox, tool
from agentlab.trace import Trace

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
