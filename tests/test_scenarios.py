"""The research assistant scenario: restart-the-loop vs retry-in-place under injected faults and a deadline."""

from __future__ import annotations

import pytest
from distributed import Client

from agentlab.course.scenarios import FlakySearch, analyst_questions, research_assistant, restart_the_loop
from agentlab.errors import ServiceError, UsageError
from agentlab.models.chat import offline_model


def test_any_number_of_questions_each_about_different_incidents() -> None:
    questions = analyst_questions(6, parts=6)  # the lab's count: there are not 36 incidents, so they come round again
    assert len(questions) == 6 and len(set(questions)) == 6
    assert all(len(set(q.replace("?", "").replace(" and ", ", ").split(", ")[1:])) == 5 for q in questions)
    with pytest.raises(UsageError, match="1 to"):
        analyst_questions(1, parts=1000)


def test_the_flaky_search_fails_as_a_retryable_service_error_at_its_rate() -> None:
    search = FlakySearch(fail_rate=0.3, seed=1)
    failed = 0
    for _ in range(200):
        try:
            search.search_kb("INC-2206")
        except ServiceError as exc:
            failed += 1
            assert exc.retryable
    assert failed == search.failures and 30 < failed < 90 and search.calls == 200
    assert "INC-2206" in FlakySearch().search_kb("INC-2206", k=1)


def test_a_tool_failure_restarts_the_single_agent_s_whole_loop() -> None:
    question = analyst_questions(1, parts=3)[0]
    clean = restart_the_loop(question, offline_model(seed=3), FlakySearch(0.0), deadline=60.0)
    flaky = restart_the_loop(question, offline_model(seed=3), FlakySearch(0.3, seed=2), deadline=60.0)
    assert clean.finished and clean.restarts == 0 and clean.failures == 0
    assert flaky.finished and flaky.restarts >= 1 and flaky.failures >= flaky.restarts


def test_the_deadline_cuts_the_single_agent_off() -> None:
    question = analyst_questions(1, parts=4)[0]
    cut = restart_the_loop(question, offline_model(seed=3, latency=0.05), FlakySearch(0.0), deadline=0.12)
    assert not cut.finished  # its next model step past the deadline was refused: it did not run its parts


def test_the_fan_out_retries_in_place_and_answers(client: Client) -> None:
    questions = analyst_questions(2, parts=3)
    frame = research_assistant(client, offline_model(seed=3), questions, deadline=30.0, fail_rate=0.2, seed=4)
    assert list(frame.question) == questions
    assert not frame.fanout_timed_out.any() and (frame.cut_off == "").all()  # each failed search retried in place
    assert (frame.restarts >= 0).all() and (frame.speedup > 0).all()


def test_a_round_past_its_deadline_is_cut_off(client: Client) -> None:
    slow = offline_model(seed=3, latency=0.2)
    frame = research_assistant(client, slow, analyst_questions(1, parts=3), deadline=0.05)
    assert frame.fanout_timed_out.all() and frame.single_timed_out.all() and frame.cut_off[0]
