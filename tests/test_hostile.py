"""Property test: no model output, however malformed or hostile, crashes the loop."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentlab.agent.loop import run_agent
from agentlab.agent.tools import tool
from agentlab.testing.scripted import ScriptedModel
from agentlab.wire import ModelReply, ToolCall


@tool
def strict(sku: str, quantity: int = 1) -> str:
    """A tool with a strict schema."""
    return f"{sku} x{quantity}"


@tool
def fragile(text: str) -> str:
    """A tool that fails on some inputs."""
    if len(text) % 2:
        raise ValueError("odd input")
    return text[::-1]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
arguments = st.one_of(
    st.text(max_size=40),  # arbitrary text, mostly not JSON
    json_values.map(json.dumps),  # valid JSON of the wrong shape
    st.fixed_dictionaries({"sku": json_values, "quantity": json_values}).map(json.dumps),
    st.fixed_dictionaries({"text": st.text(max_size=10)}).map(json.dumps),
    st.just('{"sku": "NR-1"'),
    st.just("[" * 5000),
    st.just('{"sku": "' + "A" * 100_000 + '"}'),
)
names = st.one_of(
    st.sampled_from(["strict", "fragile", "", "STRICT", "strict ", "../etc", "give_up"]), st.text(max_size=12)
)
tool_calls = st.builds(ToolCall, id=st.text(max_size=6), name=names, arguments=arguments)
replies = st.builds(
    ModelReply,
    content=st.none() | st.text(max_size=30),
    tool_calls=st.lists(tool_calls, max_size=4).map(tuple),
    finish_reason=st.sampled_from(["stop", "tool_calls", "length", "content_filter", "", "??"]),
)
raw_bodies: st.SearchStrategy[Any] = st.one_of(
    json_values,
    st.fixed_dictionaries({"choices": st.lists(json_values, max_size=2)}),
    st.fixed_dictionaries({"choices": st.just([{"message": {"tool_calls": [{"function": {"name": "strict"}}]}}])}),
)


@settings(max_examples=1200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(script=st.lists(replies | raw_bodies, min_size=1, max_size=4), budget=st.integers(1, 3))
def test_hostile_model_output_never_crashes_the_loop(script: list[Any], budget: int) -> None:
    result = run_agent("order NR-1", model=ScriptedModel(script), tools=[strict, fragile], max_turns=budget)
    # model_error: the script ran out; gave_up: a give_up call, whatever its arguments (wire.give_up_reason)
    assert result.stop_reason in {"answer", "max_turns", "model_error", "no_answer", "gave_up"}
    assert result.answer.strip()  # an empty reply is never taken for an answer
    assert result.turns <= budget
    # every tool call the loop accepted got exactly one observation, in order
    asked = [c["id"] for m in result.messages if m.get("tool_calls") for c in m["tool_calls"]]
    answered = [m["tool_call_id"] for m in result.messages if m["role"] == "tool"]
    assert answered == asked
