"""Checks for lab 06's tasks (labs/06_protocols.ipynb): a tool's input schema, its contract from MCP's
annotations, sessions per worker, approvals per run, a tools/call request, an A2A task's life, a deadline."""

from __future__ import annotations

from typing import Any

import pytest

from agentlab.grading.testkit import Answers, boolean, call, graded, number


@graded("schema")
def test_a_tools_parameters_become_a_json_schema(answers: Answers) -> None:
    params = [["sku", "str", True], ["units", "int", True], ["note", "str", False]]
    got = answers.input_schema(params)
    expected = {
        "type": "object",
        "properties": {"sku": {"type": "string"}, "units": {"type": "integer"}, "note": {"type": "string"}},
        "required": ["sku", "units"],
    }
    assert isinstance(got, dict) and {k: got.get(k) for k in expected} == expected, (
        f"{call('input_schema', params)} returned {got!r}, expected {expected!r}"
    )


@graded("schema")
@pytest.mark.parametrize(("python", "json_type"), [("float", "number"), ("bool", "boolean"), ("int", "integer")])
def test_each_python_type_has_its_json_schema_type(answers: Answers, python: str, json_type: str) -> None:
    params = [["x", python, False]]
    got = answers.input_schema(params)
    shown = got.get("properties", {}).get("x") if isinstance(got, dict) else got
    assert shown == {"type": json_type} and got.get("required") == [], (
        f"{call('input_schema', params)} returned {got!r}: a Python {python} is JSON Schema's {json_type!r}, and "
        "an optional parameter is not required"
    )


@graded("contract")
@pytest.mark.parametrize(
    ("annotations", "expected", "why"),
    [
        ({}, [False, True], "a tool that says nothing about its effects"),
        ({"readOnlyHint": True}, [True, False], "a tool that only reads"),
        ({"destructiveHint": False, "idempotentHint": True}, [True, False], "a harmless tool, safe to repeat"),
        ({"idempotentHint": True}, [True, True], "a repeatable tool that may destroy something"),
        ({"destructiveHint": False}, [False, True], "a harmless tool that may not be safe to repeat"),
        ({"destructiveHint": True, "idempotentHint": False}, [False, True], "restock"),
        ({"readOnlyHint": False, "destructiveHint": False, "idempotentHint": True}, [True, False], "an additive set"),
    ],
)
def test_the_contract_reads_missing_annotations_the_cautious_way(
    answers: Answers, annotations: dict[str, bool], expected: list[bool], why: str
) -> None:
    got = answers.contract_of(annotations)
    pair = [boolean(g, f"each of {call('contract_of', annotations)}'s two values") for g in got]
    assert pair == expected, (
        f"{call('contract_of', annotations)} returned {got!r}, expected {expected!r} ({why}): MCP's annotations "
        "are hints with defaults, and a client must assume the worst the defaults allow"
    )


@graded("sessions")
@pytest.mark.parametrize(
    ("calls", "expected", "why"),
    [
        ([["w1", "ok"], ["w1", "ok"], ["w1", "ok"]], 1, "one worker keeps its one session"),
        ([["w1", "ok"], ["w2", "ok"], ["w1", "ok"], ["w2", "ok"]], 2, "each worker opens its own session"),
        ([["w1", "crash"], ["w1", "ok"]], 2, "the lab's first call: a crash, then the retry"),
        ([["w1", "crash"], ["w2", "ok"], ["w1", "crash"], ["w1", "ok"], ["w2", "ok"]], 4, "two crashes on w1"),
        ([], 0, "no calls, no servers"),
    ],
)
def test_a_server_is_started_per_worker_and_after_each_crash(
    answers: Answers, calls: list[list[str]], expected: int, why: str
) -> None:
    got = number(answers.servers_started(calls), call("servers_started", calls))
    assert got == expected, f"{call('servers_started', calls)} returned {got:g}, expected {expected}: {why}"


@graded("approval")
def test_only_calls_that_need_approval_are_refused_and_only_without_it(answers: Answers) -> None:
    calls = [
        ["run-1", "stock_level", False],
        ["run-1", "restock", True],
        ["run-2", "restock", True],
        ["run-2", "delete_sku", True],
    ]
    approved = {"run-2": ["restock"]}
    got = list(answers.gate(calls, approved))
    expected = ["run", "refused", "run", "refused"]
    assert got == expected, (
        f"{call('gate', calls, approved)} returned {got!r}, expected {expected!r}: an approval names a tool, for "
        "one run; it lets nothing else through"
    )


@graded("approval")
def test_no_approvals_refuses_every_call_that_needs_one(answers: Answers) -> None:
    calls = [["r", "restock", True], ["r", "whoami", False]]
    got = list(answers.gate(calls, {}))
    assert got == ["refused", "run"], f"{call('gate', calls, {})} returned {got!r}, expected ['refused', 'run']"


@graded("jsonrpc")
@pytest.mark.parametrize(
    ("args", "params"),
    [
        ((7, "get_price", {"sku": "NR-1001"}), {"name": "get_price", "arguments": {"sku": "NR-1001"}}),
        (("req-2", "whoami", {}), {"name": "whoami", "arguments": {}}),
    ],
)
def test_a_tool_call_is_a_json_rpc_request(answers: Answers, args: tuple[Any, ...], params: dict[str, Any]) -> None:
    got = answers.tools_call(*args)
    asked = call("tools_call", *args)
    assert isinstance(got, dict), f"{asked} returned {got!r}: a JSON-RPC request is a JSON object (a dict)"
    assert got.get("jsonrpc") == "2.0", f"{asked} has jsonrpc {got.get('jsonrpc')!r}: which version does MCP speak?"
    assert got.get("id") == args[0], f"{asked} has id {got.get('id')!r}: the reply will carry the id it was given"
    assert got.get("method") == "tools/call", (
        f"{asked} has method {got.get('method')!r}: not the method MCP names for calling a tool (the SDK's "
        "CallToolRequest says it)"
    )
    assert got.get("params") == params, (
        f"{asked} has params {got.get('params')!r}: expected the tool's name and arguments"
    )
    assert set(got) == {"jsonrpc", "id", "method", "params"}, f"{asked} has extra fields: {sorted(got)}"


@graded("states")
@pytest.mark.parametrize(
    ("states", "expected"),
    [
        (["submitted", "working", "working", "completed"], True),
        (["submitted", "completed"], True),
        (["submitted", "working", "canceled"], True),
        (["submitted", "working", "failed"], True),
        (["submitted", "working"], False),
        (["working", "completed"], False),
        (["submitted", "completed", "working"], False),
        (["submitted", "working", "completed", "canceled"], False),
        (["submitted", "submitted", "working", "completed"], False),
        ([], False),
    ],
)
def test_a_task_is_submitted_works_and_ends_once(answers: Answers, states: list[str], expected: bool) -> None:
    got = boolean(answers.legal_life(states), call("legal_life", states))
    assert got == expected, f"{call('legal_life', states)} returned {got}, expected {expected}"


@graded("deadline")
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((3, 1.0, 120.0), "completed"),
        ((3, 1.0, 1.0), "canceled"),
        ((1, 0.4, 0.4), "completed"),
        ((4, 0.5, 1.9), "canceled"),
    ],
)
def test_a_delegation_past_its_timeout_is_canceled(answers: Answers, args: tuple[Any, ...], expected: str) -> None:
    got = answers.delegation_outcome(*args)
    assert got == expected, (
        f"{call('delegation_outcome', *args)} returned {got!r}, expected {expected!r}: the remote agent needs "
        f"{args[0]} step(s) of {args[1]} s; the caller waits {args[2]} s"
    )
