"""Which HTTP client a model config gets, one per config per process (lab 01).

Every model is reached through the real `openai` SDK; what differs is the HTTP transport under it:

    offline, no cassette       answered in this process (`agentlab.models.offline.inprocess`), sync or async
    a cassette to replay       `ReplayTransport`: no endpoint, no key, no network
    anything else              `BoundedTransport` (a deadline for the whole reply, a cap on its size),
                               wrapped in `RecordingTransport` when a cassette records

Clients hold connection pools and do not pickle, so each process builds its own from the config and
keeps it (cached by config and process id). The SDK's own retries are off: `ChatModel` retries itself,
so it can say what happened (`agentlab.models.failures`). `mask` hides the API key in anything a server
sends back. Left out: an async client for real endpoints (those calls run on the blocking pool).
"""

from __future__ import annotations

import functools
import os
from dataclasses import replace

import httpx2
import openai

from agentlab.errors import ConfigError
from agentlab.models.cassette import RecordingTransport, ReplayTransport
from agentlab.models.config import ModelConfig
from agentlab.models.offline.inprocess import BASE_URL, AsyncOfflineTransport, OfflineTransport
from agentlab.models.offline.server import endpoint
from agentlab.models.transport import BoundedTransport

__all__ = ["async_client_for", "client_for", "mask", "secrets_of"]


def client_for(config: ModelConfig) -> openai.OpenAI:
    """This process's SDK client for `config`."""
    return _client(_shared(config), os.getpid())


def async_client_for(config: ModelConfig) -> openai.AsyncOpenAI:
    """This process's async SDK client for `config` (only the offline model answered in-process has one)."""
    return _async_client(_shared(config), os.getpid())


def secrets_of(config: ModelConfig) -> tuple[str, ...]:
    """Strings that must never leave this process in a reply, a message or a cassette."""
    key = config.api_key.value if config.api_key else ""
    return (key,) if len(key) >= 8 else ()  # short placeholders ("none", "x") are not secrets


def mask(text: str, config: ModelConfig) -> str:
    """`text` with every secret of `config` replaced by ****."""
    for secret in secrets_of(config):
        text = text.replace(secret, "****")
    return text


@functools.lru_cache(maxsize=64)
def _async_client(config: ModelConfig, pid: int) -> openai.AsyncOpenAI:
    """The async SDK client of a config answered in-process (the offline model; see `_client`)."""
    if config.offline is None:
        raise ConfigError("only the offline model answered in-process has an async client")
    transport = AsyncOfflineTransport(config.offline, config.timeout)
    in_process = httpx2.AsyncClient(transport=transport, timeout=config.timeout)
    return openai.AsyncOpenAI(api_key="offline", base_url=BASE_URL, max_retries=0, http_client=in_process)


@functools.lru_cache(maxsize=64)
def _client(config: ModelConfig, pid: int) -> openai.OpenAI:
    """One SDK client per config per process (clients hold connection pools; they do not pickle).

    The SDK's own retries are off: `ChatModel` retries itself, so it can say what happened. The offline
    model, unless it records or replays a cassette, is answered in-process (`agentlab.models.offline.inprocess`)."""
    if config.offline and not config.cassette:
        in_process = httpx2.Client(transport=OfflineTransport(config.offline, config.timeout), timeout=config.timeout)
        return openai.OpenAI(api_key="offline", base_url=BASE_URL, max_retries=0, http_client=in_process)
    base_url = endpoint(config.offline) if config.offline else config.base_url
    if base_url is None:
        raise ConfigError("no model endpoint: set base_url (or AGENTLAB_BASE_URL) or use offline_model()")
    key = config.api_key.value if config.api_key else "offline"
    transport: httpx2.BaseTransport
    if config.cassette and config.cassette_mode == "replay":
        transport = ReplayTransport(config.cassette)
    else:
        transport = BoundedTransport(config.timeout, config.max_reply_bytes)
        if config.cassette:
            transport = RecordingTransport(config.cassette, transport, redact=secrets_of(config))
    http_client = httpx2.Client(transport=transport, timeout=config.timeout)
    return openai.OpenAI(api_key=key, base_url=base_url, timeout=config.timeout, max_retries=0, http_client=http_client)


def _shared(config: ModelConfig) -> ModelConfig:
    """The part of a config that needs its own client: the seed only changes the request body."""
    offline = replace(config.offline, seed=0) if config.offline else None
    return replace(config, seed=None, offline=offline, temperature=None, max_tokens=None, tool_calling="native")
