"""A Dask preload: import agentlab at scheduler and worker start-up, not inside the first sub-task.

A cold process spends most of a second importing pandas, openai and pydantic the first time it meets
an agentlab object — the worker to run a sub-task, and the scheduler too, because it unpickles task
definitions. That second would land on the critical path of the first fan-out. `local_cluster()` and
`ProcessCluster` preload this module; on a remote cluster start
`dask scheduler --preload agentlab.worker_setup` and `dask worker ... --preload agentlab.worker_setup`.
"""

from __future__ import annotations

from typing import Any

from agentlab.fanout import round as fanout  # importing is the point: it warms the process
from agentlab.fanout import runners as executor

__all__ = ["dask_setup", "executor", "fanout"]


def dask_setup(worker: Any) -> None:
    """Called by the worker once the module is imported; nothing else to do."""
