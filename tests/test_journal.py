"""The journal: first writer wins, survives SIGKILL, many writers at once, and keys by content (lab 04)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from agentlab.durable import sqlite as journal_sqlite
from agentlab.durable.journal import (
    PositionLog,
    Step,
    completed,
    decode_reply,
    decode_result,
    encode_reply,
    encode_result,
    plan_keys,
    resume_preview,
    run_frame,
    runs_frame,
    subtask_key,
)
from agentlab.durable.sqlite import SCHEMA_VERSION, SqliteJournal, default_path
from agentlab.errors import ConfigError, UsageError
from agentlab.fanout.plan import Plan, SubTask
from agentlab.identity import step_key
from agentlab.steps import SubTaskResult
from agentlab.trace import Event
from agentlab.wire import ModelReply, ToolCall

RUN = "run-1"


def result(task_id: str, value: str = "", state: str = "done") -> SubTaskResult:
    events = (
        Event(f"{RUN}/{task_id}", "model", "step 1", 1_700_000_000.125, 1_700_000_000.5, "tool_calls", "search"),
        Event(f"{RUN}/{task_id}", "tool:search", '{"query": "INC-1001 — root cause"}', 1.0 / 3, 0.7, "ok"),
    )
    return SubTaskResult(
        task_id,
        "researcher",
        state,
        value or f"finding {task_id}",
        None,
        "tcp://127.0.0.1:1",
        1.5,
        2.25,
        "primary",
        events,
    )


def done(key: str, payload: dict[str, Any], run_id: str = RUN, path: str = "r1/a") -> Step:
    return Step(run_id, key, "subtask", path, "done", payload)


@pytest.fixture
def journal() -> SqliteJournal:
    return SqliteJournal(":memory:")


# --- recording and reading ------------------------------------------------------------------------


def test_append_get_and_steps_round_trip(journal: SqliteJournal) -> None:
    assert journal.append(Step(RUN, "k-a", "subtask", "r1/a", "started"))
    assert journal.append(done("k-a", {"value": "x", "n": [1, 2.5, None, True]}))
    assert journal.append(done("k-b", {}, path="r1/b"))
    got = journal.get(RUN, "k-a")
    assert got is not None
    assert (got.kind, got.path, got.status, got.payload) == (
        "subtask",
        "r1/a",
        "done",
        {"value": "x", "n": [1, 2.5, None, True]},
    )
    assert [(s.key, s.status) for s in journal.steps(RUN)] == [("k-a", "started"), ("k-a", "done"), ("k-b", "done")]
    seqs = [s.seq for s in journal.steps(RUN)]
    assert seqs == sorted(seqs) and len(set(seqs)) == 3


def test_recording_the_same_step_twice_is_a_no_op(journal: SqliteJournal) -> None:
    step = done("k-a", {"value": "x"})
    assert journal.append(step) is True
    assert journal.append(step) is False
    assert journal.append(Step(RUN, "k-b", "subtask", "r1/b", "started")) is True
    assert journal.append(Step(RUN, "k-b", "subtask", "r1/b", "started")) is False
    assert len(journal.steps(RUN)) == 2


def test_the_first_done_wins_against_a_different_second_done(journal: SqliteJournal) -> None:
    assert journal.append(done("k-a", {"value": "first"})) is True
    assert journal.append(done("k-a", {"value": "second"})) is False  # reported: not recorded
    assert journal.append(Step(RUN, "k-a", "subtask", "r1/a", "failed", {"error": "late duplicate"})) is False
    got = journal.get(RUN, "k-a")
    assert got is not None and got.payload == {"value": "first"}
    assert len(journal.steps(RUN)) == 1


def test_get_returns_the_latest_status_and_done_is_final(journal: SqliteJournal) -> None:
    assert journal.get(RUN, "k-a") is None
    journal.append(Step(RUN, "k-a", "subtask", "r1/a", "started"))
    assert journal.get(RUN, "k-a").status == "started"  # type: ignore[union-attr]
    journal.append(Step(RUN, "k-a", "subtask", "r1/a", "failed", {"error": "boom"}))
    assert journal.get(RUN, "k-a").status == "failed"  # type: ignore[union-attr]
    journal.append(done("k-a", {"value": "ok"}))
    assert journal.get(RUN, "k-a").status == "done"  # type: ignore[union-attr]
    assert journal.append(Step(RUN, "k-a", "subtask", "r1/a", "started")) is False
    assert journal.get(RUN, "k-a").status == "done"  # type: ignore[union-attr]


def test_unknown_run_and_key_are_empty(journal: SqliteJournal) -> None:
    journal.append(done("k-a", {}))
    assert journal.steps("no-such-run") == []
    assert journal.get("no-such-run", "k-a") is None
    assert completed(journal, "no-such-run") == {}
    assert run_frame(journal, "no-such-run").empty


def test_steps_of_one_run_do_not_leak_into_another(journal: SqliteJournal) -> None:
    journal.append(done("k-a", {"v": 1}, run_id="r1"))
    journal.append(done("k-a", {"v": 2}, run_id="r2"))  # same key, another run: its own step
    assert journal.get("r1", "k-a").payload == {"v": 1}  # type: ignore[union-attr]
    assert journal.get("r2", "k-a").payload == {"v": 2}  # type: ignore[union-attr]


def test_a_status_outside_the_lifecycle_is_refused(journal: SqliteJournal) -> None:
    with pytest.raises(ValueError, match="status"):
        journal.append(Step(RUN, "k-a", "subtask", "r1/a", "finished"))


def test_runs_are_listed_resumed_and_finished(journal: SqliteJournal) -> None:
    assert journal.start_run("r1", "goal one", {"model": "offline"}) is True
    assert journal.start_run("r2", "goal two") is True
    journal.append(done("k-a", {}, run_id="r1"))
    journal.finish_run("r1", "finished", "the answer")
    journal.finish_run("r2", "failed")
    runs = {r.run_id: r for r in journal.runs()}
    assert (runs["r1"].status, runs["r1"].answer, runs["r1"].done, runs["r1"].meta) == (
        "finished",
        "the answer",
        1,
        {"model": "offline"},
    )
    assert runs["r2"].status == "failed"
    assert journal.start_run("r2", "goal two") is False  # a resume: running again, same row
    assert {r.run_id: r.status for r in journal.runs()}["r2"] == "running"
    with pytest.raises(ValueError, match="goal"):
        journal.start_run("r2", "another goal")
    with pytest.raises(UsageError, match="no run 'never-started'"):
        journal.finish_run("never-started", "finished")
    with pytest.raises(ValueError):
        journal.finish_run("r1", "done")
    frame = runs_frame(journal)
    assert list(frame["run_id"]) == ["r1", "r2"] and list(frame["done"]) == [1, 0]


def test_default_path_comes_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTLAB_JOURNAL", str(tmp_path / "sub" / "j.sqlite"))
    assert default_path() == str(tmp_path / "sub" / "j.sqlite")
    with SqliteJournal() as journal:
        journal.append(done("k-a", {}))
    assert (tmp_path / "sub" / "j.sqlite").exists()
    monkeypatch.delenv("AGENTLAB_JOURNAL")
    assert default_path().endswith(str(Path(".agentlab") / "journal.sqlite"))


def test_synchronous_full_is_an_option_and_nonsense_is_refused(tmp_path: Path) -> None:
    with SqliteJournal(tmp_path / "j.sqlite", synchronous="FULL") as journal:
        assert journal.append(done("k-a", {}))
        assert journal._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert journal._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with pytest.raises(ValueError):
        SqliteJournal(tmp_path / "j.sqlite", synchronous="OFF")


# --- payloads --------------------------------------------------------------------------------------


def test_a_subtask_result_round_trips_exactly_through_the_file(tmp_path: Path) -> None:
    original = result("a", "INC-1001: a full disk — 42 minutes ✓")
    failed = SubTaskResult("b~1", "critic", "timeout", "", "abandoned after 2.0 s", "", 3.0, 5.0, "hedge")
    with SqliteJournal(tmp_path / "j.sqlite") as journal:
        journal.append(done("k-a", encode_result(original)))
        journal.append(Step(RUN, "k-b", "subtask", "r1/b", "failed", encode_result(failed)))
    with SqliteJournal(tmp_path / "j.sqlite") as journal:
        assert decode_result(journal.get(RUN, "k-a").payload) == original  # type: ignore[union-attr]
        assert decode_result(journal.get(RUN, "k-a").payload).events == original.events  # type: ignore[union-attr]
        assert decode_result(journal.get(RUN, "k-b").payload) == failed  # type: ignore[union-attr]


def test_a_model_reply_round_trips_exactly(journal: SqliteJournal) -> None:
    calls = (
        ToolCall("call_1", "make_plan", '{"subtasks": [{"id": "a", "goal": "x"}]}'),
        ToolCall("c2", "search", "{}"),
    )
    replies = [
        ModelReply(None, calls, "tool_calls", {"prompt_tokens": 12, "completion_tokens": 3}),
        ModelReply("the answer", (), "stop", {}),
    ]
    for i, reply in enumerate(replies):
        journal.append(Step(RUN, f"model-{i}", "model", "plan", "done", encode_reply(reply)))
    assert [decode_reply(journal.get(RUN, f"model-{i}").payload) for i in range(2)] == replies  # type: ignore[union-attr]


class Opaque:
    pass


def cyclic() -> list[Any]:
    loop: list[Any] = []
    loop.append(loop)
    return loop


@pytest.mark.parametrize(
    ("payload", "error", "words"),
    [
        ({"value": Opaque()}, UsageError, "Opaque"),
        ({"value": float("nan")}, UsageError, "nan"),
        ({"scores": {1: "a"}}, UsageError, "key 1"),
        ({"tags": {"a", "b"}}, UsageError, "set"),
        ({"raw": b"\x00"}, UsageError, "bytes"),
        ({"loop": cyclic()}, UsageError, "nested"),
    ],
)
def test_a_payload_that_is_not_json_is_refused_and_not_written(
    journal: SqliteJournal, payload: dict[str, Any], error: type[Exception], words: str
) -> None:
    with pytest.raises(error, match=words) as info:
        journal.append(done("k-a", payload))
    assert "r1/a" in str(info.value)  # the message names the step
    assert journal.steps(RUN) == []


# --- the DBOS #688 failure: positions shift, content keys do not -------------------------------------


def test_a_position_log_returns_the_wrong_result_when_completion_order_changes(journal: SqliteJournal) -> None:
    tasks = [SubTask("a", "find the root cause"), SubTask("b", "find the duration"), SubTask("c", "find the owner")]
    results = {t.id: result(t.id) for t in tasks}
    keys = {t.id: subtask_key(RUN, t) for t in tasks}
    positions = PositionLog()
    # first run: the fan-out completes c, then a ... and the supervisor crashes before b finishes
    for task_id in ["c", "a"]:
        positions.record(results[task_id])
        journal.append(done(keys[task_id], encode_result(results[task_id]), path=f"r1/{task_id}"))
    # the resumed run walks its plan (a, b, c) and asks each log for every step
    by_position = {t.id: positions.get(i) for i, t in enumerate(tasks)}
    assert by_position["a"] == results["c"]  # a silently gets c's finding
    assert by_position["b"] == results["a"]  # b, never finished, is "done" with a's finding
    assert by_position["c"] is None  # and c, finished, runs again
    by_key = {t.id: journal.get(RUN, keys[t.id]) for t in tasks}
    assert decode_result(by_key["a"].payload) == results["a"]  # type: ignore[union-attr]
    assert by_key["b"] is None  # redo b, and only b
    assert decode_result(by_key["c"].payload) == results["c"]  # type: ignore[union-attr]
    preview = resume_preview(journal, RUN, plan_keys(RUN, Plan(tasks)))
    assert list(zip(preview["path"], preview["action"], strict=True)) == [
        ("r1/a", "SKIP"),
        ("b", "REDO"),  # never recorded: labelled by its sub-task id
        ("r1/c", "SKIP"),
    ]


def test_step_keys_name_what_a_step_is() -> None:
    a = SubTask("a", "find the root cause")
    assert subtask_key(RUN, a) == subtask_key(RUN, SubTask("a", "find the root cause"))
    assert subtask_key(RUN, a) != subtask_key(RUN, SubTask("a", "find the owner"))
    assert subtask_key(RUN, a) != subtask_key("run-2", a)
    assert subtask_key(RUN, a) != subtask_key(RUN, a.fresh())  # a fresh re-plan is new work
    assert subtask_key(RUN, a).startswith("subtask-")


def test_resume_preview_and_run_frame(journal: SqliteJournal) -> None:
    plan_key = step_key(RUN, "plan", "model", [{"role": "user", "content": "goal"}])
    journal.append(
        Step(
            RUN, plan_key, "model", "plan", "done", encode_reply(ModelReply(None, (ToolCall("1", "make_plan", "{}"),)))
        )
    )
    journal.append(Step(RUN, "subtask-a", "subtask", "r1/a", "started"))
    journal.append(done("subtask-a", encode_result(result("a"))))
    journal.append(Step(RUN, "subtask-b", "subtask", "r1/b", "started"))
    journal.append(Step(RUN, "subtask-c", "subtask", "r1/c", "failed", encode_result(result("c", "", "failed"))))
    preview = resume_preview(journal, RUN)
    assert list(preview["action"]) == ["SKIP", "SKIP", "REDO", "REDO"]
    assert list(preview["status"]) == ["done", "done", "started", "failed"]
    asked = resume_preview(journal, RUN, ["subtask-b", "subtask-zz", plan_key])
    assert list(asked["status"]) == ["started", "absent", "done"]
    assert list(asked["kind"]) == ["subtask", "subtask", "model"]
    frame = run_frame(journal, RUN)
    assert list(frame.columns) == ["seq", "kind", "path", "key", "status", "created", "summary"]
    assert len(frame) == 5
    assert list(frame["summary"])[:3] == ["make_plan", "", "done: finding a"]


# --- crashes, threads, processes ---------------------------------------------------------------------

WRITER = """
import os, signal, sys
from agentlab.durable.journal import Step
from agentlab.durable.sqlite import SqliteJournal

path, n, kill_after = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
journal = SqliteJournal(path)
for i in range(n):
    journal.append(Step("run", f"k{i}", "subtask", f"r1/{i}", "done", {"i": i, "value": "x" * 200}))
    print(i, flush=True)  # the parent learns which appends returned (were committed)
    if i + 1 == kill_after:
        os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.mark.slow
def test_every_committed_step_survives_sigkill(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    child = subprocess.run(
        [sys.executable, "-c", WRITER, str(path), "500", "137"], check=False, capture_output=True, text=True, timeout=60
    )
    assert child.returncode == -9, child.stderr
    committed = {int(line) for line in child.stdout.split()}
    assert committed == set(range(137))
    with SqliteJournal(path) as journal:
        steps = journal.steps("run")
        assert journal._db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert [s.payload["i"] for s in steps] == sorted(committed)
    assert all(s.payload == {"i": int(s.key[1:]), "value": "x" * 200} for s in steps)


def test_eight_threads_record_at_once(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "j.sqlite")
    start, errors = threading.Barrier(8), list[BaseException]()

    def record(thread: int) -> None:
        start.wait()
        try:
            for i in range(200):
                journal.append(done(f"k{thread}-{i}", {"thread": thread, "i": i}, path=f"r1/{thread}/{i}"))
        except BaseException as exc:  # collected, so the assertion below shows it
            errors.append(exc)

    threads = [threading.Thread(target=record, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    steps = journal.steps(RUN)
    assert len(steps) == 1600 and len({s.key for s in steps}) == 1600 and len({s.seq for s in steps}) == 1600
    journal.close()


RACER = """
import sys, time
from agentlab.durable.journal import Step
from agentlab.durable.sqlite import SqliteJournal

path, me, other, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
journal = SqliteJournal(path)
journal.append(Step("run", f"{me}-0", "subtask", f"{me}/0", "done", {"by": me}))
deadline = time.monotonic() + 60
while journal.get("run", f"{other}-0") is None:  # rendezvous: go on only once both are writing
    if time.monotonic() > deadline:
        sys.exit("the other writer never started")
    time.sleep(0.002)
for i in range(1, n):
    journal.append(Step("run", f"{me}-{i}", "subtask", f"{me}/{i}", "done", {"by": me, "i": i}))
"""


@pytest.mark.slow
def test_two_processes_record_to_one_file_at_once(tmp_path: Path) -> None:
    path = str(tmp_path / "j.sqlite")
    SqliteJournal(path).close()  # both children open an existing file
    children = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, path, me, other, "400"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for me, other in [("p", "q"), ("q", "p")]
    ]
    outputs = [child.communicate(timeout=120) for child in children]
    for child, (_, err) in zip(children, outputs, strict=True):
        assert child.returncode == 0, err
        assert "locked" not in err
    with SqliteJournal(path) as journal:
        keys = {s.key for s in journal.steps("run")}
    assert keys == {f"{me}-{i}" for me in "pq" for i in range(400)}


# --- schema ------------------------------------------------------------------------------------------


def test_a_fresh_file_gets_the_current_schema_version(tmp_path: Path) -> None:
    with SqliteJournal(tmp_path / "j.sqlite") as journal:
        assert journal.version == SCHEMA_VERSION
    with sqlite3.connect(tmp_path / "j.sqlite") as db:
        assert db.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]


def test_a_file_from_a_newer_agentlab_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    with SqliteJournal(path) as journal:
        journal.append(done("k-a", {}))
    db = sqlite3.connect(path)
    db.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION + 1,))
    db.commit()
    db.close()
    with pytest.raises(ConfigError, match=f"schema version {SCHEMA_VERSION + 1}, newer"):
        SqliteJournal(path)


def test_a_file_that_is_not_a_journal_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a database, " * 100)
    with pytest.raises(ConfigError, match=r"the journal .*notes.txt is not an agentlab journal"):
        SqliteJournal(tmp_path / "notes.txt")


def test_an_older_file_is_migrated_by_the_hook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "j.sqlite"
    with SqliteJournal(path) as journal:
        journal.append(done("k-a", {"v": 1}))
    monkeypatch.setattr(journal_sqlite, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    monkeypatch.setattr(journal_sqlite, "MIGRATIONS", {SCHEMA_VERSION: "ALTER TABLE steps ADD COLUMN note TEXT"})
    with SqliteJournal(path) as journal:
        assert journal.version == SCHEMA_VERSION + 1
        assert journal.get(RUN, "k-a").payload == {"v": 1}  # type: ignore[union-attr]
        columns = [row[1] for row in journal._db.execute("PRAGMA table_info(steps)")]
    assert "note" in columns


# --- storage -----------------------------------------------------------------------------------------


def bytes_per_step(path: Path, n: int) -> float:
    """File growth per step (a started and a done event, ~300-byte result) over an empty journal."""
    payload = encode_result(SubTaskResult("a", "researcher", "done", "x" * 150, None, "tcp://10.0.0.7:40123", 1.0, 2.0))
    with SqliteJournal(path) as journal:
        journal.start_run(RUN, "goal")
        journal.checkpoint()
        empty = path.stat().st_size
        for i in range(n):
            key = step_key(RUN, f"r1/t{i}", "subtask", {"goal": f"goal {i}"})
            journal.append(Step(RUN, key, "subtask", f"r1/t{i}", "started"))
            journal.append(Step(RUN, key, "subtask", f"r1/t{i}", "done", payload))
        journal.checkpoint()
    return (path.stat().st_size - empty) / n


def test_storage_grows_linearly_with_steps(tmp_path: Path) -> None:
    small, large = bytes_per_step(tmp_path / "100.sqlite", 100), bytes_per_step(tmp_path / "1000.sqlite", 1000)
    assert abs(small - large) / large < 0.2, (small, large)
    assert large < 2048  # well under LangGraph's 13 KiB per step at 100 steps
