"""Leases with fencing on a real cluster: a paused holder of a Dask Lock wakes up still believing it holds the
lock while another holds it, and the store refuses its write because its fencing token is older."""

from __future__ import annotations

import logging
import sys
import uuid
from pathlib import Path

import pytest
from distributed import Client

from agentlab.memory import Blackboard
from agentlab.memory.fencing import _scheduler_log, two_holders


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="SIGSTOP is POSIX")
def test_the_stale_lease_holders_write_is_refused(client: Client, tmp_path: Path) -> None:
    board = Blackboard.open(client, "run-1", server=f"fence-{uuid.uuid4().hex[:8]}", path=str(tmp_path / "m.sqlite"))
    try:
        story = two_holders(client, board, lease_timeout=0.5)
    finally:
        board.server.stop(client)
    assert story.b_holds and story.a_still_thinks_it_holds  # the lease was held twice
    assert story.b_token > story.a_token
    assert story.b_write.ok
    assert not story.a_fenced_write.ok and story.a_fenced_write.reason == "fenced"
    assert story.a_fenced_write.entry is not None and story.a_fenced_write.entry.value == "B's report"
    assert story.a_naive_write.ok  # without its token, the stale holder overwrote B: the naive way


def test_the_schedulers_lease_warning_is_collected_for_the_story_not_printed(caplog: pytest.LogCaptureFixture) -> None:
    said: list[str] = []
    with caplog.at_level(logging.DEBUG), _scheduler_log(said):
        logging.getLogger("distributed.semaphore").critical("Refreshing an unknown lease ID 7 for report")
    assert said == ["CRITICAL: Refreshing an unknown lease ID 7 for report"]
    assert not caplog.records  # returned in TwoHolders.scheduler_said, not printed as a red line
    logging.getLogger("distributed.semaphore").critical("after the story")  # outside it, logs go out as ever
    assert [r.getMessage() for r in caplog.records] == ["after the story"] and len(said) == 1
