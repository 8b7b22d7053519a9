"""PID 1 of a code sandbox: wall the namespaces in, then run the model's program unprivileged (lab 02).

`agentlab.services.sandbox` starts this file as `python -I -S _sandbox_init.py CONFIG` inside the
fresh namespaces that util-linux `unshare` made. It runs as root *inside* them, does the steps that
need root, and then runs the model's program with everything dropped:

1. join the run's cgroups (memory, pids, cpu budgets for the whole run), before anything is started;
2. read the inputs (main.py and the caller's files) from the host's scratch directory;
3. with a mount namespace: make every mount read-only and nosuid; cover the places that hold the
   user's data (homes, /run, logs, mail, and what the caller owns near the top of the tree) with an
   empty tmpfs, binding back exactly the runtime's own directories, never their siblings; give /tmp,
   /var/tmp, /dev/shm and /run/lock each a private size-capped tmpfs; copy the inputs to /tmp/work;
4. when dropping to the run's own uid, make the Python runtime reachable for it: a directory it may
   not enter (such as a 0700 /root) is covered the same way;
5. if the program cannot get a uid of its own, enter a user namespace of our own instead, so that it
   holds no privileges over the mounts and namespaces set up above;
6. join a fresh, empty session keyring, so the caller's keys (`keyctl @s`) are out of reach;
   report what is in force;
7. fork; the child sets the rlimits, drops to the run's uid/gid (when it may), sets no_new_privs
   (setuid binaries cannot give privileges back) and execs `python -I -B main.py`;
8. reap every orphan until the program exits, report its exit status, and exit. As PID 1 of the pid
   namespace, our exit makes the kernel kill whatever the program left running.

A backstop alarm ends us at wall_seconds + 2 s, taking the namespace with us, should the host
process die before it can kill the sandbox itself.

Standard library only and no site-packages (-S): this runs as root before anything is dropped.
Left out: seccomp syscall filters and Landlock.
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import resource
import signal
import stat
import sys
from collections.abc import Iterable
from typing import Any

__all__ = ["NOBODY", "WORKDIR", "WORLD_WRITABLE", "blocked", "main", "reachable"]

NOBODY = 65534
WORKDIR = "/tmp/work"
WORLD_WRITABLE = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock")

# mount(2) flags, from <sys/mount.h>
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 0x1, 0x2, 0x4, 0x8
MS_REMOUNT, MS_NOATIME, MS_NODIRATIME, MS_BIND, MS_REC = 0x20, 0x400, 0x800, 0x1000, 0x4000
MS_RELATIME = 0x200000
CLONE_NEWUSER = 0x10000000
PR_SET_NO_NEW_PRIVS = 38
KEYCTL_JOIN_SESSION_KEYRING = 1
SYS_KEYCTL = {"x86_64": 250, "aarch64": 219, "i686": 288, "armv7l": 311, "ppc64le": 271, "s390x": 280}
# Per-mount options a read-only remount must keep (inside a user namespace, dropping one is refused).
_KEPT = {
    "nosuid": MS_NOSUID,
    "nodev": MS_NODEV,
    "noexec": MS_NOEXEC,
    "noatime": MS_NOATIME,
    "nodiratime": MS_NODIRATIME,
    "relatime": MS_RELATIME,
}

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
_libc.unshare.argtypes = [ctypes.c_int]
_libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    def c(text: str | None) -> bytes | None:
        return None if text is None else os.fsencode(text)

    if _libc.mount(c(source), c(target), c(fstype), flags, c(data)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {target}: {os.strerror(err)}")


def _unescape(field: str) -> str:
    """mountinfo writes space, tab, newline and backslash in paths as octal escapes (\\040)."""
    return re.sub(r"\\([0-7]{3})", _octal, field)


def _octal(match: re.Match[str]) -> str:
    return chr(int(match.group(1), 8))


def _mounts() -> list[tuple[str, int]]:
    """Every mount point in this namespace, with the per-mount flags a remount must keep."""
    found = []
    with open("/proc/self/mountinfo") as info:
        for line in info:
            fields = line.split()
            kept = sum(_KEPT.get(option, 0) for option in fields[5].split(","))
            found.append((_unescape(fields[4]), kept))
    return found


def _make_readonly(target: str | None = None) -> None:
    """Bind-remount one mount point, or every one, read-only in this namespace."""
    for point, kept in _mounts():
        if target is None or point == target:
            # MS_BIND makes this a per-mount change: the host's mounts and superblocks are untouched.
            try:
                _mount(None, point, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | kept)
            except OSError:
                if target is not None:
                    raise


def _below(directory: str, path: str) -> bool:
    return path.startswith(directory.rstrip("/") + "/")


def _cover(directory: str, keep: Iterable[str], options: str) -> None:
    """Mount an empty tmpfs on `directory`, then bind back (read-only) exactly the paths `keep` names
    below it: their parents are empty directories on the tmpfs, so nothing beside them shows."""
    paths = sorted({os.path.normpath(path) for path in keep if _below(directory, path) and os.path.exists(path)})
    exact = [path for path in paths if not any(_below(other, path) for other in paths)]
    handles = {path: os.open(path, os.O_PATH) for path in exact}
    _mount("tmpfs", directory, "tmpfs", MS_NOSUID | MS_NODEV, options)
    for target, handle in handles.items():
        os.makedirs(os.path.dirname(target), mode=0o755, exist_ok=True)
        if stat.S_ISDIR(os.fstat(handle).st_mode):
            os.mkdir(target)
        else:
            os.close(os.open(target, os.O_CREAT | os.O_WRONLY, 0o644))
        # The handle still reaches the hidden original; /proc/self/fd turns it back into a path.
        _mount(f"/proc/self/fd/{handle}", target, None, MS_BIND | MS_REC)
        _make_readonly(target)
        os.close(handle)


def _hide(directories: list[str], runtime: list[str]) -> bool:
    """Cover each directory holding the user's data, keeping the runtime's own paths; say if any was."""
    done: list[str] = []
    for directory in sorted(directories, key=len):
        inside_runtime = any(path == directory or _below(path, directory) for path in runtime)
        if inside_runtime or any(_below(hidden, directory) for hidden in done) or not os.path.isdir(directory):
            continue
        _cover(directory, runtime, "mode=0755,size=1m")
        _make_readonly(directory)
        done.append(directory)
    return bool(done)


def blocked(path: str) -> tuple[str, str] | None:
    """The first directory on the way to `path` that others may not enter, and the entry below it."""
    directory = "/"
    for name in [part for part in path.split("/") if part]:
        if not os.stat(directory).st_mode & stat.S_IXOTH:
            return directory, name
        directory = os.path.join(directory, name)
    return None


def reachable(path: str) -> bool:
    """Whether `nobody` can get to `path` and use it (enter a directory, read or run a file)."""
    if blocked(path) is not None:
        return False
    mode = os.stat(path).st_mode
    return bool(mode & stat.S_IXOTH) if stat.S_ISDIR(mode) else bool(mode & (stat.S_IROTH | stat.S_IXOTH))


def _open_runtime(paths: list[str]) -> bool:
    """Cover each directory that blocks `nobody` from the runtime, shallowest first; say if it worked."""
    for _ in range(16):
        stuck = [found[0] for found in map(blocked, paths) if found is not None]
        if not stuck:
            return all(map(reachable, paths))
        _cover(min(stuck, key=len), paths, "mode=0755,size=1m")
    return False


def _shed_privileges() -> bool:
    """Enter a user namespace of our own: file access stays as it was, but every capability over
    this sandbox's mounts and namespaces is gone, so the program cannot undo them."""
    return int(_libc.unshare(CLONE_NEWUSER)) == 0


def _read_inputs(directory: str) -> dict[str, bytes]:
    inputs = {}
    for root, _dirs, files in os.walk(directory):
        for name in files:
            path = os.path.join(root, name)
            with open(path, "rb") as source:
                inputs[os.path.relpath(path, directory)] = source.read()
    return inputs


def _private_tmp(inputs: dict[str, bytes], size_mb: int, runtime: list[str]) -> str:
    """Give every world-writable directory a private tmpfs, and put the inputs in /tmp/work."""
    for directory in WORLD_WRITABLE:
        if os.path.isdir(directory) and not os.path.islink(directory):
            _cover(directory, runtime, f"mode=1777,size={size_mb}m")
    for name, data in inputs.items():
        path = os.path.join(WORKDIR, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as target:
            target.write(data)
    return WORKDIR


def _join_cgroups(procs_files: list[str]) -> bool:
    """Move ourselves into the run's cgroups; everything we start from now on is counted there."""
    for path in procs_files:
        with open(path, "w") as procs:
            procs.write("0")  # 0: the writer itself
    return bool(procs_files)


def _fresh_keyring() -> bool:
    """Join a new, empty, anonymous session keyring: the caller's session keys are no longer ours."""
    number = SYS_KEYCTL.get(os.uname().machine)
    return number is not None and int(_libc.syscall(number, KEYCTL_JOIN_SESSION_KEYRING, None)) > 0


def _give_to(directory: str, uid: int) -> None:
    os.chown(directory, uid, uid)
    for root, dirs, files in os.walk(directory):
        for name in dirs + files:
            os.chown(os.path.join(root, name), uid, uid)


def _run_program(config: dict[str, Any], workdir: str, uid: int | None) -> None:
    """In the forked child: limit, drop, exec. Never returns."""
    try:
        os.chdir(workdir)
        # Limits first: lowering is always allowed, and RLIMIT_NPROC must be set before setuid.
        for name, (soft, hard) in config["rlimits"].items():
            resource.setrlimit(getattr(resource, name), (soft, hard))
        if uid is not None:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
        # From here on no execve can raise privileges: setuid bits and file capabilities are ignored.
        if _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS)")
        python = config["python"]
        os.execve(python, [python, "-I", "-B", "main.py"], dict(config["env"], HOME=workdir))
    except BaseException as exc:  # nothing may escape a forked child: report and leave
        os.write(2, f"sandbox: could not start the program: {exc}\n".encode())
        os._exit(127)


def _reap(pid: int) -> int:
    """Reap the program and every orphan handed to us; the program's exit code (-N: killed by signal N)."""
    while True:
        done, status = os.wait()
        if done == pid:
            return os.waitstatus_to_exitcode(status)


def _report(fd: int, message: dict[str, Any]) -> None:
    os.write(fd, (json.dumps(message) + "\n").encode())


def _backstop(_signum: int, _frame: object) -> None:
    os._exit(128 + signal.SIGALRM)


def _own_mount_namespace(host_namespace: str) -> None:
    """Refuse to touch mounts unless we are in a mount namespace other than the host's."""
    if os.readlink("/proc/self/ns/mnt") == host_namespace:
        raise SystemExit("sandbox: refusing to change mounts in the host's mount namespace")


def main(argv: list[str]) -> None:
    """Set up, run the program, report. `--probe-mounts NS` only checks that the mount steps work."""
    if argv[1] == "--probe-mounts":
        _own_mount_namespace(argv[2])
        _make_readonly()
        _cover("/tmp", [], "size=1m")
        return
    config = json.loads(argv[1])
    status = int(config["status_fd"])
    os.set_inheritable(status, False)
    # Backstop: if the host process dies and cannot kill us, we end ourselves (and the namespace).
    signal.signal(signal.SIGALRM, _backstop)
    signal.alarm(int(config["wall_seconds"]) + 2)
    in_force = ["rlimits", "nonewprivs"]
    if _join_cgroups(config["cgroups"]):
        in_force.append("cgroup")
    inputs = _read_inputs(config["inputs"])
    workdir, runtime = config["inputs"], config["runtime"]
    if config["mountns"]:
        _own_mount_namespace(config["host_mount_namespace"])
        _make_readonly()
        in_force += ["mountns", "nosuid"] + (["hidden"] if _hide(config["hide"], runtime) else [])
        workdir = _private_tmp(inputs, config["scratch_mb"], runtime)
    uid = config["drop_uid"]
    if uid is not None and (_open_runtime(runtime) if config["mountns"] else all(map(reachable, runtime))):
        _give_to(workdir, uid)
        in_force.append("uid")
    elif config["userns"] and _shed_privileges():
        uid = None
        in_force.append("userns")
    else:
        uid = None
    if _fresh_keyring():
        in_force.append("keyring")
    _report(status, {"isolation": in_force})
    pid = os.fork()
    if pid == 0:
        _run_program(config, workdir, uid)
    code = _reap(pid)
    _report(status, {"exit_code": code})
    os._exit(128 - code if code < 0 else code)


if __name__ == "__main__":
    main(sys.argv)
