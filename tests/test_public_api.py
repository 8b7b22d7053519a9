"""The public surface is on purpose: this test pins it, so a change to it is a decision, not an accident."""

from __future__ import annotations

import importlib
import pkgutil

import agentlab

PUBLIC = {
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
}


def test_the_top_level_names_are_pinned() -> None:
    assert set(agentlab.__all__) == PUBLIC
    assert all(hasattr(agentlab, name) for name in PUBLIC)


def test_every_module_declares_its_public_names() -> None:
    missing = []
    for info in pkgutil.walk_packages(agentlab.__path__, "agentlab."):
        if info.name.split(".")[-1].startswith("_") or info.name.endswith("__main__") or ".checks." in info.name:
            continue
        module = importlib.import_module(info.name)
        if not hasattr(module, "__all__"):
            missing.append(info.name)
        else:
            missing += [f"{info.name}.{n}" for n in module.__all__ if not hasattr(module, n)]
    assert missing == []
