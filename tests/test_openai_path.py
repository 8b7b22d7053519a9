"""The real `openai` SDK against local endpoints: the offline model, cassettes, failing servers."""

from __future__ import annotations

import json
import pickle
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import openai
import pytest
from openai._utils import maybe_transform  # the SDK's own request transform, which ChatModel skips
from openai.types.chat.completion_create_params import CompletionCreateParamsNonStreaming

from agentlab.agent.loop import run_agent
from agentlab.agent.tools import Tool, tool
from agentlab.errors import CassetteMiss, ConfigError, ModelUnavailable
from agentlab.models.chat import ChatModel, from_env, offline_model
from agentlab.models.config import ModelConfig, Secret
from agentlab.models.offline.policy import PolicyConfig
from agentlab.models.offline.server import MODEL_NAME, serve
from agentlab.text import count_tokens, estimate_tokens, truncate_tokens


def test_offline_endpoint_speaks_the_openai_wire_format() -> None:
    server = serve(PolicyConfig())
    try:
        client = openai.OpenAI(base_url=server.base_url, api_key="x", max_retries=0)
        assert [m.id for m in client.models.list()] == [MODEL_NAME]
        tools = [
            {
                "type": "function",
                "function": {
                    "name": "add",
                    "description": "Add two numbers.",
                    "parameters": {
                        "type": "object",
                        "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
                        "required": ["a", "b"],
                    },
                },
            }
        ]
        first = client.chat.completions.create(
            model=MODEL_NAME,
            tools=tools,  # type: ignore[arg-type]
            messages=[{"role": "user", "content": "What is 2 + 3?"}],
        )
        choice = first.choices[0]
        assert choice.finish_reason == "tool_calls"
        call = choice.message.tool_calls[0]  # type: ignore[index]
        assert (call.function.name, json.loads(call.function.arguments)) == ("add", {"a": 2, "b": 3})  # type: ignore[union-attr]
        second = client.chat.completions.create(
            model=MODEL_NAME,
            tools=tools,
            messages=[  # type: ignore[arg-type]
                {"role": "user", "content": "What is 2 + 3?"},
                choice.message.model_dump(exclude_none=True),  # type: ignore[list-item]
                {"role": "tool", "tool_call_id": call.id, "content": "5"},
            ],
        )
        assert second.choices[0].finish_reason == "stop"
        assert second.choices[0].message.content == "add -> 5"
        with pytest.raises(openai.BadRequestError, match="messages"):
            client.chat.completions.create(model=MODEL_NAME, messages="hi")  # type: ignore[arg-type]
    finally:
        server.stop()


def test_a_reply_cut_at_max_tokens_counts_at_most_that_many_tokens() -> None:
    for text in ("word " * 50, "x" * 500, "a bb ccc dddd eeeee " * 20, "short"):
        for limit in (0, 1, 7, 40):
            cut = truncate_tokens(text, limit)
            assert text.startswith(cut) and count_tokens(cut) <= limit
    assert truncate_tokens("x" * 500, 7) == "x" * 28  # by characters: 4 a token
    assert truncate_tokens("a b c d e f", 3) == "a b c"  # by words
    assert truncate_tokens("short", 40) == "short"


def test_the_offline_endpoint_stops_at_max_tokens_like_a_real_server() -> None:
    """A long answer is cut at the request's max_tokens (finish_reason "length"), and the usage it reports is
    counted the way the budgets count: what a budgeted step reserves bounds what it reports."""
    passage = "[d-1] Incident INC-1001\nThe root cause of INC-1001 was a full disk, " + "as logs grew on " * 200
    query = {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]}
    tools = [{"type": "function", "function": {"name": "search_kb", "parameters": query}}]
    messages: list[dict[str, Any]] = [
        {"role": "user", "content": "What was the root cause of INC-1001?"},
        {"role": "assistant", "content": None, "tool_calls": [_search_call("c1", '{"query": "INC-1001"}')]},
        {"role": "tool", "tool_call_id": "c1", "content": passage},
    ]
    server = serve(PolicyConfig())
    try:
        client = openai.OpenAI(base_url=server.base_url, api_key="x", max_retries=0)
        whole = client.chat.completions.create(model=MODEL_NAME, messages=messages, tools=tools)  # type: ignore[arg-type]
        cut = client.chat.completions.create(model=MODEL_NAME, messages=messages, tools=tools, max_tokens=20)  # type: ignore[arg-type]
        call = client.chat.completions.create(model=MODEL_NAME, messages=messages[:1], tools=tools, max_tokens=3)  # type: ignore[arg-type]
        with pytest.raises(openai.BadRequestError, match="max_tokens"):
            client.chat.completions.create(model=MODEL_NAME, messages=messages[:1], max_tokens=0)  # type: ignore[arg-type]
    finally:
        server.stop()
    text = whole.choices[0].message.content or ""
    assert whole.choices[0].finish_reason == "stop" and count_tokens(text) > 600
    assert whole.usage is not None and whole.usage.completion_tokens == count_tokens(text)
    assert whole.usage.prompt_tokens == estimate_tokens(messages, tools)  # the budgets' own estimate
    assert cut.choices[0].finish_reason == "length" and cut.usage is not None and cut.usage.completion_tokens == 20
    assert (
        text.startswith(cut.choices[0].message.content or "-")
        and count_tokens(cut.choices[0].message.content or "") == 20
    )
    (short,) = call.choices[0].message.tool_calls or []  # a call cut short: its arguments are not whole JSON
    assert call.choices[0].finish_reason == "length" and count_tokens(short.function.arguments) <= 3  # type: ignore[union-attr]
    with pytest.raises(json.JSONDecodeError):
        json.loads(short.function.arguments)  # type: ignore[union-attr]


def _search_call(call_id: str, arguments: str) -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": "search_kb", "arguments": arguments}}


def test_loop_through_the_sdk_gets_tool_calls_and_a_final_answer(tiny_search: Tool) -> None:
    result = run_agent("What was the root cause of INC-1002?", model=offline_model(), tools=[tiny_search])
    assert result.stop_reason == "answer" and result.turns == 1
    assert "expired TLS certificate" in result.answer and "[d-2]" in result.answer
    assert list(result.to_frame()["outcome"]) == ["tool_calls", "ok", "stop"]


def test_several_entities_are_searched_in_parallel_in_one_turn(tiny_search: Tool) -> None:
    result = run_agent("How long did INC-1001 and INC-1002 last?", model=offline_model(), tools=[tiny_search])
    first = result.messages[1]
    assert [json.loads(c["function"]["arguments"])["query"].split()[0] for c in first["tool_calls"]] == [
        "INC-1001",
        "INC-1002",
    ]
    assert "42 minutes" in result.answer and "17 minutes" in result.answer


def test_offline_policy_reads_observations_not_a_script(tiny_search: Tool) -> None:
    # the same question with different knowledge gives a different answer: it reads what it observed
    @tool
    def search_kb(query: str, k: int = 5) -> str:
        """Search the company knowledge base."""
        return "[x-9] Incident INC-1002\nThe root cause of INC-1002 was a misrouted BGP announcement."

    result = run_agent("What was the root cause of INC-1002?", model=offline_model(), tools=[search_kb])
    assert "misrouted BGP announcement" in result.answer


def test_cassette_replays_bit_for_bit_without_an_endpoint(tmp_path: Path, tiny_search: Tool) -> None:
    cassette = tmp_path / "run.jsonl"
    live = offline_model(seed=3, q=0.5).recording(str(cassette))
    goal = "What was the root cause of INC-1001?"
    recorded = run_agent(goal, model=live, tools=[tiny_search])
    entries = [json.loads(line) for line in cassette.read_text().splitlines()]
    assert len(entries) == len(recorded.trace.to_frame().query("who == 'model'"))
    replayed = run_agent(goal, model=live.replaying(str(cassette)), tools=[tiny_search])
    # call ids are random per response on the live server: equal messages mean equal bytes
    assert replayed.messages == recorded.messages
    assert replayed.answer == recorded.answer
    assert "authorization" not in cassette.read_text().lower()


def test_replay_of_a_different_conversation_is_a_clear_error(tmp_path: Path, tiny_search: Tool) -> None:
    cassette = tmp_path / "run.jsonl"
    model = offline_model().recording(str(cassette))
    run_agent("What was the root cause of INC-1001?", model=model, tools=[tiny_search])
    with pytest.raises(CassetteMiss, match="did not"):
        model.replaying(str(cassette)).complete([{"role": "user", "content": "something else"}], [])
    result = run_agent("something else", model=model.replaying(str(cassette)), tools=[tiny_search])
    assert result.stop_reason == "model_error" and "cassette" in (result.error or "")
    with pytest.raises(CassetteMiss, match="no cassette"):
        model.replaying(str(tmp_path / "missing.jsonl")).complete([{"role": "user", "content": "x"}], [])


class _Hostile(BaseHTTPRequestHandler):
    """A fake endpoint that answers with whatever raw bytes the test queued."""

    replies: list[tuple[int, bytes]] = []

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status, body = self.replies.pop(0)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def hostile() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hostile)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def _model_at(server: ThreadingHTTPServer) -> ChatModel:
    return ChatModel(
        ModelConfig(
            model="m",
            base_url=f"http://127.0.0.1:{server.server_address[1]}/v1",
            api_key=Secret("sk-test-123"),
            max_retries=0,
            timeout=5,
        )
    )


@pytest.mark.parametrize(
    "body",
    [
        b'{"choices": [{"message": {"role": "assistant", "tool_calls": [{"id": 1, "function": {"name": null}}]}}]}',
        b'{"choices": [{"message": {"content": "fine"}, "finish_reason": "weird"}]}',
        b'{"choices": []}',
        b'{"id": "x"}',
        b'{"choices": [{"message": {"content": null}}]}',
    ],
)
def test_malformed_replies_through_the_sdk_never_crash_the_loop(
    hostile: ThreadingHTTPServer, body: bytes, tiny_search: Tool
) -> None:
    _Hostile.replies = [(200, body)] * 3 + [(200, b'{"choices": [{"message": {"content": "ok"}}]}')] * 3
    result = run_agent("x?", model=_model_at(hostile), tools=[tiny_search], max_turns=2)
    assert result.stop_reason in {"answer", "max_turns", "model_error"}
    assert result.answer.strip()  # never a blank answer
    if b'"choices": [{' not in body:
        assert result.stop_reason == "model_error" and "no choices" in (result.error or "")


@pytest.mark.parametrize(
    ("status", "body", "match"),
    [
        (500, b'{"error": {"message": "overloaded"}}', "HTTP 500"),
        (401, b'{"error": {"message": "bad key"}}', "HTTP 401"),
        (200, b"<html>not json</html>", "not JSON (HTTP 200"),
    ],
)
def test_endpoint_errors_end_the_run_with_a_clear_reason(
    hostile: ThreadingHTTPServer, status: int, body: bytes, match: str, tiny_search: Tool
) -> None:
    _Hostile.replies = [(status, body)]
    result = run_agent("x?", model=_model_at(hostile), tools=[tiny_search])
    assert result.stop_reason == "model_error"
    assert match in (result.error or "")
    assert "sk-test-123" not in result.answer + (result.error or "")


def test_unreachable_endpoint_is_model_unavailable() -> None:
    model = ChatModel(ModelConfig(base_url="http://127.0.0.1:9/v1", api_key=Secret("k"), max_retries=0, timeout=2))
    with pytest.raises(ModelUnavailable, match=r"connection refused at http://127.0.0.1:9/v1 \(1 attempt\)"):
        model.complete([{"role": "user", "content": "hi"}], [])


def test_keys_never_show_in_reprs_and_config_comes_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTLAB_BASE_URL", "http://127.0.0.1:11434/v1")
    monkeypatch.setenv("AGENTLAB_API_KEY", "sk-very-secret")
    monkeypatch.setenv("AGENTLAB_MODEL", "llama3.2")
    model = from_env(timeout=7.0)
    assert model.config.model == "llama3.2" and model.config.timeout == 7.0
    assert model.config.api_key is not None and model.config.api_key.value == "sk-very-secret"
    assert "sk-very-secret" not in repr(model.config) + repr(model) + str(model.config.api_key)
    monkeypatch.delenv("AGENTLAB_BASE_URL")
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(ConfigError, match="AGENTLAB_BASE_URL"):
        from_env()
    with pytest.raises(ConfigError, match="needs a key"):
        monkeypatch.delenv("AGENTLAB_API_KEY")
        monkeypatch.delenv("OPENAI_API_KEY", raising=False)
        from_env(base_url="https://api.openai.com/v1")


def test_model_config_pickles_and_each_process_gets_its_own_endpoint() -> None:
    model = offline_model(seed=5, q=0.5)
    clone = pickle.loads(pickle.dumps(model))
    assert clone.config == model.config
    reply = clone.complete([{"role": "user", "content": "hello"}], [])
    assert reply.is_final


class _Recorder(_Hostile):
    """Answers like `_Hostile`, and keeps what each request carried."""

    seen: list[tuple[str, str, dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
        self.seen.append((self.path, self.headers.get("Authorization", ""), body))
        status, reply = self.replies.pop(0)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)


@pytest.mark.parametrize("calling", ["native", "json"])
def test_requests_are_what_the_sdks_create_would_send(tiny_search: Tool, calling: str) -> None:
    """ChatModel posts through the SDK's client without `chat.completions.create`'s transform (2 ms a
    step); this holds it to the same bytes: the transform of every request it sends changes nothing."""
    call = {"id": "c1", "type": "function", "function": {"name": "search", "arguments": '{"query": "INC-1"}'}}
    first = {"role": "assistant", "content": None, "tool_calls": [call]}
    if calling == "json":
        first = {"role": "assistant", "content": json.dumps({"tool": "search", "arguments": {"query": "INC-1"}})}
    replies = [first, {"role": "assistant", "content": "INC-1 was a full disk."}]
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Recorder.seen = []
    bodies = [json.dumps({"choices": [{"message": m, "finish_reason": "stop"}]}).encode() for m in replies]
    _Recorder.replies = [(200, body) for body in bodies]
    try:
        model = _model_at(server).with_options(tool_calling=calling, seed=7, temperature=0.0)
        result = run_agent("What caused INC-1?", model=model, tools=[tiny_search], system="Be brief.")
    finally:
        server.shutdown()
        server.server_close()
    assert result.stop_reason == "answer", result.error
    assert len(_Recorder.seen) == 2
    for path, auth, body in _Recorder.seen:
        assert path == "/v1/chat/completions" and auth == "Bearer sk-test-123"
        assert maybe_transform(body, CompletionCreateParamsNonStreaming) == body
    last = _Recorder.seen[-1][2]
    assert last["model"] == "m" and last["seed"] == 7 and len(last["messages"]) == 4
    assert ("response_format" in last) == (calling == "json") and ("tools" in last) == (calling == "native")
