"""Answers reach the checks as data; parts are scored from the exercise's points; messages are cut and cleaned."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from agentlab.grading import EXERCISES, check
from agentlab.grading._learner import MAX_ITEMS, Opaque, from_data, namespace, to_data
from agentlab.grading.report import MESSAGE_CHARS, WITHHELD, clean, score
from agentlab.grading.runner import Outcome
from agentlab.grading.testkit import AnswerRaised, Answers, MissingAnswer, boolean, number


class AlwaysEqual(str):
    def __eq__(self, other: object) -> bool:
        return True

    __hash__ = str.__hash__


def test_values_travel_as_plain_data() -> None:
    value = {"a": (1, 2.5, None), "b": [True, {3}], 4: SimpleNamespace(x=math.inf)}
    assert from_data(to_data(value)) == value
    copied = from_data(to_data({"k": AlwaysEqual("x")}))
    assert type(copied["k"]) is str and copied["k"] != "y"  # the learner's __eq__ does not travel


def test_numpy_scalars_are_accepted_and_arrays_are_opaque() -> None:
    assert from_data(to_data(np.bool_(True))) is True
    assert type(from_data(to_data(np.float64(0.5)))) is float
    assert from_data(to_data(np.int64(3))) == 3
    array = from_data(to_data(np.zeros(3)))
    assert isinstance(array, Opaque) and array != array.text and array.type_name == "ndarray"


def test_too_large_or_too_deep_values_are_refused() -> None:
    with pytest.raises(ValueError, match="too large"):
        to_data([0.0] * (MAX_ITEMS + 1))
    nested: list[object] = []
    nested.append(nested)
    with pytest.raises(ValueError, match="too large"):
        to_data(nested)


def test_numbers_and_bools_are_told_apart() -> None:
    assert number(1, "x") == 1.0 and number(0.5, "x") == 0.5
    for wrong in (True, "0.5", None):
        with pytest.raises(AssertionError, match="must be a number"):
            number(wrong, "x")
    assert boolean(False, "x") is False
    for wrong in (0, 1, "True", None):
        with pytest.raises(AssertionError, match="must be a bool"):
            boolean(wrong, "x")


def test_calls_copy_arguments_and_report_errors_as_data() -> None:
    def mutate(values: list[float]) -> float:
        values.append(1.0)
        return sum(values)

    def broken(x: float) -> float:
        raise ValueError("z" * 10_000)

    answers = Answers({"mutate": mutate, "broken": broken}, {"mutate": "", "broken": "", "gone": "define it"})
    given = [1.0]
    value, (after,) = answers.mutate.keeping_args(given)
    assert value == 2.0 and after == [1.0, 1.0] and given == [1.0]
    with pytest.raises(AnswerRaised, match=r"^ValueError: z+ \(raised in `broken`\)$") as raised:
        answers.broken(1.0)
    assert len(str(raised.value)) < 400
    with pytest.raises(MissingAnswer, match="`gone` is not defined: define it"):
        answers.gone  # noqa: B018
    with pytest.raises(AttributeError):
        answers.execute_example  # noqa: B018  (hypothesis probes the first argument of a test)


def test_the_learner_namespace_has_display_and_ipython_names() -> None:
    names = namespace()
    exec("display(HTML('<b>x</b>'))\nget_ipython().run_line_magic('time', 'x = 1')\nclear_output()", names)


def test_a_part_scores_its_defined_points_only_when_every_check_passes() -> None:
    ex2 = EXERCISES["ex2"]
    outcomes = [
        Outcome("a", "critical_path", False, True),
        Outcome("b", "critical_path", True, False, "hidden check failed"),
        Outcome("c", "timeout", False, True),
    ]
    parts = {p.part: p for p in score(ex2, outcomes)}
    assert (parts["critical_path"].points, parts["critical_path"].max_points) == (0, 4)
    assert parts["critical_path"].message == "hidden check failed"
    assert (parts["timeout"].points, parts["timeout"].max_points) == (4, 4)
    assert (parts["engine"].points, parts["engine"].max_points) == (0, 3)  # no outcome: not "0/0"
    assert parts["engine"].message == "no check of this part ran"


def test_messages_are_one_short_line_without_solution_text() -> None:
    assert len(clean("x" * 10_000_000)) == MESSAGE_CHARS and clean("x" * 10_000).endswith("…")
    assert clean("ValueError: return sum(latencies) / q\nmore", ["return sum(latencies) / q"]) == (
        f"ValueError: {WITHHELD} more"
    )


def test_check_in_a_notebook_accepts_display_and_numpy_bools() -> None:
    def beats(c: float, latencies: list[float], q: float) -> object:
        return np.sum(latencies) - np.max(latencies) > c

    answers = {
        "expected_sequential_time": lambda latencies, q: sum(latencies) / q,
        "expected_fanout_time": lambda c, latencies, q: (c + max(latencies)) / q,
        "fanout_beats_sequential": beats,
        "break_even_overhead": lambda latencies: float(np.sum(latencies) - np.max(latencies)),
    }
    grade = check("ex3", answers)
    parts = {p.part: p for p in grade.parts}
    assert parts["condition"].points == parts["condition"].max_points, grade.text()
    assert parts["expected_times"].points == parts["expected_times"].max_points, grade.text()
