"""The offline model answered inside the calling process: the `openai` SDK's path, without the socket (lab 01).

`agentlab.offline` serves the offline policy over loopback HTTP, like any real model server. A fan-out of
a thousand short agent loops pays for that on every model step: the request is written to a socket, read
by a server thread, parsed by `http.server`, answered, and read back — CPU the agents' own work competes
with, on the same cores. `OfflineTransport` is an `httpx` transport that hands the same request to the
same policy (`agentlab.offline.completion_body`) in-process: the SDK still builds the request, sends its
JSON and parses the reply, so everything above the transport is the real path; only the loopback hop is
gone. The step's latency is slept on the calling thread, as the server would on its own, and a latency
past the client's timeout ends as a read timeout, as it would over the network.

Left out: streaming (the offline endpoint refuses it too). A cassette still records through the loopback
server, and `python -m agentlab.offline` still serves any other client.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx2

from agentlab.offline import MODEL_NAME, completion_body
from agentlab.policy import PolicyConfig

__all__ = ["BASE_URL", "AsyncOfflineTransport", "OfflineTransport"]

BASE_URL = "http://agentlab-offline.invalid/v1"
"""Where the SDK believes it sends requests: a name that never resolves, so nothing can leave the process."""


class OfflineTransport(httpx2.BaseTransport):
    """Answers /v1/chat/completions and /v1/models with the offline policy, in this process."""

    def __init__(self, config: PolicyConfig, timeout: float) -> None:
        self.config, self.timeout = config, timeout

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        response, latency = _answer(self.config, request, request.read())
        if latency > self.timeout:
            time.sleep(self.timeout)
            raise httpx2.ReadTimeout(f"no reply within {self.timeout:g} s", request=request)
        if latency > 0:
            time.sleep(latency)
        return response


class AsyncOfflineTransport(httpx2.AsyncBaseTransport):
    """The same answers for `openai.AsyncOpenAI`: the step's latency is awaited, not slept on a thread."""

    def __init__(self, config: PolicyConfig, timeout: float) -> None:
        self.config, self.timeout = config, timeout

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        response, latency = _answer(self.config, request, await request.aread())
        if latency > self.timeout:
            await asyncio.sleep(self.timeout)
            raise httpx2.ReadTimeout(f"no reply within {self.timeout:g} s", request=request)
        if latency > 0:
            await asyncio.sleep(latency)
        return response


def _answer(config: PolicyConfig, request: httpx2.Request, content: bytes) -> tuple[httpx2.Response, float]:
    """The response to one request, and how long the model would take to give it."""
    path = request.url.path.rstrip("/")
    if request.method == "GET" and path.endswith("/models"):
        models = {"object": "list", "data": [{"id": MODEL_NAME, "object": "model", "owned_by": "agentlab"}]}
        return _json(200, models), 0.0
    if request.method != "POST" or not path.endswith("/chat/completions"):
        return _error(404, f"no route {request.url.path}"), 0.0
    try:
        body = json.loads(content)
        if not isinstance(body, dict):
            raise ValueError("the request body must be a JSON object")
        if body.get("stream"):
            raise ValueError("streaming is not supported by the offline endpoint")
        reply, latency = completion_body(config, body)
    except (ValueError, TypeError) as exc:
        return _error(400, str(exc)), 0.0
    return _json(200, reply), latency


def _json(status: int, body: dict[str, Any]) -> httpx2.Response:
    return httpx2.Response(status, content=json.dumps(body).encode(), headers={"Content-Type": "application/json"})


def _error(status: int, message: str) -> httpx2.Response:
    return _json(status, {"error": {"message": message, "type": "invalid_request_error", "code": status}})
