"""A llama.cpp look-alike with a small context window: a scripted OpenAI-compatible server on loopback.

llama.cpp serving a small model has a context of a few thousand tokens (`--ctx-size`), reports it at
`GET /props` (`default_generation_settings.n_ctx`), and refuses a request whose prompt and reply
do not fit with HTTP 400 (`exceed_context_size_error`). `SmallContextServer` does the same, with
replies from a script instead of a model, so a test can drive an agent through exactly the turns that
overflow a real one (a search for 20 documents, then one for k = 2031) and read back every prompt size:

    with SmallContextServer(4096, [call("search_kb", query="INC-2108", k=20), answer("...")]) as server:
        model = from_env(base_url=server.base_url)      # finds n_ctx = 4096 at /props
        ...
        assert max(server.prompt_tokens) + max_tokens <= 4096

Prompt tokens are counted as characters / 3 plus 4 per message: stricter than SmolLM2's tokenizer on
the knowledge base (1 token per 3.2 characters at most, measured). A request with `response_format`
(json tool calling, `agentlab.models.jsonmode`) gets its calls as JSON content, like a model without
tool support; any other gets native `tool_calls`. `report_window=False` hides /props (a server that
does not say), to show what happens then. Left out: streaming, and everything a model would think.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

__all__ = ["SmallContextServer", "answer", "call", "count_prompt"]

Reply = dict[str, Any]


def call(name: str, **arguments: Any) -> Reply:
    """A scripted reply that calls one tool."""
    return {"tool": name, "arguments": arguments}


def answer(text: str) -> Reply:
    """A scripted reply that answers."""
    return {"answer": text}


def count_prompt(messages: Sequence[Any]) -> int:
    """The double's count of a prompt's tokens: characters / 3 plus 4 per message (stricter than SmolLM2)."""
    total = 0
    for message in messages:
        message = message if isinstance(message, dict) else {}
        text = str(message.get("content") or "") + json.dumps(message.get("tool_calls") or "")
        total += 4 + math.ceil(len(text) / 3)
    return total


class _Handler(BaseHTTPRequestHandler):
    server: SmallContextServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path.rstrip("/") == "/props" and self.server.report_window:
            self._send(200, {"default_generation_settings": {"n_ctx": self.server.n_ctx}, "total_slots": 1})
        else:
            self._send(404, {"error": {"code": 404, "message": "File Not Found", "type": "not_found_error"}})

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        request = json.loads(raw or b"{}")
        self._send(*self.server.complete(request))


class SmallContextServer(ThreadingHTTPServer):
    """A scripted llama.cpp look-alike with a context of `n_ctx` tokens; a context manager."""

    daemon_threads = True

    def __init__(self, n_ctx: int, script: Sequence[Reply], *, report_window: bool = True, port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.n_ctx, self.script, self.report_window = n_ctx, list(script), report_window
        self.prompt_tokens: list[int] = []
        """Every request's prompt size, in the double's count, refused ones included."""
        self.refused = 0
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    def complete(self, request: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """The (status, body) for one chat-completions request: refused if it overflows, else scripted."""
        messages = request.get("messages") or []
        prompt = count_prompt(messages)
        reply_room = int(request.get("max_tokens") or 0)
        with self._lock:
            self.prompt_tokens.append(prompt)
            if prompt + reply_room > self.n_ctx:
                self.refused += 1
                message = f"the request exceeds the available context size ({prompt} + {reply_room} > {self.n_ctx})"
                error = {"code": 400, "message": message, "type": "exceed_context_size_error"}
                return 400, {"error": {**error, "n_prompt_tokens": prompt, "n_ctx": self.n_ctx}}
            turn = len(self.prompt_tokens) - self.refused - 1
            step = self.script[min(turn, len(self.script) - 1)]
        return 200, _completion(step, turn, prompt, json_mode="response_format" in request)

    def __enter__(self) -> SmallContextServer:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.shutdown()
        self.server_close()
        self._thread.join(timeout=5)


def _completion(step: Reply, turn: int, prompt: int, *, json_mode: bool) -> dict[str, Any]:
    if "answer" in step or json_mode:
        message: dict[str, Any] = {"role": "assistant", "content": json.dumps(step) if json_mode else step["answer"]}
    else:
        arguments = json.dumps(step["arguments"])
        fn = {"name": step["tool"], "arguments": arguments}
        message = {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": f"call_{turn}", "type": "function", "function": fn}],
        }
    finish = "tool_calls" if message.get("tool_calls") else "stop"
    return {
        "id": f"smallctx-{turn}",
        "object": "chat.completion",
        "model": "small-context",
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": {"prompt_tokens": prompt, "completion_tokens": 8, "total_tokens": prompt + 8},
    }
