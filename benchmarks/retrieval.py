"""Retrieval quality: BM25 recall@k on the question set, and the offline agent's answer accuracy.

python benchmarks/retrieval.py
"""

from __future__ import annotations

import time

from agentlab.agent.loop import run_agent
from agentlab.agent.retrieval import recall_at_k, search_tool
from agentlab.data import kb_index, kb_questions
from agentlab.models.chat import offline_model


def main() -> None:
    index, questions = kb_index(), kb_questions()
    single = [q for q in questions if len(q.doc_ids) == 1]
    print(f"{len(index.docs)} documents, {len(questions)} questions ({len(single)} single-hop)")
    for k in (1, 3, 5, 10):
        r_single = recall_at_k(index, [(q.question, q.doc_ids) for q in single], k)
        r_all = recall_at_k(index, [(q.question, q.doc_ids) for q in questions], k)
        print(f"recall@{k:<2}  single-hop {r_single:.3f}   all {r_all:.3f}")
    tool = search_tool(index)
    start = time.perf_counter()
    right = {"single": 0, "multi": 0}
    for q in questions:
        result = run_agent(q.question, model=offline_model(q=1.0), tools=[tool])
        right["single" if len(q.doc_ids) == 1 else "multi"] += q.is_answered_by(result.answer)
    multi = len(questions) - len(single)
    print(
        f"offline agent (q=1) answers: single-hop {right['single']}/{len(single)}, "
        f"multi-hop {right['multi']}/{multi}  ({time.perf_counter() - start:.1f} s)"
    )


if __name__ == "__main__":
    main()
