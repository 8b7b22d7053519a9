"""Checks for lab 01's tasks (labs/01_agent_loop.ipynb): the loop's steps and conversation, where its time goes,
the turns it takes, its critical path, its turn budget, and the calls its toolbox refuses."""

from __future__ import annotations

import pytest

from agentlab.agent.tools import Toolbox, tool
from agentlab.errors import AgentlabError
from agentlab.grading.testkit import Answers, call, close, graded, number
from agentlab.wire import ToolCall


@graded("turns")
@pytest.mark.parametrize("q", [1.0, 0.5, 0.3, 0.05])
def test_mean_turns_follows_the_geometric_law(answers: Answers, q: float) -> None:
    got = number(answers.mean_turns(q), call("mean_turns", q))
    assert close(got, 1 / q), (
        f"{call('mean_turns', q)} returned {got:.4g}: with q = {q}, a loop needs {1 / q:.4g} turns on average "
        "(a turn that succeeds with probability q is a coin flip repeated until the first success)"
    )


@graded("turns")
def test_a_loop_that_always_succeeds_finishes_in_its_first_turn(answers: Answers) -> None:
    got = number(answers.finish_within(1.0, 1), call("finish_within", 1.0, 1))
    assert close(got, 1.0), f"{call('finish_within', 1.0, 1)} returned {got:.4g}: with q = 1 the first turn succeeds"


@graded("turns")
@pytest.mark.parametrize(("q", "n"), [(0.3, 10), (0.5, 1), (0.1, 3), (0.05, 60)])
def test_finish_within_is_the_chance_of_a_success_in_n_turns(answers: Answers, q: float, n: int) -> None:
    got = number(answers.finish_within(q, n), call("finish_within", q, n))
    expected = 1 - (1 - q) ** n
    assert close(got, expected, rel=1e-9), (
        f"{call('finish_within', q, n)} returned {got:.6g}, expected {expected:.6g}: the loop is still running after "
        f"n turns only if every one of them failed"
    )


@graded("turns")
def test_finish_within_grows_with_the_budget(answers: Answers) -> None:
    chances = [number(answers.finish_within(0.2, n), call("finish_within", 0.2, n)) for n in (1, 2, 5, 20)]
    assert chances == sorted(chances) and all(0 <= c <= 1 for c in chances), (
        f"finish_within(0.2, n) for n = 1, 2, 5, 20 gave {chances}: a probability, never smaller with more turns"
    )


# -- section 1: the loop's events --------------------------------------------------------------


@graded("loop")
@pytest.mark.parametrize(("turns", "calls", "events"), [(0, 1, 1), (1, 1, 3), (3, 1, 7), (2, 3, 9), (4, 2, 13)])
def test_trace_events_counts_every_step_and_call(answers: Answers, turns: int, calls: int, events: int) -> None:
    got = number(answers.trace_events(turns, calls), call("trace_events", turns, calls))
    assert close(got, events), (
        f"{call('trace_events', turns, calls)} returned {got:g}, expected {events}: walk the figure once per turn, "
        "and remember how a run that answered got its answer"
    )


# -- section 2: a conversation's turns ---------------------------------------------------------

_CONVERSATIONS = [
    (["user", "assistant"], 0, "a model that answered at once"),
    (["user", "assistant", "tool", "assistant"], 1, "one search, then the answer"),
    (["system", "user", "assistant", "tool", "assistant", "tool", "assistant"], 2, "two turns with a system prompt"),
    (["user", "assistant", "tool", "tool", "tool", "assistant"], 1, "one turn of three parallel calls"),
    (["user", "assistant", "tool", "tool", "assistant", "tool", "assistant"], 2, "parallel calls, then one more"),
    (["user", "assistant", "tool", "assistant", "tool"], 2, "dozen_line_loop at a budget of two turns"),
]


@graded("convo")
@pytest.mark.parametrize(("roles", "expected", "what"), _CONVERSATIONS, ids=[c[2] for c in _CONVERSATIONS])
def test_turns_in_counts_act_observe_turns(answers: Answers, roles: list[str], expected: int, what: str) -> None:
    got = number(answers.turns_in(list(roles)), call("turns_in", roles))
    assert close(got, expected), (
        f"{call('turns_in', roles)} returned {got:g}, expected {expected} ({what}): which message starts a turn, "
        "and is every message of that role the start of one?"
    )


# -- section 3: where the time went ------------------------------------------------------------


@graded("trace")
def test_model_share_of_a_sequential_trace(answers: Answers) -> None:
    events = [("model", 0.0, 0.3), ("tool:search_kb", 0.3, 0.5), ("model", 0.5, 0.8)]
    got = number(answers.model_share(events), call("model_share", events))
    assert close(got, 0.75), f"{call('model_share', events)} returned {got:.4g}: 0.6 s of model steps in a 0.8 s run"


@graded("trace")
def test_model_share_measures_wall_time_not_busy_time(answers: Answers) -> None:
    events = [("model", 10.0, 11.0), ("tool:a", 11.0, 13.0), ("tool:b", 11.0, 13.0), ("tool:c", 11.0, 12.0)]
    events += [("model", 13.0, 14.0)]
    got = number(answers.model_share(events), call("model_share", events))
    assert close(got, 0.5), (
        f"{call('model_share', events)} returned {got:.4g}, expected 0.5: the three tool calls overlap, so the run "
        "lasted 4 s, not the sum of its events' durations"
    )


@graded("trace")
def test_model_share_of_a_trace_with_gaps(answers: Answers) -> None:
    events = [("model", 0.0, 1.0), ("tool:search_kb", 1.5, 2.0), ("model", 3.0, 4.0)]
    got = number(answers.model_share(events), call("model_share", events))
    assert close(got, 0.5), (
        f"{call('model_share', events)} returned {got:.4g}, expected 0.5: from the first start to the last end is "
        "4 s, gaps included"
    )


# -- section 5: the critical path ----------------------------------------------------------------


@graded("latency")
@pytest.mark.parametrize(
    ("q", "reason_s", "calls_s", "expected", "why"),
    [
        (0.5, 0.3, [0.2], 1.3, "two turns on average of 0.5 s each, then the answer"),
        (0.1, 0.3, [0.2], 5.3, "the course's five-second wait, then the answer"),
        (1.0, 0.1, [0.2, 0.5, 0.1], 0.7, "one turn whose three calls run at once"),
        (0.25, 0.2, [0.3, 0.3], 2.2, "four turns of two calls each"),
        (0.5, 0.4, [], 1.2, "a turn with no tool call to wait for"),
    ],
)
def test_expected_latency_of_one_agent(
    answers: Answers, q: float, reason_s: float, calls_s: list[float], expected: float, why: str
) -> None:
    got = number(answers.expected_latency(q, reason_s, list(calls_s)), call("expected_latency", q, reason_s, calls_s))
    assert close(got, expected, rel=1e-9), (
        f"{call('expected_latency', q, reason_s, calls_s)} returned {got:.4g}, expected {expected:g} ({why})"
    )


# -- section 6: the turn budget ------------------------------------------------------------------


def _smallest_budget(q: float, risk: float) -> int:
    n = 1
    while (1 - q) ** n > risk:
        n += 1
    return n


@graded("budget")
@pytest.mark.parametrize(("q", "risk"), [(0.3, 0.05), (0.5, 0.01), (0.05, 0.1), (1.0, 0.01), (0.9, 0.5), (0.2, 0.3)])
def test_budget_for_is_the_smallest_that_keeps_the_risk(answers: Answers, q: float, risk: float) -> None:
    got = number(answers.budget_for(q, risk), call("budget_for", q, risk))
    expected = _smallest_budget(q, risk)
    assert got == int(got) and got >= 1, (
        f"{call('budget_for', q, risk)} returned {got:g}: a budget is a whole number of turns"
    )
    stopped = (1 - q) ** int(got)
    assert stopped <= risk + 1e-12, (
        f"{call('budget_for', q, risk)} returned {got:g}: with that budget {stopped:.1%} of the runs still stop at "
        f"max_turns, more than {risk:.0%}"
    )
    assert int(got) == expected, (
        f"{call('budget_for', q, risk)} returned {got:g}: a smaller budget already keeps the share of runs that stop "
        f"at max_turns at or under {risk:.0%}"
    )


# -- section 7: a call refused before it runs --------------------------------------------------


def _toolbox() -> Toolbox:
    def search_kb(query: str, k: int = 3) -> str:
        """Search.

        Args:
            query: words.
            k: how many.
        """
        return query

    def get_price(sku: str) -> str:
        """A price.

        Args:
            sku: the product.
        """
        return sku

    return Toolbox([tool(search_kb), tool(get_price)])


def _refusal(name: str, arguments: str) -> str | None:
    try:
        _toolbox().bind(ToolCall("c1", name, arguments))
    except AgentlabError as exc:
        return type(exc).__name__
    return None


_CALLS = [
    ("search_kb", '{"query": "INC-2108"}'),
    ("search_kb", '{"query": "INC-2108", "k": 5}'),
    ("search_kb", "{query: INC-2108"),
    ("delete_everything", "{}"),
    ("delete_everything", "{not json"),
    ("search_kb", '["INC-2108"]'),
    ("search_kb", '{"k": 2}'),
    ("get_price", ""),
    ("get_price", '{"sku": "NR-1001"}'),
    ("get_price", "42"),
]


@graded("malformed")
@pytest.mark.parametrize(("name", "arguments"), _CALLS)
def test_diagnose_agrees_with_the_toolbox(answers: Answers, name: str, arguments: str) -> None:
    required = {"search_kb": ["query"], "get_price": ["sku"]}
    got = answers.diagnose(name, arguments, required)
    expected = _refusal(name, arguments)
    assert got == expected, (
        f"{call('diagnose', name, arguments, required)} returned {got!r}; the toolbox says {expected!r} for that call"
    )
