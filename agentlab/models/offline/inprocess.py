"""The offline model answered inside the calling process: the `openai` SDK's path, without the socket (lab 01).

`agentlab.models.offline.server` serves the offline policy over loopback HTTP, like any real model server. A fan-out of
a thousand short agent loops pays for that on every model step: the request is written to a socket, read
by a server thread, parsed by `http.server`, answered, and read back — CPU the agents' own work competes
with, on the same cores. `OfflineTransport` is an `httpx` transport that hands the same request to the
same policy (`agentlab.models.offline.server.answer`) in-process: the SDK still builds the request, sends its
JSON and parses the reply, so everything above the transport is the real path; only the loopback hop is
gone. The step's latency is slept on the calling thread, as the server would on its own, and a latency
past the client's timeout ends as a read timeout, as it would over the network.

Left out: streaming (the offline endpoint refuses it too). A cassette still records through the loopback
server, and `python -m agentlab.models.offline.server` still serves any other client.
"""

from __future__ import annotations

import asyncio
import json
import time

import httpx2

from agentlab.models.offline.policy import PolicyConfig
from agentlab.models.offline.server import answer

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
    status, body, latency = answer(config, request.method, request.url.path, content)
    response = httpx2.Response(status, content=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    return response, latency
