"""The ReAct loop on a scripted model: answers, bad model output as observations, the budget."""

from __future__ import annotations

import pytest

from agentlab.agent.loop import run_agent
from agentlab.agent.tools import Tool
from agentlab.testing.scripted import ScriptedModel, calls, final


def _observations(result_messages: list[dict]) -> list[str]:  # type: ignore[type-arg]
    return [m["content"] for m in result_messages if m["role"] == "tool"]


def test_reason_act_observe_then_answer(tiny_search: Tool) -> None:
    model = ScriptedModel([calls(("search_kb", '{"query": "INC-1002 root cause"}')), final("expired TLS certificate")])
    result = run_agent("Why did INC-1002 happen?", model=model, tools=[tiny_search])
    assert result.stop_reason == "answer" and result.answer == "expired TLS certificate"
    assert result.turns == 1
    assert "[d-2] Incident INC-1002" in _observations(result.messages)[0]
    # the second model step saw the observation
    second_request = model.requests[1][0]
    assert second_request[-1]["role"] == "tool" and "INC-1002" in second_request[-1]["content"]
    frame = result.to_frame()
    assert list(frame["who"]) == ["model", "tool:search_kb", "model"]
    assert list(frame["outcome"]) == ["tool_calls", "ok", "stop"]
    assert (frame["end"] >= frame["start"]).all()


@pytest.mark.parametrize(
    ("arguments", "name", "expected"),
    [
        ('{"query": "INC-1002"', "search_kb", "error: arguments for search_kb are not valid JSON"),
        ('{"query": "x"}', "web_search", "error: unknown tool 'web_search'; available tools: search_kb"),
        ('{"query": ["INC", 1002]}', "search_kb", "error: invalid arguments for search_kb: query: Input should be"),
        ('{"query": "x", "k": "lots"}', "search_kb", "error: invalid arguments for search_kb: k:"),
    ],
)
def test_bad_model_output_becomes_an_error_observation(
    tiny_search: Tool, arguments: str, name: str, expected: str
) -> None:
    model = ScriptedModel([calls((name, arguments)), final("sorry, my call was wrong")])
    result = run_agent("Why did INC-1002 happen?", model=model, tools=[tiny_search])
    assert result.stop_reason == "answer"
    assert result.answer == "sorry, my call was wrong"
    (observation,) = _observations(result.messages)
    assert observation.startswith(expected)
    assert result.to_frame()["outcome"].iloc[1] in {"MalformedArguments", "UnknownTool", "InvalidArguments"}
    # the model was shown the error and could react to it
    assert model.requests[1][0][-1]["content"] == observation


def test_budget_exhausted_ends_gracefully_with_reason(tiny_search: Tool) -> None:
    looping = [calls(("search_kb", '{"query": "refund"}')) for _ in range(3)] + [final("30 days, I think")]
    model = ScriptedModel(looping)
    result = run_agent("Refund window?", model=model, tools=[tiny_search], max_turns=3)
    assert result.stop_reason == "max_turns"
    assert result.turns == 3
    assert "Stopped at the budget of 3 turns" in result.answer and "30 days, I think" in result.answer
    # the last step was asked with tools switched off
    assert model.requests[-1][1] == "none"


def test_budget_with_a_model_that_ignores_tool_choice_none(tiny_search: Tool) -> None:
    model = ScriptedModel([calls(("search_kb", '{"query": "x"}'))] * 3)
    result = run_agent("x?", model=model, tools=[tiny_search], max_turns=2)
    assert result.stop_reason == "max_turns"
    assert "kept asking for tools" in result.answer
    assert len(_observations(result.messages)) == 2  # the post-budget calls were not run


def test_parallel_calls_each_get_an_observation(tiny_search: Tool) -> None:
    model = ScriptedModel(
        [
            calls(("search_kb", '{"query": "INC-1001"}'), ("search_kb", '{"query": "INC-1002"}'), ("nope", "{}")),
            final("done"),
        ]
    )
    result = run_agent("Compare INC-1001 and INC-1002", model=model, tools=[tiny_search])
    tool_msgs = [m for m in result.messages if m["role"] == "tool"]
    assert [m["tool_call_id"] for m in tool_msgs] == ["call_0", "call_1", "call_2"]
    assert "INC-1001" in tool_msgs[0]["content"] and "INC-1002" in tool_msgs[1]["content"]
    assert tool_msgs[2]["content"].startswith("error: unknown tool")


def test_answer_without_tools() -> None:
    result = run_agent("hello", model=ScriptedModel([final("hi")]))
    assert (result.answer, result.stop_reason, result.turns) == ("hi", "answer", 0)
