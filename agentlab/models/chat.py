"""Models: one reasoning step = one chat completion with tools (lab 01).

Every model — OpenAI, vLLM, Ollama, llama.cpp, or agentlab's offline policy — is reached the same way:
the real `openai` SDK sends `messages` and `tools` to an OpenAI-compatible endpoint and gets back tool
calls or a final answer. A `ChatModel` holds only a frozen `ModelConfig` (`agentlab.models.config`), so
it pickles to Dask workers; each process builds (and caches) its own SDK client from the config
(`agentlab.models.clients`). The offline model's config names a `PolicyConfig` instead of a URL: each
process answers it in-process, under the same SDK path (`agentlab.models.offline.inprocess`), or at its
own loopback endpoint (`agentlab.models.offline.server`) when a cassette records it.

    offline_model(q=0.7)                         the default: no network, no key
    from_env()                                   AGENTLAB_BASE_URL / AGENTLAB_MODEL / AGENTLAB_API_KEY
    ChatModel(ModelConfig(base_url=..., model=..., api_key=Secret(...)))

Each request is bounded (`timeout` per attempt, whole reply included; `max_retries`; `max_tokens`;
a cap on argument and reply size) and a failure says what happened: "no reply within 30 s (3
attempts)", "HTTP 429 after 3 attempts", "connection refused at URL" (`agentlab.models.failures`
decides, once for both drivers, whether to try again). A reply with nothing in it (no choices; no
content and no calls) is a failure too, never a blank answer. A model whose server ignores `tools` can
still call them: `tool_calling="json"` (or "auto", `agentlab.models.probe`) uses `agentlab.models.jsonmode`.
A model with a known context window (configured, or reported by its server: `agentlab.models.window`)
is sent its conversation fitted into it by a stated rule (`agentlab.models.context`); the reply's
`usage` says what was left out.

API keys live in a `Secret`, whose repr is masked; keys never appear in traces or cassettes, and a
server that echoes the key back (in an error message, say) has it masked before anything reads it.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from dataclasses import replace
from typing import Any

import httpx2
import openai

from agentlab.errors import ConfigError, ModelUnavailable
from agentlab.latency import Latency
from agentlab.models.blocking import run_blocking
from agentlab.models.clients import async_client_for, client_for, mask
from agentlab.models.config import ModelConfig, Secret, limits_from_env
from agentlab.models.context import Fitted, fit, prompt_budget, prompt_tokens
from agentlab.models.failures import address_of, retry_pause
from agentlab.models.jsonmode import instructions, json_messages, parse_step, response_format
from agentlab.models.offline.policy import PolicyConfig
from agentlab.models.probe import calls_tools
from agentlab.models.window import context_window
from agentlab.wire import Message, ModelReply, cap_arguments, empty_reply, parse_reply

__all__ = ["ChatModel", "from_env", "offline_model"]


class ChatModel:
    """A model reached through the `openai` SDK's chat-completions API."""

    def __init__(self, config: ModelConfig) -> None:
        self.config = config

    def __repr__(self) -> str:
        where = "offline" if self.config.offline else self.config.base_url
        return f"ChatModel({self.config.model!r} at {where})"

    @property
    def max_tokens(self) -> int | None:
        """The longest reply one step may generate (`ModelConfig.max_tokens`)."""
        return self.config.max_tokens

    def with_options(self, **changes: Any) -> ChatModel:
        """A copy with some config fields changed, e.g. `model.with_options(seed=3)`."""
        return ChatModel(replace(self.config, **changes))

    def recording(self, path: str) -> ChatModel:
        """This model, with every response also appended to the cassette at `path`."""
        return self.with_options(cassette=path, cassette_mode="record")

    def replaying(self, path: str) -> ChatModel:
        """A model that answers only from the cassette at `path`: no endpoint, no key, no network."""
        # the offline model never probes for tool support, so neither does its replay
        calling = "native" if self.config.offline and self.config.tool_calling == "auto" else self.config.tool_calling
        return self.with_options(
            cassette=path,
            cassette_mode="replay",
            offline=None,
            base_url="http://cassette.invalid/v1",
            api_key=None,
            tool_calling=calling,
        )

    def complete(
        self, messages: list[Message], tools: list[dict[str, Any]], *, tool_choice: str = "auto"
    ) -> ModelReply:
        """One reasoning step. An endpoint that fails, or answers with nothing to act on, raises
        ModelUnavailable saying what happened; the reply itself is never trusted."""
        request, json_mode, fitted = self._prepare(messages, tools, tool_choice)
        return self._reply(self._post(request), json_mode, messages, fitted)

    async def acomplete(
        self, messages: list[Message], tools: list[dict[str, Any]], *, tool_choice: str = "auto"
    ) -> ModelReply:
        """`complete`, awaited: through `openai.AsyncOpenAI` where this model has an async path (the offline
        model answered in-process), else `complete` on the process's blocking pool."""
        if not self.config.offline or self.config.cassette:
            return await run_blocking(self.complete, messages, tools, tool_choice=tool_choice)
        request, json_mode, fitted = self._prepare(messages, tools, tool_choice)
        return self._reply(await self._apost(request), json_mode, messages, fitted)

    def _prepare(
        self, messages: list[Message], tools: list[dict[str, Any]], tool_choice: str
    ) -> tuple[dict[str, Any], bool, Fitted | None]:
        """The request body for one step, whether its tools are described in the prompt (JSON mode), and
        how the conversation was fitted into the model's context window (None when it has no known one)."""
        json_mode = bool(tools) and self._mode() == "json"
        fitted = self._fit(messages, tools, tool_choice, json_mode)
        sent = fitted.messages if fitted else messages
        if json_mode:
            request = self._request(json_messages(sent, tools, tool_choice))
            request["response_format"] = response_format(tools, tool_choice)
            return request, True, fitted
        request = self._request(sent)
        if tools:
            request["tools"] = tools
            request["tool_choice"] = tool_choice
        return request, False, fitted

    def _fit(
        self, messages: list[Message], tools: list[dict[str, Any]], tool_choice: str, json_mode: bool
    ) -> Fitted | None:
        """The conversation fitted into the model's context window (`agentlab.models.context`), if known."""
        window = context_window(self.config)
        if window is None:
            return None
        described = instructions(tools, tool_choice) if json_mode else (json.dumps(tools) if tools else "")
        return fit(messages, prompt_budget(window, self.config.max_tokens, prompt_tokens(described)))

    def _reply(
        self, body: dict[str, Any], json_mode: bool, messages: list[Message], fitted: Fitted | None = None
    ) -> ModelReply:
        raw = parse_reply(body)
        if fitted is not None and fitted.changed:  # what was left out travels with the reply, to the trace
            raw = replace(raw, usage={**raw.usage, **fitted.usage()})
        reply = parse_step(raw.content, raw, turn=len(messages)) if json_mode else raw
        return cap_arguments(reply, self.config.max_argument_chars)

    def _request(self, messages: list[Message]) -> dict[str, Any]:
        request: dict[str, Any] = {"model": self.config.model, "messages": messages}
        for name in ("seed", "temperature", "max_tokens"):
            if getattr(self.config, name) is not None:
                request[name] = getattr(self.config, name)
        return request

    def _mode(self) -> str:
        """How this model calls tools; "auto" asks the server once per process (`agentlab.models.probe`)."""
        if self.config.tool_calling != "auto" or self.config.offline:
            return "native" if self.config.tool_calling == "auto" else self.config.tool_calling
        return "native" if calls_tools(self.config, ChatModel) else "json"

    def _post(self, request: dict[str, Any]) -> dict[str, Any]:
        """Send one request, retrying what is worth retrying; the body, with any secret masked.

        `retry_pause` decides after each failure: a pause, or the error that ends the step."""
        client = client_for(self.config)
        attempt = 0
        while True:
            attempt += 1
            try:
                # the SDK's own client, auth, timeouts and errors; `chat.completions.create` would first
                # walk the whole request through its type-driven transform (2 ms a step, and for these
                # plain dicts it changes nothing: tests/test_openai_path.py checks it stays so)
                response = client.post("/chat/completions", cast_to=httpx2.Response, body=request, options=_AUTH)
                return self._body(response)
            except openai.OpenAIError as exc:
                time.sleep(retry_pause(exc, attempt, self.config))

    async def _apost(self, request: dict[str, Any]) -> dict[str, Any]:
        """`_post` through the async client."""
        client = async_client_for(self.config)
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await client.post("/chat/completions", cast_to=httpx2.Response, body=request, options=_AUTH)
                return self._body(response)
            except openai.OpenAIError as exc:
                await asyncio.sleep(retry_pause(exc, attempt, self.config))

    def _body(self, response: httpx2.Response) -> dict[str, Any]:
        where = address_of(self.config)
        text = mask(response.content.decode("utf-8", errors="replace"), self.config)
        try:
            body = json.loads(text)
        except ValueError:
            kind = response.headers.get("content-type", "no content type")
            raise ModelUnavailable(
                f"the reply from {where} is not JSON (HTTP {response.status_code}, {kind}): {text[:80]!r}"
            ) from None
        problem = empty_reply(body)
        if problem:
            raise ModelUnavailable(f"the model at {where} sent an empty reply: {problem}")
        return dict(body)


_AUTH: Any = {"security": {"bearer_auth": True}}
"""The request options `chat.completions.create` sends with: the API key as a bearer token."""


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
    return ChatModel(ModelConfig(offline=policy, seed=seed, cassette=cassette, max_retries=0, max_tokens=None))


def from_env(
    base_url: str | None = None, model: str | None = None, api_key: str | None = None, **options: Any
) -> ChatModel:
    """A real endpoint from arguments, else AGENTLAB_* then OPENAI_* environment variables.

    Limits come from `options`, else the environment (`limits_from_env`), else `ModelConfig`'s defaults."""
    url = base_url or os.environ.get("AGENTLAB_BASE_URL") or os.environ.get("OPENAI_BASE_URL")
    if not url:
        raise ConfigError("no endpoint: pass base_url or set AGENTLAB_BASE_URL (or OPENAI_BASE_URL)")
    key = api_key or os.environ.get("AGENTLAB_API_KEY") or os.environ.get("OPENAI_API_KEY")
    if not key and "api.openai.com" in url:
        raise ConfigError("api.openai.com needs a key: set AGENTLAB_API_KEY or OPENAI_API_KEY")
    name = model or os.environ.get("AGENTLAB_MODEL") or os.environ.get("OPENAI_MODEL") or "gpt-4o-mini"
    settings = {**limits_from_env(), **{k: v for k, v in options.items() if v is not None}}
    return ChatModel(ModelConfig(model=name, base_url=url, api_key=Secret(key or "none"), **settings))
