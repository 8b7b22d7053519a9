"""What the check modules are written with: the `graded` mark, the learner's answers, readable messages.

A check is an ordinary pytest test that takes the `answers` fixture and carries a `graded` mark:

    @graded("timeout", points=2)
    def test_a_healthy_plan_is_untouched(answers):
        got = answers.worst_case_path([0.1, 0.2], 0, 1, timeout=5.0)
        assert close(got, 2.0), f"{call('worst_case_path', [0.1, 0.2], 0, 1, timeout=5.0)} returned {got!r} ..."

Assertion messages are what the learner reads, so each one says what was called, what came back,
what was expected, and why.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pytest

__all__ = ["Answers", "MissingAnswer", "call", "close", "graded", "number"]


def graded(part: str, points: float = 1, *, hidden: bool = False) -> pytest.MarkDecorator:
    """Mark a check: the part it grades, its points, and whether it runs only in instructor grading."""
    return pytest.mark.graded(part=part, points=points, hidden=hidden)


class MissingAnswer(AssertionError):
    """A name the checks need is not defined by the learner's answers."""


class Answers:
    """The learner's answers, read by attribute: `answers.worst_case_path`.

    A missing name fails the check with a message that says which answer cell should define it.
    """

    def __init__(self, namespace: Mapping[str, Any], hints: Mapping[str, str] | None = None) -> None:
        self._namespace = namespace
        self._hints = hints or {}

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if name in self._namespace:
            return self._namespace[name]
        hint = self._hints.get(name, "its answer cell is not implemented yet, or has not been run")
        raise MissingAnswer(f"`{name}` is not defined: {hint}")

    def __contains__(self, name: str) -> bool:
        return name in self._namespace


def call(function: str, *args: Any, **kwargs: Any) -> str:
    """How a call reads in a message: `worst_case_path([0.1, 0.2], 0, 1, timeout=0.5)`."""
    shown = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
    return f"{function}({', '.join(shown)})"


def number(value: Any, what: str) -> float:
    """`value` as a float, or a failed check saying that `what` must be a number."""
    assert isinstance(value, int | float) and not isinstance(value, bool), (
        f"{what} must be a number, got {type(value).__name__} {value!r}"
    )
    return float(value)


def close(actual: float, expected: float, rel: float = 1e-6, abs_tol: float = 1e-9) -> bool:
    """Equal up to floating-point rounding (infinities equal themselves)."""
    return actual == expected or math.isclose(actual, expected, rel_tol=rel, abs_tol=abs_tol)
