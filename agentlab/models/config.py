"""Where a model is and the limits on each request: `ModelConfig`, `Secret`, the environment (lab 01).

A `ChatModel` holds only a `ModelConfig`, a frozen value, so it pickles to Dask workers and serves as a
cache key for the clients each process builds (`agentlab.models.clients`). API keys live in a `Secret`,
whose repr is masked. `limits_from_env` reads the request limits a learner sets in the environment
(AGENTLAB_TIMEOUT, AGENTLAB_MAX_TOKENS, AGENTLAB_CONTEXT_WINDOW, ...). Left out: the endpoint and key
from the environment (`agentlab.models.chat.from_env`) and any check that the endpoint exists.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Literal

from agentlab.errors import ConfigError
from agentlab.models.offline.policy import PolicyConfig
from agentlab.models.offline.server import MODEL_NAME

__all__ = ["ModelConfig", "Secret", "ToolCalling", "limits_from_env"]


@dataclass(frozen=True)
class Secret:
    """An API key that does not show itself in reprs, logs or tracebacks."""

    value: str = field(repr=False)

    def __repr__(self) -> str:
        return "Secret('****')"

    def __str__(self) -> str:
        return "****"


ToolCalling = Literal["native", "json", "auto"]


@dataclass(frozen=True)
class ModelConfig:
    """Where and how to reach a model, and the limits on each request. Frozen, hashable and picklable."""

    model: str = MODEL_NAME
    """The model name sent with each request."""
    base_url: str | None = None
    """An OpenAI-compatible endpoint, e.g. http://localhost:11434/v1 (None: the offline policy)."""
    api_key: Secret | None = None
    """The key for a real endpoint; local servers usually accept any string."""
    offline: PolicyConfig | None = None
    """When set, requests go to this process's loopback endpoint for the offline policy."""
    timeout: float = 30.0
    """Seconds one attempt may take, the whole reply included (the SDK's own 600 s is hostile in class)."""
    max_retries: int = 2
    """Further attempts after a timeout, a refused connection, 408/409/429 or 5xx (so 3 attempts)."""
    max_tokens: int | None = 1024
    """Sent as `max_tokens`: the longest reply a step may generate (None: the server's default)."""
    tool_calling: ToolCalling = "native"
    """"native" (`tools` in the request), "json" (tools described in the prompt, one JSON object per
    turn: `agentlab.models.jsonmode`), or "auto" (native if a one-time probe shows the server calls tools)."""
    context_window: int | None = None
    """Tokens the model sees per request, prompt and reply together (llama.cpp's n_ctx). None: ask the
    server once (`agentlab.models.window`); when it is known, each request is fitted into it by a stated
    rule (`agentlab.models.context`)."""
    max_argument_chars: int = 20_000
    """Tool-call arguments longer than this are dropped (an error observation), not echoed back."""
    max_reply_bytes: int = 8_000_000
    """A reply body larger than this is cut off and the step fails (ModelUnavailable)."""
    seed: int | None = None
    """Sent as the request's `seed` (the offline policy honours it; some servers do too)."""
    temperature: float | None = None
    cassette: str | None = None
    """A JSON-lines file of recorded responses (see `agentlab.models.cassette`)."""
    cassette_mode: str = "record"
    """"record" appends each exchange to `cassette`; "replay" answers from it with no endpoint."""

    def __post_init__(self) -> None:
        if self.tool_calling not in ("native", "json", "auto"):
            raise ConfigError(f"tool_calling must be native, json or auto, not {self.tool_calling!r}")
        if self.timeout <= 0 or self.max_retries < 0 or (self.max_tokens is not None and self.max_tokens < 1):
            raise ConfigError("timeout and max_tokens must be positive, max_retries not negative")
        if self.context_window is not None and self.context_window < 1:
            raise ConfigError(f"context_window must be a positive number of tokens, not {self.context_window}")


_ENV_LIMITS = {
    "timeout": ("AGENTLAB_TIMEOUT", float),
    "max_tokens": ("AGENTLAB_MAX_TOKENS", int),
    "max_retries": ("AGENTLAB_MAX_RETRIES", int),
    "tool_calling": ("AGENTLAB_TOOL_CALLING", str),
    "max_argument_chars": ("AGENTLAB_MAX_ARGUMENT_CHARS", int),
    "context_window": ("AGENTLAB_CONTEXT_WINDOW", int),
}


def limits_from_env() -> dict[str, Any]:
    """The request limits set in the environment (AGENTLAB_TIMEOUT, AGENTLAB_MAX_TOKENS, ...)."""
    limits: dict[str, Any] = {}
    for field_name, (var, kind) in _ENV_LIMITS.items():
        value = os.environ.get(var)
        if value:
            try:
                limits[field_name] = kind(value)
            except ValueError:
                raise ConfigError(f"{var}={value!r} is not a valid {kind.__name__}") from None
    return limits
