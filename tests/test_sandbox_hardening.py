"""Sandbox hardening (issue 16): one test per way out that the first sandbox left open.

Each runs the attack as root and, through `sandbox_as.py` (setpriv in a private mount namespace), as
an unprivileged user with its own home, ~/.ssh key and /run/user socket; a mode the kernel refuses
here is skipped with the reason. Every test leaves no sandbox process, SysV segment or cgroup behind.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sandboxes import run_cgroups, sandbox_processes

from agentlab.services import _isolation, _sandbox_init, sandbox
from agentlab.services.sandbox import SandboxLimits, SandboxResult, escape_controls, run_python

REPO = Path(__file__).resolve().parents[1]
HELPER = str(Path(__file__).resolve().with_name("sandbox_as.py"))
USER = 1999
"""The unprivileged caller's uid (it needs no passwd entry)."""
MODES = ["root", "user"]
ROOT = os.geteuid() == 0
AVAILABLE = sandbox.isolation_available()


@pytest.fixture(autouse=True)
def nothing_left_behind() -> Iterator[None]:
    """No sandbox process or run cgroup outlives a test (checked at once); leftovers are killed anyway."""
    before, cgroups = sandbox_processes(), run_cgroups()
    yield
    left = sandbox_processes() - before
    for pid in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    assert not left, f"sandbox processes left behind: {left}"
    assert run_cgroups() <= cgroups, "a run's cgroup was left behind"


def run_as(
    mode: str, code: str, limits: dict[str, Any] | None = None, setup: str = "", *, degraded: bool = False
) -> dict[str, Any]:
    """Run `code` in a sandbox started by a `mode` caller; the result as a dict (see sandbox_as.py)."""
    if not ROOT:
        pytest.skip("starting a sandbox as another caller needs root (setpriv, a private mount namespace)")
    if not _can_open():
        pytest.skip("`unshare --mount` is refused here, so no other caller can be set up")
    paths = [*_isolation.runtime_paths(), str(REPO)]
    uid = USER if mode == "user" else 0
    cmd = ["unshare", "--mount", sys.executable, "-I", "-S", HELPER, "open", str(uid), str(int(degraded)), *paths]
    request = json.dumps({"code": code, "limits": limits or {}, "setup": setup})
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "PYTHONPATH": str(REPO)}
    done = subprocess.run(cmd, input=request, capture_output=True, text=True, env=env, check=False, cwd="/")
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, f"the caller failed: {done.stderr[-2000:]}"
    result: dict[str, Any] = json.loads(lines[-1].removeprefix("RESULT "))
    return result


@functools.cache
def _can_open() -> bool:
    done = subprocess.run(["unshare", "--mount", "true"], capture_output=True, check=False)
    return done.returncode == 0


@functools.cache
def shields(mode: str) -> tuple[str, ...]:
    found: tuple[str, ...] = tuple(run_as(mode, "pass")["isolation"])
    return found


def need(mode: str, *names: str) -> None:
    missing = [name for name in names if name not in shields(mode)]
    if missing:
        why = ": cgroups are used only by a root caller" if all(m.startswith("cgroup-") for m in missing) else ""
        pytest.skip(f"a {mode} caller gets no {', '.join(missing)} on this machine{why}")


# --- the caller's session keyring ---------------------------------------------------------------------

KEYS = """
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
KEYCTL = {"x86_64": 250, "aarch64": 219}[os.uname().machine]
"""
ADD_KEY = (
    KEYS
    + """
ADD_KEY = {"x86_64": 248, "aarch64": 217}[os.uname().machine]
libc.syscall(KEYCTL, 1, None)  # a session keyring of the caller's own, so the test touches no other
assert libc.syscall(ADD_KEY, b"user", b"agentlab-test", b"keyring-secret-51c", 18, -3) > 0
"""
)
READ_KEY = (
    KEYS
    + """
key = libc.syscall(KEYCTL, 10, -3, b"user", b"agentlab-test", 0)  # KEYCTL_SEARCH in @s
buffer = ctypes.create_string_buffer(64)
size = libc.syscall(KEYCTL, 11, key, buffer, 64) if key > 0 else -1  # KEYCTL_READ
print("key", key, buffer.raw[: max(size, 0)].decode())
"""
)


@pytest.mark.parametrize("mode", MODES)
def test_the_callers_session_keyring_is_out_of_reach(mode: str) -> None:
    need(mode, "keyring")
    result = run_as(mode, READ_KEY, setup=ADD_KEY)
    assert result["ok"], result["stderr"]
    assert "keyring-secret-51c" not in result["stdout"]
    assert "keyring" in result["isolation"]


# --- the user's files and sockets ---------------------------------------------------------------------

SNOOP = """
import os, socket
for path in [os.environ.get("HOME", ""), "/home/agentlab-tester/.ssh/id_test"]:
    try:
        print("read", open(path).read() if os.path.isfile(path) else os.listdir(path))
    except OSError as exc:
        print("refused", path, exc.errno)
try:
    socket.socket(socket.AF_UNIX).connect(SOCKET)
    print("connected")
except OSError as exc:
    print("no socket", exc.errno)
"""
LISTEN = """
import os, socket
extra = os.path.join(os.environ["XDG_RUNTIME_DIR"], "agent.sock")
server = socket.socket(socket.AF_UNIX)
server.bind(extra)
server.listen(8)
"""


@pytest.mark.parametrize("mode", MODES)
def test_the_users_home_and_runtime_sockets_are_hidden(mode: str) -> None:
    need(mode, "mountns", "hidden")
    socket_path = f"/run/user/{USER if mode == 'user' else 0}/agent.sock"
    result = run_as(mode, f"SOCKET = {socket_path!r}\n" + SNOOP, setup=LISTEN)
    assert result["ok"], result["stderr"]
    assert "ssh-secret" not in result["stdout"] and "connected" not in result["stdout"]
    assert "hidden" in result["isolation"]


def test_only_the_runtimes_own_directory_is_bound_back_never_its_siblings(tmp_path: Path) -> None:
    """The mechanism itself: a venv under a private directory comes back alone, without the .env beside it."""
    if not _can_open():
        pytest.skip("`unshare --mount` is refused here")
    home = tmp_path / "home"
    (home / "proj" / ".venv" / "bin").mkdir(parents=True)
    (home / "proj" / ".env").write_text("API_KEY=secret")
    home.chmod(0o700)
    services = str(Path(_sandbox_init.__file__).parent)
    code = f"""
import os, sys
sys.path.insert(0, {services!r})
import _sandbox_init
_sandbox_init._cover({str(home)!r}, [{str(home / "proj" / ".venv")!r}], "mode=0755,size=1m")
print(sorted(os.listdir({str(home / "proj")!r})), sorted(os.listdir({str(home)!r})))
"""
    user = [] if ROOT else ["--user", "--map-root-user"]
    done = subprocess.run(
        ["unshare", *user, "--mount", sys.executable, "-I", "-S", "-c", code],
        check=False,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0 and not ROOT:
        pytest.skip(f"an unprivileged mount namespace is refused here: {done.stderr[-200:]}")
    assert done.stdout.split("] [") == ["['.venv'", "'proj']\n"], done.stderr


@pytest.mark.parametrize("mode", MODES)
def test_the_runtime_comes_back_alone_in_a_real_run(mode: str) -> None:
    """Every directory between a private directory and the runtime (or agentlab's package) shows only the way
    to it: with the venv in the project checkout, nothing else of the checkout."""
    need(mode, "mountns")
    runtime = _isolation.shared_paths()
    hidden = [p for p in (*_isolation.HIDDEN, "/root") if any(path.startswith(p + "/") for path in runtime)]
    if not hidden:
        pytest.skip("the Python runtime is not under a hidden or private directory on this machine")
    code = f"""
import os
runtime = {runtime!r}
for top in {hidden!r}:
    for path in runtime:
        if path.startswith(top + "/"):
            parts = path[len(top) + 1 :].split("/")
            for depth in range(len(parts)):
                directory = "/".join([top, *parts[:depth]])
                if any(directory == p or directory.startswith(p + "/") for p in runtime):
                    break  # inside the runtime's own directory: all of it is the runtime's
                extra = set(os.listdir(directory)) - {{p[len(directory) + 1 :].split("/")[0] for p in runtime
                                                       if p.startswith(directory + "/")}}
                print(directory, sorted(extra))
"""
    result = run_as(mode, code)
    assert result["ok"], result["stderr"]
    assert all(line.endswith(" []") for line in result["stdout"].splitlines()), result["stdout"]


# --- SysV IPC -----------------------------------------------------------------------------------------

SHM = """
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
"""
HOST_SEGMENT = 0x4A6E7400
RUN_SEGMENT = 0x4A6E7401


def host_segments(key: int) -> list[int]:
    """Ids of host SysV segments with `key`."""
    rows = Path("/proc/sysvipc/shm").read_text().splitlines()[1:]
    return [int(row.split()[1]) for row in rows if int(row.split()[0]) == key]


def remove_segments(key: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    for shmid in host_segments(key):
        libc.shmctl(shmid, 0, None)  # IPC_RMID


@pytest.mark.parametrize("mode", MODES)
def test_sysv_shared_memory_is_the_runs_own(mode: str) -> None:
    need(mode, "ipcns")
    setup = (
        SHM
        + f"""
shmid = libc.shmget({HOST_SEGMENT}, 4096, 0o1666)  # IPC_CREAT | rw for all
ctypes.memmove(libc.shmat(shmid, None, 0), b"host-shm-secret", 15)
"""
    )
    code = (
        SHM
        + f"""
found = libc.shmget({HOST_SEGMENT}, 0, 0)
print("host segment", ctypes.string_at(libc.shmat(found, None, 0), 15) if found >= 0 else "absent")
print("left", libc.shmget({RUN_SEGMENT}, 1 << 20, 0o1666))
"""
    )
    try:
        result = run_as(mode, code, setup=setup)
        assert result["ok"], result["stderr"]
        assert "host-shm-secret" not in result["stdout"]
        assert not host_segments(RUN_SEGMENT), "the run's SysV segment outlived it"
        assert "ipcns" in result["isolation"]
    finally:
        remove_segments(HOST_SEGMENT)
        remove_segments(RUN_SEGMENT)


# --- one memory budget for the whole run ----------------------------------------------------------------

CHILDREN_HOLD = """
import os
go_read, go_write = os.pipe()
children = []
for _ in range(8):
    ready_read, ready_write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(go_write)
        os.close(ready_read)
        held = bytearray(100 * 1024 * 1024)
        held[::4096] = b"x" * len(held[::4096])  # touch every page
        os.write(ready_write, b"1")
        os.read(go_read, 1)  # hold it until the parent says go (or dies)
        os._exit(0)
    os.close(ready_write)
    os.read(ready_read, 1)  # the child holds its 100 MB, or was killed (end of file)
    os.close(ready_read)
    children.append(pid)
os.close(go_write)
alive = sum(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0 for pid in children)
print("held", alive * 100, "MB at once")
"""


@pytest.mark.parametrize("mode", MODES)
def test_memory_is_one_budget_for_all_processes(mode: str) -> None:
    need(mode, "cgroup-memory")
    result = run_as(mode, CHILDREN_HOLD, {"memory_mb": 256, "wall_seconds": 60})
    held = result["stdout"].split()
    assert result["exit_code"] == -signal.SIGKILL or int(held[1]) <= 256, result


@pytest.mark.parametrize("mode", MODES)
def test_memfd_pages_count_against_the_budget(mode: str) -> None:
    need(mode, "cgroup-memory")
    code = """
import os
hoard, total = [], 0
while total < 600:  # 4 MB per memfd: each stays under the file size limit
    hoard.append(os.memfd_create("hoard"))
    os.write(hoard[-1], b"x" * (4 << 20))
    total += 4
print("held", total, "MB in memfds", flush=True)
"""
    result = run_as(mode, code, {"memory_mb": 256, "wall_seconds": 60})
    assert "held 600 MB" not in result["stdout"]
    assert not result["ok"]


# --- per-run process limits ---------------------------------------------------------------------------

BOMB = """
import os, time
n = 0
try:
    while n < 200:
        if os.fork() == 0:
            time.sleep(1000)
        n += 1
except OSError:
    pass
time.sleep(1000)
"""
FORK_EIGHT = """
import os
for _ in range(8):
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
print("forked 8")
"""


@pytest.mark.parametrize("mode", MODES)
def test_a_fork_bomb_does_not_starve_a_concurrent_sandbox(mode: str) -> None:
    need(mode, "pidns")
    holder: list[dict[str, Any]] = []
    bomb = threading.Thread(target=lambda: holder.append(run_as(mode, BOMB, {"max_processes": 16, "wall_seconds": 8})))
    bomb.start()
    # The bomb's processes show on the host; wait (no clock) until it has used its whole allowance.
    while bomb.is_alive() and len(sandbox_processes()) < 16:
        pass
    other = run_as(mode, FORK_EIGHT, {"max_processes": 16})
    bomb.join()
    assert holder and holder[0].get("exit_code") is None  # the bomb ran to its wall clock
    assert other["ok"] and other["stdout"].strip() == "forked 8", other["stderr"]


# --- setuid binaries ----------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_setuid_binaries_give_no_privileges_back(mode: str) -> None:
    passwd = shutil.which("passwd")
    if passwd is None or not os.stat(passwd).st_mode & 0o4000:
        pytest.skip("no setuid passwd on this machine")
    code = f"""
import subprocess
status = open("/proc/self/status").read()
print([line for line in status.splitlines() if line.startswith("NoNewPrivs")][0])
done = subprocess.run([{passwd!r}, "-S", "root"], capture_output=True, text=True)
print("passwd:", done.stdout.strip())
mounts = dict(line.split()[4:6] for line in open("/proc/self/mountinfo"))  # the top one per path
print("mounts without nosuid:", sum("nosuid" not in options.split(",") for options in mounts.values()))
"""
    result = run_as(mode, code)
    assert result["ok"], result["stderr"]
    lines = result["stdout"].splitlines()
    assert lines[0].split() == ["NoNewPrivs:", "1"]
    assert lines[1].strip() == "passwd:", "passwd read the shadow file"
    if "mountns" in result["isolation"]:
        assert lines[2].endswith(" 0")


# --- without CAP_SYS_ADMIN ------------------------------------------------------------------------------

DAEMON = """
import glob, os, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        while True:  # rewrite every later run's program it can reach
            for path in glob.glob("/tmp/agentlab-sbx-*/main.py"):
                try:
                    open(path, "w").write("print('pwned')")
                except OSError:
                    pass
    os._exit(0)
print("left a daemon")
"""


def test_degraded_mode_leaves_nothing_a_later_run_could_meet() -> None:
    """As root without CAP_SYS_ADMIN: no namespaces; a daemon left by one run must not survive it."""
    before = sandbox_processes()
    first = run_as("root", DAEMON, degraded=True)
    assert "pidns" not in first["isolation"] and first["ok"], first
    assert not sandbox_processes() - before, "the first run's daemon outlived it"
    second = run_as("root", "print('my own program')", degraded=True)
    assert second["stdout"].strip() == "my own program"


# --- CPU for the whole run --------------------------------------------------------------------------------

SPINNERS = """
import os, time
start = time.monotonic()
pids = []
for _ in range(4):
    pid = os.fork()
    if pid == 0:
        while time.process_time() < 0.25:
            pass
        os._exit(0)
    pids.append(pid)
for pid in pids:
    os.waitpid(pid, 0)
used = os.times().children_user + os.times().children_system
print(used / (time.monotonic() - start))
"""


@pytest.mark.parametrize("mode", MODES)
def test_cpu_is_limited_for_the_whole_run(mode: str) -> None:
    need(mode, "cgroup-cpu")
    result = run_as(mode, SPINNERS, {"cpus": 0.25, "wall_seconds": 60})
    assert result["ok"], result["stderr"]
    assert float(result["stdout"]) < 0.25 * 1.5  # cores kept busy at once, four spinners notwithstanding


# --- an interrupted caller ------------------------------------------------------------------------------

INTERRUPT = """
from agentlab.services import _isolation
collect = _isolation.collect


def interrupted(proc, exited, deadline, limit):
    proc.stdout.readline()  # the program is running
    raise KeyboardInterrupt


_isolation.collect = interrupted
"""


@pytest.mark.parametrize("mode", MODES)
def test_an_interrupted_caller_leaves_no_sandbox_running(mode: str) -> None:
    code = "import time\nprint('running', flush=True)\ntime.sleep(1000)"
    before = sandbox_processes()
    result = run_as(mode, code, {"wall_seconds": 60}, setup=INTERRUPT)
    assert result == {"interrupted": True}
    assert not sandbox_processes() - before, "the sandbox kept running after its caller was interrupted"


# --- what the model reads ---------------------------------------------------------------------------------


def test_any_string_is_accepted_as_code() -> None:
    result = run_python("print(len('\ud800'), 'lone surrogate')", SandboxLimits(wall_seconds=10))
    assert result.ok and result.stdout.split() == ["1", "lone", "surrogate"], result.stderr


def test_render_escapes_terminal_control_characters() -> None:
    printed = "copy \x1b]52;c;ZXZpbA==\x07 clear \x1b[2J\x1b[H bidi \u202e done\r\n"
    result = SandboxResult(True, 0, printed, "", False, 0.1, ())
    shown = result.render()
    assert shown == "copy \\x1b]52;c;ZXZpbA==\\x07 clear \\x1b[2J\\x1b[H bidi \\u202e done"
    assert "\x1b" not in result._repr_html_() and "\x07" not in result._repr_html_()
    failed = SandboxResult(False, 1, "", "boom\x1b[2J\n", False, 0.1, ())
    assert failed.render() == "error: exit code 1: boom\\x1b[2J"
    assert escape_controls("tab\tand newline\n") == "tab\tand newline\n"


def test_a_real_program_cannot_send_escapes_to_the_model() -> None:
    result = run_python("print('\\x1b]52;c;ZXZpbA==\\x07\\x1b[2J')", SandboxLimits(wall_seconds=10))
    assert result.ok and result.render() == "\\x1b]52;c;ZXZpbA==\\x07\\x1b[2J"


# --- saying what holds ------------------------------------------------------------------------------------


def test_each_protection_in_force_is_named_and_described() -> None:
    result = run_python("pass", SandboxLimits(wall_seconds=10))
    assert result.isolation == tuple(name for name, ok in AVAILABLE.items() if ok)
    assert {"rlimits", "nonewprivs"} <= set(result.isolation)
    words = sandbox.describe()
    assert ("No network." in words) == ("netns" in result.isolation)
    assert ("for the whole run" in words) == ("cgroup-memory" in result.isolation)
    for name in AVAILABLE:
        assert f"**{name}**" in (sandbox.__doc__ or "") or name.startswith("cgroup-")
