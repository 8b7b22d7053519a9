"""Does a server really call tools? One short request finds out (`tool_calling="auto"`, lab 01).

Many OpenAI-compatible servers accept `tools` and then ignore them, answering in prose. The probe sends
one request with a single tool the model is told it must call; a reply with a tool call means "native",
anything else means tools go in the prompt (`agentlab.models.jsonmode`). The verdict is kept once per
config per process. A server that fails gives no verdict: the model stays native, nothing is kept, and
the real step says what failed. The probe is handed the way to build a one-step model from a config
(`ChatModel` itself), so it needs no particular SDK. Left out: probing the offline model (it calls tools).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import replace

from agentlab.errors import ModelUnavailable
from agentlab.models.base import Model
from agentlab.models.config import ModelConfig

__all__ = ["calls_tools"]

MakeModel = Callable[[ModelConfig], Model]
"""Builds a model from a config: `ChatModel` is one."""

_PROBE_TOOL = {
    "type": "function",
    "function": {
        "name": "search",
        "description": "Search for documents.",
        "parameters": {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]},
    },
}


def calls_tools(config: ModelConfig, make: MakeModel) -> bool:
    """Does the server call tools? One short request with a tool it must call, once per process."""
    try:
        return _probe_once(replace(config, seed=None), os.getpid(), make)
    except ModelUnavailable:
        return True  # no verdict from a failing server: stay native, and let the real step say what failed


@functools.lru_cache(maxsize=64)
def _probe_once(config: ModelConfig, pid: int, make: MakeModel) -> bool:
    """The probe itself; a failing server raises, and a raise is not cached (the next step asks again)."""
    probe = make(replace(config, tool_calling="native", max_tokens=64, max_retries=0))
    messages = [{"role": "user", "content": 'Use the search tool to search for "hello".'}]
    return bool(probe.complete(messages, [_PROBE_TOOL], tool_choice="required").tool_calls)
