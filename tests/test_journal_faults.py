"""A journal on a broken disk: every fault is a clear JournalUnavailable, never a traceback (lab 04).

Each case uses real SQLite on a real file: a read-only file (`chattr +i` as root, where mode bits do
not bind, else `chmod`), a full disk (SQLite's `max_page_count`, the file's own size limit: the same
SQLITE_FULL a full disk gives; the command-line test fills a real tmpfs too), a write lock
held by another process, a truncated file and a file of garbage. What every case checks: the error
names the file and what to do, the run is marked failed where the file still takes that, and what
was recorded before is all still there. The same faults at the command line (`python -m agentlab`
in a subprocess) exit 2 with one line naming the file and what to do, and no traceback.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from agentlab.durable.journal import Step
from agentlab.durable.sqlite import SqliteJournal
from agentlab.errors import JournalUnavailable
from agentlab.fanout.supervisor import FanOutResult, Supervisor
from agentlab.identity import Work
from agentlab.steps import SubTaskResult
from agentlab.testing import InlineDispatcher
from agentlab.testing.runners import SleepRunner
from agentlab.testing.scripted import ScriptedModel, calls, final

PLAN = '{"subtasks": [{"id": "a", "goal": "find A"}, {"id": "b", "goal": "find B"}]}'


def history(path: Path) -> list[Step]:
    """A journal with one finished run in it: what no fault may lose."""
    with SqliteJournal(path) as journal:
        journal.start_run("old", "an earlier goal")
        journal.append_many([Step("old", f"k{i}", "subtask", f"r1/{i}", "done", {"value": i}) for i in range(3)])
        journal.finish_run("old", "finished", "the earlier answer", "answer")
        return journal.steps("old")


def intact(path: Path, before: list[Step]) -> None:
    with SqliteJournal(path) as journal:
        run = journal.run("old")
        assert run is not None and (run.status, run.answer) == ("finished", "the earlier answer")
        assert journal.steps("old") == before


def clear(error: JournalUnavailable, path: Path, *advice: str) -> None:
    text = str(error)
    assert str(path) in text and all(a in text for a in advice), text


class BigResults(SleepRunner):
    """Sub-tasks whose results take several pages of the file each."""

    def outcome(self, work: Work, start: float, worker: str, end: float | None = None) -> SubTaskResult:
        return work.result("done", "x" * 20_000, worker=worker, start=start, end=end or start)


def supervise(journal: SqliteJournal, runner: SleepRunner | None = None) -> FanOutResult:
    timing = runner or SleepRunner()
    inline = InlineDispatcher(timing)
    model = ScriptedModel([calls(("make_plan", PLAN)), final("A and B")])
    supervisor = Supervisor(None, model, runner=timing, dispatch=inline, clock=inline.clock, journal=journal)
    return supervisor.run("find A and B", run_id="new")


@contextmanager
def read_only(path: Path) -> Iterator[None]:
    """The file made read-only for everyone: immutable as root (root ignores mode bits), else mode 444."""
    if os.geteuid() != 0:
        path.chmod(0o444)
        yield
        path.chmod(0o644)
        return
    if subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False).returncode != 0:
        pytest.skip("chattr +i is not supported here (root ignores chmod)")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def test_a_read_only_journal_is_read_and_refuses_a_run_clearly(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    before = history(path)
    with read_only(path), SqliteJournal(path) as journal:
        assert [r.run_id for r in journal.runs()] == ["old"]  # reading needs no write access
        with pytest.raises(JournalUnavailable) as caught:
            supervise(journal)
        clear(caught.value, path, "is read-only", "chmod u+w", "--journal")
    intact(path, before)


def test_a_full_disk_marks_the_run_failed_and_loses_nothing(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    before = history(path)

    class FillsUp(SqliteJournal):
        def append_many(self, steps: list[Step]) -> list[bool]:  # type: ignore[override]
            pages = self._db.execute("PRAGMA page_count").fetchone()[0]
            self._db.execute(f"PRAGMA max_page_count = {pages}")  # the file cannot grow from here on
            return super().append_many(steps)

    with FillsUp(path) as journal:
        with pytest.raises(JournalUnavailable) as caught:
            supervise(journal, BigResults())
        clear(caught.value, path, "disk is full", "free some space")
        run = journal.run("new")  # still writable in place: the run says how it ended
        assert run is not None and (run.status, run.stop_reason) == ("failed", "JournalUnavailable")
        assert [s.path for s in journal.steps("new")] == ["plan"]  # the planning step, recorded before
    intact(path, before)


def test_broken_variant_an_unguarded_write_escapes_as_a_raw_sqlite_error(tmp_path: Path) -> None:
    """What the guard is for: the same full file under plain sqlite3 raises its own error, no advice."""
    path = tmp_path / "journal.sqlite"
    history(path)
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA max_page_count = {db.execute('PRAGMA page_count').fetchone()[0]}")
    with pytest.raises(sqlite3.OperationalError, match="full") as caught:
        db.execute(
            "INSERT INTO steps (run_id, key, kind, path, status, payload, created) VALUES "
            "('x', 'k', 's', 'p', 'done', ?, 0)",
            ("x" * 20_000,),
        )
    assert not isinstance(caught.value, JournalUnavailable)
    db.close()


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Another process holds the journal's write lock until the block ends."""
    code = (
        "import sqlite3, sys; db = sqlite3.connect(sys.argv[1], isolation_level=None); "
        "db.execute('BEGIN IMMEDIATE'); print('locked', flush=True); sys.stdin.read()"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        yield
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)


def test_a_lock_held_by_another_process_is_named_and_the_run_resumes_after(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    before = history(path)
    with SqliteJournal(path, busy_timeout=0.2) as journal:
        with locked(path):
            assert journal.run("old") is not None  # readers are not blocked by a writer
            with pytest.raises(JournalUnavailable) as caught:
                supervise(journal)
            clear(caught.value, path, "locked by another process", "0.2 s")
        assert supervise(journal).ok  # the lock gone, the same run id runs
    intact(path, before)


def test_a_lock_taken_mid_run_leaves_it_running_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    before = history(path)

    class LockedAtTheEnd(SqliteJournal):
        def finish_run(self, run_id: str, status: str, answer: str = "", stop_reason: str = "") -> None:
            with locked(path):
                super().finish_run(run_id, status, answer, stop_reason)

    with LockedAtTheEnd(path, busy_timeout=0.2) as journal:
        with pytest.raises(JournalUnavailable) as caught:
            supervise(journal)
        clear(caught.value, path, "locked by another process", "still marked running", "resumes it")
        run = journal.run("new")
        assert run is not None and run.status == "running" and len(journal.steps("new")) == 4  # plan, a, b, reduce
    intact(path, before)


def test_a_truncated_journal_is_called_damaged(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    with SqliteJournal(path) as journal:
        journal.start_run("old", "goal")
        journal.append_many([Step("old", f"k{i}", "subtask", "p", "done", {"v": "y" * 3000}) for i in range(40)])
        journal.checkpoint()
    data = path.read_bytes()
    for size, advice in ((len(data) // 2, "is damaged"), (60, "is damaged")):
        path.write_bytes(data[:size])
        with pytest.raises(JournalUnavailable) as caught, SqliteJournal(path) as journal:
            journal.runs(), journal.steps("old")
        clear(caught.value, path, advice, "move it aside")


def test_a_file_of_garbage_is_not_a_journal(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    path.write_bytes(b"this is a shopping list, not a database\n" * 200)
    with pytest.raises(JournalUnavailable) as caught:
        SqliteJournal(path)
    clear(caught.value, path, "not an agentlab journal", "move it aside")
    assert path.read_bytes().startswith(b"this is a shopping list")  # left as it was


# The command line, run as a learner would

QUESTION = "What was the root cause of INC-2108?"


def agentlab(*args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AGENTLAB_", "OPENAI_"))}
    command = [sys.executable, "-m", "agentlab", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=180, env=clean, check=False)


def refused(done: subprocess.CompletedProcess[str], path: Path, advice: str) -> None:
    """Exit 2, one line naming the file and what to do, and no traceback."""
    assert "Traceback" not in done.stdout + done.stderr, done.stderr[-3000:]
    assert done.returncode == 2, (done.returncode, done.stdout[-2000:], done.stderr[-2000:])
    assert f"agentlab: JournalUnavailable: the journal {path} " in done.stderr and advice in done.stderr, done.stderr


def run_new(path: Path, cluster: Any) -> subprocess.CompletedProcess[str]:
    return agentlab(
        "run", QUESTION, "--run-id", "new", "--journal", str(path), "--address", cluster.address, "--latency", "0"
    )


def test_garbage_and_truncated_journals_exit_2_naming_the_file(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"not a journal at all\n" * 100)
    refused(agentlab("runs", "--journal", str(garbage)), garbage, "not an agentlab journal")
    truncated = tmp_path / "truncated.sqlite"
    with SqliteJournal(truncated) as journal:
        journal.start_run("old", "goal")
        journal.append_many([Step("old", f"k{i}", "subtask", "p", "done", {"v": "y" * 3000}) for i in range(40)])
        journal.checkpoint()
    data = truncated.read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    refused(agentlab("runs", "--journal", str(truncated), "--show", "old"), truncated, "is damaged")


def test_a_read_only_journal_lists_its_runs_and_refuses_a_new_one(tmp_path: Path, process_cluster: Any) -> None:
    path = tmp_path / "journal.sqlite"
    before = history(path)
    with read_only(path):
        listing = agentlab("runs", "--journal", str(path))
        assert listing.returncode == 0 and "old" in listing.stdout, listing.stderr
        refused(run_new(path, process_cluster), path, "is read-only")
    intact(path, before)


def test_a_locked_journal_exits_2_and_the_same_run_goes_through_after(tmp_path: Path, process_cluster: Any) -> None:
    """Waits the journal's 10 s busy timeout once: what a learner would wait for."""
    path = tmp_path / "journal.sqlite"
    before = history(path)
    with locked(path):
        refused(run_new(path, process_cluster), path, "locked by another process")
    again = run_new(path, process_cluster)
    assert again.returncode == 0, again.stderr[-2000:]
    intact(path, before)


FILL = """
set -e
mount -t tmpfs -o size=256k tmpfs "$DISK"
cp "$SEED" "$DISK/journal.sqlite"
dd if=/dev/zero of="$DISK/fill" bs=4k 2>/dev/null || true
rm "$DISK/fill"
dd if=/dev/zero of="$DISK/fill" bs=4k count=$(( $(stat -f -c %a "$DISK") - 12 )) 2>/dev/null
set +e
"$@"
echo "exit=$?"
cp "$DISK"/journal.sqlite* "$OUT"/
"""


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare"), reason="mounts a tmpfs: needs root and unshare")
def test_a_journal_on_a_really_full_disk_exits_2_and_loses_nothing(tmp_path: Path, process_cluster: Any) -> None:
    """The disk (a 256 KiB tmpfs) has 48 KiB left: SQLite's shared-memory file takes 32, the run the rest."""
    seed, disk, out = tmp_path / "seed.sqlite", tmp_path / "disk", tmp_path / "out"
    disk.mkdir(), out.mkdir()
    before = history(seed)
    command = [sys.executable, "-m", "agentlab", "run", QUESTION, "--run-id", "new", "--journal"]
    command += [str(disk / "journal.sqlite"), "--address", process_cluster.address, "--latency", "0"]
    env = {**os.environ, "DISK": str(disk), "SEED": str(seed), "OUT": str(out)}
    env = {k: v for k, v in env.items() if not k.startswith(("AGENTLAB_", "OPENAI_"))}
    done = subprocess.run(
        ["unshare", "-m", "sh", "-c", FILL, "fill", *command],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
        check=False,
    )
    if "mount:" in done.stderr and "exit=" not in done.stdout:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    assert "exit=2" in done.stdout, done.stdout[-2000:] + done.stderr[-2000:]
    done = subprocess.CompletedProcess(done.args, 2, done.stdout, done.stderr)
    refused(done, disk / "journal.sqlite", "disk is full")
    intact(out / "journal.sqlite", before)  # the earlier run, copied off the full disk, is all there
    with SqliteJournal(out / "journal.sqlite") as journal:  # and the new one says how it ended
        run = journal.run("new")
        assert run is not None and (run.status, run.stop_reason) == ("failed", "JournalUnavailable")
