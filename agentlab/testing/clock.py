"""A fake clock: time that moves only when told to, so timing tests are exact (labs 02, 03)."""

from __future__ import annotations

__all__ = ["FakeClock"]


class FakeClock:
    """Time that moves only when told to: call it for "now"; `sleep` advances it instead of waiting.

    Pass it as the `clock` (and `sleep`) of breakers, rate limits and services, and timing tests become
    exact: no test has to sleep and hope.
    """

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
