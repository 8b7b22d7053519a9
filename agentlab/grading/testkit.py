"""What the check modules are written with: the `graded` mark, the learner's answers as data, readable messages.

A check is an ordinary pytest test that takes the `answers` fixture and carries a `graded` mark:

    @graded("timeout")
    def test_a_healthy_plan_is_untouched(answers):
        got = number(answers.worst_case_path([0.1, 0.2], 0, 1, timeout=5.0), "worst_case_path(...)")
        assert close(got, 0.2), f"{call('worst_case_path', [0.1, 0.2], 0, 1, timeout=5.0)} returned {got!r} ..."

A part scores its points (set in `agentlab.grading.exercises`) only if every one of its checks passes.

**Answers are data.** `answers.NAME` is the value the learner's cells bound to NAME, copied as plain
data (`agentlab.grading._learner.to_data`): None, bool, int, float, str, and lists, tuples, sets,
dicts and SimpleNamespaces of those. A function comes back as a proxy; calling it sends the arguments
as data and returns the result as data. So a check never holds a learner's object: an always-equal
`str` subclass arrives as a plain str, and nothing a learner defines runs in the checker. Any other
object arrives as an `Opaque` that equals nothing. In instructor grading the learner's side is a
sandboxed process (`agentlab.grading.session`); in `check()` it is the notebook itself, through the
same copying, so both see the same values.

**Types.** `number(x)` accepts int and float (an int is a float, as in PEP 484), never bool, str or
None; `boolean(x)` accepts only True and False. numpy's scalars arrive as Python's: numpy.bool_ is
accepted as a bool, numpy.float64 and numpy.int64 as numbers; arrays are not (they arrive `Opaque`).

**Properties.** Hidden checks compare answers with a reference on many inputs drawn by hypothesis,
with `properties()` settings: seeded (derandomized), so every submission meets the same inputs and a
grade never changes between runs.

Assertion messages are what the learner reads, so each one says what was called, what came back,
what was expected, and why. Never put a reference solution's code in one.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Mapping
from typing import Any, Protocol

import pytest
from hypothesis import HealthCheck, settings

from agentlab.grading._learner import Opaque, describe, from_data, to_data

__all__ = [
    "AnswerRaised",
    "AnswerSource",
    "AnswerTimedOut",
    "Answers",
    "LocalSource",
    "MissingAnswer",
    "Opaque",
    "boolean",
    "call",
    "close",
    "graded",
    "number",
    "properties",
]


def graded(part: str, *, hidden: bool = False) -> pytest.MarkDecorator:
    """Mark a check: the part it grades, and whether it runs only in instructor grading."""
    return pytest.mark.graded(part=part, hidden=hidden)


class MissingAnswer(AssertionError):
    """A name the checks need is not defined by the learner's answers."""


class AnswerRaised(AssertionError):
    """The learner's code raised while a check called it (the message says what, cut short)."""


class AnswerTimedOut(BaseException):
    """The learner's code ran past its time limit while a check called it (hypothesis must not retry it)."""


class AnswerSource(Protocol):
    """Where answers live: `get` a name's value and `call` a function, each reply a dict of data."""

    limit: float | None

    def get(self, name: str) -> dict[str, Any]: ...

    def call(self, name: str, args: Any, kwargs: Any) -> dict[str, Any]: ...


class LocalSource:
    """Answers in this process's namespace (`check()` in a notebook), copied as data both ways."""

    def __init__(self, namespace: Mapping[str, Any], limit: float | None = None) -> None:
        self.namespace, self.limit = namespace, limit

    def get(self, name: str) -> dict[str, Any]:
        if name not in self.namespace:
            return {"missing": True}
        try:
            return {"value": to_data(self.namespace[name])}
        except (Exception, SystemExit) as exc:
            return {"error": describe(exc)}

    def call(self, name: str, args: Any, kwargs: Any) -> dict[str, Any]:
        function = self.namespace.get(name)
        if not callable(function):
            return {"missing": True}
        given = from_data(args)
        try:
            value = function(*given, **from_data(kwargs))
            return {"value": to_data(value), "args": to_data(given)}
        except (Exception, SystemExit) as exc:  # the check's own time limit (a BaseException) goes through
            return {"error": describe(exc)}


def _raise(error: Mapping[str, Any], name: str, limit: float | None) -> None:
    where = f"`{error.get('where') or name}`"
    if error.get("timeout"):
        raise AnswerTimedOut(f"timed out after {limit or 0:g} s while running {where} (an infinite loop?)")
    if error.get("not_implemented"):
        raise AnswerRaised(f"not implemented: {where} still raises NotImplementedError")
    if error.get("exit"):
        raise AnswerRaised(f"{where} tried to stop the process ({error.get('type')})")
    message = str(error.get("message", ""))
    raise AnswerRaised(f"{error.get('type', 'Exception')}: {message} (raised in {where})".replace(":  (", ": ("))


class AnswerFunction:
    """A learner's function, called with data, returning data."""

    def __init__(self, answers: Answers, name: str) -> None:
        self._answers, self.name = answers, name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.keeping_args(*args, **kwargs)[0]

    def keeping_args(self, *args: Any, **kwargs: Any) -> tuple[Any, tuple[Any, ...]]:
        """The result, and the arguments as the function left them (to see whether it changed them)."""
        reply = self._answers._source.call(self.name, to_data(args), to_data(kwargs))
        value = self._answers._value(reply, self.name)
        return value, tuple(from_data(reply.get("args", [])))

    def __repr__(self) -> str:
        return f"<the learner's {self.name}>"


class Answers:
    """The learner's answers, read by attribute: `answers.worst_case_path`.

    A missing name fails the check with a message that says which answer cell should define it.
    """

    def __init__(self, source: AnswerSource | Mapping[str, Any], hints: Mapping[str, str]) -> None:
        self._source: AnswerSource = LocalSource(source) if isinstance(source, Mapping) else source
        self._hints = hints
        """Every answer name the checks may ask for, and what to say when it is missing."""

    def _value(self, reply: Mapping[str, Any], name: str) -> Any:
        if reply.get("missing"):
            hint = self._hints.get(name, "its answer cell is not implemented yet, or has not been run")
            raise MissingAnswer(f"`{name}` is not defined: {hint}")
        if "error" in reply:
            _raise(reply["error"], name, self._source.limit)
        return from_data(reply.get("value"), lambda _: AnswerFunction(self, name))

    def __getattr__(self, name: str) -> Any:
        if name.startswith(("_", "hypothesis")) or name.endswith("_example") or name not in self._hints:
            raise AttributeError(name)  # probes by pytest and hypothesis (execute_example ...), never an answer
        return self._value(self._source.get(name), name)

    def __contains__(self, name: str) -> bool:
        with contextlib.suppress(MissingAnswer, AnswerRaised):
            getattr(self, name)
            return True
        return False


def call(function: str, *args: Any, **kwargs: Any) -> str:
    """How a call reads in a message: `worst_case_path([0.1, 0.2], 0, 1, timeout=0.5)`."""
    shown = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
    return f"{function}({', '.join(shown)})"


def number(value: Any, what: str) -> float:
    """`value` as a float, or a failed check saying that `what` must be a number (int or float, not bool)."""
    assert isinstance(value, int | float) and not isinstance(value, bool), (
        f"{what} must be a number (a float), got {_kind(value)} {value!r}"
    )
    return float(value)


def boolean(value: Any, what: str) -> bool:
    """`value` itself, or a failed check saying that `what` must be True or False (not 0/1, not a string)."""
    assert isinstance(value, bool), f"{what} must be a bool (True or False), got {_kind(value)} {value!r}"
    return value


def _kind(value: Any) -> str:
    return value.type_name if isinstance(value, Opaque) else type(value).__name__


def properties(examples: int = 25) -> settings:
    """Hypothesis settings for a property check: seeded (the same examples every run), no database, no deadline."""
    return settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )


def close(actual: float, expected: float, rel: float = 1e-6, abs_tol: float = 1e-9) -> bool:
    """Equal up to floating-point rounding (infinities equal themselves, NaN equals nothing)."""
    return actual == expected or math.isclose(actual, expected, rel_tol=rel, abs_tol=abs_tol)
