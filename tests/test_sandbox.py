"""The code sandbox, attacked with real subprocesses: contained, host untouched, nothing left behind."""

from __future__ import annotations

import dataclasses
import errno
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sandboxes import sandbox_processes

from agentlab.agent.tools import Toolbox
from agentlab.errors import ConfigError, UsageError
from agentlab.services import _isolation, _per_run, _sandbox_init, sandbox
from agentlab.services.sandbox import (
    PROTECTIONS,
    SandboxLimits,
    SandboxPool,
    SandboxResult,
    isolation_available,
    rlimits,
    run_python,
    sandbox_tool,
)
from agentlab.wire import ToolCall

AVAILABLE = isolation_available()
FAST = SandboxLimits(wall_seconds=5.0)
REPO = Path(__file__).resolve().parents[1]

needs_uid = pytest.mark.skipif(
    not AVAILABLE["uid"], reason="cannot run the sandbox as nobody here (not root, or the runtime is unreachable)"
)
needs_pidns = pytest.mark.skipif(not AVAILABLE["pidns"], reason="`unshare --pid --fork` failed: no pid namespace")
needs_mountns = pytest.mark.skipif(not AVAILABLE["mountns"], reason="`unshare --mount` with a tmpfs failed here")


def assert_nothing_left(before: set[int]) -> None:
    left = sandbox_processes() - before
    assert not left, f"sandbox processes left behind: {left}"


@pytest.fixture(autouse=True)
def nothing_left_behind() -> Iterator[set[int]]:
    """Every test, whatever it runs, must leave no sandbox process behind (checked at once, no waiting)."""
    before = sandbox_processes()
    yield before
    assert_nothing_left(before)


def host_can_fork() -> bool:
    return subprocess.run([sys.executable, "-c", "pass"], check=False, timeout=10).returncode == 0


# --- pure parts --------------------------------------------------------------------------------------


def test_every_protection_reported_is_explained_in_its_order() -> None:
    assert list(PROTECTIONS) == list(AVAILABLE)  # lab 00 shows one row per protection, with this meaning


def test_limits_are_a_value_and_map_to_rlimits() -> None:
    limits = SandboxLimits(cpu_seconds=2, memory_mb=100, file_size_mb=1, max_processes=7)
    assert rlimits(limits)["RLIMIT_AS"] == (100 * 2**20, 100 * 2**20)
    assert rlimits(limits)["RLIMIT_CPU"] == (2, 3)
    assert rlimits(limits)["RLIMIT_FSIZE"] == (2**20, 2**20)
    assert rlimits(limits)["RLIMIT_NPROC"] == (7, 7)
    with pytest.raises(ConfigError, match="positive"):
        SandboxLimits(wall_seconds=0)


def test_render_tells_the_model_what_happened() -> None:
    base = SandboxResult(True, 0, "42\n", "", False, 0.1, (), wall_seconds=2.0)
    assert base.render() == "42"
    timed = SandboxResult(False, None, "", "", True, 2.0, (), wall_seconds=2.0)
    assert timed.render() == "error: sandbox timed out after 2.0 s; the process tree was killed"
    failed = SandboxResult(False, 1, "", "Traceback...\nValueError: bad\n", False, 0.1, ())
    assert failed.render() == "error: exit code 1: Traceback...\nValueError: bad"
    killed = SandboxResult(False, -signal.SIGXCPU, "", "", False, 1.0, ())
    assert killed.render().startswith("error: killed by SIGXCPU: the CPU time limit")


def test_command_asks_only_for_what_the_probe_found() -> None:
    nothing = _isolation.Isolation(None, False, netns=False, pidns=False, mountns=False, uid=False, userns=False)
    assert _isolation.command(nothing, "{}")[:2] == [sys.executable, "-I"]
    rootless = dataclasses.replace(nothing, unshare="/usr/bin/unshare", rootless=True, netns=True)
    assert _isolation.command(rootless, "{}")[:5] == ["/usr/bin/unshare", "--user", "--map-root-user", "--net", "--"]


def test_blocked_finds_the_directory_nobody_cannot_enter() -> None:
    with tempfile.TemporaryDirectory() as top:
        os.chmod(top, 0o755)
        private = Path(top, "home")
        (private / "runtime").mkdir(parents=True)
        private.chmod(0o700)
        assert _sandbox_init.blocked(str(private / "runtime" / "bin")) == (str(private), "runtime")
        assert not _sandbox_init.reachable(str(private / "runtime"))
        assert _sandbox_init.reachable(top)


# --- ordinary code -----------------------------------------------------------------------------------


def test_isolation_in_force_is_what_the_probe_found() -> None:
    print("isolation available:", AVAILABLE)
    result = run_python("import os; print(os.getpid(), os.getuid())", FAST)
    assert result.ok, result.stderr
    assert result.isolation == tuple(name for name, ok in AVAILABLE.items() if ok)
    pid, uid = map(int, result.stdout.split())
    if AVAILABLE["pidns"]:
        assert pid == 2  # PID 1 is the sandbox's init; the program is the first thing it starts
    if AVAILABLE["uid"]:
        assert uid in _per_run.SANDBOX_UIDS


def test_normal_code_prints_and_third_party_packages_import() -> None:
    result = run_python("import numpy\nprint(numpy.arange(4).sum())\nprint('done')", FAST)
    assert result.ok and result.exit_code == 0 and not result.timed_out
    assert result.render() == "6\ndone"


def test_files_are_placed_next_to_the_program() -> None:
    result = run_python("print(open('data/in.txt').read().upper())", FAST, files={"data/in.txt": "hello"})
    assert result.render() == "HELLO"
    for bad in ("../escape.txt", "/etc/passwd"):
        with pytest.raises(UsageError, match="relative paths"):
            run_python("pass", FAST, files={bad: "x"})


def test_syntax_error_renders_a_clear_error() -> None:
    result = run_python("def broken(:\n    pass", FAST)
    assert not result.ok and result.exit_code == 1
    assert result.render().startswith("error: exit code 1:")
    assert "SyntaxError" in result.render()


def test_output_is_truncated_at_the_limit() -> None:
    result = run_python("print('x' * 200_000)", SandboxLimits(wall_seconds=5, max_output_bytes=1000))
    assert result.ok
    assert result.stdout.startswith("x" * 1000 + "\n[output truncated: 199001 more bytes")
    assert len(result.stdout) < 1100


def test_scratch_directory_is_removed_afterwards() -> None:
    temp = Path(tempfile.gettempdir())
    mine = f"agentlab-sbx-{os.getpid()}-*"  # this process's only: the other pytest worker runs sandboxes too
    before = set(temp.glob(mine))
    result = run_python("import os\nopen('hello.txt', 'w').write('hi')\nprint(os.getcwd())", FAST)
    assert result.ok, result.stderr
    workdir = Path(result.stdout.strip())
    assert not (workdir / "hello.txt").exists()
    assert set(temp.glob(mine)) == before


# --- hostile code --------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["while True:\n    pass", "import time\ntime.sleep(1000)"])
def test_timeout_kills_the_tree_and_returns_promptly(code: str, nothing_left_behind: set[int]) -> None:
    started = time.monotonic()
    result = run_python(code, SandboxLimits(wall_seconds=1.0))
    elapsed = time.monotonic() - started
    assert result.timed_out and not result.ok and result.exit_code is None
    assert elapsed >= 1.0  # killed by its wall clock, not before (how much after depends on the machine's load)
    assert result.render() == "error: sandbox timed out after 1.0 s; the process tree was killed"
    assert_nothing_left(nothing_left_behind)


def test_cpu_limit_stops_a_busy_loop_before_the_wall_clock() -> None:
    # A generous wall clock: on a loaded machine one CPU second can take many seconds to accumulate.
    result = run_python("while True:\n    pass", SandboxLimits(wall_seconds=60.0, cpu_seconds=1))
    # Not timed out is "before the wall clock"; how soon depends on the machine's load, not on the sandbox.
    assert not result.timed_out and result.exit_code == -signal.SIGXCPU
    assert "CPU time limit" in result.render()


@pytest.mark.parametrize(
    "code",
    ["x = bytearray(2 * 1024**3)", "chunks = []\nwhile True:\n    chunks.append(bytearray(100 * 1024**2))"],
    ids=["2GiB-at-once", "100MiB-at-a-time"],
)
def test_memory_hog_gets_memory_error(code: str, nothing_left_behind: set[int]) -> None:
    result = run_python(code, FAST)
    assert not result.ok and result.exit_code == 1
    assert "MemoryError" in result.render()
    assert_nothing_left(nothing_left_behind)
    assert run_python("print('still fine')", FAST).render() == "still fine"


@needs_uid
def test_fork_bomb_is_refused_by_the_process_limit(nothing_left_behind: set[int]) -> None:
    code = """
import os, time
n = 0
try:
    while n < 10_000:
        if os.fork() == 0:
            time.sleep(60)
            os._exit(0)
        n += 1
except OSError as exc:
    print("fork refused after", n, exc.errno)
"""
    result = run_python(code, SandboxLimits(wall_seconds=5.0, max_processes=16))
    assert result.ok, result.stderr
    words = result.stdout.split()
    assert words[:3] == ["fork", "refused", "after"] and int(words[3]) < 16 and int(words[4]) == errno.EAGAIN
    assert_nothing_left(nothing_left_behind)  # the sleeping children died with the pid namespace
    assert host_can_fork()


@needs_uid
@needs_pidns
@pytest.mark.parametrize("escape", [False, True], ids=["same-group", "children-call-setsid"])
def test_fork_bomb_is_contained_and_killed(escape: bool, nothing_left_behind: set[int]) -> None:
    code = f"""
import os
while True:
    try:
        if os.fork() == 0 and {escape}:
            os.setsid()
    except OSError:
        pass
"""
    started = time.monotonic()
    result = run_python(code, SandboxLimits(wall_seconds=1.5, max_processes=16))
    assert result.timed_out and time.monotonic() - started >= 1.5  # the tree died at its wall clock, not sooner
    assert_nothing_left(nothing_left_behind)
    assert host_can_fork()


@needs_pidns
def test_background_processes_do_not_outlive_the_program(nothing_left_behind: set[int]) -> None:
    code = """
import os, time
if os.fork() == 0:
    os.setsid()
    time.sleep(1000)
print("left a daemon behind")
"""
    result = run_python(code, FAST)
    assert result.ok and result.duration < 2.0
    assert_nothing_left(nothing_left_behind)


def test_large_file_write_is_stopped_by_the_file_size_limit() -> None:
    code = """
import os
try:
    with open("big.bin", "wb") as f:
        for _ in range(100):
            f.write(b"x" * 1024 * 1024)
except OSError as exc:
    print(exc.errno, os.path.getsize("big.bin"))
"""
    result = run_python(code, FAST)
    assert result.ok, result.stderr
    code_, size = map(int, result.stdout.split())
    assert code_ == errno.EFBIG and size <= 8 * 1024 * 1024


@needs_mountns
def test_private_tmp_caps_total_writes() -> None:
    code = """
import os
written = 0
try:
    for i in range(10):
        with open(f"part{i}.bin", "wb") as f:
            f.write(b"x" * 7 * 1024 * 1024)
        written += 7
except OSError as exc:
    print(exc.errno, written)
"""
    result = run_python(code, SandboxLimits(wall_seconds=5.0, scratch_mb=16))
    assert result.ok, result.stderr
    code_, written = map(int, result.stdout.split())
    assert code_ == errno.ENOSPC and written <= 16


@needs_mountns
def test_what_hide_names_is_covered_and_the_package_stays_importable() -> None:
    """How the grader hides its files: the checkout is covered, agentlab (bound back) still imports."""
    checkout = Path(sandbox.__file__).resolve().parents[2]
    code = f"import os\nimport agentlab.text\nprint(sorted(os.listdir({str(checkout)!r})))"
    hidden = run_python(code, FAST, hide=[str(checkout)])
    assert hidden.ok and "hidden" in hidden.isolation, hidden.render()
    assert "'agentlab'" in hidden.stdout and "pyproject.toml" not in hidden.stdout


def test_network_is_unreachable_when_netns_is_in_force() -> None:
    if not AVAILABLE["netns"]:
        pytest.skip("network isolation unavailable here: `unshare --net` failed, so the sandbox can reach the network")
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        code = f"""
import socket
try:
    socket.create_connection(("127.0.0.1", {port}), timeout=2)
    print("connected")
except OSError as exc:
    print("refused", exc.errno)
"""
        result = run_python(code, FAST)
        listener.settimeout(0.1)
        with pytest.raises(TimeoutError):
            listener.accept()
    assert "netns" in result.isolation
    assert result.stdout.split() == ["refused", str(errno.ENETUNREACH)]


def test_parent_secrets_do_not_reach_the_sandbox(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTLAB_TEST_SECRET", "s3cr3t")
    code = """
import glob, os
print(os.environ.get("AGENTLAB_TEST_SECRET"), sorted(os.environ))
for path in glob.glob("/proc/[0-9]*/environ"):
    try:
        print(path, open(path, "rb").read())
    except OSError as exc:
        print(path, "unreadable", exc.errno)
"""
    result = run_python(code, FAST)
    assert result.ok, result.stderr
    assert result.stdout.startswith("None ")
    assert "s3cr3t" not in result.stdout + result.stderr
    assert "AGENTLAB_TEST_SECRET" not in result.stdout + result.stderr


def test_writes_outside_the_sandbox_do_not_reach_the_host(tmp_path: Path) -> None:
    if not (AVAILABLE["uid"] or AVAILABLE["mountns"]):
        pytest.skip("neither nobody nor a mount namespace is available: the sandbox may write as we can")
    token = f"agentlab-escape-{os.getpid()}-{time.monotonic_ns()}"
    targets = [tmp_path / token, Path("/tmp") / token, REPO / token, Path("/var/tmp") / token]
    code = f"""
for path in {[str(t) for t in targets]!r}:
    try:
        with open(path, "w") as f:
            f.write("escaped")
        print("wrote", path)
    except OSError as exc:
        print("refused", path, exc.errno)
"""
    result = run_python(code, FAST)
    assert result.ok, result.stderr
    assert "refused " + str(REPO / token) in result.stdout
    for target in targets:
        assert not target.exists(), f"the sandbox wrote {target} on the host"
    # The host's own filesystems are still writable (the sandbox's read-only view was its own).
    (tmp_path / "host-still-writable").write_text("ok")
    (REPO / token).write_text("ok")
    (REPO / token).unlink()


@needs_pidns
def test_sandbox_ends_itself_if_the_host_stops_watching(nothing_left_behind: set[int]) -> None:
    """The init's backstop alarm: nobody collects or kills this sandbox, yet it is gone in time."""
    limits = SandboxLimits(wall_seconds=1.0)
    with tempfile.TemporaryDirectory() as scratch:
        Path(scratch, "main.py").write_text("import time\ntime.sleep(1000)")
        status_read, status_write = os.pipe()
        shields = _isolation.probe()
        with sandbox._per_run_budget(shields, limits) as run:
            config = sandbox._config(scratch, limits, shields, status_write, run)
            started = time.monotonic()
            with _isolation.start(_isolation.command(shields, config), status_write) as proc:
                os.close(status_write)
                # its own alarm ends it at wall + 2 s; the wait is only a backstop against a hang (not a bound)
                assert proc.wait(timeout=60) == 128 + signal.SIGALRM
            assert time.monotonic() - started >= 1.0 + 2
        os.close(status_read)
    assert_nothing_left(nothing_left_behind)


# --- the pool and the tool ---------------------------------------------------------------------------


def test_pool_never_runs_more_than_its_size_at_once() -> None:
    pool = SandboxPool(size=2)
    code = "import time\nstart = time.time()\ntime.sleep(0.5)\nprint(start, time.time())"
    results: list[SandboxResult] = []
    lock = threading.Lock()

    def one() -> None:
        result = pool.run(code, FAST)
        with lock:
            results.append(result)

    threads = [threading.Thread(target=one) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(r.ok for r in results), [r.stderr for r in results]
    # Sweep the real start/end timestamps the sandboxes printed: +1 at each start, -1 at each end.
    events = sorted(
        (float(stamp), step) for r in results for stamp, step in zip(r.stdout.split(), (1, -1), strict=True)
    )
    running = peak = 0
    for _, step in events:
        running += step
        peak = max(peak, running)
    assert peak == 2
    stats = pool.stats
    assert (stats.size, stats.running, stats.peak, stats.runs, stats.failed) == (2, 0, 2, 6, 0)


def test_tool_runs_through_the_toolbox() -> None:
    box = Toolbox([sandbox_tool(FAST, pool=SandboxPool(1))])
    observation = box.call(ToolCall("c1", "run_python", json.dumps({"code": "print(6*7)"})))
    assert observation.ok and observation.content == "42"
    failing = box.call(ToolCall("c2", "run_python", json.dumps({"code": "1/0"})))
    assert failing.content.startswith("error: exit code 1:") and "ZeroDivisionError" in failing.content
    function = box.schemas()[0]["function"]
    assert function["name"] == "run_python"
    assert function["description"].startswith("Run Python code in a fresh sandbox and return what it prints;")
    assert "Not a security boundary" in function["description"]
    assert function["parameters"]["required"] == ["code"]


def test_default_tool_works() -> None:
    observation = Toolbox([sandbox_tool()]).call(ToolCall("c1", "run_python", json.dumps({"code": "print(6*7)"})))
    assert observation.ok and observation.content == "42"
