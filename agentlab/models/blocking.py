"""Blocking calls from async code, on one large pool per process (lanes, `arun_agent`).

An agent loop that awaits its model steps on a worker's event loop still has blocking work to do: a
tool call, or a step of a model that has no async path. `asyncio.to_thread` would send it to the
default pool, which has about six threads — six waiting tool calls would hold up every other agent on
the worker. `run_blocking` sends it to a pool as large as a lane's (`THREADS`), made once per process.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

__all__ = ["THREADS", "run_blocking"]

THREADS = 256
"""Blocking calls one process runs at once (a lane's thread count, by default)."""

T = TypeVar("T")


@functools.cache
def _pool(pid: int) -> ThreadPoolExecutor:
    """Keyed by process id: a forked child must not use its parent's threads."""
    return ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="agentlab-blocking")


async def run_blocking(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`fn(*args, **kwargs)` on the process's blocking pool, in the caller's context (so `get_worker()` works)."""
    call = functools.partial(contextvars.copy_context().run, fn, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(_pool(os.getpid()), call)
