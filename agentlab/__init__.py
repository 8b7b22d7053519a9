"""agentlab: learn distributed agent orchestration by running it (on Dask, offline by default).

The names a learner types most; everything else lives in its own module (see DESIGN in the README).
"""

from agentlab.analysis import critical_path_latency, expected_turns
from agentlab.errors import AgentlabError
from agentlab.latency import Latency
from agentlab.loop import RunResult, run_agent
from agentlab.models import ChatModel, ModelConfig, from_env, offline_model
from agentlab.retrieval import Index, search_tool
from agentlab.scripted import ScriptedModel
from agentlab.tools import Tool, Toolbox, tool
from agentlab.trace import Trace

__all__ = [
    "AgentlabError",
    "ChatModel",
    "Index",
    "Latency",
    "ModelConfig",
    "RunResult",
    "ScriptedModel",
    "Tool",
    "Toolbox",
    "Trace",
    "critical_path_latency",
    "expected_turns",
    "from_env",
    "offline_model",
    "run_agent",
    "search_tool",
    "tool",
]
__version__ = "0.1.0"
