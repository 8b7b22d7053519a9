"""What sandboxes this test process left behind: their processes and their run cgroups.

Both are told apart from other sandboxes on the machine — those another pytest worker runs at the same time,
or another session's — by this process's pid: a sandbox's environment carries `AGENTLAB_SANDBOX=<pid of
whoever started it>` (its init is handed that environment on its command line), and a run's cgroup is named
`run-<pid>-<n>`.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from agentlab.services import _per_run


def sandbox_processes() -> set[int]:
    """Host pids of the sandboxes this process started (their programs, children and inits)."""
    env_marker = f"AGENTLAB_SANDBOX={os.getpid()}\0".encode()
    init_marker = f'"AGENTLAB_SANDBOX": "{os.getpid()}"'.encode()
    found = set()
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            environ = Path(f"/proc/{entry}/environ").read_bytes()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        if env_marker in environ or init_marker in cmdline:
            found.add(int(entry))
    return found


def run_cgroups() -> set[str]:
    """This process's run cgroups that exist now: under cgroup v2's parent of all runs, or (v1) inside our own
    memory cgroup."""
    own = dict(line.split(":", 2)[1:] for line in Path("/proc/self/cgroup").read_text().splitlines())
    parents = [os.path.join(_per_run.CGROUP_ROOT, "agentlab-sandbox")]
    if "memory" in own:
        parents.append(os.path.join(_per_run.CGROUP_ROOT, "memory", own["memory"].lstrip("/")))
    prefix = f"run-{os.getpid()}-"
    found = set()
    for parent in parents:
        with contextlib.suppress(OSError):
            found |= {os.path.join(parent, name) for name in os.listdir(parent) if name.startswith(prefix)}
    return found
