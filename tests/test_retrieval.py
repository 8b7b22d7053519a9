"""BM25 retrieval: ranking behaviour, and recall@5 on the shipped question set (printed)."""

from __future__ import annotations

import pytest

from agentlab.agent.retrieval import Document, Index, recall_at_k
from agentlab.data import kb_documents, kb_index, kb_questions


def test_rare_terms_outrank_common_ones(tiny_index: Index) -> None:
    hits = tiny_index.search("root cause INC-1002", k=2)
    assert hits[0].id == "d-2"


def test_whole_ids_outrank_their_parts_and_nothing_matches_nothing(tiny_index: Index) -> None:
    # "NR-1001" also shares the part "1001" with INC-1001, but the whole id ranks first
    assert [d.id for d in tiny_index.search("NR-1001", k=5)] == ["d-4", "d-1"]
    assert tiny_index.search("zebra quantum", k=5) == []
    assert tiny_index.search("", k=5) == []


def test_long_documents_are_not_favoured() -> None:
    short = Document("s", "t", "gateway outage")
    long = Document("l", "t", "gateway outage " + " ".join(f"filler{i}" for i in range(200)))
    assert Index([long, short]).search("gateway outage", k=1)[0].id == "s"


def test_empty_index_answers_nothing() -> None:
    assert Index([]).search("anything") == []


def test_recall_at_5_on_the_question_set() -> None:
    index = kb_index()
    questions = kb_questions()
    single = [(q.question, q.doc_ids) for q in questions if len(q.doc_ids) == 1]
    recall_single = recall_at_k(index, single, k=5)
    recall_all = recall_at_k(index, [(q.question, q.doc_ids) for q in questions], k=5)
    print(
        f"\nrecall@5 over {len(kb_documents())} documents: single-hop {recall_single:.3f} "
        f"({len(single)} questions), all {recall_all:.3f} ({len(questions)} questions)"
    )
    assert recall_single >= 0.9
    assert recall_all >= 0.8


@pytest.mark.parametrize("k", [1, 3, 5])
def test_recall_grows_with_k(k: int) -> None:
    index = kb_index()
    pairs = [(q.question, q.doc_ids) for q in kb_questions()]
    assert recall_at_k(index, pairs, k=k) <= recall_at_k(index, pairs, k=k + 2)
