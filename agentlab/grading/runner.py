"""Running the checks: pytest on check modules, against a namespace of answers, one outcome per check.

Both the grader's checking process and `check("ex2")` in a notebook come here, so the two cannot
disagree. pytest runs in-process, isolated from the surrounding project: no ini file, no conftest, no
auto-loaded plugins, and its own output discarded — the outcomes come from hooks:

    setup     a check whose part could not be loaded fails at once, with the loader's reason
    call      the check runs under a time limit (`agentlab.grading.limits`)
    report    the first failure's reason is kept, in words a learner can act on
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Callable, Collection, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import pytest

from agentlab.grading.limits import time_limit
from agentlab.grading.testkit import Answers

__all__ = ["Outcome", "reason", "run_checks"]

Listener = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class Outcome:
    """How one check went."""

    test: str
    part: str
    hidden: bool
    passed: bool
    message: str = ""


def _innermost(tb: TracebackType | None) -> str:
    """The function the error came from ("the answer cell" for top-level code)."""
    name = "the answer cell"
    while tb is not None:
        name = tb.tb_frame.f_code.co_name
        tb = tb.tb_next
    return "the answer cell" if name == "<module>" else f"`{name}`"


def reason(error: BaseException, tb: TracebackType | None = None) -> str:
    """One line a learner can act on, for an error raised by an answer or a check."""
    if not isinstance(error, Exception):  # our own time limits and lost sessions: their message is the reason
        return str(error).strip() or type(error).__name__
    if isinstance(error, NotImplementedError):
        return f"not implemented: {_innermost(tb)} still raises NotImplementedError"
    text = str(error).strip()
    if isinstance(error, AssertionError | pytest.fail.Exception):
        return text.splitlines()[0] if text else "a check failed"
    first = text.splitlines()[0] if text else ""
    return f"{type(error).__name__}: {first} (raised in {_innermost(tb)})"


def _graded(item: pytest.Item) -> tuple[str, bool]:
    mark = item.get_closest_marker("graded")
    kwargs = mark.kwargs if mark else {}
    return str(kwargs.get("part", "?")), bool(kwargs.get("hidden", False))


class _Plugin:
    """The answers fixture, the per-check gate and limit, and the outcome recorder."""

    def __init__(
        self,
        answers: Answers,
        broken: Mapping[str, str],
        limit: float | None,
        listen: Listener,
        only: Collection[str] | None = None,
        limits: Mapping[str, float] | None = None,
    ) -> None:
        self._answers, self.broken, self.limit, self.listen = answers, broken, limit, listen
        self.only, self.limits = only, limits or {}
        self.outcomes: list[Outcome] = []
        self.errors: list[str] = []
        self._failures: dict[str, str] = {}

    @pytest.fixture(name="answers")
    def answers_fixture(self) -> Answers:
        return self._answers

    def pytest_configure(self, config: pytest.Config) -> None:
        config.addinivalue_line("markers", "graded(part, hidden): a graded check of one answer part")

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.errors.append(f"the checks in {report.nodeid} could not be loaded: {report.longreprtext[-300:]}")

    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        if self.only is not None:
            items[:] = [item for item in items if _graded(item)[0] in self.only]

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        part = _graded(item)[0]
        self.listen({"event": "start", "item": "test", "test": item.name, "part": part})
        if part in self.broken:
            pytest.fail(self.broken[part], pytrace=False)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, None, None]:
        limit = self.limits.get(_graded(item)[0], self.limit) if self.limit is not None else None
        with time_limit(limit, f"the check {item.name}"):
            return (yield)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        if report.failed and item.nodeid not in self._failures:
            error = call.excinfo
            self._failures[item.nodeid] = reason(error.value, error.tb) if error else report.longreprtext[-200:]
        if report.when == "teardown":
            part, hidden = _graded(item)
            message = self._failures.get(item.nodeid, "")
            outcome = Outcome(item.name, part, hidden, not message, message)
            self.outcomes.append(outcome)
            self.listen({"event": "test", **outcome.__dict__})
        return report


@contextlib.contextmanager
def _isolated_env() -> Iterator[None]:
    saved = os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD")
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # no third-party plugins: only ours
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)
        else:
            os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = saved


def run_checks(
    files: Sequence[Path],
    answers: Answers,
    *,
    broken: Mapping[str, str] | None = None,
    limit: float | None = 10.0,
    listen: Listener | None = None,
    only: Collection[str] | None = None,
    limits: Mapping[str, float] | None = None,
) -> tuple[list[Outcome], list[str]]:
    """Run the checks in `files` against `answers`: (one outcome per check, errors loading the checks).

    `broken` maps a part to the reason its answer could not be loaded; its checks fail with that reason.
    `only` keeps the checks of those parts alone; `limits` gives parts a time limit other than `limit`.
    """
    plugin = _Plugin(answers, broken or {}, limit, listen or (lambda _: None), only, limits)
    args = [
        *map(str, files),
        "-q",
        "-c",
        os.devnull,
        "--rootdir",
        str(Path(files[0]).parent),
        "--noconftest",
        "--import-mode=importlib",
        "--capture=sys",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:faulthandler",
        "-p",
        "no:unraisableexception",  # its collections of garbage at the end cost a second per run
    ]
    with _isolated_env(), contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        pytest.main(args, plugins=[plugin])
    return plugin.outcomes, plugin.errors
