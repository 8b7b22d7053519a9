"""How many tokens the model sees per request: configured, or asked of the server once (lab 01).

`ModelConfig.context_window` says it; unset, the server is asked once per process, the way each
server reports it:

    llama.cpp    GET /props            default_generation_settings.n_ctx (its --ctx-size, per slot)
    vLLM         GET /v1/models        data[0].max_model_len

A server that reports neither (OpenAI, Ollama, a proxy), the offline model and a replayed cassette
have no known window: nothing is fitted, and a request too long for the server fails as the server
says. Replaying a run whose conversation was fitted needs the same `context_window` configured
(`--context N`), so the fitted requests match the recorded ones. Left out: Ollama's `num_ctx`, which
is per request and model, not per server.
"""

from __future__ import annotations

import functools
import os

import httpx2

from agentlab.models.config import ModelConfig

__all__ = ["context_window", "reported_window"]


def context_window(config: ModelConfig) -> int | None:
    """The model's context window in tokens: configured, else reported by its server, else None."""
    if config.context_window is not None:
        return config.context_window
    if config.offline is not None or config.cassette_mode == "replay" or not config.base_url:
        return None
    key = config.api_key.value if config.api_key else None
    return reported_window(config.base_url, key, min(config.timeout, 10.0), os.getpid())


@functools.lru_cache(maxsize=64)
def reported_window(base_url: str, api_key: str | None, timeout: float, pid: int) -> int | None:
    """What the server at `base_url` reports as its context window (None if it reports none); once per
    process (`pid` is part of the cache key, so a forked worker asks for itself)."""
    base = base_url.rstrip("/")
    root = base.removesuffix("/v1")
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    asks = ((f"{root}/props", _llama_cpp), (f"{base}/models", _vllm))
    try:
        with httpx2.Client(timeout=timeout, headers=headers) as client:
            for url, read in asks:
                response = client.get(url)
                if response.status_code == 200:
                    found = read(response.json())
                    if found:
                        return found
    except (httpx2.HTTPError, ValueError):
        return None  # no verdict: the request itself will say what is wrong with the server
    return None


def _positive(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _llama_cpp(body: object) -> int | None:
    settings = body.get("default_generation_settings") if isinstance(body, dict) else None
    found = settings.get("n_ctx") if isinstance(settings, dict) else None
    return _positive(found) or (_positive(body.get("n_ctx")) if isinstance(body, dict) else None)


def _vllm(body: object) -> int | None:
    data = body.get("data") if isinstance(body, dict) else None
    first = data[0] if isinstance(data, list) and data and isinstance(data[0], dict) else {}
    return _positive(first.get("max_model_len"))
