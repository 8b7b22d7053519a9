"""Cassettes: record a run's model responses once, replay them exactly (lab 01).

The recording sits at the HTTP layer, under the `openai` client: each chat-completions request body is
hashed, and the response bytes are stored under that hash in a JSON-lines file. Replay serves the same
bytes back through the same client, so a replayed run goes through the real SDK parsing and reaches the
same answer — with any model, no endpoint and no key. Requests are matched by *content*, not by
position, so parallel agents replay correctly; a request asked twice gets its recordings in order.
Authorization headers are never written, and any secret the server echoes into a body is masked
before it is written (the live run masks it too, so replay stays identical). Recording works with any
endpoint — the offline model, a hostile test server, llama.cpp, OpenAI — since it sits under the SDK.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx2

from agentlab.errors import CassetteMiss

__all__ = ["RecordingTransport", "ReplayTransport", "request_key"]


def request_key(body: bytes) -> str:
    """A stable key for a request: the hash of its canonical JSON (key order does not matter)."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except (json.JSONDecodeError, UnicodeDecodeError):
        canonical = body
    return hashlib.sha256(canonical).hexdigest()


class RecordingTransport(httpx2.BaseTransport):
    """Pass requests to a real transport and append each exchange to the cassette file."""

    def __init__(
        self, path: str | Path, inner: httpx2.BaseTransport | None = None, redact: tuple[str, ...] = ()
    ) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.inner = inner or httpx2.HTTPTransport()
        self.redact = tuple(s for s in redact if s)
        self._lock = threading.Lock()

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        body = request.read()
        response = self.inner.handle_request(request)
        content = response.read()
        for secret in self.redact:
            content = content.replace(secret.encode(), b"****")
        entry = {
            "key": request_key(body),
            "method": request.method,
            "path": request.url.path,
            "status": response.status_code,
            "content_type": response.headers.get("content-type", "application/json"),
            "body": content.decode("utf-8", errors="surrogateescape"),
        }
        with self._lock, self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")
        return httpx2.Response(
            response.status_code,
            headers={"content-type": str(entry["content_type"])},
            content=content,
            request=request,
        )

    def close(self) -> None:
        self.inner.close()


class ReplayTransport(httpx2.BaseTransport):
    """Answer each request with the recorded response for the same request content."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise CassetteMiss(f"no cassette at {self.path}: record one first")
        self._queues: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for line in self.path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                entry = json.loads(line)
                self._queues[entry["key"]].append(entry)
        self._lock = threading.Lock()

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        key = request_key(request.read())
        with self._lock:
            queue = self._queues.get(key)
            if not queue:
                raise CassetteMiss(
                    f"cassette {self.path.name} has no (more) responses for this request ({key[:12]}): "
                    "the run asked something the recorded run did not"
                )
            entry = queue.pop(0) if len(queue) > 1 else queue[0]
        return httpx2.Response(
            entry["status"],
            headers={"content-type": entry["content_type"]},
            content=entry["body"].encode("utf-8", errors="surrogateescape"),
            request=request,
        )
