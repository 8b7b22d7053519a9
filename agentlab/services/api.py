"""A third-party price and payments API that you do not own, served for real on loopback (lab 02).

    GET  /prices/{sku}   200 {"sku", "price", "currency"}; 404 for an unknown SKU
    POST /payments       201 {"payment_id", "sku", "amount", "order", "status": "charged"}
    GET  /ledger         200 {"charges": [...]}: every charge made, for checking "charged exactly once"

It behaves like a partner's API. A token-bucket rate limit sits at the front (429 + Retry-After).
Behind it a `FaultPlan` uses up an availability budget: latency, 503s, hangs and 429s, decided per
request from (seed, key, attempt), so every run replays the same way. Payments must never be charged
twice, so `POST /payments` needs an `Idempotency-Key` header. A repeated key replays the first result
(200, `Idempotent-Replayed: true`) without charging, the same key with a different body is refused
(409), and no key at all is refused too (400). A second plan, `lost_reply`, strikes *after* a payment
is committed: the charge stands, but the caller sees a 503 or no reply at all. That is the case that
makes idempotency keys necessary.

`/ledger` is for inspection: it is neither rate limited nor faulted. Left out: authentication,
refunds, one currency per product, persistence (the ledger lives in memory) and HTTPS. The client and
the agent's tools live in `agentlab.services.api_client`; retrying is the RPC layer's job.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import unquote, urlsplit

from agentlab.errors import UsageError
from agentlab.rpc.contract import Bucket, RateLimit, take_token
from agentlab.rpc.faults import Fault, FaultPlan

__all__ = ["OUTCOMES", "ApiService", "Charge", "request_key"]

OUTCOMES = (
    "ok",
    "replayed",
    "lost_reply",
    "error",
    "hang",
    "throttled",
    "rate_limited",
    "bad_request",
    "not_found",
    "conflict",
)
"""What can happen to a request. `stats()` counts each API request under exactly one of these."""

MAX_BODY = 64 * 1024


def request_key(method: str, path: str, idempotency_key: str | None = None) -> str:
    """What names a request for the fault plan. Retries of one payment share a key, and so do GETs of one SKU."""
    return f"{method} {path} {idempotency_key}" if idempotency_key else f"{method} {path}"


@dataclass(frozen=True)
class Charge:
    """One entry in the ledger: money taken once, under one idempotency key."""

    payment_id: str
    idempotency_key: str
    sku: str
    amount: float
    order: str

    def receipt(self) -> dict[str, Any]:
        """What the payer gets back, the first time and on every replay."""
        return {
            "payment_id": self.payment_id,
            "sku": self.sku,
            "amount": self.amount,
            "order": self.order,
            "status": "charged",
        }


@dataclass(frozen=True)
class _Reply:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> _Reply:
    return _Reply(status, {"error": {"message": message, "code": status}}, headers or {})


def _throttle(wait: float, message: str) -> _Reply:
    # round up to the millisecond: a client that waits exactly Retry-After must then find a token
    return _error(429, message, {"Retry-After": str(math.ceil(wait * 1000) / 1000)})


def _parse_payment(body: bytes) -> tuple[str, float, str]:
    """The (sku, amount, order) of a payment request, or UsageError saying what is wrong with it."""
    try:
        request = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise UsageError(f"the request body is not valid JSON ({exc})") from exc
    if not isinstance(request, dict):
        raise UsageError('the request body must be a JSON object {"sku", "amount", "order"}')
    sku, amount, order = request.get("sku"), request.get("amount"), request.get("order")
    if not isinstance(sku, str) or not sku:
        raise UsageError("'sku' must be a non-empty string")
    if isinstance(amount, bool) or not isinstance(amount, int | float) or not math.isfinite(amount) or amount <= 0:
        raise UsageError("'amount' must be a positive number")
    if not isinstance(order, str) or not order:
        raise UsageError("'order' must be a non-empty string")
    return sku, float(amount), order


class ApiService:
    """The price and payments API on 127.0.0.1 (a free port by default), served from a daemon thread.

    `faults` strike before a request is served. `lost_reply` strikes after a payment commits: its errors
    and hangs take the reply away and leave the charge in place (its latency adds to the reply's). Its
    throttles are ignored, because a 429 promises that nothing was done. `rate_limit` (None: unlimited)
    refills by `clock`, which tests replace with one they move by hand. Delays and hangs wait on an event
    that `stop()` sets, so stopping never waits for them.
    """

    def __init__(
        self,
        prices: Mapping[str, float],
        *,
        currency: str = "USD",
        faults: FaultPlan | None = None,
        lost_reply: FaultPlan | None = None,
        rate_limit: RateLimit | None = None,
        clock: Callable[[], float] = time.monotonic,
        port: int = 0,
        host: str = "127.0.0.1",
    ) -> None:
        """`host`: the address to serve on (another host's, in a multi-host test cluster)."""
        self.prices = dict(prices)
        self.currency = currency
        self.faults = faults or FaultPlan()
        self.lost_reply = lost_reply or FaultPlan()
        self.rate_limit = rate_limit
        self._clock = clock
        self._lock = threading.Lock()
        self._bucket = Bucket(float(rate_limit.burst) if rate_limit else 0.0, clock())
        self._attempts: dict[str, int] = {}
        self._payments: dict[str, Charge] = {}
        self._ledger: list[Charge] = []
        self._stats = dict.fromkeys(OUTCOMES, 0)
        self._closing = threading.Event()  # stop() sets it: wakes every sleeping delay and hang at once
        self._server = _Server(self, port, host)
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> ApiService:
        if self._thread is not None or self._closing.is_set():
            raise UsageError("the service is already started (or was stopped: start a new one)")
        # a short poll interval keeps stop() quick: shutdown() waits for the serving loop to notice
        serve = functools.partial(self._server.serve_forever, poll_interval=0.05)
        self._thread = threading.Thread(target=serve, name="agentlab-api", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._closing.set()
        if self._thread is not None:  # shutdown() waits for serve_forever, so it would hang if that never ran
            self._server.shutdown()
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> ApiService:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def ledger(self) -> list[Charge]:
        """Every charge made so far, oldest first."""
        with self._lock:
            return list(self._ledger)

    def stats(self) -> dict[str, int]:
        """How many API requests ended in each of `OUTCOMES`."""
        with self._lock:
            return dict(self._stats)

    def _tally(self, outcome: str) -> None:
        with self._lock:
            self._stats[outcome] += 1

    def _pause(self, seconds: float) -> None:
        if seconds > 0:
            self._closing.wait(seconds)

    def _admit(self) -> float:
        """Take a token from the rate limit; 0.0 means go ahead, otherwise the seconds to wait."""
        if self.rate_limit is None:
            return 0.0
        with self._lock:
            wait, self._bucket = take_token(self._bucket, self.rate_limit, self._clock(), reserve=False)
        return wait

    def _next_attempt(self, key: str) -> int:
        with self._lock:
            attempt = self._attempts.get(key, 0)
            self._attempts[key] = attempt + 1
        return attempt

    def _respond(self, method: str, path: str, idempotency_key: str | None, body: bytes) -> _Reply | None:
        """Serve one API request. Returns None for "no reply at all": the connection is closed unanswered."""
        wait = self._admit()
        if wait > 0:
            self._tally("rate_limited")
            return _throttle(wait, "rate limit exceeded")
        # the attempt counts requests for this key that got past the rate limit: the backend's view
        key = request_key(method, path, idempotency_key)
        attempt = self._next_attempt(key)
        fault = self.faults.decide(key, attempt)
        self._pause(fault.delay)  # for a hang, `delay` is the hang itself
        if fault.kind != "ok":
            self._tally(_FAULT_OUTCOMES[fault.kind])
            return _refusal(fault)
        reply, outcome = self._route(method, path, idempotency_key, body)
        if path == "/payments" and outcome in ("ok", "replayed"):
            lost = self.lost_reply.decide(key, attempt)
            if lost.kind in ("error", "hang"):
                self._pause(lost.delay)  # the charge is already in the ledger: only the reply goes missing
                self._tally("lost_reply")
                return _error(503, "service unavailable") if lost.kind == "error" else None
        self._tally(outcome)
        return reply

    def _route(self, method: str, path: str, idempotency_key: str | None, body: bytes) -> tuple[_Reply, str]:
        if path.startswith("/prices/") and method == "GET":
            return self._price(unquote(path.removeprefix("/prices/")))
        if path == "/payments" and method == "POST":
            return self._pay(idempotency_key, body)
        if path.startswith("/prices/") or path == "/payments":
            return _error(405, f"{method} is not allowed on {path}"), "bad_request"
        return _error(404, f"no route {method} {path}"), "not_found"

    def _price(self, sku: str) -> tuple[_Reply, str]:
        if sku not in self.prices:
            return _error(404, f"unknown sku {sku!r}"), "not_found"
        return _Reply(200, {"sku": sku, "price": self.prices[sku], "currency": self.currency}), "ok"

    def _pay(self, idempotency_key: str | None, body: bytes) -> tuple[_Reply, str]:
        if not idempotency_key:
            return _error(400, "missing Idempotency-Key header: payments without one could be charged twice"), (
                "bad_request"
            )
        try:
            sku, amount, order = _parse_payment(body)
        except UsageError as exc:
            return _error(400, str(exc)), "bad_request"
        if sku not in self.prices:
            return _error(404, f"unknown sku {sku!r}"), "not_found"
        # check and charge under one lock: concurrent requests with one key must not both see "new"
        with self._lock:
            first = self._payments.get(idempotency_key)
            if first is None:
                # the id derives from the key, so it is the same whatever order concurrent payments land in
                payment_id = "pay_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:16]
                charge = Charge(payment_id, idempotency_key, sku, amount, order)
                self._payments[idempotency_key] = charge
                self._ledger.append(charge)
                return _Reply(201, charge.receipt()), "ok"
        if (first.sku, first.amount, first.order) != (sku, amount, order):
            return _error(409, "this Idempotency-Key was already used for a different payment"), "conflict"
        return _Reply(200, first.receipt(), {"Idempotent-Replayed": "true"}), "replayed"


_FAULT_OUTCOMES = {"error": "error", "hang": "hang", "throttle": "throttled"}


def _refusal(fault: Fault) -> _Reply | None:
    """What an injected fault sends instead of serving the request: a 503, a 429, or (a hang) nothing."""
    if fault.kind == "error":
        return _error(503, "service unavailable")
    if fault.kind == "throttle":
        return _throttle(fault.retry_after, "too many requests")
    return None


def _body_refusal(transfer_encoding: str | None, content_length: str | None) -> _Reply | None:
    """Why a request body cannot be read safely, as the reply to send (None: read it)."""
    if transfer_encoding is not None:
        return _error(411, "send a Content-Length; chunked bodies are not supported")
    try:
        length = int(content_length or 0)
    except ValueError:
        length = -1
    if length < 0:
        return _error(400, "Content-Length must be a non-negative integer")
    if length > MAX_BODY:
        return _error(413, f"the request body is larger than {MAX_BODY} bytes")
    return None


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes: avoid the 40 ms ACK stall

    def log_message(self, format: str, *args: Any) -> None:  # quiet: stats() and the ledger are the log
        pass

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, method: str) -> None:
        body = self._read_body()
        if body is None:
            return
        service = self.server.service
        path = urlsplit(self.path).path
        if method == "GET" and path == "/ledger":
            self._send(_Reply(200, {"charges": [asdict(c) for c in service.ledger()]}))
            return
        reply = service._respond(method, path, self.headers.get("Idempotency-Key"), body)
        if reply is None:
            self.close_connection = True  # a hang or a lost reply: the caller never hears back
            return
        self._send(reply)

    def _read_body(self) -> bytes | None:
        """The request body, or None after refusing a body we cannot read safely."""
        refusal = _body_refusal(self.headers.get("Transfer-Encoding"), self.headers.get("Content-Length"))
        if refusal is not None:
            self.close_connection = True  # the unread body would be parsed as the next request on this connection
            self._send(refusal)
            return None
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _send(self, reply: _Reply) -> None:
        data = json.dumps(reply.body).encode()
        try:
            self.send_response(reply.status)
            for name, value in {"Content-Type": "application/json", **reply.headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the caller gave up waiting (its timeout): nobody to answer


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024

    def __init__(self, service: ApiService, port: int, host: str = "127.0.0.1") -> None:
        super().__init__((host, port), _Handler)
        self.service = service
