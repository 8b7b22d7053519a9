"""The code sandbox's per-call cost: milliseconds per `run_python`, as root and as an unprivileged user.

    python benchmarks/sandbox.py [--calls 20] [--save after.json] [--compare before.json]

Each call starts a fresh sandbox (namespaces, mounts, cgroup where available, a fresh interpreter)
and runs `print(1)`; the table reports the median and 90th percentile wall ms per call, the CPU ms
per call (ours plus every sandbox process's), and the in-force protections. `--save FILE` keeps the
numbers; `--compare FILE` prints them side by side with a previous run's (e.g. before and after a
change to the sandbox: run the old checkout with PYTHONPATH pointing at it). The unprivileged row
runs the same loop under `setpriv` as uid 65534 (when we are root), in a mount namespace that makes
a private runtime (a virtualenv under /root) reachable for it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from agentlab.services import _isolation, _sandbox_init
from agentlab.services.sandbox import SandboxLimits, run_python

LOOP = """
import json, os, statistics, sys, time
from agentlab.services.sandbox import SandboxLimits, run_python
calls = int(sys.argv[1])
run_python("pass", SandboxLimits())  # warm up: the probe runs once
times, isolation = [], ()
cpu = -sum(os.times()[:4])
for _ in range(calls):
    start = time.perf_counter()
    result = run_python("print(1)", SandboxLimits())
    times.append((time.perf_counter() - start) * 1000)
    assert result.ok, result.stderr
    isolation = result.isolation
cpu += sum(os.times()[:4])  # ours and every sandbox process's: all were reaped down the chain
times.sort()
print(json.dumps({"median": statistics.median(times), "p90": times[int(0.9 * (len(times) - 1))],
                  "cpu": cpu * 1000 / calls, "isolation": list(isolation)}))
"""
COLUMNS = [("median", 8), ("p90", 7), ("cpu", 7)]
"""Wall ms per call (median, 90th percentile) depend on the machine's load; CPU ms per call much less."""


def _env() -> dict[str, str]:
    """A plain environment for the loop, keeping PYTHONPATH (to measure another checkout)."""
    return {name: os.environ[name] for name in ("PATH", "PYTHONPATH") if name in os.environ}


def measure(calls: int, as_user: int | None) -> dict[str, object] | None:
    """Run the loop in a fresh interpreter, as us or (via setpriv) as `as_user`."""
    cmd = [sys.executable, "-c", LOOP, str(calls)]
    if as_user is not None:
        setpriv = shutil.which("setpriv")
        if setpriv is None or os.geteuid() != 0:
            return None
        cmd = [setpriv, f"--reuid={as_user}", f"--regid={as_user}", "--clear-groups", *cmd]
        if not all(map(_sandbox_init.reachable, _isolation.runtime_paths())):
            # The runtime is under a private directory (a 0700 /root): open it in a mount namespace first,
            # the way the sandbox itself does for its program.
            services = os.path.dirname(_sandbox_init.__file__)
            opener = f"import os, sys; sys.path.insert(0, {services!r}); import _sandbox_init as i; "
            opener += f"assert i._open_runtime({_isolation.runtime_paths()!r}); os.execv({setpriv!r}, sys.argv[1:])"
            cmd = ["unshare", "--mount", sys.executable, "-I", "-S", "-c", opener, *cmd]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd="/", env=_env())
    if done.returncode != 0:
        print(f"  ({'uid ' + str(as_user) if as_user else 'as us'} failed: {done.stderr.strip()[-200:]})")
        return None
    found: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--save", help="write the numbers to this JSON file")
    parser.add_argument("--compare", help="a JSON file from an earlier --save, shown side by side")
    args = parser.parse_args()
    run_python("pass", SandboxLimits())
    rows = {"root" if os.geteuid() == 0 else "user": measure(args.calls, None)}
    if os.geteuid() == 0:
        rows["unprivileged"] = measure(args.calls, 65534)
    earlier = json.loads(Path(args.compare).read_text()) if args.compare else {}
    print(f"{'mode':<13} {'ms/call':>8} {'p90':>7} {'cpu ms':>7} {'before':>8} {'p90':>7} {'cpu ms':>7}  protections")
    for mode, row in rows.items():
        if row is None:
            print(f"{mode:<13} {'n/a':>8}")
            continue
        old = earlier.get(mode) or {}
        now = " ".join(f"{float(row[key]):>{width}.1f}" for key, width in COLUMNS)  # type: ignore[arg-type]
        before = " ".join(f"{old[key]:>{width}.1f}" if key in old else " " * width for key, width in COLUMNS)
        shields = ",".join(str(name) for name in row["isolation"])  # type: ignore[attr-defined]
        print(f"{mode:<13} {now} {before}  {shields}")
    if args.save:
        with open(args.save, "w") as out:
            json.dump(rows, out)


if __name__ == "__main__":
    main()
