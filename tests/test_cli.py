"""The command line, run as a learner would: a separate process, offline."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from agentlab.data import demo_question


def _agentlab(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AGENTLAB_", "OPENAI_"))}
    return subprocess.run(
        [sys.executable, "-m", "agentlab", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**clean, **(env or {})},
        check=False,
    )


def test_demo_answers_its_question_correctly_offline_and_fast() -> None:
    start = time.perf_counter()
    done = _agentlab("demo")
    elapsed = time.perf_counter() - start
    assert done.returncode == 0, done.stderr
    assert demo_question().answer.lower() in done.stdout.lower()
    assert "-> correct" in done.stdout
    assert "tool:search_kb" in done.stdout and "E[T] = 1/q" in done.stdout
    assert elapsed < 10, f"the demo took {elapsed:.1f} s"


def test_run_answers_any_question() -> None:
    done = _agentlab("run", "Which team owns the Americas encryption policy?", "--q", "1", "--latency", "0")
    assert done.returncode == 0, done.stderr
    assert "answer   :" in done.stdout and "[kb-" in done.stdout


def test_run_against_an_unreachable_endpoint_fails_clearly() -> None:
    done = _agentlab("run", "hi", "--base-url", "http://127.0.0.1:9/v1", env={"AGENTLAB_API_KEY": "sk-hidden"})
    assert done.returncode == 1
    assert "model_error" in done.stdout and "cannot reach the model" in done.stdout
    assert "sk-hidden" not in done.stdout + done.stderr
