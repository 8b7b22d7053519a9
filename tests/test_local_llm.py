"""A real model, offline: SmolLM2-135M on llama.cpp, through json tool calling (opt-in, marked local_llm).

Skipped unless `agentlab.models.localllm.INSTALL` has been run. The model is tiny and its server drops
`tools`, so the run uses `--tool-calling json`: the check is that it makes a schema-valid search_kb
call (the tool ran: its arguments passed the tool's schema) and ends with an answer or a clear reason,
and that the cassette it recorded replays offline, identically.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agentlab.agent.retrieval import search_tool
from agentlab.cli.main import main
from agentlab.data import kb_index
from agentlab.errors import ModelUnavailable
from agentlab.models.chat import from_env
from agentlab.models.localllm import INSTALL, LocalLLM, available
from agentlab.models.window import context_window

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


def _searches(count: int) -> list[dict[str, Any]]:
    """A conversation of `count` searches for 20 documents each, as the agent loop keeps it."""
    index = kb_index()
    messages: list[dict[str, Any]] = [{"role": "user", "content": QUESTION}]
    for n, query in enumerate(["INC-2108 root cause", "INC-2108 incident report", "certificate expiry"][:count]):
        fn = {"name": "search_kb", "arguments": json.dumps({"query": query, "k": 20 if n != 1 else 2031})}
        messages.append({"role": "assistant", "content": None, "tool_calls": [{"id": f"c{n}", "function": fn}]})
        hits = "\n\n".join(d.render() for d in index.search(query, 20))
        messages.append({"role": "tool", "tool_call_id": f"c{n}", "content": hits})
    return messages


@pytest.mark.timeout(1800)
def test_a_4096_token_llama_cpp_is_asked_its_window_and_never_overflowed() -> None:
    """Three searches of 20 documents are ~12k real tokens: fitted by the real tokenizer's count, they fit."""
    tools = [search_tool(kb_index()).schema()]
    with LocalLLM(context=4096) as small:
        model = from_env(base_url=small.base_url, model=small.model, api_key="none", max_tokens=8, max_retries=0)
        model = model.with_options(tool_calling="json", timeout=600.0)
        assert context_window(model.config) == 4096  # llama.cpp's /props
        reply = model.complete(_searches(3), tools)
        assert reply.usage["prompt_tokens"] + 8 <= 4096 and reply.usage["context_dropped_turns"] >= 1, reply.usage
        # the broken variant: told a larger window than it has, the real server refuses the request
        with pytest.raises(ModelUnavailable, match="context"):
            model.with_options(context_window=100_000).complete(_searches(3), tools)


@pytest.mark.timeout(600)
def test_lab_00s_real_model_cell_gets_a_tool_call_from_llama_cpp(monkeypatch: pytest.MonkeyPatch) -> None:
    """The cell as written, against SmolLM2 (whose server drops `tools`): "auto" finds that out, and calls."""
    labs = Path(__file__).parent.parent / "labs"
    path = next(p for p in (labs / "source" / "00_setup.ipynb", labs / "00_setup.ipynb") if p.exists())
    cells = [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
    setup = next(c for c in cells if "search_schema = " in "".join(c["source"]))
    real = next(c for c in cells if "real_model = from_env(" in "".join(c["source"]))
    monkeypatch.delenv("AGENTLAB_TOOL_CALLING", raising=False)
    with LocalLLM(context=4096) as small:
        monkeypatch.setenv("AGENTLAB_BASE_URL", small.base_url)
        monkeypatch.setenv("AGENTLAB_MODEL", small.model)
        namespace: dict[str, Any] = {"os": __import__("os")}
        for cell in (setup, real):
            exec("".join(cell["source"]), namespace)  # the lab's own cells
    assert namespace["real_calls"] and namespace["real_reply"].tool_calls[0].name == "search_kb"
