"""A time limit that really interrupts Python code: an alarm signal raises inside the looping code.

`time_limit(seconds)` arms SIGALRM; when it fires, `GradingTimeout` is raised wherever the main thread
is, even in `while True: pass`. It derives from BaseException so that a learner's `except Exception`
cannot swallow it. It limits each check in the checking process and in `check()`. Where signals are
unavailable (Windows, a non-main thread) it does nothing. Learner code in grading has limits of its
own: an alarm in the sandbox, and the checker, which ends the sandbox when a reply is late (a loop
inside C code, which no alarm interrupts).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

__all__ = ["GradingTimeout", "time_limit"]


class GradingTimeout(BaseException):
    """The answer or check ran past its time limit."""


def _can_alarm() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextmanager
def time_limit(seconds: float | None, what: str = "this step") -> Iterator[None]:
    """Raise `GradingTimeout` in the block's code once it has run for `seconds` (None: no limit)."""
    if seconds is None or seconds <= 0 or not _can_alarm():
        yield
        return

    def expire(signum: int, frame: FrameType | None) -> None:
        raise GradingTimeout(f"timed out after {seconds:g} s while running {what} (an infinite loop?)")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
