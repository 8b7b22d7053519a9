"""The HTTP under a model call: a deadline for the whole reply, a cap on its size, and when to retry (lab 01).

An HTTP client's timeout bounds each *read*, so a server that trickles one byte a second never times
out. `BoundedTransport` reads the whole reply itself and gives up once `deadline` seconds have passed
since the request went out (closing the connection, so the server's work is abandoned, not leaked)
or once the body passes `max_bytes`. Whether and when to try again is decided by `should_retry` and
`retry_delay`, pure functions of the attempt and the server's answer, so they can be tested and drawn
without a server; `parse_retry_after` reads the server's Retry-After (also for `agentlab.services.api_client`).

Not done here: streaming (agentlab asks for whole replies), and a budget across many calls (that is
the run's budget, not the transport's).
"""

from __future__ import annotations

import math
import time

import httpx2

from agentlab.errors import ModelUnavailable

__all__ = ["RETRYABLE_STATUS", "BoundedTransport", "parse_retry_after", "retry_delay", "should_retry"]

RETRYABLE_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})
"""Statuses that say "not now" rather than "never": timeouts, conflicts, rate limits, server faults."""
_TRANSIT_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})


def should_retry(status: int | None) -> bool:
    """True for a transport failure (status None: no reply at all) or a status worth asking again."""
    return status is None or status in RETRYABLE_STATUS


def retry_delay(attempt: int, retry_after: float | None, *, cap: float, base: float = 0.5) -> float:
    """Seconds to wait before attempt `attempt + 1`: the server's Retry-After if it sent one, else
    exponential backoff (0.5, 1, 2, ... s); never more than `cap` (a lab waits at most its timeout)."""
    wanted = retry_after if retry_after is not None and retry_after >= 0 else base * 2 ** (attempt - 1)
    return max(0.0, min(wanted, cap))


def parse_retry_after(value: str | None) -> float | None:
    """The Retry-After header as seconds, or None when it is missing or not a number of seconds (the
    HTTP-date form is rare from model servers and services alike: ignored)."""
    try:
        seconds = float(value) if value is not None else math.nan
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


class BoundedTransport(httpx2.BaseTransport):
    """Send one request and read its whole reply within `deadline` seconds and `max_bytes` bytes."""

    def __init__(self, deadline: float, max_bytes: int, inner: httpx2.BaseTransport | None = None) -> None:
        self.deadline = deadline
        self.max_bytes = max_bytes
        self.inner = inner or httpx2.HTTPTransport()

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        start = time.monotonic()
        response = self.inner.handle_request(request)
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_bytes():  # decoded (gzip and the like), counted as it arrives
                chunks.append(chunk)
                size += len(chunk)
                if size > self.max_bytes:
                    raise ModelUnavailable(
                        f"the reply from {request.url.host} passed {self.max_bytes:,} bytes; it was cut off"
                    )
                if time.monotonic() - start > self.deadline:
                    # a trickling reply: each read was quick, the whole was not
                    raise httpx2.ReadTimeout("the reply did not finish within the deadline", request=request)
        finally:
            response.close()
        # the body is whole and decoded now: drop the headers that described it in transit
        headers = [(k, v) for k, v in response.headers.items() if k.lower() not in _TRANSIT_HEADERS]
        return httpx2.Response(response.status_code, headers=headers, content=b"".join(chunks), request=request)

    def close(self) -> None:
        self.inner.close()
