"""The shipped datasets keep their documented invariants (datasets/check.py), and the loaders read them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from agentlab.data import data_dir, demo_question, kb_documents, kb_questions, read_json

ROOT = Path(__file__).resolve().parents[1]


def test_dataset_invariants_hold_and_the_build_is_reproducible() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "datasets" / "check.py")], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_loaders_read_the_documented_shapes() -> None:
    assert data_dir().is_dir()
    assert len(kb_documents()) == 300 and len(kb_questions()) == 80
    assert demo_question().answer.lower() in " ".join(d.text for d in kb_documents()).lower()
    assert len(read_json("catalog/products.jsonl")) == 40
    assert len(read_json("catalog/mispriced.json")["skus"]) == 7
