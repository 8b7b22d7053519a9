"""The course's three goals, run as a learner runs them: `agentlab run` on a process cluster, offline model.

Each answer is checked against the dataset's ground truth (`agentlab.course.goals`): exactly the seven
mispriced SKUs, all 36 key phrases of the briefs, the expected fix with the tests passing after it. Goals
outside the data end `no_answer`, exit 1, saying what the model has and what it searched.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from agentlab.course.catalog import load_catalog, write_catalog
from agentlab.course.goals import GOALS, check_brief, check_fix, check_prices

SPEEDUP = re.compile(r"achieved speedup (\d+\.\d+)x · ideal speedup (\d+\.\d+)x")


def _run(goal: str, cluster: Any, *options: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AGENTLAB_", "OPENAI_"))}
    command = [sys.executable, "-m", "agentlab", "run", goal, "--address", cluster.address, "--latency", "0.01"]
    return subprocess.run([*command, *options], capture_output=True, text=True, timeout=600, env=clean, check=False)


def _answer(out: str) -> str:
    return out.split("answer   : ", 1)[1].split("\nstopped  :", 1)[0]


def _plan(out: str) -> str:
    return out.split("plan (round 1):\n", 1)[1].split("\n\n", 1)[0]


def test_prices_fan_out_flags_exactly_the_seven_mispriced_skus(process_cluster: Any) -> None:
    done = _run(GOALS["prices"], process_cluster)
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(_plan(done.stdout).splitlines()) == 40  # forty price sub-tasks, no combining step
    ok, why = check_prices(_answer(done.stdout), load_catalog())
    assert ok, why
    assert "get_price" in done.stdout  # through the live price API, under its RPC contract
    # the speedup is printed beside the ideal; both are measured, so only their presence and the plan's
    # shape (forty sub-tasks after nothing) are pinned, not how fast this machine was
    assert SPEEDUP.search(done.stdout) is not None
    assert all(line.split()[3] == "-" for line in _plan(done.stdout).splitlines())


def test_briefs_fan_out_writes_one_brief_with_all_36_key_phrases(process_cluster: Any) -> None:
    done = _run(GOALS["briefs"], process_cluster)
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(_plan(done.stdout).splitlines()) == 12 and "read_document" in done.stdout
    ok, why = check_brief(_answer(done.stdout))
    assert ok, why
    assert SPEEDUP.search(done.stdout) is not None


def test_debug_chain_runs_the_test_before_and_after_the_patch_and_states_the_fix(process_cluster: Any) -> None:
    done = _run(GOALS["debug"], process_cluster, "--q", "1")
    assert done.returncode == 0, done.stdout + done.stderr
    plan = [line.split() for line in _plan(done.stdout).splitlines()]
    assert [(row[0], row[3]) for row in plan] == [("step1", "-"), ("step2", "step1"), ("step3", "step2")]
    answer = _answer(done.stdout)
    ok, why = check_fix(answer)
    assert ok, why
    assert "before the patch: 1 failed, 6 passed; after it: 7 passed" in answer
    # a chain: its critical path is all of it, so the ideal is exactly 1x however long each step took
    assert SPEEDUP.search(done.stdout).group(2) == "1.00"  # type: ignore[union-attr]


def test_four_thousand_products_plan_four_thousand_price_sub_tasks(process_cluster: Any, tmp_path: Path) -> None:
    catalog = write_catalog(tmp_path / "catalog", 4000)
    goal = GOALS["prices"].replace("forty", "4,000")
    done = _run(goal, process_cluster, "--catalog", str(tmp_path / "catalog"), "--latency", "0")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "... and 3940 more" in _plan(done.stdout)  # 60 shown + 3,940 = 4,000 sub-tasks
    ok, why = check_prices(_answer(done.stdout), catalog)
    assert ok, why


REFUSED = [
    "What is the weather in Paris?",
    "Write a poem about routers",
    "Who won the 2022 World Cup?",
    "Translate good morning into French",
    "What is the stock price of Apple?",
]


@pytest.mark.parametrize("goal", REFUSED)
def test_a_goal_outside_the_data_ends_no_answer_through_the_supervisor(goal: str, process_cluster: Any) -> None:
    done = _run(goal, process_cluster)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "answer   :" not in done.stdout and "stopped  : no_answer" in done.stdout
    assert "I cannot answer this from my tools and data" in done.stdout
    assert "My tools: get_price, read_document, read_file, run_tests, search_kb" in done.stdout


@pytest.mark.parametrize("goal", REFUSED)
def test_five_goals_outside_the_data_end_without_an_answer(goal: str, capsys: pytest.CaptureFixture[str]) -> None:
    from agentlab.cli.main import main

    assert main(["run", goal, "--single", "--latency", "0"]) == 1
    out = capsys.readouterr().out
    assert "answer   :" not in out and "no answer: The agent gave up" in out
    searched = re.search(r"I searched (.*) and found nothing that answers it\. My tools: (.*)\.", out)
    assert searched is not None, out
    assert "search_kb for" in searched.group(1) and "get_price" in searched.group(2)
