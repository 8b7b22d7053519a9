"""Models: one reasoning step = one chat completion with tools (lab 01).

Every model — OpenAI, vLLM, Ollama, llama.cpp, or agentlab's offline policy — is reached the same way:
the real `openai` SDK sends `messages` and `tools` to an OpenAI-compatible endpoint and gets back tool
calls or a final answer. A `ChatModel` holds only a frozen `ModelConfig`, so it pickles to Dask workers;
each process builds (and caches) its own SDK client from the config. The offline model's config names
a `PolicyConfig` instead of a URL, and each process starts its own loopback endpoint for it.

    offline_model(q=0.7)                         the default: no network, no key
    from_env()                                   AGENTLAB_BASE_URL / AGENTLAB_MODEL / AGENTLAB_API_KEY
    ChatModel(ModelConfig(base_url=..., model=..., api_key=Secret(...)))

API keys live in a `Secret`, whose repr is masked; keys never appear in traces or cassettes.
"""

from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import httpx2
import openai

from agentlab.cassette import RecordingTransport, ReplayTransport
from agentlab.errors import CassetteMiss, ConfigError, ModelUnavailable
from agentlab.latency import Latency
from agentlab.offline import MODEL_NAME, endpoint
from agentlab.policy import PolicyConfig
from agentlab.wire import Message, ModelReply, parse_reply

__all__ = ["ChatModel", "Model", "ModelConfig", "Secret", "from_env", "offline_model"]


class Model(Protocol):
    """Anything that can take one reasoning step."""

    def complete(
        self, messages: list[Message], tools: list[dict[str, Any]], *, tool_choice: str = "auto"
    ) -> ModelReply: ...


@dataclass(frozen=True)
class Secret:
    """An API key that does not show itself in reprs, logs or tracebacks."""

    value: str = field(repr=False)

    def __repr__(self) -> str:
        return "Secret('****')"

    def __str__(self) -> str:
        return "****"


@dataclass(frozen=True)
class ModelConfig:
    """Where and how to reach a model. Frozen, hashable and picklable."""

    model: str = MODEL_NAME
    """The model name sent with each request."""
    base_url: str | None = None
    """An OpenAI-compatible endpoint, e.g. http://localhost:11434/v1 (None: the offline policy)."""
    api_key: Secret | None = None
    """The key for a real endpoint; local servers usually accept any string."""
    offline: PolicyConfig | None = None
    """When set, requests go to this process's loopback endpoint for the offline policy."""
    timeout: float = 60.0
    """Seconds to wait for one response (the SDK's own default, 600 s, is hostile in class)."""
    max_retries: int = 2
    """SDK retries on connection errors, 408/409/429 and 5xx, with exponential backoff."""
    seed: int | None = None
    """Sent as the request's `seed` (the offline policy honours it; some servers do too)."""
    temperature: float | None = None
    cassette: str | None = None
    """A JSON-lines file of recorded responses (see `agentlab.cassette`)."""
    cassette_mode: str = "record"
    """"record" appends each exchange to `cassette`; "replay" answers from it with no endpoint."""


@functools.lru_cache(maxsize=64)
def _client(config: ModelConfig, pid: int) -> openai.OpenAI:
    """One SDK client per config per process (clients hold connection pools; they do not pickle)."""
    base_url = endpoint(config.offline) if config.offline else config.base_url
    if base_url is None:
        raise ConfigError("no model endpoint: set base_url (or AGENTLAB_BASE_URL) or use offline_model()")
    key = config.api_key.value if config.api_key else "offline"
    http_client = None
    if config.cassette and config.cassette_mode == "replay":
        http_client = httpx2.Client(transport=ReplayTransport(config.cassette))
    elif config.cassette:
        http_client = httpx2.Client(transport=RecordingTransport(config.cassette), timeout=config.timeout)
    retries = 0 if config.cassette_mode == "replay" and config.cassette else config.max_retries
    return openai.OpenAI(
        api_key=key, base_url=base_url, timeout=config.timeout, max_retries=retries, http_client=http_client
    )


def _shared(config: ModelConfig) -> ModelConfig:
    """The part of a config that needs its own client: the seed only changes the request body."""
    offline = replace(config.offline, seed=0) if config.offline else None
    return replace(config, seed=None, offline=offline, temperature=None)


class ChatModel:
    """A model reached through the `openai` SDK's chat-completions API."""

    def __init__(self, config: ModelConfig) -> None:
        self.config = config

    def __repr__(self) -> str:
        where = "offline" if self.config.offline else self.config.base_url
        return f"ChatModel({self.config.model!r} at {where})"

    def with_options(self, **changes: Any) -> ChatModel:
        """A copy with some config fields changed, e.g. `model.with_options(seed=3)`."""
        return ChatModel(replace(self.config, **changes))

    def recording(self, path: str) -> ChatModel:
        """This model, with every response also appended to the cassette at `path`."""
        return self.with_options(cassette=path, cassette_mode="record")

    def replaying(self, path: str) -> ChatModel:
        """A model that answers only from the cassette at `path`: no endpoint, no key, no network."""
        return self.with_options(
            cassette=path, cassette_mode="replay", offline=None, base_url="http://cassette.invalid/v1", api_key=None
        )

    def complete(
        self, messages: list[Message], tools: list[dict[str, Any]], *, tool_choice: str = "auto"
    ) -> ModelReply:
        """One reasoning step; endpoint failures raise ModelUnavailable (the reply itself is never trusted)."""
        request: dict[str, Any] = {"model": self.config.model, "messages": messages}
        if tools:
            request["tools"] = tools
            request["tool_choice"] = tool_choice
        if self.config.seed is not None:
            request["seed"] = self.config.seed
        if self.config.temperature is not None:
            request["temperature"] = self.config.temperature
        client = _client(_shared(self.config), os.getpid())
        try:
            raw = client.chat.completions.with_raw_response.create(**request)
            body = json.loads(raw.http_response.content)
        except ValueError as exc:
            raise ModelUnavailable(f"the model endpoint sent a reply that is not JSON: {exc}") from exc
        except openai.APIConnectionError as exc:
            if isinstance(exc.__cause__, CassetteMiss):
                raise exc.__cause__ from None
            raise ModelUnavailable(f"cannot reach the model at {client.base_url}: {exc}") from exc
        except openai.APIStatusError as exc:
            raise ModelUnavailable(f"the model endpoint answered HTTP {exc.status_code}: {exc.message}") from exc
        except openai.OpenAIError as exc:
            raise ModelUnavailable(f"model call failed: {exc}") from exc
        return parse_reply(body)


def offline_model(
    seed: int = 0,
    q: float = 1.0,
    latency: float | Latency = 0.0,
    malformed_rate: float = 0.0,
    *,
    cassette: str | None = None,
) -> ChatModel:
    """The offline default model: the seeded policy behind a loopback OpenAI-compatible endpoint."""
    lat = latency if isinstance(latency, Latency) else Latency("fixed", float(latency))
    policy = PolicyConfig(seed=seed, q=q, latency=lat, malformed_rate=malformed_rate)
    return ChatModel(ModelConfig(offline=policy, seed=seed, cassette=cassette, max_retries=0))


def from_env(
    base_url: str | None = None, model: str | None = None, api_key: str | None = None, **options: Any
) -> ChatModel:
    """A real endpoint from arguments, else AGENTLAB_* then OPENAI_* environment variables."""
    url = base_url or os.environ.get("AGENTLAB_BASE_URL") or os.environ.get("OPENAI_BASE_URL")
    if not url:
        raise ConfigError("no endpoint: pass base_url or set AGENTLAB_BASE_URL (or OPENAI_BASE_URL)")
    key = api_key or os.environ.get("AGENTLAB_API_KEY") or os.environ.get("OPENAI_API_KEY")
    if not key and "api.openai.com" in url:
        raise ConfigError("api.openai.com needs a key: set AGENTLAB_API_KEY or OPENAI_API_KEY")
    name = model or os.environ.get("AGENTLAB_MODEL") or os.environ.get("OPENAI_MODEL") or "gpt-4o-mini"
    return ChatModel(ModelConfig(model=name, base_url=url, api_key=Secret(key or "none"), **options))
