"""The ReAct loop on a scripted model: answers, bad model output as observations, giving up, the budget."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from agentlab.agent.loop import RunResult, arun_agent, offered, run_agent
from agentlab.agent.tools import Tool, Toolbox, tool
from agentlab.errors import UsageError
from agentlab.models.chat import offline_model
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


def test_give_up_is_offered_beside_the_agent_s_own_tools_and_only_then(tiny_search: Tool) -> None:
    names = [t["function"]["name"] for t in offered(Toolbox([tiny_search]))]
    assert names == ["search_kb", "give_up"]  # last: a model that reads the first tool still finds its own
    assert offered(Toolbox()) == []  # no tools, nothing to give up on: the reply is the answer


def test_a_call_to_give_up_ends_the_run_with_its_reason_not_an_answer(tiny_search: Tool) -> None:
    reason = "the knowledge base has nothing on INC-9999"
    model = ScriptedModel(
        [
            calls(("search_kb", '{"query": "INC-9999"}')),
            calls(("search_kb", '{"query": "INC 9999"}'), ("give_up", f'{{"reason": "{reason}"}}')),
        ]
    )
    result = run_agent("Why did INC-9999 happen?", model=model, tools=[tiny_search])
    assert (result.stop_reason, result.error, result.turns) == ("gave_up", reason, 1)
    assert result.answer != reason and result.answer == f"The agent gave up: {reason}"
    # give_up never runs as a tool, and a call beside it is not run either; each call still gets its answer
    assert list(result.to_frame()["who"]) == ["model", "tool:search_kb", "model"]
    tool_messages = [m for m in result.messages if m["role"] == "tool"]
    assert [m["tool_call_id"] for m in tool_messages] == ["call_0", "call_0", "call_1"]
    assert tool_messages[1]["content"] == "Not run: the agent gave up."
    assert model.unconsumed() == []


@pytest.mark.parametrize(
    ("arguments", "error"),
    [('{"reason": 42}', '{"reason": 42}'), ("not json", "not json"), ("", "no reason given")],
)
def test_a_give_up_with_bad_arguments_still_gives_up(tiny_search: Tool, arguments: str, error: str) -> None:
    result = run_agent("x?", model=ScriptedModel([calls(("give_up", arguments))]), tools=[tiny_search])
    assert (result.stop_reason, result.error) == ("gave_up", error)


def test_giving_up_at_the_turn_budget_is_giving_up(tiny_search: Tool) -> None:
    search = calls(("search_kb", '{"query": "x"}'))
    model = ScriptedModel([search, search, calls(("give_up", '{"reason": "out of ideas"}'))])
    result = run_agent("x?", model=model, tools=[tiny_search], max_turns=2)
    assert (result.stop_reason, result.error, result.turns) == ("gave_up", "out of ideas", 2)


def test_an_agent_tool_named_give_up_is_refused() -> None:
    @tool(name="give_up")
    def quit_job(reason: str) -> str:
        """Quit."""
        return reason

    model = ScriptedModel([final("never asked")])
    with pytest.raises(UsageError, match="may not be named 'give_up'"):
        run_agent("x?", model=model, tools=[quit_job])
    with pytest.raises(UsageError, match="may not be named 'give_up'"):
        asyncio.run(arun_agent("x?", model=model, tools=[quit_job]))
    assert model.requests == []


@tool
def stock_level(sku: str) -> int:
    """How many units of a product are in stock in the warehouse.

    Args:
        sku: the product's SKU, e.g. NR-1001.
    """
    raise RuntimeError("the warehouse service is down")


def _arun_agent(**kwargs: Any) -> RunResult:
    return asyncio.run(arun_agent(**kwargs))


@pytest.mark.parametrize("drive", [run_agent, _arun_agent], ids=["run_agent", "arun_agent"])
def test_the_offline_model_gives_up_on_a_tool_that_keeps_failing(drive: Any) -> None:
    """Three errors in a row and the offline model calls `give_up`: the run ends "gave_up", not "answer"."""
    result = drive(goal="How many units of NR-1001 are in stock?", model=offline_model(), tools=[stock_level])
    assert result.stop_reason == "gave_up", result.answer
    assert result.turns == 3 and "the warehouse service is down" in (result.error or "")
    last = result.messages[-2]["tool_calls"][0]["function"]
    assert last["name"] == "give_up" and "keep failing" in last["arguments"]
