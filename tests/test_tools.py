"""Tools: schema from hints and docstring, validation before the call, failures as observations."""

from __future__ import annotations

import json
import threading

import pytest

from agentlab.agent.tools import Toolbox, tool
from agentlab.errors import UsageError
from agentlab.wire import ToolCall


@tool
def lookup_price(sku: str, quantity: int = 1, discount: float = 0.0) -> dict[str, float]:
    """Look up the live price of a product.

    Args:
        sku: the product's SKU, e.g. NR-1001.
        quantity: how many units.
        discount: fraction off, 0-1.
    """
    return {"total": 10.0 * quantity * (1 - discount)}


@tool
def explode(reason: str) -> str:
    """A tool that always fails."""
    raise RuntimeError(reason)


def test_schema_comes_from_hints_and_docstring() -> None:
    fn = lookup_price.schema()["function"]
    assert fn["name"] == "lookup_price"
    assert fn["description"] == "Look up the live price of a product."
    params = fn["parameters"]
    assert params["required"] == ["sku"]
    assert params["properties"]["sku"] == {"type": "string", "description": "the product's SKU, e.g. NR-1001."}
    assert params["properties"]["quantity"]["type"] == "integer"
    assert params["properties"]["quantity"]["default"] == 1
    assert params["properties"]["discount"]["type"] == "number"
    assert params["additionalProperties"] is False


def test_parameter_without_hint_is_rejected_at_declaration() -> None:
    def untyped(x):  # type: ignore[no-untyped-def]
        return x

    with pytest.raises(UsageError, match="needs a type hint"):
        tool(untyped)


def test_valid_call_runs_and_renders_json() -> None:
    obs = Toolbox([lookup_price]).call(ToolCall("c1", "lookup_price", '{"sku": "NR-1", "quantity": 3}'))
    assert obs.ok and json.loads(obs.content) == {"total": 30.0}
    assert obs.call_id == "c1" and obs.end >= obs.start


@pytest.mark.parametrize(
    ("name", "arguments", "error", "message"),
    [
        ("lookup_price", '{"sku": "NR-1"', "MalformedArguments", "not valid JSON"),
        ("lookup_price", "[1, 2]", "MalformedArguments", "must be a JSON object"),
        (
            "price_lookup",
            '{"sku": "NR-1"}',
            "UnknownTool",
            "unknown tool 'price_lookup'; available tools: lookup_price",
        ),
        ("lookup_price", '{"quantity": 2}', "InvalidArguments", "sku: Field required"),
        ("lookup_price", '{"sku": "NR-1", "quantity": "many"}', "InvalidArguments", "quantity"),
        ("lookup_price", '{"sku": "NR-1", "colour": "red"}', "InvalidArguments", "colour: Extra inputs"),
        ("explode", '{"reason": "disk on fire"}', "ToolFailed", "RuntimeError: disk on fire"),
    ],
)
def test_bad_calls_become_error_observations(name: str, arguments: str, error: str, message: str) -> None:
    obs = Toolbox([lookup_price, explode]).call(ToolCall("c1", name, arguments))
    assert not obs.ok
    assert obs.error == error
    assert obs.content.startswith("error: ")
    assert message in obs.content


def test_empty_arguments_mean_no_arguments() -> None:
    obs = Toolbox([lookup_price]).call(ToolCall("c1", "lookup_price", ""))
    assert obs.error == "InvalidArguments" and "sku" in obs.content


def test_several_calls_in_one_turn_run_in_parallel_and_keep_order() -> None:
    barrier = threading.Barrier(3, timeout=5)

    @tool
    def meet(tag: str) -> str:
        """Wait until all three calls are running at once."""
        barrier.wait()  # only passes if the three calls overlap in time
        return tag

    calls = [ToolCall(f"c{i}", "meet", json.dumps({"tag": t})) for i, t in enumerate("abc")]
    observations = Toolbox([meet]).call_all(calls)  # the barrier (5 s timeout) passes only if they overlap
    assert [o.content for o in observations] == ["a", "b", "c"]
    assert [o.call_id for o in observations] == ["c0", "c1", "c2"]


def test_duplicate_tool_names_are_refused() -> None:
    with pytest.raises(ValueError, match="share a name"):
        Toolbox([lookup_price, lookup_price])
