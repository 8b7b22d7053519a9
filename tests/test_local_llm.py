"""A real model, offline: SmolLM2-135M on llama.cpp, through json tool calling (opt-in, marked local_llm).

Skipped unless `agentlab.models.localllm.INSTALL` has been run. The model is tiny and its server drops
`tools`, so the run uses `--tool-calling json`: the check is that it makes a schema-valid search_kb
call (the tool ran: its arguments passed the tool's schema) and ends with an answer or a clear reason,
and that the cassette it recorded replays offline, identically.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentlab.cli.main import main
from agentlab.models.localllm import INSTALL, LocalLLM, available

pytestmark = [pytest.mark.local_llm, pytest.mark.skipif(not available(), reason=f"needs: {INSTALL}")]

QUESTION = "What was the root cause of INC-2108?"


@pytest.fixture(scope="module")
def llm() -> Iterator[LocalLLM]:
    with LocalLLM() as server:
        yield server


def _rows(output: str) -> list[str]:
    return [re.sub(r"^\s*[\d.]+\s+[\d.]+\s+", "", line) for line in output.splitlines() if re.match(r"^\s*\d", line)]


@pytest.mark.timeout(1800)  # two model steps on a CPU: about a minute unloaded, much longer on a busy machine
def test_smollm2_makes_a_schema_valid_call_in_json_mode_and_replays(
    llm: LocalLLM, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    tape = str(tmp_path / "smollm2.jsonl")
    common = ["run", QUESTION, "--single", "--base-url", llm.base_url, "--model", llm.model, "--tool-calling", "json"]
    limits = ["--max-tokens", "48", "--max-turns", "1", "--timeout", "600", "--max-retries", "0"]
    code = main([*common, *limits, "--cassette", tape])
    live = capfd.readouterr().out
    assert "Traceback" not in live
    call = re.search(r"model\s+tool_calls\s+(search_kb|give_up)\(\{", live)  # a call, in the tool's own format
    assert call, live
    if call.group(1) == "search_kb":  # the tool accepted its arguments: schema-valid
        assert re.search(r"tool:search_kb\s+ok ", live), live
    else:  # offered `give_up`, the 135M model often takes it at once: a schema-valid call all the same
        assert re.search(r"stopped\s+: gave_up", live) and "The agent gave up: " in live, live
    answer = re.findall(r"^(?:no answer|answer)\s*:(.*)$", live, re.MULTILINE)
    assert answer and answer[-1].strip() and code in (0, 1)
    replay = main([*common, *limits, "--replay", tape])
    replayed = capfd.readouterr().out
    assert replay == code and _rows(replayed) == _rows(live)
