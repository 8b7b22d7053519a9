"""Models: one reasoning step = one chat completion with tools (lab 01).

Every model — OpenAI, vLLM, Ollama, llama.cpp, or agentlab's offline policy — is reached the same way:
the real `openai` SDK sends `messages` and `tools` to an OpenAI-compatible endpoint and gets back tool
calls or a final answer. A `ChatModel` holds only a frozen `ModelConfig`, so it pickles to Dask workers;
each process builds (and caches) its own SDK client from the config. The offline model's config names
a `PolicyConfig` instead of a URL: each process answers it in-process, under the same SDK path
(`agentlab.models.offline.inprocess`), or at its own loopback endpoint (`agentlab.models.offline.server`) when a cassette
records it.

    offline_model(q=0.7)                         the default: no network, no key
    from_env()                                   AGENTLAB_BASE_URL / AGENTLAB_MODEL / AGENTLAB_API_KEY
    ChatModel(ModelConfig(base_url=..., model=..., api_key=Secret(...)))

Each request is bounded (`timeout` per attempt, whole reply included; `max_retries`; `max_tokens`;
a cap on argument and reply size) and a failure says what happened: "no reply within 30 s (3
attempts)", "HTTP 429 after 3 attempts", "connection refused at URL". A reply with nothing in it (no
choices; no content and no calls) is a failure too, never a blank answer. A model whose server ignores
`tools` can still call them: `tool_calling="json"` (or "auto") uses `agentlab.models.jsonmode`.

API keys live in a `Secret`, whose repr is masked; keys never appear in traces or cassettes, and a
server that echoes the key back (in an error message, say) has it masked before anything reads it.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import time
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol

import httpx2
import openai

from agentlab.errors import AgentlabError, ConfigError, ModelUnavailable
from agentlab.latency import Latency
from agentlab.models.blocking import run_blocking
from agentlab.models.cassette import RecordingTransport, ReplayTransport
from agentlab.models.jsonmode import json_messages, parse_step, response_format
from agentlab.models.offline.inprocess import BASE_URL, AsyncOfflineTransport, OfflineTransport
from agentlab.models.offline.policy import PolicyConfig
from agentlab.models.offline.server import MODEL_NAME, endpoint
from agentlab.models.transport import BoundedTransport, parse_retry_after, retry_delay, should_retry
from agentlab.wire import Message, ModelReply, cap_arguments, empty_reply, parse_reply

__all__ = ["ChatModel", "Model", "ModelConfig", "Secret", "ToolCalling", "from_env", "limits_from_env", "offline_model"]


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
            transport = RecordingTransport(config.cassette, transport, redact=_secrets(config))
    http_client = httpx2.Client(transport=transport, timeout=config.timeout)
    return openai.OpenAI(api_key=key, base_url=base_url, timeout=config.timeout, max_retries=0, http_client=http_client)


def _secrets(config: ModelConfig) -> tuple[str, ...]:
    """Strings that must never leave this process in a reply, a message or a cassette."""
    key = config.api_key.value if config.api_key else ""
    return (key,) if len(key) >= 8 else ()  # short placeholders ("none", "x") are not secrets


def _shared(config: ModelConfig) -> ModelConfig:
    """The part of a config that needs its own client: the seed only changes the request body."""
    offline = replace(config.offline, seed=0) if config.offline else None
    return replace(config, seed=None, offline=offline, temperature=None, max_tokens=None, tool_calling="native")


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
        request, json_mode = self._prepare(messages, tools, tool_choice)
        return self._reply(self._post(request), json_mode, messages)

    async def acomplete(
        self, messages: list[Message], tools: list[dict[str, Any]], *, tool_choice: str = "auto"
    ) -> ModelReply:
        """`complete`, awaited: through `openai.AsyncOpenAI` where this model has an async path (the offline
        model answered in-process), else `complete` on the process's blocking pool."""
        if not self.config.offline or self.config.cassette:
            return await run_blocking(self.complete, messages, tools, tool_choice=tool_choice)
        request, json_mode = self._prepare(messages, tools, tool_choice)
        return self._reply(await self._apost(request), json_mode, messages)

    def _prepare(
        self, messages: list[Message], tools: list[dict[str, Any]], tool_choice: str
    ) -> tuple[dict[str, Any], bool]:
        """The request body for one step, and whether its tools are described in the prompt (JSON mode)."""
        if tools and self._mode() == "json":
            request = self._request(json_messages(messages, tools, tool_choice))
            request["response_format"] = response_format(tools, tool_choice)
            return request, True
        request = self._request(messages)
        if tools:
            request["tools"] = tools
            request["tool_choice"] = tool_choice
        return request, False

    def _reply(self, body: dict[str, Any], json_mode: bool, messages: list[Message]) -> ModelReply:
        raw = parse_reply(body)
        reply = parse_step(raw.content, raw, turn=len(messages)) if json_mode else raw
        return cap_arguments(reply, self.config.max_argument_chars)

    def _request(self, messages: list[Message]) -> dict[str, Any]:
        request: dict[str, Any] = {"model": self.config.model, "messages": messages}
        for name in ("seed", "temperature", "max_tokens"):
            if getattr(self.config, name) is not None:
                request[name] = getattr(self.config, name)
        return request

    def _mode(self) -> str:
        """How this model calls tools; "auto" asks the server once per process (`_probe`)."""
        if self.config.tool_calling != "auto" or self.config.offline:
            return "native" if self.config.tool_calling == "auto" else self.config.tool_calling
        return "native" if _probe(self) else "json"

    def _post(self, request: dict[str, Any]) -> dict[str, Any]:
        """Send one request, retrying what is worth retrying; the body, with any secret masked."""
        client = _client(_shared(self.config), os.getpid())
        for attempt in range(1, self.config.max_retries + 2):
            try:
                # the SDK's own client, auth, timeouts and errors; `chat.completions.create` would first
                # walk the whole request through its type-driven transform (2 ms a step, and for these
                # plain dicts it changes nothing: tests/test_openai_path.py checks it stays so)
                response = client.post("/chat/completions", cast_to=httpx2.Response, body=request, options=_AUTH)
                return self._body(response)
            except openai.OpenAIError as exc:
                time.sleep(self._pause(exc, attempt))
        raise AssertionError("unreachable")  # pragma: no cover

    async def _apost(self, request: dict[str, Any]) -> dict[str, Any]:
        """`_post` through the async client."""
        client = _async_client(_shared(self.config), os.getpid())
        for attempt in range(1, self.config.max_retries + 2):
            try:
                response = await client.post("/chat/completions", cast_to=httpx2.Response, body=request, options=_AUTH)
                return self._body(response)
            except openai.OpenAIError as exc:
                await asyncio.sleep(self._pause(exc, attempt))
        raise AssertionError("unreachable")  # pragma: no cover

    def _pause(self, exc: openai.OpenAIError, attempt: int) -> float:
        """How long to wait before attempt `attempt + 1`; raises ModelUnavailable if there is none."""
        failure = describe_failure(exc, self._where(), self.config.timeout, attempt)
        if isinstance(exc.__cause__, AgentlabError):
            raise exc.__cause__ from None
        status = exc.status_code if isinstance(exc, openai.APIStatusError) else None
        if attempt > self.config.max_retries or not should_retry(status):
            raise ModelUnavailable(self._mask(failure)) from None
        return retry_delay(attempt, _retry_after(exc), cap=self.config.timeout)

    def _where(self) -> str:
        return self.config.base_url or "the offline endpoint"

    def _body(self, response: httpx2.Response) -> dict[str, Any]:
        where = self._where()
        text = self._mask(response.content.decode("utf-8", errors="replace"))
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

    def _mask(self, text: str) -> str:
        for secret in _secrets(self.config):
            text = text.replace(secret, "****")
        return text


_AUTH: Any = {"security": {"bearer_auth": True}}
"""The request options `chat.completions.create` sends with: the API key as a bearer token."""


def describe_failure(exc: openai.OpenAIError, where: str, timeout: float, attempt: int) -> str:
    """What went wrong, in the words a learner needs: the limit, the attempts, the address."""
    tries = f"{attempt} attempt{'s' if attempt > 1 else ''}"
    if isinstance(exc, openai.APITimeoutError):
        return f"no reply within {timeout:g} s ({tries}) from {where}"
    if isinstance(exc, openai.APIConnectionError):
        refused = any(isinstance(e, ConnectionRefusedError) or "refused" in str(e) for e in _chain(exc))
        if refused:
            return f"connection refused at {where} ({tries}): is the server running?"
        return f"cannot reach the model at {where} ({tries}): {exc.__cause__ or exc}"
    if isinstance(exc, openai.APIStatusError):
        after = f" after {tries}" if should_retry(exc.status_code) else ""
        body = exc.body if isinstance(exc.body, dict) else {}
        detail = body.get("message") or (body.get("error") or {}).get("message") or exc.message
        return f"HTTP {exc.status_code}{after} from {where}: {detail}"
    return f"model call to {where} failed: {exc}"


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _retry_after(exc: openai.OpenAIError) -> float | None:
    if isinstance(exc, openai.APIStatusError):
        return parse_retry_after(exc.response.headers.get("retry-after"))
    return None


_PROBE_TOOL = {
    "type": "function",
    "function": {
        "name": "search",
        "description": "Search for documents.",
        "parameters": {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]},
    },
}


@functools.lru_cache(maxsize=64)
def _probe_once(config: ModelConfig, pid: int) -> bool:
    """The probe itself; a failing server raises, and a raise is not cached (the next step asks again)."""
    probe = ChatModel(replace(config, tool_calling="native", max_tokens=64, max_retries=0))
    messages = [{"role": "user", "content": 'Use the search tool to search for "hello".'}]
    return bool(probe.complete(messages, [_PROBE_TOOL], tool_choice="required").tool_calls)


def _probe(model: ChatModel) -> bool:
    """Does the server call tools? One short request with a tool it must call, once per process."""
    try:
        return _probe_once(replace(model.config, seed=None), os.getpid())
    except ModelUnavailable:
        return True  # no verdict from a failing server: stay native, and let the real step say what failed


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


_ENV_LIMITS = {
    "timeout": ("AGENTLAB_TIMEOUT", float),
    "max_tokens": ("AGENTLAB_MAX_TOKENS", int),
    "max_retries": ("AGENTLAB_MAX_RETRIES", int),
    "tool_calling": ("AGENTLAB_TOOL_CALLING", str),
    "max_argument_chars": ("AGENTLAB_MAX_ARGUMENT_CHARS", int),
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
