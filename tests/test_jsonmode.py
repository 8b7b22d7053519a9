"""Tool calling without native support: the prompt, the schema, the lenient parser, and a run through it."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from agentlab.agent.loop import run_agent
from agentlab.agent.tools import Tool
from agentlab.models.chat import ChatModel
from agentlab.models.config import ModelConfig, Secret
from agentlab.models.jsonmode import STRING_CAP, json_messages, parse_step, response_format, step_schema
from agentlab.wire import ModelReply

SEARCH = {
    "type": "function",
    "function": {
        "name": "search_kb",
        "description": "Search the knowledge base.",
        "parameters": {
            "type": "object",
            "properties": {"query": {"type": "string"}, "k": {"type": "integer", "default": 5}},
            "required": ["query"],
        },
    },
}


def _step(text: str | None, finish: str = "stop") -> ModelReply:
    return parse_step(text, ModelReply(text, (), finish))


def test_schema_allows_a_call_of_each_tool_or_an_answer() -> None:
    schema = step_schema([SEARCH])
    call, answer = schema["anyOf"]
    assert call["properties"]["tool"] == {"type": "string", "enum": ["search_kb"]}
    assert call["properties"]["arguments"]["properties"]["query"]["maxLength"] == STRING_CAP
    assert answer["required"] == ["answer"]
    assert step_schema([SEARCH], "none") == answer  # the last step may only answer
    assert step_schema([SEARCH], "required") == call  # a required call may not answer
    assert response_format([SEARCH])["json_schema"]["schema"] == schema


def test_tool_turns_are_rewritten_as_text_after_the_rules() -> None:
    history = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Why INC-1?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "search_kb", "arguments": '{"query": "INC-1"}'}}
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "a bad deploy"},
    ]
    out = json_messages(history, [SEARCH])
    assert out[0]["role"] == "system" and out[0]["content"].startswith("Be brief.")
    assert "search_kb(query: string, k: integer (optional))" in out[0]["content"]
    assert json.loads(out[2]["content"]) == {"tool": "search_kb", "arguments": {"query": "INC-1"}}
    assert out[3] == {"role": "user", "content": "Result of search_kb: a bad deploy"}
    assert all("tool_calls" not in m and m["role"] != "tool" for m in out)


@pytest.mark.parametrize(
    "text",
    [
        '{"tool": "search_kb", "arguments": {"query": "INC-1"}}',
        '```json\n{"tool": "search_kb", "arguments": {"query": "INC-1"}}\n```',
        'Sure! Here is my call: {"name": "search_kb", "args": {"query": "INC-1"}} Hope it helps.',
        '{"tool": "search_kb", "arguments": {"query": "INC-1',  # cut off by max_tokens
    ],
)
def test_calls_are_parsed_leniently(text: str) -> None:
    reply = _step(text)
    assert [(c.name, json.loads(c.arguments)) for c in reply.tool_calls] == [("search_kb", {"query": "INC-1"})]
    assert reply.finish_reason == "tool_calls" and reply.content is None
    assert _step(text).tool_calls[0].id == reply.tool_calls[0].id  # stable: cassettes replay


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ('{"answer": "a bad deploy"}', "a bad deploy"),
        ('{"final_answer": "a bad deploy"}', "a bad deploy"),
        ("It was a bad deploy.", "It was a bad deploy."),  # prose: the model ignored the format
        ('{"something": "else"}', '{"something": "else"}'),
    ],
)
def test_answers_and_prose_are_final(text: str, answer: str) -> None:
    reply = _step(text)
    assert reply.is_final and reply.content == answer


class _TextOnly(BaseHTTPRequestHandler):
    """A server like llama.cpp without tool support: ignores `tools`, answers with queued text."""

    replies: list[str] = []
    requests: list[dict[str, Any]] = []

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        request = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
        self.requests.append(request)
        text = self.replies.pop(0) if self.replies else "I do not know."
        body = json.dumps({"choices": [{"message": {"role": "assistant", "content": text}, "finish_reason": "stop"}]})
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def text_only() -> Iterator[str]:
    _TextOnly.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _TextOnly)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def _model(url: str, tool_calling: str) -> ChatModel:
    config = ModelConfig(model="m", base_url=url, api_key=Secret("k"), max_retries=0, timeout=5)
    return ChatModel(config).with_options(tool_calling=tool_calling)


def test_json_mode_runs_the_same_loop_with_real_tools(text_only: str, tiny_search: Tool) -> None:
    _TextOnly.replies = [
        '```json\n{"tool": "search_kb", "arguments": {"query": "INC-1002 root cause"}}\n```',
        '{"answer": "an expired TLS certificate [d-2]"}',
    ]
    result = run_agent("What was the root cause of INC-1002?", model=_model(text_only, "json"), tools=[tiny_search])
    assert result.stop_reason == "answer" and result.answer == "an expired TLS certificate [d-2]"
    assert list(result.to_frame()["outcome"]) == ["tool_calls", "ok", "stop"]
    first, second = _TextOnly.requests
    assert "tools" not in first and first["response_format"]["type"] == "json_schema"
    assert first["max_tokens"] == 1024
    assert second["messages"][-1]["content"].startswith("Result of search_kb: ")
    assert "expired TLS certificate" in second["messages"][-1]["content"]  # the tool really ran


def test_auto_mode_notices_a_server_that_ignores_tools(text_only: str, tiny_search: Tool) -> None:
    _TextOnly.replies = ["Hello! How can I help?", '{"tool": "search_kb", "arguments": {"query": "INC-1002"}}']
    _TextOnly.replies.append('{"answer": "done"}')
    result = run_agent("Why INC-1002?", model=_model(text_only, "auto"), tools=[tiny_search])
    probe, first, _ = _TextOnly.requests
    assert probe["tool_choice"] == "required" and "tools" in probe  # the one-time probe
    assert "tools" not in first and "response_format" in first  # then json mode
    assert result.answer == "done"
    assert result.messages[1]["tool_calls"][0]["function"]["name"] == "search_kb"


def test_auto_mode_stays_native_where_tools_work(tiny_search: Tool) -> None:
    from agentlab.models.offline.policy import PolicyConfig
    from agentlab.models.offline.server import serve

    server = serve(PolicyConfig())
    try:
        model = _model(server.base_url, "auto")
        result = run_agent("What was the root cause of INC-1002?", model=model, tools=[tiny_search])
        assert result.stop_reason == "answer" and "expired TLS certificate" in result.answer
        assert result.messages[1]["tool_calls"][0]["id"].startswith("call_")  # a native call, no probe left over
    finally:
        server.stop()


def test_json_mode_describes_give_up_like_any_tool_and_a_model_can_call_it(text_only: str, tiny_search: Tool) -> None:
    _TextOnly.replies = ['{"tool": "give_up", "arguments": {"reason": "nothing in the knowledge base fits"}}']
    result = run_agent("Why INC-9999?", model=_model(text_only, "json"), tools=[tiny_search])
    assert (result.stop_reason, result.error) == ("gave_up", "nothing in the knowledge base fits")
    (request,) = _TextOnly.requests
    options = request["response_format"]["json_schema"]["schema"]["anyOf"]
    assert [o["properties"].get("tool", {}).get("enum") for o in options] == [["search_kb"], ["give_up"], None]
    assert "- give_up(reason: string): Call this only when you cannot finish" in request["messages"][0]["content"]
