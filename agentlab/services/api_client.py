"""The agent's side of the price and payments API: one HTTP attempt per call, failures in agentlab's words (lab 02).

The API belongs to someone else (`agentlab.services.api` plays it), so every way it can fail becomes an
error from `agentlab.errors`, raised `from` the HTTP library's exception:

    5xx, a dropped connection        ServiceError(retryable=True)     trying again may help
    429                              Throttled(retry_after=...)       wait as long as the service asks
    400, 404, 409                    ServiceError(retryable=False)    the same request will fail the same way
    cannot connect                   ServiceError(retryable=True)
    no reply within `timeout`        ToolTimeout                      the call was abandoned

`ApiClient` makes exactly one attempt per call. Deciding whether and when to try again belongs to the
RPC policy layer, which reads `retryable` and `retry_after` from these errors. `price_tool` and
`payment_tool` wrap a client as tools that the model can call. Left out: retries, backoff, circuit
breakers and Retry-After given as an HTTP date (this service sends seconds, fractional ones included).
"""

from __future__ import annotations

import hashlib
import json
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx2

from agentlab.agent.tools import Tool, tool
from agentlab.errors import ServiceError, Throttled, ToolTimeout
from agentlab.models.transport import parse_retry_after
from agentlab.rpc.guarded import idempotency_key

__all__ = ["ApiClient", "find_mispriced", "payment_key", "payment_tool", "price_tool"]


class ApiClient:
    """A synchronous client for the price and payments API at `base_url` (for example `service.base_url`)."""

    def __init__(self, base_url: str, timeout: float = 5.0) -> None:
        self.base_url = base_url
        self.timeout = timeout
        self._http = httpx2.Client(base_url=base_url, timeout=timeout)

    def __reduce__(self) -> tuple[type[ApiClient], tuple[str, float]]:
        # a connection pool cannot travel to a Dask worker; the address can, and the worker opens its own pool
        return ApiClient, (self.base_url, self.timeout)

    def get_price(self, sku: str) -> float:
        """The live price of `sku`."""
        body = self._request("GET", f"/prices/{quote(sku, safe='')}")
        return float(body["price"])

    def pay(self, sku: str, amount: float, order: str, idempotency_key: str) -> dict[str, Any]:
        """Charge `amount` for `sku` on `order`. Sending the same key again never charges twice."""
        payment = {"sku": sku, "amount": amount, "order": order}
        return self._request("POST", "/payments", json=payment, headers={"Idempotency-Key": idempotency_key})

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def _request(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """One attempt. It returns the JSON body of a 2xx reply or raises an agentlab error."""
        what = f"{method} {path}"
        try:
            response = self._http.request(method, path, **kwargs)
        except (httpx2.ConnectError, httpx2.ConnectTimeout) as exc:
            raise ServiceError(f"{what}: cannot connect to {self.base_url} ({exc})", retryable=True) from exc
        except httpx2.TimeoutException as exc:
            raise ToolTimeout(f"{what}: no reply within {self.timeout} s; the call was abandoned") from exc
        except httpx2.TransportError as exc:
            raise ServiceError(f"{what}: the connection failed ({type(exc).__name__}: {exc})", retryable=True) from exc
        try:
            response.raise_for_status()
        except httpx2.HTTPStatusError as exc:
            raise _status_error(what, response) from exc
        try:
            body = response.json()
        except ValueError as exc:
            raise ServiceError(f"{what}: the reply is not JSON", status=response.status_code) from exc
        if not isinstance(body, dict):
            raise ServiceError(f"{what}: the reply is not a JSON object", status=response.status_code)
        return body


def _status_error(what: str, response: httpx2.Response) -> ServiceError:
    """The agentlab error for an HTTP error status."""
    status = response.status_code
    message = f"{what}: HTTP {status}: {_message(response)}"
    if status == 429:
        return Throttled(message, retry_after=parse_retry_after(response.headers.get("Retry-After")))
    return ServiceError(message, status=status, retryable=status >= 500)


def _message(response: httpx2.Response) -> str:
    """The service's own words for an error, if it sent the usual {"error": {"message": ...}}."""
    try:
        return str(response.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return response.text[:200] or response.reason_phrase


def payment_key(sku: str, amount: float, order: str) -> str:
    """The idempotency key of a payment, derived from what is paid for and nothing else.

    A key has to name the *step*, not the try. The same payment retried by the RPC layer, or replayed
    after a crash, must carry the same key so that the service charges it once. A random key or an
    attempt number would turn each retry into a new charge, and a position ("the 2nd call") would
    change when the model reorders its calls. The cost: two identical payments on one order collapse
    into one. That is what an order wants.
    """
    canonical = json.dumps([sku, float(amount), order], separators=(",", ":"))
    return "pay-" + hashlib.sha256(canonical.encode()).hexdigest()[:32]


def price_tool(client: ApiClient) -> Tool:
    """The `get_price` tool, backed by `client`."""

    def get_price(sku: str) -> float:
        """Fetch the live price of a product from the price API.

        Args:
            sku: the product's SKU, e.g. NR-1001.
        """
        return client.get_price(sku)

    made: Tool = tool(get_price, name="get_price")
    return made


def payment_tool(client: ApiClient) -> Tool:
    """The `pay` tool, backed by `client`. The model never chooses the idempotency key.

    Under a `GuardedToolbox` the key is the call's content in its run (`idempotency_key()`), the same on
    every retry and re-plan; called bare, it falls back to `payment_key` of the payment's content.
    """

    def pay(sku: str, amount: float, order: str) -> dict[str, Any]:
        """Charge a payment for one product on an order. Repeating the same call never charges twice.

        Args:
            sku: the product's SKU, e.g. NR-1001.
            amount: the amount to charge, in the catalog's currency.
            order: the order this payment settles, e.g. ORD-42.
        """
        return client.pay(sku, amount, order, idempotency_key() or payment_key(sku, amount, order))

    made: Tool = tool(pay, name="pay")
    return made


def find_mispriced(listed: dict[str, float], live: dict[str, float], threshold_pct: float) -> list[str]:
    """SKUs whose live price differs from the listed one by more than `threshold_pct` percent, sorted.

    A SKU that has no live price is skipped: it is unknown, not mispriced.
    """
    mispriced = []
    for sku, listed_price in listed.items():
        if sku not in live:
            continue
        gap = abs(live[sku] - listed_price)
        # a listed price of 0 has no percentage: any live price other than 0 counts as wrong
        if (listed_price == 0 and gap > 0) or (listed_price != 0 and gap / abs(listed_price) * 100 > threshold_pct):
            mispriced.append(sku)
    return sorted(mispriced)
