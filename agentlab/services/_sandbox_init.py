"""PID 1 of a code sandbox: wall the namespaces in, then run the model's program as `nobody` (lab 02).

`agentlab.services.sandbox` starts this file as `python -I -S _sandbox_init.py CONFIG` inside the
fresh namespaces that util-linux `unshare` made. It runs as root *inside* them, does the steps that
need root, and then runs the model's program with everything dropped:

1. read the inputs (main.py and the caller's files) from the host's scratch directory;
2. with a mount namespace: make every mount read-only, give /tmp, /var/tmp, /dev/shm and /run/lock
   each a private size-capped tmpfs, and copy the inputs to /tmp/work;
3. when dropping to `nobody`, make the Python runtime reachable for it: a directory it may not
   enter (such as a 0700 /root) is covered by an empty tmpfs with only the runtime's path bound back;
4. if the program cannot run as `nobody`, enter a user namespace of our own instead, so that it
   holds no privileges over the mounts and namespaces set up above; report what is in force;
5. fork; the child sets the rlimits, drops to uid/gid 65534 (when it may) and execs
   `python -I -B main.py`;
6. reap every orphan until the program exits, report its exit status, and exit. As PID 1 of the pid
   namespace, our exit makes the kernel kill whatever the program left running.

A backstop alarm ends us at wall_seconds + 2 s, taking the namespace with us, should the host
process die before it can kill the sandbox itself.

Standard library only and no site-packages (-S): this runs as root before anything is dropped.
Left out: seccomp syscall filters, cgroups and Landlock.
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
                _mount(None, point, None, MS_REMOUNT | MS_BIND | MS_RDONLY | kept)
            except OSError:
                if target is not None:
                    raise


def _entry_below(directory: str, path: str) -> str | None:
    """The name of the entry of `directory` that `path` runs through, if it runs through one."""
    rest = path[len(directory) :].lstrip("/") if path.startswith(directory.rstrip("/") + "/") else ""
    return rest.split("/")[0] or None


def _cover(directory: str, keep: Iterable[str], options: str) -> None:
    """Mount an empty tmpfs on `directory`, then bind back (read-only) the entries `keep` runs through."""
    names = sorted({name for path in keep if (name := _entry_below(directory, path))})
    handles = {name: os.open(os.path.join(directory, name), os.O_PATH) for name in names}
    _mount("tmpfs", directory, "tmpfs", MS_NOSUID | MS_NODEV, options)
    for name, handle in handles.items():
        target = os.path.join(directory, name)
        if stat.S_ISDIR(os.fstat(handle).st_mode):
            os.mkdir(target)
        else:
            os.close(os.open(target, os.O_CREAT | os.O_WRONLY, 0o644))
        # The handle still reaches the hidden original; /proc/self/fd turns it back into a path.
        _mount(f"/proc/self/fd/{handle}", target, None, MS_BIND | MS_REC)
        _make_readonly(target)
        os.close(handle)


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
    inputs = _read_inputs(config["inputs"])
    in_force, workdir, runtime = ["rlimits"], config["inputs"], config["runtime"]
    if config["mountns"]:
        _own_mount_namespace(config["host_mount_namespace"])
        _make_readonly()
        workdir = _private_tmp(inputs, config["scratch_mb"], runtime)
        in_force.append("mountns")
    uid = None
    if config["drop_uid"] and (_open_runtime(runtime) if config["mountns"] else all(map(reachable, runtime))):
        uid = NOBODY
        _give_to(workdir, uid)
        in_force.append("uid")
    elif config["userns"] and _shed_privileges():
        in_force.append("userns")
    _report(status, {"isolation": in_force})
    pid = os.fork()
    if pid == 0:
        _run_program(config, workdir, uid)
    code = _reap(pid)
    _report(status, {"exit_code": code})
    os._exit(128 - code if code < 0 else code)


if __name__ == "__main__":
    main(sys.argv)
