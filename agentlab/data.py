"""Loaders for the datasets agentlab ships (see datasets/README.md): all local files, nothing downloaded.

The data lives in the repository's `datasets/` folder (an editable install reads it there) and is
copied into the wheel as `agentlab/_datasets`; `AGENTLAB_DATA` points elsewhere if you need to.
"""

from __future__ import annotations

import functools
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentlab.agent.retrieval import Document, Index
from agentlab.errors import ConfigError

__all__ = [
    "Question",
    "data_dir",
    "demo_goal",
    "demo_question",
    "kb_documents",
    "kb_index",
    "kb_questions",
    "read_json",
]


def data_dir() -> Path:
    """The datasets folder: $AGENTLAB_DATA, else the packaged copy, else the repository's."""
    here = Path(__file__).resolve().parent
    candidates = [Path(p) for p in [os.environ.get("AGENTLAB_DATA")] if p]
    candidates += [here / "_datasets", here.parent / "datasets"]
    for path in candidates:
        if (path / "kb" / "documents.jsonl").exists():
            return path
    raise ConfigError(f"agentlab's datasets were not found (looked in {', '.join(map(str, candidates))})")


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def read_json(relative: str) -> Any:
    """Read one JSON or JSON-lines file from the datasets folder."""
    path = data_dir() / relative
    return _jsonl(path) if path.suffix == ".jsonl" else json.loads(path.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    answer: str
    doc_ids: tuple[str, ...]
    kind: str

    def is_answered_by(self, text: str) -> bool:
        """Ground truth check: the short answer appears in the text (case-insensitive)."""
        return self.answer.lower() in text.lower()


@functools.cache
def kb_documents() -> tuple[Document, ...]:
    return tuple(Document(d["id"], d["title"], d["text"]) for d in read_json("kb/documents.jsonl"))


@functools.cache
def kb_index() -> Index:
    """The BM25 index over the knowledge base (built once per process, ~0.1 s)."""
    return Index(kb_documents())


@functools.cache
def kb_questions() -> tuple[Question, ...]:
    return tuple(
        Question(q["id"], q["question"], q["answer"], tuple(q["doc_ids"]), q.get("kind", ""))
        for q in read_json("kb/questions.jsonl")
    )


def demo_question() -> Question:
    """The single-agent demo question (`agentlab run --single`, lab 01)."""
    wanted = read_json("kb/demo.json")["question_id"]
    return next(q for q in kb_questions() if q.id == wanted)


def demo_goal(parts: int = 3) -> tuple[str, list[Question]]:
    """The fan-out demo's research goal: the root causes of several incidents, and each one's ground truth.

    It starts from the demo question and adds the next root-cause questions of the question set.
    """
    first = demo_question()
    same_kind = [
        q
        for q in kb_questions()
        if q.id != first.id
        and q.kind == first.kind
        and "INC-" in q.question
        and q.question.startswith(("What was the root cause", "What was INC-"))
        and len(q.doc_ids) == 1
    ]
    chosen = [first, *same_kind[: parts - 1]]
    ids = [re.search(r"INC-\d+", q.question).group(0) for q in chosen]  # type: ignore[union-attr]
    return f"What were the root causes of {', '.join(ids[:-1])} and {ids[-1]}?", chosen
