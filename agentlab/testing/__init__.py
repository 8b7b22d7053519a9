"""Test doubles and real test clusters that learners and tests share (all labs).

ProcessCluster, kill_worker, temporary_tls_files   a real scheduler and workers as separate processes
HostCluster                                        client, scheduler and workers as hosts (network namespaces)
FakeClock                                          time that moves only when told to
InlineDispatcher                                   a fan-out in-process on a fake clock
ScriptedModel, check_script                        a strict, picklable scripted model, and its check
"""

from __future__ import annotations

from agentlab.testing.clock import FakeClock
from agentlab.testing.cluster import ProcessCluster, kill_worker, temporary_tls_files
from agentlab.testing.hostile import HostileServer
from agentlab.testing.hosts import HostCluster
from agentlab.testing.inline import InlineDispatcher
from agentlab.testing.scripted import ScriptedModel, calls, final
from agentlab.testing.scripts import check_script

__all__ = [
    "FakeClock",
    "HostCluster",
    "HostileServer",
    "InlineDispatcher",
    "ProcessCluster",
    "ScriptedModel",
    "calls",
    "check_script",
    "final",
    "kill_worker",
    "temporary_tls_files",
]
