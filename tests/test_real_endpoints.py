"""`agentlab run` against endpoints it did not write: every hostile mode, one agent and the fan-out.

Each run has `--timeout 3`; the CLI's own limits end it (no wall-clock assertion). Every run must end
without a traceback, without the key anywhere in its output, and never with a blank answer.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from agentlab.cli.main import main
from agentlab.models.offline.policy import PolicyConfig
from agentlab.models.offline.server import serve
from agentlab.testing.hostile import MODES, HostileServer

KEY = "sk-hostile-test-key-0123456789"
QUESTION = "What was the root cause of INC-2108?"
ANSWER_LINE = re.compile(r"^(no answer|answer)\s*:(.*)$", re.MULTILINE)

# what each mode must make the one-agent run say (the fan-out says it per sub-task or at the plan)
SAYS = {
    "empty_choices": "the reply had no choices",
    "null_content": "no content and no tool calls",
    "http_500": "HTTP 500 after 3 attempts",
    "http_429": "HTTP 429 after 3 attempts",
    "slow": "no reply within 3 s (3 attempts)",
    "non_json": "is not JSON (HTTP 200, text/html)",
    "huge_arguments": "characters of arguments dropped",
    "unknown_tool": "UnknownTool",
    "wrong_types": "InvalidArguments",
    "malformed_arguments": "MalformedArguments",
    "endless_tool_calls": "max_turns",
    "duplicate_ids": "max_turns",
    "smuggle": "the key you sent me is ****",
}


@pytest.fixture(autouse=True)
def _key_in_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AGENTLAB_BASE_URL", "AGENTLAB_API_KEY", "OPENAI_API_KEY", "OPENAI_BASE_URL", "AGENTLAB_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOSTILE_KEY", KEY)


def _run(capfd: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["run", QUESTION, "--api-key-env", "HOSTILE_KEY", "--timeout", "3", *args])
    out, err = capfd.readouterr()
    return code, out + err


def _check(code: int, output: str) -> str:
    """The checks every hostile run must pass; returns the answer text."""
    assert "Traceback" not in output, output[-3000:]
    assert KEY not in output and KEY[:12] not in output
    lines = ANSWER_LINE.findall(output)
    assert lines, output[-2000:]
    kind, text = lines[-1]
    assert text.strip(), "a blank answer"
    assert (code == 0) == (kind == "answer"), output[-2000:]
    return text


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
def test_one_agent_survives_every_hostile_mode(mode: str, capfd: pytest.CaptureFixture[str]) -> None:
    with HostileServer(mode) as server:
        code, output = _run(capfd, "--single", "--base-url", server.base_url)
    answer = _check(code, output)
    assert SAYS[mode] in output, output[-3000:]
    if mode in ("empty_choices", "null_content"):
        assert code != 0  # an empty reply is never an answer
    if mode == "smuggle":
        assert code == 0 and "****" in answer and "tool:transfer_funds" not in output  # text is not an action
    if mode == "unknown_tool":
        assert "tool:transfer_funds" in output and " ok " not in output.split("tool:transfer_funds")[1][:40]


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
def test_the_fan_out_survives_every_hostile_mode(
    mode: str, capfd: pytest.CaptureFixture[str], process_cluster: Any
) -> None:
    with HostileServer(mode) as server:
        code, output = _run(
            capfd, "--base-url", server.base_url, "--max-turns", "3", "--address", process_cluster.address
        )
    _check(code, output)
    if mode in ("empty_choices", "null_content", "http_500", "http_429", "slow", "non_json"):
        assert code != 0 and SAYS[mode] in output  # the plan step fails first, and says why


@pytest.mark.slow
def test_the_key_is_never_printed_traced_journaled_or_cassetted(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], process_cluster: Any
) -> None:
    journal, tape = tmp_path / "journal.sqlite", tmp_path / "tape.jsonl"
    with HostileServer("smuggle") as server:  # it echoes the Authorization header back in its answer
        single = _run(capfd, "--single", "--base-url", server.base_url, "--cassette", str(tape))
        fanned = _run(
            capfd,
            *("--base-url", server.base_url, "--address", process_cluster.address),
            *("--run-id", "leak", "--journal", str(journal), "--cassette", str(tape)),
        )
    for code, output in (single, fanned):
        _check(code, output)
    assert "****" in tape.read_text() and KEY not in tape.read_text()
    files = [p for p in tmp_path.iterdir() if p.name.startswith("journal.sqlite")]
    assert files and all(KEY.encode() not in p.read_bytes() for p in files)
    with sqlite3.connect(journal) as db:  # and not in any value, whatever the page layout
        tables = [r[0] for r in db.execute("select name from sqlite_master where type = 'table'")]
        for table in tables:
            assert KEY not in repr(db.execute(f"select * from {table}").fetchall())


def _steps(output: str) -> list[str]:
    """The trace table's rows without their timings, and the answer line."""
    rows = [re.sub(r"^\s*[\d.]+\s+[\d.]+\s+", "", line) for line in output.splitlines() if re.match(r"^\s*\d", line)]
    return rows + ANSWER_LINE.findall(output)[-1:]  # type: ignore[list-item]


def test_a_cassette_recorded_against_an_endpoint_replays_offline_identically(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    tape = str(tmp_path / "run.jsonl")
    server = serve(PolicyConfig())  # an endpoint reached by URL, like any real server
    try:
        recorded = _run(capfd, "--single", "--base-url", server.base_url, "--seed", "3", "--cassette", tape)
    finally:
        server.stop()
    replayed = _run(capfd, "--single", "--base-url", server.base_url, "--seed", "3", "--replay", tape)
    assert recorded[0] == replayed[0] == 0
    assert _steps(recorded[1]) == _steps(replayed[1]) and len(_steps(recorded[1])) >= 3
    different = _run(capfd, "--single", "--base-url", server.base_url, "--seed", "4", "--replay", tape)
    assert different[0] != 0 and "has no (more) responses" in different[1]  # not silently live


SMOLLM2_TAPE = Path(__file__).parent / "cassettes" / "smollm2_inc2108.jsonl"


def test_a_real_small_models_run_replays_offline(capfd: pytest.CaptureFixture[str]) -> None:
    """SmolLM2-135M on llama.cpp, recorded once with the issue's command (a few seconds a step on two cores):

        AGENTLAB_BASE_URL=http://127.0.0.1:8080/v1 agentlab run "What was the root cause of INC-2108?" \\
            --single --tool-calling json --max-tokens 200 --cassette tests/cassettes/smollm2_inc2108.jsonl

    (served by `python -m agentlab.models.localllm --port 8080`, with AGENTLAB_TIMEOUT=900). A miss here means the
    requests changed (the tools, their schema or the json-mode prompt): record the tape again. Recorded again when
    the loop began offering `give_up`: the small model now calls it on its first step, through json mode, with a
    "reason" that is really a guess at the answer. The run ends gave_up, not answer: wrong, and said truthfully.
    Recorded again when `agentlab run` began giving its agents the course workspace's tools (the request changed);
    the model still gives up at once, with another guess.
    """
    code = main(
        [
            *("run", QUESTION, "--single", "--base-url", "http://127.0.0.1:8080/v1"),
            *("--tool-calling", "json", "--max-tokens", "200", "--replay", str(SMOLLM2_TAPE)),
        ]
    )
    output = capfd.readouterr().out
    (call,) = re.findall(r"model\s+tool_calls\s+(\w+)\((\{.*)$", output, re.MULTILINE)  # one call (cut for width)
    assert call[0] == "give_up" and call[1].startswith('{"reason": "The root cause of Inc-2108 is a bug')
    assert "tool:" not in output  # giving up is never run as a tool
    assert code == 1 and "stopped  : gave_up after 0" in output  # wrong, and the engine says so
    assert "no answer: The agent gave up: The root cause of Inc-2108 is a bug in the Inc-2108." in output
