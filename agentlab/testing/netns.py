"""Linux network namespaces as hosts: made, joined by a bridge, cut off, healed and removed with iproute2.

A network namespace has its own interfaces, addresses, routes and ports: a process inside it sees a
machine of its own. `Switch` makes one namespace per host and one more holding a bridge (the switch);
each host is plugged in by a veth pair whose switch end is the host's cable. Taking that end down
partitions the host — packets to and from it are dropped, connections stall as on a cut cable — and
bringing it up heals it. Nothing is made in the machine's own namespace, so deleting the namespaces
removes every interface with them.

Needs root and `ip` (iproute2); `unavailable()` says why not, for tests to skip with.
`inside(path)` moves the calling *thread* into a namespace for a block: sockets created there belong to
it for their whole life, and so do threads started there (how the test process becomes a client host).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator

from agentlab.errors import ClusterError

__all__ = ["Switch", "inside", "list_namespaces", "unavailable"]

CLONE_NEWNET = 0x40000000
NETNS_DIR = "/var/run/netns"


def unavailable() -> str | None:
    """Why namespaces cannot be made here (None if they can)."""
    if os.name != "posix" or not os.path.exists("/proc/self/ns/net"):
        return "network namespaces need Linux"
    if os.geteuid() != 0:
        return "making network namespaces needs root (CI runs these tests as root)"
    if shutil.which("ip") is None:
        return "the `ip` command (iproute2) is not installed"
    return None


def ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run `ip ARGS`; a failure is a ClusterError that quotes what `ip` said."""
    done = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)
    if check and done.returncode != 0:
        raise ClusterError(f"`ip {' '.join(args)}` failed: {done.stderr.strip() or done.stdout.strip()}")
    return done


def list_namespaces() -> list[str]:
    """Names of the namespaces `ip netns` knows."""
    out = ip("netns", "list", check=False).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


_libc = ctypes.CDLL(None, use_errno=True)


def _setns(fd: int) -> None:
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        errno = ctypes.get_errno()
        raise ClusterError(f"setns failed: {os.strerror(errno)}")


@contextlib.contextmanager
def inside(namespace: str) -> Iterator[None]:
    """Run the block with this thread in network namespace `namespace` (then back where it was)."""
    here = os.open(f"/proc/self/task/{threading.get_native_id()}/ns/net", os.O_RDONLY)
    there = os.open(os.path.join(NETNS_DIR, namespace), os.O_RDONLY)
    try:
        _setns(there)
        try:
            yield
        finally:
            _setns(here)
    finally:
        os.close(there)
        os.close(here)


class Switch:
    """Hosts as namespaces `<prefix><host>` on the subnet 198.18.0.0/24 (RFC 2544's benchmarking range),
    plugged into one bridge in namespace `<prefix>switch`."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.hosts: dict[str, str] = {}  # host → its address
        self.made: list[str] = []  # namespaces made, in order

    @property
    def switch(self) -> str:
        return f"{self.prefix}switch"

    def namespace(self, host: str) -> str:
        return f"{self.prefix}{host}"

    def _make(self, namespace: str) -> None:
        ip("netns", "add", namespace)
        self.made.append(namespace)
        ip("-n", namespace, "link", "set", "lo", "up")

    def start(self) -> None:
        self._make(self.switch)
        ip("-n", self.switch, "link", "add", "br0", "type", "bridge")
        ip("-n", self.switch, "link", "set", "br0", "up")

    def add(self, host: str) -> str:
        """Plug in a new host; returns its address."""
        if len(host) > 12 or not host.isalnum():
            raise ClusterError(f"a host name is up to 12 letters or digits, not {host!r}")
        address = f"198.18.0.{len(self.hosts) + 2}"
        ns = self.namespace(host)
        self._make(ns)
        ip("link", "add", "eth0", "netns", ns, "type", "veth", "peer", "name", f"c-{host}", "netns", self.switch)
        ip("-n", self.switch, "link", "set", f"c-{host}", "master", "br0", "up")
        ip("-n", ns, "addr", "add", f"{address}/24", "dev", "eth0")
        ip("-n", ns, "link", "set", "eth0", "up")
        self.hosts[host] = address
        return address

    def cable(self, host: str, up: bool) -> None:
        """Plug a host's cable in (up) or pull it out (down)."""
        ip("-n", self.switch, "link", "set", f"c-{host}", "up" if up else "down")

    def is_up(self, host: str) -> bool:
        out = ip("-n", self.switch, "-o", "link", "show", f"c-{host}").stdout
        return ",UP" in out or "<UP" in out

    def remove(self) -> list[str]:
        """Delete every namespace made (their interfaces go with them); returns the errors, if any."""
        errors = []
        for ns in reversed(self.made):
            done = ip("netns", "delete", ns, check=False)
            if done.returncode != 0 and ns in list_namespaces():
                errors.append(f"{ns}: {done.stderr.strip()}")
        self.made.clear()
        return errors
