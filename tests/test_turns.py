"""The offline model's q: over many seeded runs the mean number of turns matches E[T] = 1/q."""

from __future__ import annotations

import math
import statistics

import pytest

from agentlab.agent.loop import run_agent
from agentlab.agent.tools import Tool
from agentlab.analysis import expected_turns
from agentlab.models.chat import offline_model


@pytest.mark.slow
@pytest.mark.parametrize("q", [0.25, 0.5, 0.8])
def test_mean_turns_match_one_over_q(q: float, tiny_search: Tool) -> None:
    runs = 300
    turns = []
    for seed in range(runs):
        result = run_agent(
            "What was the root cause of INC-1002?",
            model=offline_model(seed=seed, q=q),
            tools=[tiny_search],
            max_turns=60,
        )
        assert result.stop_reason == "answer" and "expired TLS certificate" in result.answer
        turns.append(result.turns)
    mean = statistics.fmean(turns)
    # geometric: variance (1-q)/q^2; accept 4 standard errors
    standard_error = math.sqrt((1 - q) / q**2 / runs)
    assert abs(mean - expected_turns(q)) < 4 * standard_error, (mean, expected_turns(q), standard_error)
    assert min(turns) == 1


def test_q_one_answers_after_one_turn_and_is_deterministic(tiny_search: Tool) -> None:
    runs = [
        run_agent(
            "What was the root cause of INC-1001?",
            model=offline_model(seed=11, q=0.4),
            tools=[tiny_search],
            max_turns=30,
        )
        for _ in range(2)
    ]
    assert runs[0].turns == runs[1].turns
    assert [m.get("content") for m in runs[0].messages] == [m.get("content") for m in runs[1].messages]
    assert run_agent("What was the root cause of INC-1001?", model=offline_model(q=1.0), tools=[tiny_search]).turns == 1


def test_q_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError, match="q must be"):
        offline_model(q=0.0)
