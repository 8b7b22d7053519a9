"""Per-request limits on a model call: where they come from, what they stop, and what they say."""

from __future__ import annotations

import argparse

import httpx2
import pytest

from agentlab.cli.model_options import add_model_arguments, model_from_args
from agentlab.errors import ConfigError, ModelUnavailable
from agentlab.models.chat import ChatModel, from_env
from agentlab.models.config import ModelConfig, Secret
from agentlab.models.transport import BoundedTransport, retry_delay, should_retry
from agentlab.testing.hostile import HostileServer

KEY = "sk-limits-test-key-987654321"


def test_retry_decisions_are_pure() -> None:
    assert should_retry(None) and should_retry(429) and should_retry(503)
    assert not should_retry(400) and not should_retry(401)
    assert [retry_delay(n, None, cap=30) for n in (1, 2, 3)] == [0.5, 1.0, 2.0]
    assert retry_delay(1, 7.0, cap=30) == 7.0  # the server's Retry-After wins
    assert retry_delay(1, 3600.0, cap=3) == 3.0  # but a lab never waits longer than its timeout


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_model_arguments(parser)
    return parser.parse_args(list(argv))


def test_limits_come_from_arguments_then_environment_then_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTLAB_BASE_URL", "http://127.0.0.1:9/v1")
    assert from_env().config.timeout == 30.0 and from_env().config.max_tokens == 1024
    monkeypatch.setenv("AGENTLAB_TIMEOUT", "12")
    monkeypatch.setenv("AGENTLAB_MAX_TOKENS", "256")
    monkeypatch.setenv("AGENTLAB_TOOL_CALLING", "json")
    config = from_env().config
    assert (config.timeout, config.max_tokens, config.tool_calling) == (12.0, 256, "json")
    config = model_from_args(_args("--timeout", "3", "--max-tokens", "64", "--tool-calling", "auto")).config
    assert (config.timeout, config.max_tokens, config.tool_calling) == (3.0, 64, "auto")
    monkeypatch.setenv("AGENTLAB_MAX_TOKENS", "many")
    with pytest.raises(ConfigError, match="AGENTLAB_MAX_TOKENS"):
        from_env()
    with pytest.raises(ConfigError, match="tool_calling"):
        ModelConfig(tool_calling="telepathy")  # type: ignore[arg-type]


def test_cassette_options_apply_to_every_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AGENTLAB_BASE_URL", raising=False)
    offline = model_from_args(_args("--cassette", "a.jsonl")).config
    real = model_from_args(_args("--base-url", "http://127.0.0.1:9/v1", "--cassette", "a.jsonl")).config
    assert offline.cassette == real.cassette == "a.jsonl"  # never silently ignored
    replay = model_from_args(_args("--base-url", "http://127.0.0.1:9/v1", "--replay", "a.jsonl")).config
    assert (replay.cassette_mode, replay.base_url, replay.api_key) == ("replay", "http://cassette.invalid/v1", None)
    with pytest.raises(SystemExit):
        _args("--cassette", "a.jsonl", "--replay", "a.jsonl")
    monkeypatch.delenv("NO_SUCH_KEY_VAR", raising=False)
    with pytest.raises(ConfigError, match="NO_SUCH_KEY_VAR"):
        model_from_args(_args("--base-url", "http://127.0.0.1:9/v1", "--api-key-env", "NO_SUCH_KEY_VAR"))


def _at(server: HostileServer, **limits: object) -> ChatModel:
    config = ModelConfig(model="m", base_url=server.base_url, api_key=Secret(KEY), **limits)  # type: ignore[arg-type]
    return ChatModel(config)


def test_each_request_carries_max_tokens_and_a_trickle_is_cut_at_the_timeout() -> None:
    with HostileServer("slow") as server:
        model = _at(server, timeout=1.0, max_retries=1, max_tokens=77)
        with pytest.raises(ModelUnavailable, match=r"no reply within 1 s \(2 attempts\) from http://127"):
            model.complete([{"role": "user", "content": "hi"}], [])
        assert server.requests == 2 and server.last_request["max_tokens"] == 77


def test_rate_limits_are_retried_and_then_named() -> None:
    with HostileServer("http_429") as server:
        model = _at(server, timeout=0.2, max_retries=2)  # Retry-After: 1, capped at the 0.2 s timeout
        with pytest.raises(ModelUnavailable, match=r"HTTP 429 after 3 attempts from .*rate limit reached"):
            model.complete([{"role": "user", "content": "hi"}], [])
        assert server.requests == 3


def test_a_reply_over_the_size_cap_is_cut_off() -> None:
    with HostileServer("huge_arguments") as server:
        model = _at(server, max_reply_bytes=100_000, max_retries=0)
        with pytest.raises(ModelUnavailable, match="passed 100,000 bytes"):
            model.complete([{"role": "user", "content": "hi"}], [])
        reply = _at(server, max_retries=0).complete([{"role": "user", "content": "hi"}], [])
        assert reply.tool_calls[0].arguments.endswith("over the 20000 cap>")  # under the body cap: args capped


def test_a_key_echoed_by_the_server_is_masked() -> None:
    with HostileServer("smuggle") as server:
        reply = _at(server, max_retries=0).complete([{"role": "user", "content": "hi"}], [])
    assert reply.content is not None and KEY not in reply.content and "the key you sent me is ****" in reply.content


def test_bounded_transport_returns_whole_decoded_replies() -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, json={"ok": True}, headers={"Retry-After": "2"})

    transport = BoundedTransport(5.0, 1000, inner=httpx2.MockTransport(handler))
    with httpx2.Client(transport=transport) as client:
        response = client.get("http://127.0.0.1/x")
    assert response.json() == {"ok": True} and response.headers["retry-after"] == "2"


def test_auto_mode_against_a_failing_server_probes_once_per_step_and_reports_the_step() -> None:
    with HostileServer("http_500") as server:
        model = _at(server, max_retries=0, tool_calling="auto")
        with pytest.raises(ModelUnavailable, match="HTTP 500 after 1 attempt from"):
            model.complete([{"role": "user", "content": "hi"}], [{"type": "function", "function": {"name": "f"}}])
        assert server.requests == 2  # one probe (no verdict, not remembered), then the step itself
