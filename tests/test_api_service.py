"""The price and payments API: a real loopback server, real HTTP, seeded faults, exactly-once payments."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict
from typing import Any

import cloudpickle
import httpx2
import pytest

from agentlab.agent.tools import Toolbox
from agentlab.errors import ServiceError, Throttled, ToolTimeout
from agentlab.latency import Latency
from agentlab.rpc.contract import RateLimit
from agentlab.rpc.faults import FaultPlan
from agentlab.services.api import OUTCOMES, ApiService, request_key
from agentlab.services.api_client import ApiClient, find_mispriced, payment_key, payment_tool, price_tool
from agentlab.testing import FakeClock
from agentlab.wire import ToolCall

PRICES = {"NR-1001": 1999.0, "NR-1002": 6799.0, "NR-1003": 3200.0}


@contextmanager
def serve(
    prices: dict[str, float] = PRICES, timeout: float = 2.0, **options: Any
) -> Iterator[tuple[ApiService, ApiClient]]:
    """A started service and a client for it, both closed at the end."""
    with ApiService(prices, **options) as service, ApiClient(service.base_url, timeout=timeout) as client:
        yield service, client


def raw_exchange(service: ApiService, data: bytes) -> bytes:
    """Send raw bytes on a fresh connection, stop sending, and read everything the server answers."""
    host, port = service.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=2.0) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


# prices and injected faults


def test_price_is_served_and_an_unknown_sku_is_404() -> None:
    with serve() as (_, client):
        assert client.get_price("NR-1002") == 6799.0
        with pytest.raises(ServiceError) as info:
            client.get_price("NR-9999")
    assert info.value.status == 404
    assert not info.value.retryable
    assert "unknown sku 'NR-9999'" in str(info.value)


def test_injected_latency_is_observed() -> None:
    with serve(faults=FaultPlan(latency=Latency("fixed", 0.2))) as (_, client):
        start = time.perf_counter()
        client.get_price("NR-1001")
        elapsed = time.perf_counter() - start
    assert elapsed >= 0.2  # a lower bound: load can only make it slower


def _error_pattern(seed: int, skus: list[str]) -> list[bool]:
    """Which of `skus` answer 503 on a fresh service whose plan fails half the requests."""
    failed = []
    with serve({sku: 1.0 for sku in skus}, faults=FaultPlan(seed=seed, error_rate=0.5)) as (_, client):
        for sku in skus:
            try:
                client.get_price(sku)
                failed.append(False)
            except ServiceError as exc:
                assert exc.status == 503
                assert exc.retryable
                failed.append(True)
    return failed


def test_error_rate_follows_the_plan_for_its_seed() -> None:
    skus = [f"T-{i:03d}" for i in range(24)]
    first, again, other = _error_pattern(1, skus), _error_pattern(1, skus), _error_pattern(2, skus)
    predicted = [FaultPlan(seed=1, error_rate=0.5).decide(request_key("GET", f"/prices/{s}"), 0).kind for s in skus]
    assert first == again == [kind == "error" for kind in predicted]
    assert 0 < sum(first) < len(skus)
    assert other != first


def test_fail_first_fails_the_first_attempts_of_each_key() -> None:
    with serve(faults=FaultPlan(fail_first=2)) as (service, client):
        for sku in ("NR-1001", "NR-1002"):
            for _ in range(2):
                with pytest.raises(ServiceError, match="503"):
                    client.get_price(sku)
            assert client.get_price(sku) == PRICES[sku]
        assert service.stats()["error"] == 4
        assert service.stats()["ok"] == 2


def test_a_hang_is_cut_off_by_the_client_timeout_and_stop_wakes_it() -> None:
    service = ApiService(PRICES, faults=FaultPlan(hang_rate=1.0, hang_seconds=30.0)).start()
    with ApiClient(service.base_url, timeout=0.3) as client, pytest.raises(ToolTimeout, match=r"within 0\.3 s"):
        client.get_price("NR-1001")  # the client gave up while the server still hangs (for 30 s)
    stopped = threading.Thread(target=service.stop)
    stopped.start()
    stopped.join(timeout=20)  # stop() wakes the hung handler instead of waiting out its 30 s
    assert not stopped.is_alive()
    assert service.stats()["hang"] == 1


def test_a_throttle_fault_carries_retry_after() -> None:
    with serve(faults=FaultPlan(throttle_rate=1.0, retry_after=0.25)) as (service, client):
        with pytest.raises(Throttled) as info:
            client.get_price("NR-1001")
        assert info.value.retry_after == 0.25
        assert info.value.status == 429
        assert info.value.retryable
        assert service.stats()["throttled"] == 1


def test_the_rate_limit_answers_429_until_the_clock_refills_the_bucket() -> None:
    clock = FakeClock()
    with serve(rate_limit=RateLimit(per_second=2.0, burst=3), clock=clock) as (service, client):
        for _ in range(3):
            assert client.get_price("NR-1001") == 1999.0
        with pytest.raises(Throttled) as info:
            client.get_price("NR-1001")
        assert info.value.retry_after == 0.5
        clock.now += 0.5
        assert client.get_price("NR-1001") == 1999.0
        with pytest.raises(Throttled):
            client.get_price("NR-1001")
        assert service.stats()["rate_limited"] == 2
        assert httpx2.get(f"{service.base_url}/ledger").status_code == 200  # inspection is never limited


def test_requests_refused_by_the_rate_limit_are_not_attempts() -> None:
    # the fault plan models the backend, behind the limiter: only admitted requests count as attempts
    clock = FakeClock()
    with serve(faults=FaultPlan(fail_first=1), rate_limit=RateLimit(per_second=1.0, burst=1), clock=clock) as (
        _,
        client,
    ):
        with pytest.raises(ServiceError, match="503"):
            client.get_price("NR-1001")
        with pytest.raises(Throttled):
            client.get_price("NR-1001")
        clock.now += 1.0
        assert client.get_price("NR-1001") == 1999.0


# payments: exactly once per idempotency key


def test_the_same_key_twice_charges_once_and_replays_the_receipt() -> None:
    with serve() as (service, client):
        first = client.pay("NR-1001", 1999.0, "ORD-1", "key-1")
        reply = httpx2.post(
            f"{service.base_url}/payments",
            json={"sku": "NR-1001", "amount": 1999.0, "order": "ORD-1"},
            headers={"Idempotency-Key": "key-1"},
        )
        assert first["status"] == "charged"
        assert reply.status_code == 200
        assert reply.headers["Idempotent-Replayed"] == "true"
        assert reply.json() == first
        assert [c.payment_id for c in service.ledger()] == [first["payment_id"]]
        assert httpx2.get(f"{service.base_url}/ledger").json() == {"charges": [asdict(c) for c in service.ledger()]}


def test_the_same_key_with_a_different_body_is_409() -> None:
    with serve() as (service, client):
        client.pay("NR-1001", 1999.0, "ORD-1", "key-1")
        with pytest.raises(ServiceError) as info:
            client.pay("NR-1001", 1.0, "ORD-1", "key-1")
        assert info.value.status == 409
        assert not info.value.retryable
        assert len(service.ledger()) == 1


def test_a_payment_without_a_key_is_refused() -> None:
    with serve() as (service, _):
        reply = httpx2.post(f"{service.base_url}/payments", json={"sku": "NR-1001", "amount": 1.0, "order": "ORD-1"})
        assert reply.status_code == 400
        assert "Idempotency-Key" in reply.json()["error"]["message"]
        assert service.ledger() == []


def test_a_lost_reply_then_a_retry_with_the_same_key_charges_once() -> None:
    # the first attempt commits the charge, then its reply is replaced by a 503
    with serve(lost_reply=FaultPlan(fail_first=1)) as (service, client):
        with pytest.raises(ServiceError) as info:
            client.pay("NR-1001", 1999.0, "ORD-1", "key-1")
        assert info.value.status == 503
        assert info.value.retryable
        assert len(service.ledger()) == 1  # charged, although the caller saw a failure
        receipt = client.pay("NR-1001", 1999.0, "ORD-1", "key-1")
        assert receipt["payment_id"] == service.ledger()[0].payment_id
        assert len(service.ledger()) == 1
        assert service.stats()["lost_reply"] == 1
        assert service.stats()["replayed"] == 1


def test_a_lost_reply_plan_never_throttles_after_a_commit() -> None:
    with serve(lost_reply=FaultPlan(throttle_rate=1.0)) as (service, client):
        assert client.pay("NR-1001", 1999.0, "ORD-1", "key-1")["status"] == "charged"
        assert service.stats()["ok"] == 1


def test_a_reply_lost_to_a_hang_then_a_retry_charges_once() -> None:
    key = request_key("POST", "/payments", "key-1")

    def plan(seed: int) -> FaultPlan:
        return FaultPlan(seed=seed, hang_rate=0.5, hang_seconds=30.0)

    # a seed whose first attempt hangs after the commit and whose second does not
    seed = next(s for s in range(100) if (plan(s).decide(key, 0).kind, plan(s).decide(key, 1).kind) == ("hang", "ok"))
    with serve(lost_reply=plan(seed), timeout=0.3) as (service, client):
        with pytest.raises(ToolTimeout):
            client.pay("NR-1001", 1999.0, "ORD-1", "key-1")
        assert len(service.ledger()) == 1
        receipt = client.pay("NR-1001", 1999.0, "ORD-1", "key-1")
        assert [c.payment_id for c in service.ledger()] == [receipt["payment_id"]]


def test_concurrent_payments_charge_once_per_key() -> None:
    # a little latency before the commit makes the 50 requests overlap
    with serve(faults=FaultPlan(latency=Latency("fixed", 0.02))) as (service, client):

        def pay(i: int) -> tuple[str, str]:
            receipt = client.pay("NR-1003", 100.0 + i % 10, f"ORD-{i % 10}", f"key-{i % 10}")
            return f"key-{i % 10}", receipt["payment_id"]

        with ThreadPoolExecutor(max_workers=50) as pool:
            paid = list(pool.map(pay, range(50)))
        ledger = service.ledger()
        assert len(ledger) == 10
        assert sorted(c.idempotency_key for c in ledger) == sorted(f"key-{i}" for i in range(10))
        by_key = {c.idempotency_key: c.payment_id for c in ledger}
        assert all(by_key[key] == payment_id for key, payment_id in paid)
        assert (service.stats()["ok"], service.stats()["replayed"]) == (10, 40)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "the request body is not valid JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (b'{"sku": "NR-1001", "amount": -5, "order": "ORD-1"}', "'amount' must be a positive number"),
        (b'{"sku": "NR-1001", "amount": true, "order": "ORD-1"}', "'amount' must be a positive number"),
        (b'{"sku": "NR-1001", "amount": 5}', "'order' must be a non-empty string"),
        (b'{"amount": 5, "order": "ORD-1"}', "'sku' must be a non-empty string"),
    ],
)
def test_a_bad_payment_body_is_400_with_a_clear_message(body: bytes, message: str) -> None:
    with serve() as (service, _):
        reply = httpx2.post(f"{service.base_url}/payments", content=body, headers={"Idempotency-Key": "key-1"})
        assert reply.status_code == 400
        assert message in reply.json()["error"]["message"]
        assert service.ledger() == []


def test_the_server_survives_garbage() -> None:
    with serve() as (service, client):
        assert b"400 - Bad request syntax" in raw_exchange(service, b"\x16\x03\x01\x02\x00garbage\r\n\r\n")
        assert b" 400 " in raw_exchange(service, b"POST /payments HTTP/1.1\r\nContent-Length: banana\r\n\r\n")
        assert b" 413 " in raw_exchange(service, b"POST /payments HTTP/1.1\r\nContent-Length: 999999999\r\n\r\n")
        truncated = b"POST /payments HTTP/1.1\r\nIdempotency-Key: k\r\nContent-Length: 100\r\n\r\n{"
        assert b"not valid JSON" in raw_exchange(service, truncated)
        assert b" 501 " in raw_exchange(service, b"BREW /pot HTTP/1.1\r\n\r\n")
        assert httpx2.get(f"{service.base_url}/payments").status_code == 405
        assert httpx2.get(f"{service.base_url}/nowhere").status_code == 404
        assert client.get_price("NR-1001") == 1999.0
        assert service.ledger() == []


def test_stats_count_every_request_under_one_outcome() -> None:
    with serve() as (service, client):
        client.get_price("NR-1001")
        client.pay("NR-1001", 1.0, "ORD-1", "key-1")
        client.pay("NR-1001", 1.0, "ORD-1", "key-1")
        for call in (lambda: client.get_price("NR-0"), lambda: client.pay("NR-1001", 2.0, "ORD-1", "key-1")):
            with pytest.raises(ServiceError):
                call()
        expected = dict.fromkeys(OUTCOMES, 0) | {"ok": 2, "replayed": 1, "not_found": 1, "conflict": 1}
        assert service.stats() == expected


def test_a_stopped_service_is_a_retryable_connect_error() -> None:
    service = ApiService(PRICES).start()
    service.stop()
    with ApiClient(service.base_url) as client, pytest.raises(ServiceError, match="cannot connect") as info:
        client.get_price("NR-1001")
    assert info.value.retryable
    assert not isinstance(info.value, ToolTimeout)


# the agent's tools and the catalog check


def test_the_tools_call_the_service_and_derive_the_payment_key() -> None:
    with serve() as (service, client):
        box = Toolbox([price_tool(client), payment_tool(client)])
        price, pay = (s["function"] for s in box.schemas())
        assert (price["name"], price["description"]) == (
            "get_price",
            "Fetch the live price of a product from the price API.",
        )
        assert set(pay["parameters"]["properties"]) == {"sku", "amount", "order"}  # no model-chosen key
        assert box.call(ToolCall("c1", "get_price", '{"sku": "NR-1002"}')).content == "6799.0"
        args = '{"sku": "NR-1001", "amount": 1999, "order": "ORD-7"}'
        first, second = box.call(ToolCall("c2", "pay", args)), box.call(ToolCall("c3", "pay", args))
        assert first.ok and json.loads(first.content) == json.loads(second.content)
        assert [c.idempotency_key for c in service.ledger()] == [payment_key("NR-1001", 1999.0, "ORD-7")]
        refused = box.call(ToolCall("c4", "get_price", '{"sku": "NR-0"}'))
        assert not refused.ok and "404" in refused.content


def test_the_payment_key_names_the_payment_not_the_attempt() -> None:
    assert payment_key("NR-1001", 1999, "ORD-1") == payment_key("NR-1001", 1999.0, "ORD-1")
    assert payment_key("NR-1001", 1999.0, "ORD-1") != payment_key("NR-1001", 1999.0, "ORD-2")


def test_a_tool_travels_to_another_process_with_its_address() -> None:
    with serve() as (_, client):
        # shipped together, the tool's client and the client are one object: the test can close it
        shipped_client, shipped_tool = cloudpickle.loads(cloudpickle.dumps((client, price_tool(client))))
        with shipped_client:
            assert shipped_client is not client
            assert shipped_tool(sku="NR-1003") == 3200.0


def test_find_mispriced_compares_against_a_percentage_threshold() -> None:
    listed = {"A": 100.0, "B": 100.0, "C": 100.0, "D": 0.0, "E": 50.0}
    live = {"A": 105.0, "B": 94.0, "C": 100.0, "D": 1.0}
    assert find_mispriced(listed, live, threshold_pct=5.0) == ["B", "D"]
