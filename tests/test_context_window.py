"""A small model's context window: known, and never overflowed (agentlab.models.context, .window)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from agentlab.agent.loop import run_agent
from agentlab.agent.retrieval import search_tool
from agentlab.data import kb_index
from agentlab.errors import ConfigError
from agentlab.models.chat import from_env
from agentlab.models.context import MESSAGE_OVERHEAD, fit, prompt_budget, prompt_tokens
from agentlab.models.window import context_window, reported_window
from agentlab.testing.llamacpp import SmallContextServer, answer, call

N_CTX = 4096
MAX_TOKENS = 200
GOAL = "What was the root cause of INC-2108?"
SCRIPT = [
    call("search_kb", query="INC-2108 root cause", k=20),
    call("search_kb", query="INC-2108 incident report", k=2031),
    call("search_kb", query="certificate expiry", k=20),
    answer("An expired certificate."),
]


def _run(server: SmallContextServer, **options: Any) -> Any:
    model = from_env(base_url=server.base_url, model="smollm2", api_key="none", max_tokens=MAX_TOKENS, **options)
    return run_agent(GOAL, model=model, tools=[search_tool(kb_index())], max_turns=6, run_id="ctx")


@pytest.mark.parametrize("tool_calling", ["native", "json"])
def test_an_agent_asking_for_20_documents_and_k_2031_stays_inside_a_4096_token_context(tool_calling: str) -> None:
    with SmallContextServer(N_CTX, SCRIPT) as server:
        result = _run(server, tool_calling=tool_calling)
    assert result.stop_reason == "answer" and result.answer == "An expired certificate.", result.answer
    assert server.refused == 0 and len(server.prompt_tokens) == 4
    assert max(server.prompt_tokens) + MAX_TOKENS <= N_CTX, server.prompt_tokens
    # the loop keeps the whole conversation; the trace says what the model was not sent
    assert len([m for m in result.messages if m["role"] == "tool"]) == 3
    fitted = [e for e in result.trace.events if e.what.startswith("context fitted: ")]
    assert len(fitted) == 3 and all(e.outcome == "trimmed" for e in fitted)
    assert "earlier turn(s) dropped" in fitted[-1].detail and "tokens left out" in fitted[-1].detail
    last = result.trace.events.index(fitted[-1])
    dropped = int(fitted[-1].detail.split(" earlier")[0])
    assert dropped >= 1 and last > 0  # by the third search, the first one's turn is gone


def test_without_a_known_window_the_same_run_overflows_the_server() -> None:
    """The broken variant: a server that does not report its window, and none configured."""
    with SmallContextServer(N_CTX, SCRIPT, report_window=False) as server:
        result = _run(server, max_retries=0)
    assert server.refused >= 1 and result.stop_reason == "model_error"
    assert "exceeds the available context size" in result.answer
    with SmallContextServer(N_CTX, SCRIPT, report_window=False) as server:  # configured: fits again
        configured = _run(server, context_window=N_CTX)
    assert configured.stop_reason == "answer" and server.refused == 0


def test_the_window_is_configured_or_asked_of_the_server_once() -> None:
    with SmallContextServer(2048, SCRIPT) as server:
        model = from_env(base_url=server.base_url, api_key="none")
        assert context_window(model.config) == 2048  # llama.cpp's /props
        assert context_window(model.with_options(context_window=999).config) == 999
    with SmallContextServer(2048, SCRIPT, report_window=False) as server:
        assert reported_window(server.base_url, None, 5.0, 0) is None  # says nothing: nothing fitted
    assert reported_window("http://127.0.0.1:9/v1", None, 1.0, 0) is None  # unreachable: no verdict
    with pytest.raises(ConfigError, match="context_window"):
        from_env(base_url="http://127.0.0.1:9/v1", api_key="none", context_window=0)


def _turn(n: int, result: str) -> list[dict[str, Any]]:
    fn = {"name": "search_kb", "arguments": json.dumps({"query": f"q{n}"})}
    return [
        {"role": "assistant", "content": None, "tool_calls": [{"id": f"c{n}", "type": "function", "function": fn}]},
        {"role": "tool", "tool_call_id": f"c{n}", "content": result},
    ]


def test_the_rule_caps_results_then_drops_the_oldest_turns_whole_and_counts_what_went() -> None:
    doc = "\n".join(f"[KB-{i}] a line of a document about incidents and their causes" for i in range(40))
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": GOAL}]
    for n in range(4):
        messages += _turn(n, doc)
    budget = prompt_budget(1024, 100, 50)
    fitted = fit(messages, budget)
    assert fitted.tokens <= budget
    assert fitted.messages[0] == messages[0] and fitted.messages[1]["content"].startswith(GOAL)  # kept
    assert "earlier tool turn(s) were left out" in fitted.messages[1]["content"]
    assert fitted.messages[-2]["tool_calls"][0]["id"] == "c3"  # the latest turn stays, call and result together
    ids = [m.get("tool_call_id") for m in fitted.messages if m["role"] == "tool"]
    kept_calls = [c["id"] for m in fitted.messages for c in m.get("tool_calls") or ()]
    assert ids == kept_calls and ids[0] != "c0"  # the oldest went first, whole
    assert fitted.dropped_turns == 4 - len(ids) and fitted.cut_messages >= 1 and fitted.dropped_tokens > 0
    assert "more tokens cut to fit" in fitted.messages[-1]["content"]  # the cap says so where it cut
    assert fitted.usage()["context_dropped_turns"] == fitted.dropped_turns
    small = fit(messages[:2], budget)
    assert not small.changed and small.messages == messages[:2] and small.usage() == {}


def test_a_huge_goal_is_cut_and_a_window_with_no_room_is_a_clear_error() -> None:
    goal = "word " * 5000
    fitted = fit([{"role": "user", "content": goal}], 500)
    assert fitted.tokens <= 500 and fitted.cut_messages == 1
    assert prompt_tokens("INC-2108") >= 4 and MESSAGE_OVERHEAD > 0
    with pytest.raises(ConfigError, match="lower max_tokens or serve a larger context"):
        prompt_budget(512, 1024, 0)
