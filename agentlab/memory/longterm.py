"""Long-term memory: findings that outlive a run, searched by later runs through the retrieval tool (lab 05).

The board holds one run's working notes; what a run learned that is worth keeping goes here, and the
next run finds it with the same tool it uses for the knowledge base:

    memory = LongTermMemory("~/.agentlab/memory.sqlite")
    memory.remember_board(board, run_id="run-1")                     # end of run 1
    run_agent(goal, model=..., tools=[search_tool(memory, "search_memory")])   # run 2, any process

Storage and ranking are SQLite's FTS5 full-text index from the standard library (BM25 ranking, Porter
stemming): a well-kept embedded engine, one file, no server, nothing to download. Give an `embedder`
to add vector search: `HashingEmbedder` (hashed bag of words, local, no model download) or
`OpenAIEmbedder` for any OpenAI-compatible embeddings endpoint (`embedder_from_env`). Vectors are kept
beside the text in the same file; the two rankings are merged by reciprocal rank fusion
(score = Σ 1 / (60 + rank)), so an embedder can find a paraphrase the words alone would miss.

The object pickles by path, so a search tool built on it runs on the workers of a cluster that share
this file system. Left out: forgetting (all findings are kept), deduplication of near-identical
findings, and vector indexes for millions of entries (vectors are compared by brute force in numpy).
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
import time
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import openai

from agentlab.agent.retrieval import Document
from agentlab.memory.board import Blackboard
from agentlab.memory.store import open_db
from agentlab.text import content_terms

__all__ = ["Embedder", "HashingEmbedder", "LongTermMemory", "OpenAIEmbedder", "embedder_from_env"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS memory_docs (
    id INTEGER PRIMARY KEY, doc_id TEXT NOT NULL UNIQUE, run_id TEXT NOT NULL, title TEXT NOT NULL,
    text TEXT NOT NULL, created REAL NOT NULL, vector BLOB
);
CREATE VIRTUAL TABLE IF NOT EXISTS memory_fts USING fts5(title, text, tokenize = 'porter unicode61');
"""
_RRF_K = 60


class Embedder(Protocol):
    """Turns texts into vectors (one row each); equal texts give equal vectors."""

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


class HashingEmbedder:
    """Local vectors with no model: each content word adds 1 to a hashed coordinate; rows are unit length."""

    def __init__(self, dim: int = 512) -> None:
        self.dim = dim

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for term in content_terms(text):
                digest = hashlib.blake2b(term.encode(), digest_size=8).digest()
                out[row, int.from_bytes(digest, "little") % self.dim] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1.0, norms)


class OpenAIEmbedder:
    """Vectors from an OpenAI-compatible `/embeddings` endpoint (OpenAI, vLLM, Ollama, llama.cpp, ...)."""

    def __init__(self, base_url: str, model: str, api_key: str = "none", timeout: float = 60.0) -> None:
        self.base_url, self.model, self._key, self.timeout = base_url, model, api_key, timeout

    def __repr__(self) -> str:
        return f"OpenAIEmbedder({self.model!r} at {self.base_url})"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        client = openai.OpenAI(base_url=self.base_url, api_key=self._key, timeout=self.timeout)
        response = client.embeddings.create(model=self.model, input=list(texts))
        rows = np.array([item.embedding for item in response.data], dtype=np.float32)
        norms = np.linalg.norm(rows, axis=1, keepdims=True)
        return rows / np.where(norms == 0, 1.0, norms)


def embedder_from_env() -> Embedder | None:
    """`OpenAIEmbedder` if AGENTLAB_EMBEDDINGS_URL is set (model: AGENTLAB_EMBEDDINGS_MODEL), else None."""
    url = os.environ.get("AGENTLAB_EMBEDDINGS_URL")
    if not url:
        return None
    model = os.environ.get("AGENTLAB_EMBEDDINGS_MODEL", "text-embedding-3-small")
    return OpenAIEmbedder(url, model, os.environ.get("AGENTLAB_API_KEY") or os.environ.get("OPENAI_API_KEY") or "none")


def _match(query: str) -> str:
    # each content word as a quoted FTS5 string, OR-ed: no query syntax reaches the engine from the model
    return " OR ".join('"' + term.replace('"', "") + '"' for term in content_terms(query))


class LongTermMemory:
    """Findings kept across runs in one SQLite file; `search` makes it a retrieval `Searcher`."""

    def __init__(self, path: str, embedder: Embedder | None = None) -> None:
        self.path, self.embedder = path, embedder
        self._db: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            self._db = open_db(self.path)
            self._db.executescript(_SCHEMA)
        return self._db

    def remember(self, run_id: str, key: str, text: str, title: str = "") -> bool:
        """Keep a finding; False if this run already kept one under `key` (remembering is idempotent)."""
        doc_id = f"{run_id}/{key}"
        vector = self.embedder.embed([f"{title} {text}"])[0].tobytes() if self.embedder else None
        with self._lock:
            db = self._conn()
            db.execute("BEGIN IMMEDIATE")
            try:
                cursor = db.execute(
                    "INSERT OR IGNORE INTO memory_docs (doc_id, run_id, title, text, created, vector) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (doc_id, run_id, title or key, text, time.time(), vector),
                )
                if cursor.rowcount:
                    db.execute(
                        "INSERT INTO memory_fts (rowid, title, text) VALUES (?, ?, ?)",
                        (cursor.lastrowid, title or key, text),
                    )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return bool(cursor.rowcount)

    def remember_board(self, board: Blackboard, run_id: str, prefix: str = "") -> int:
        """Keep every current entry of the board under `prefix`; how many were new."""
        return sum(self.remember(run_id, key, str(e.value), title=key) for key, e in board.read(prefix).items())

    def _ranked_words(self, query: str, n: int) -> list[int]:
        match = _match(query)
        if not match:
            return []
        rows = self._conn().execute(
            "SELECT rowid FROM memory_fts WHERE memory_fts MATCH ? ORDER BY bm25(memory_fts) LIMIT ?", (match, n)
        )
        return [row[0] for row in rows]

    def _ranked_vectors(self, query: str, n: int) -> list[int]:
        if self.embedder is None:
            return []
        rows = self._conn().execute("SELECT id, vector FROM memory_docs WHERE vector IS NOT NULL").fetchall()
        if not rows:
            return []
        matrix = np.stack([np.frombuffer(blob, dtype=np.float32) for _, blob in rows])
        scores = matrix @ self.embedder.embed([query])[0]
        order = np.argsort(-scores, kind="stable")[:n]
        return [rows[i][0] for i in order if scores[i] > 0]

    def search(self, query: str, k: int = 5) -> list[Document]:
        """The k findings that best match `query` (BM25, fused with vector similarity if embedding)."""
        with self._lock:
            fused: dict[int, float] = {}
            for ranking in (self._ranked_words(query, 4 * k), self._ranked_vectors(query, 4 * k)):
                for rank, rowid in enumerate(ranking):
                    fused[rowid] = fused.get(rowid, 0.0) + 1.0 / (_RRF_K + rank)
            best = sorted(fused, key=lambda rowid: -fused[rowid])[:k]
            found = {
                row[0]: Document(row[1], row[2], row[3])
                for rowid in best
                for row in self._conn().execute(
                    "SELECT id, doc_id, title, text FROM memory_docs WHERE id = ?", (rowid,)
                )
            }
        return [found[rowid] for rowid in best]

    def __len__(self) -> int:
        with self._lock:
            (n,) = self._conn().execute("SELECT COUNT(*) FROM memory_docs").fetchone()
        return int(n)

    def __getstate__(self) -> dict[str, Any]:
        return {"path": self.path, "embedder": self.embedder}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["path"], state["embedder"])  # type: ignore[misc]

    def __repr__(self) -> str:
        return f"LongTermMemory({self.path!r}, embedder={self.embedder!r})"
