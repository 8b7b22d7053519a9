"""The offline model's endpoint: a local OpenAI-compatible HTTP server around the policy (lab 01).

    POST /v1/chat/completions   one model step (tool calls or a final answer)
    GET  /v1/models             the one model it serves, "agentlab-offline"

It listens on 127.0.0.1 only, on a free port, in a daemon thread; one request = one thread, and the
step's latency is slept on that thread, so concurrent agents overlap their waits like they would on a
real model server. `endpoint(config)` starts at most one server per config *per process*: a Dask worker
that receives an offline model config recreates its own endpoint instead of calling back into the
notebook's process. Run `python -m agentlab.models.offline.server --port 8000` to serve it for any OpenAI client.

Like a real server it honours `max_tokens`: a longer reply is cut there, with finish_reason "length"
(`agentlab.models.offline.policy.within`). The usage it reports is counted the way the budgets count
(`agentlab.text.estimate_tokens` for the prompt, `count_tokens` for the reply), so a budgeted step's
usage never passes what it reserved.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import threading
import time
import uuid
from dataclasses import dataclass, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from agentlab.errors import BadRequest
from agentlab.latency import Latency
from agentlab.models.offline.policy import PolicyConfig, decide, within
from agentlab.text import estimate_tokens

__all__ = ["MODEL_NAME", "OfflineServer", "answer", "completion_body", "endpoint", "serve"]

MODEL_NAME = "agentlab-offline"


def error_body(status: int, message: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": "invalid_request_error", "code": status}}


def answer(config: PolicyConfig, method: str, path: str, raw: bytes) -> tuple[int, dict[str, Any], float]:
    """The status and body of one HTTP request to the offline endpoint, and how long the model takes to give
    it: what the loopback server and the in-process transports (`agentlab.models.offline.inprocess`) both answer."""
    path = path.rstrip("/")
    if method == "GET" and path.endswith("/models"):
        return 200, {"object": "list", "data": [{"id": MODEL_NAME, "object": "model", "owned_by": "agentlab"}]}, 0.0
    if method != "POST" or not path.endswith("/chat/completions"):
        return 404, error_body(404, f"no route {path}"), 0.0
    try:
        request = json.loads(raw)
        if not isinstance(request, dict):
            raise BadRequest("the request body must be a JSON object")
        if request.get("stream"):
            raise BadRequest("streaming is not supported by the offline endpoint")
        body, latency = completion_body(config, request)
    except (ValueError, TypeError) as exc:
        return 400, error_body(400, str(exc)), 0.0
    return 200, body, latency


def completion_body(config: PolicyConfig, request: dict[str, Any]) -> tuple[dict[str, Any], float]:
    """The chat.completion response body for one request, and how long the step takes."""
    messages = request.get("messages")
    if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
        raise BadRequest("'messages' must be a list of message objects")
    tools = request.get("tools") or []
    if not isinstance(tools, list):
        raise BadRequest("'tools' must be a list")
    max_tokens = request.get("max_tokens")
    if max_tokens is not None and (type(max_tokens) is not int or max_tokens < 1):
        raise BadRequest("'max_tokens' must be a positive integer")
    seed = request.get("seed")
    if isinstance(seed, int) and seed != config.seed:
        config = replace(config, seed=seed)
    decision = within(decide(config, messages, tools, request.get("tool_choice", "auto")), max_tokens)
    message: dict[str, Any] = {"role": "assistant", "content": decision.content}
    if decision.tool_calls:
        # call ids derive from the conversation, so a seeded run is reproducible message for message
        stem = hashlib.sha256(json.dumps([config.seed, messages], sort_keys=True, default=str).encode())
        message["tool_calls"] = [
            {"id": f"call_{stem.hexdigest()[:10]}_{i}", "type": "function", "function": {"name": n, "arguments": a}}
            for i, (n, a) in enumerate(decision.tool_calls)
        ]
    prompt_tokens = estimate_tokens(messages, tools)
    finish = "length" if decision.cut else "tool_calls" if decision.tool_calls else "stop"
    body = {
        "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": str(request.get("model") or MODEL_NAME),
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": decision.tokens,
            "total_tokens": prompt_tokens + decision.tokens,
        },
    }
    return body, decision.latency


class _Handler(BaseHTTPRequestHandler):
    server: OfflineServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes: avoid the 40 ms ACK stall

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the trace is the log
        pass

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        status, body, _ = answer(self.server.config, "GET", self.path, b"")
        self._send(status, body)

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status, body, latency = answer(self.server.config, "POST", self.path, raw)
        time.sleep(latency)
        self._send(status, body)


class OfflineServer(ThreadingHTTPServer):
    """A loopback HTTP server that answers chat completions with the offline policy."""

    daemon_threads = True
    request_queue_size = 1024

    def __init__(self, config: PolicyConfig, port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.config = config
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def start(self) -> OfflineServer:
        self._thread = threading.Thread(target=self.serve_forever, name="agentlab-offline", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


@dataclass
class _Registry:
    lock: threading.Lock
    servers: dict[PolicyConfig, OfflineServer]


_REGISTRY = _Registry(threading.Lock(), {})


def serve(config: PolicyConfig, port: int = 0) -> OfflineServer:
    """Start a new offline server (the caller stops it)."""
    return OfflineServer(config, port).start()


def endpoint(config: PolicyConfig) -> str:
    """The base URL of this process's server for `config`, starting it on first use."""
    config = replace(config, seed=0)  # the seed travels in each request: one server serves all seeds
    with _REGISTRY.lock:
        server = _REGISTRY.servers.get(config)
        if server is None:
            server = _REGISTRY.servers[config] = serve(config)
        return server.base_url


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve the offline model on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--q", type=float, default=1.0)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per step")
    args = parser.parse_args(argv)
    server = OfflineServer(PolicyConfig(args.seed, args.q, Latency("fixed", args.latency)), args.port)
    print(f"offline model at {server.base_url} (model {MODEL_NAME!r}); Ctrl-C stops", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        server.server_close()


if __name__ == "__main__":
    main()
