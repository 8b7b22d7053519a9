"""Run one sandbox as a given caller, for the hardening tests: root, an unprivileged user, or root
without CAP_SYS_ADMIN (a default container).

    unshare --mount python -I -S sandbox_as.py open UID DEGRADED PATHS...   (as root)
    python sandbox_as.py run  < {"code": ..., "limits": {...}, "setup": ...}

`open` runs as root in a private mount namespace: it gives the caller a home with a 0600 ~/.ssh key
and a 0700 /run/user/UID (each on a tmpfs of this namespace only), makes PATHS (the runtime and the
checkout) reachable for UID the way the sandbox itself does, then becomes UID with `setpriv` (or
only drops CAP_SYS_ADMIN) and runs `run`. `run` executes `setup` (Python, as the caller), then
`run_python`, and prints the result as one JSON line after "RESULT ".
"""

from __future__ import annotations

import json
import os
import sys
import types

HOME = "/home/agentlab-tester"
SECRET = "ssh-secret-agentlab-7d1f"


def _open(uid: int, degraded: bool, paths: list[str]) -> None:
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "agentlab/services"))
    import _sandbox_init as init  # type: ignore[import-not-found]  # loaded by path, like the init itself

    init._mount("tmpfs", "/home", "tmpfs", init.MS_NOSUID | init.MS_NODEV, "mode=0755,size=1m")
    os.makedirs(f"{HOME}/.ssh", mode=0o700)
    with open(f"{HOME}/.ssh/id_test", "w", opener=lambda p, f: os.open(p, f, 0o600)) as key:
        key.write(SECRET)
    os.makedirs("/run/user", exist_ok=True)
    init._mount("tmpfs", "/run/user", "tmpfs", init.MS_NOSUID | init.MS_NODEV, "mode=0755,size=1m")
    runtime = f"/run/user/{uid}"
    os.mkdir(runtime, 0o700)
    for path in (HOME, f"{HOME}/.ssh", f"{HOME}/.ssh/id_test", runtime):
        os.chown(path, uid, uid)
    if (uid != 0 or degraded) and not init._open_runtime(paths):
        raise SystemExit("could not make the runtime reachable")
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": HOME, "XDG_RUNTIME_DIR": runtime}
    env["PYTHONPATH"] = os.environ.get("PYTHONPATH", "")
    setpriv = ["setpriv"]
    if uid != 0:
        setpriv += [f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--inh-caps=-all"]
    if degraded:
        setpriv += ["--bounding-set=-sys_admin", "--inh-caps=-sys_admin"]
    os.chdir("/")
    os.execvpe("setpriv", [*setpriv, sys.executable, os.path.abspath(__file__), "run"], env)


def _run() -> None:
    request = json.loads(sys.stdin.read())
    # agentlab's own __init__ imports the whole toolkit (Dask, ...): seconds per caller. The sandbox
    # needs none of it, so the package is entered without running it.
    package = types.ModuleType("agentlab")
    package.__path__ = [os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "agentlab")]
    sys.modules["agentlab"] = package
    from agentlab.services.sandbox import SandboxLimits, run_python

    space: dict[str, object] = {}
    exec(request.get("setup", ""), space)  # the test's own setup code
    try:
        result = run_python(request["code"], SandboxLimits(**request.get("limits", {})))
    except KeyboardInterrupt:
        print("RESULT " + json.dumps({"interrupted": True}), flush=True)
        return
    answer = {name: getattr(result, name) for name in ("ok", "exit_code", "stdout", "stderr", "isolation")}
    print("RESULT " + json.dumps(answer | {"extra": space.get("extra")}), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "open":
        _open(int(sys.argv[2]), sys.argv[3] == "1", sys.argv[4:])
    else:
        _run()
