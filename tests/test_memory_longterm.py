"""Long-term memory: what run 1 learned, run 2 — in another process — finds through the retrieval tool."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from agentlab.memory import HashingEmbedder, LongTermMemory
from agentlab.memory.longterm import embedder_from_env

RUN_1 = """
import sys
from agentlab.memory import Blackboard, LongTermMemory
board = Blackboard.local(sys.argv[1] + "/board.sqlite", "run-1")
board.post("finding/inc-2042", "The root cause of INC-2042 was an expired TLS certificate on the Kestrel Probe fleet.")
board.post("finding/refunds", "Refunds for hardware are allowed within 30 days of delivery.")
print(LongTermMemory(sys.argv[1] + "/memory.sqlite").remember_board(board, run_id="run-1"))
"""

RUN_2 = """
import json, sys
from agentlab.agent.loop import run_agent
from agentlab.memory import LongTermMemory
from agentlab.models.chat import offline_model
from agentlab.agent.retrieval import search_tool
memory = LongTermMemory(sys.argv[1] + "/memory.sqlite")
tools = [search_tool(memory, "search_memory")]
result = run_agent("What was the root cause of INC-2042?", model=offline_model(), tools=tools)
print(json.dumps({"stop_reason": result.stop_reason, "answer": result.answer, "trace": result.trace.table()}))
"""


def _python(code: str, folder: Path) -> str:
    done = subprocess.run([sys.executable, "-c", code, str(folder)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_finding_from_run_1_is_retrieved_by_run_2_in_a_new_process(tmp_path: Path) -> None:
    assert _python(RUN_1, tmp_path).strip() == "2"
    run_2 = json.loads(_python(RUN_2, tmp_path))
    assert run_2["stop_reason"] == "answer"
    assert "expired TLS certificate" in run_2["answer"]
    assert "search_memory" in run_2["trace"]


def test_remembering_is_idempotent_and_search_ranks_by_bm25(tmp_path: Path) -> None:
    memory = LongTermMemory(str(tmp_path / "m.sqlite"))
    assert memory.remember("r1", "a", "Orion Gateway disk full on 3 March")
    assert not memory.remember("r1", "a", "Orion Gateway disk full on 3 March")
    memory.remember("r1", "b", "Kestrel Probe certificate expired")
    assert [d.id for d in memory.search("orion gateway", k=5)] == ["r1/a"]
    assert memory.search("") == [] and memory.search('"; DROP TABLE memory_docs; --') == []
    assert len(memory) == 2


def test_hashed_vectors_need_no_download_and_join_the_ranking(tmp_path: Path) -> None:
    vectors = HashingEmbedder(dim=64).embed(["disk full", "disk full", ""])
    assert np.allclose(vectors[0], vectors[1]) and np.isclose(np.linalg.norm(vectors[0]), 1.0)
    assert not vectors[2].any()
    memory = LongTermMemory(str(tmp_path / "m.sqlite"), embedder=HashingEmbedder())
    memory.remember("r1", "a", "Orion Gateway disk full")
    memory.remember("r1", "b", "Kestrel Probe certificate expired")
    assert memory.search("certificate", k=1)[0].id == "r1/b"


def test_an_embeddings_endpoint_is_used_only_when_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AGENTLAB_EMBEDDINGS_URL", raising=False)
    assert embedder_from_env() is None
    monkeypatch.setenv("AGENTLAB_EMBEDDINGS_URL", "http://127.0.0.1:1/v1")
    assert "127.0.0.1:1" in repr(embedder_from_env())
