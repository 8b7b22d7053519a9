"""Retrieval: a BM25 index over the knowledge base, and the `search_kb` tool (labs 01 and 02).

BM25 ranks a document d for a query by summing, over the query's terms t,

    idf(t) · tf(t, d) · (k1 + 1) / (tf(t, d) + k1 · (1 − b + b · |d| / avgdl))

so rare terms count more, repeats saturate, and long documents are not favoured. The index is a dense
term-frequency matrix in numpy (a few hundred documents need nothing fancier) and needs no model
download. Lab 02 shards this same index across Dask workers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from agentlab.agent.tools import Tool, tool
from agentlab.text import STOPWORDS, tokenize

__all__ = ["Document", "Index", "Searcher", "recall_at_k", "search_tool"]


@dataclass(frozen=True)
class Document:
    id: str
    title: str
    text: str

    def render(self) -> str:
        """How a hit is shown to the model: id and title on the first line, then the text."""
        return f"[{self.id}] {self.title}\n{self.text}"


def _terms(text: str) -> list[str]:
    return [t for t in tokenize(text) if t not in STOPWORDS]


class Index:
    """An immutable BM25 index; `search` returns the top-k documents for a query."""

    def __init__(self, docs: Sequence[Document], k1: float = 1.5, b: float = 0.75) -> None:
        self.docs = list(docs)
        vocab: dict[str, int] = {}
        rows = [_terms(f"{d.title} {d.title} {d.text}") for d in self.docs]
        for row in rows:
            for term in row:
                vocab.setdefault(term, len(vocab))
        tf = np.zeros((len(self.docs), max(len(vocab), 1)), dtype=np.float32)
        for i, row in enumerate(rows):
            for term in row:
                tf[i, vocab[term]] += 1
        lengths = tf.sum(axis=1)
        df = (tf > 0).sum(axis=0)
        n = len(self.docs)
        self.vocab = vocab
        self.idf = np.log(1 + (n - df + 0.5) / (df + 0.5)).astype(np.float32)
        norm = k1 * (1 - b + b * lengths / max(float(lengths.mean()) if n else 1.0, 1e-9))
        # precompute the saturated term weight per (doc, term): the query only sums columns
        self.weights = tf * (k1 + 1) / (tf + norm[:, None])

    def scores(self, query: str) -> np.ndarray:
        cols = [self.vocab[t] for t in _terms(query) if t in self.vocab]
        if not cols:
            return np.zeros(len(self.docs), dtype=np.float32)
        scores: np.ndarray = (self.weights[:, cols] * self.idf[cols]).sum(axis=1)
        return scores

    def ranked(self, query: str, k: int = 5) -> list[tuple[float, int, Document]]:
        """The k best (score, position, document) for `query`, ties broken by position; no zero scores."""
        s = self.scores(query)
        order = np.argsort(-s, kind="stable")[:k]
        return [(float(s[i]), int(i), self.docs[i]) for i in order if s[i] > 0]

    def search(self, query: str, k: int = 5) -> list[Document]:
        """The k best documents for `query`; none if nothing matches."""
        return [doc for _, _, doc in self.ranked(query, k)]

    def block(self, start: int, stop: int) -> Index:
        """Documents start..stop as an index of their own that keeps the corpus-wide statistics."""
        part = object.__new__(Index)
        part.docs, part.vocab, part.idf = self.docs[start:stop], self.vocab, self.idf
        part.weights = self.weights[start:stop]
        return part


def recall_at_k(index: Searcher, questions: Iterable[tuple[str, Sequence[str]]], k: int = 5) -> float:
    """Share of questions for which every supporting document id is in the top k."""
    hits = total = 0
    for question, doc_ids in questions:
        found = {d.id for d in index.search(question, k)}
        hits += set(doc_ids) <= found
        total += 1
    return hits / total if total else 0.0


class Searcher(Protocol):
    def search(self, query: str, k: int = 5) -> list[Document]: ...


def search_tool(index: Searcher, name: str = "search_kb") -> Tool:
    """A tool that searches `index` (local or sharded) and returns the hits as text the model can read."""

    def search_kb(query: str, k: int = 5) -> str:
        """Search the company knowledge base (products, policies, incidents, metrics).

        Args:
            query: keywords to look for, e.g. an incident id, a product name, a week or a region.
            k: how many documents to return (1-20).
        """
        k = max(1, min(int(k), 20))
        hits = index.search(query, k)
        return "\n\n".join(d.render() for d in hits) if hits else "no documents matched"

    result: Tool = tool(search_kb, name=name)
    return result
