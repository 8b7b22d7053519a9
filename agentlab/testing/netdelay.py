"""One-way latency and loss on the links between a test cluster's hosts, added inside Dask's TCP comms.

This kernel has no `netem` qdisc, so `agentlab.testing.hosts` cannot ask Linux to delay packets. Instead
every Dask process of the cluster (the client too) replaces Dask's `tcp` comm backend with this one. A
message written on a comm leaves after the one-way delay of the link from this host to the peer's host;
messages on one comm keep their order; a new connection first waits one round trip (TCP's handshake).

What it models: the latency a Dask message meets between two hosts, per direction, and what loss does
to a TCP stream — a lost segment is retransmitted after TCP's minimum retransmission timeout (`rto`,
200 ms on Linux), and everything behind it on that connection waits too (head-of-line blocking).

What it does not model: bandwidth and queueing (a message of any size costs the same delay), TCP's
congestion window and slow start, jitter other than loss, and traffic that is not a Dask comm (a tool's
HTTP call crosses the namespaces' bridge undelayed). Partitions are not modelled here: they are real,
a link taken down (`HostCluster.partition`).

A process is configured by two environment variables: AGENTLAB_LINKS, a JSON file of `Links`, and
AGENTLAB_HOST, the host it runs on. `HostCluster` sets both and preloads this module
(`dask scheduler --preload agentlab.testing.netdelay`); without them, importing it changes nothing.
The client process calls `install(links, host)` itself, and `uninstall()` when done.
"""

from __future__ import annotations

import asyncio
import collections
import json
import os
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from distributed.comm import registry
from distributed.comm.core import CommClosedError
from distributed.comm.tcp import TCP, TCPBackend, TCPConnector, TCPListener, _add_frames_header
from distributed.comm.utils import to_frames
from distributed.utils import ensure_memoryview

__all__ = ["Links", "install", "installed", "uninstall"]

LINKS_ENV, HOST_ENV = "AGENTLAB_LINKS", "AGENTLAB_HOST"


@dataclass(frozen=True)
class Links:
    """Who is where, and what each direction of each link costs: `delay["a>b"]` seconds one way from host
    a to host b, `loss["a>b"]` the chance a message on it is lost once (and resent after `rto`)."""

    hosts: dict[str, str] = field(default_factory=dict)  # IP address → host name
    delay: dict[str, float] = field(default_factory=dict)
    loss: dict[str, float] = field(default_factory=dict)
    rto: float = 0.2
    seed: int = 0

    def one_way(self, src: str, dst: str) -> tuple[float, float]:
        """(delay, loss) from host `src` to host `dst`; a host to itself, or an unknown peer: (0, 0)."""
        if src == dst:
            return 0.0, 0.0
        return self.delay.get(f"{src}>{dst}", 0.0), self.loss.get(f"{src}>{dst}", 0.0)

    def host_of(self, address: str) -> str:
        """The host an address ("tcp://ip:port" or "ip:port") belongs to ("" if not one of ours)."""
        ip = address.rsplit("://", maxsplit=1)[-1].rsplit(":", 1)[0].strip("[]")
        return self.hosts.get(ip, "")

    def to_json(self) -> str:
        return json.dumps(
            {"hosts": self.hosts, "delay": self.delay, "loss": self.loss, "rto": self.rto, "seed": self.seed}
        )

    @classmethod
    def from_json(cls, text: str) -> Links:
        data = json.loads(text)
        return cls(data["hosts"], data["delay"], data["loss"], float(data["rto"]), int(data["seed"]))


class _Setting:
    """This process's links and host (set by `install`), shared by every comm it makes."""

    links = Links()
    host = ""
    rng = random.Random(0)
    original: Any = None  # the backend `install` replaced


class DelayedTCP(TCP):
    """Dask's TCP comm, with each write leaving after the link's one-way delay (and a resend on loss)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        peer = _Setting.links.host_of(self._peer_addr)
        self.link_delay, self.link_loss = _Setting.links.one_way(_Setting.host, peer)
        self._queue: collections.deque[tuple[float, list[Any]]] = collections.deque()
        self._last_due = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self._drained = asyncio.Event()
        self._drained.set()

    async def write(self, msg: Any, serializers: Any = None, on_error: str = "message") -> int:
        if self.link_delay <= 0 and self.link_loss <= 0:
            return int(await super().write(msg, serializers, on_error))
        if self.stream is None:
            raise CommClosedError()
        frames = await to_frames(
            msg,
            allow_offload=self.allow_offload,
            serializers=serializers,
            on_error=on_error,
            context={"sender": self.local_info, "recipient": self.remote_info, **self.handshake_options},
            frame_split_size=self.max_shard_size,
        )
        frames, _, total = _add_frames_header(frames)
        loop = asyncio.get_running_loop()
        lost = self.link_loss > 0 and _Setting.rng.random() < self.link_loss
        # a lost segment is resent after the RTO, and what follows it on the stream waits behind it
        due = max(self._last_due, loop.time() + self.link_delay + (_Setting.links.rto if lost else 0.0))
        self._last_due = due
        self._queue.append((due, frames))
        self._drained.clear()
        if self._timer is None:
            self._timer = loop.call_at(due, self._drain)
        return int(total)

    def _drain(self) -> None:
        self._timer = None
        loop = asyncio.get_running_loop()
        stream = self.stream
        while self._queue and self._queue[0][0] <= loop.time():
            _, frames = self._queue.popleft()
            if stream is None or stream._write_buffer is None:
                continue  # closed meanwhile: the peer will see the connection end
            for frame in frames:
                view = ensure_memoryview(frame)
                if view.nbytes:
                    stream._write_buffer.append(view)
                    stream._total_write_index += view.nbytes
            stream.write(b"")
        if self._queue:
            self._timer = loop.call_at(self._queue[0][0], self._drain)
        else:
            self._drained.set()

    def close(self) -> Any:
        """Close after what was written has left, as a TCP close sends its buffer before the FIN."""
        if not self._queue:
            return super().close()
        return asyncio.ensure_future(self._close_after_drain())

    async def _close_after_drain(self) -> None:
        await self._drained.wait()
        await super().close()

    def abort(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._queue.clear()
        self._drained.set()
        super().abort()


class DelayedConnector(TCPConnector):
    comm_class = DelayedTCP

    async def connect(self, address: str, deserialize: bool = True, **connection_args: Any) -> Any:
        peer = _Setting.links.host_of(address)
        there, _ = _Setting.links.one_way(_Setting.host, peer)
        back, _ = _Setting.links.one_way(peer, _Setting.host)
        if there + back > 0:
            await asyncio.sleep(there + back)  # SYN, SYN-ACK: one round trip before the first byte
        return await super().connect(address, deserialize, **connection_args)


class DelayedListener(TCPListener):
    comm_class = DelayedTCP


class DelayedTCPBackend(TCPBackend):
    _connector_class = DelayedConnector
    _listener_class = DelayedListener


def install(links: Links, host: str) -> None:
    """Delay this process's Dask TCP traffic by `links`, as host `host` (until `uninstall`)."""
    if _Setting.original is None:
        _Setting.original = registry.backends["tcp"]
    _Setting.links, _Setting.host, _Setting.rng = links, host, random.Random(f"{links.seed}/{host}/{os.getpid()}")
    registry.backends["tcp"] = DelayedTCPBackend()


def uninstall() -> None:
    """Put Dask's own TCP backend back (comms opened meanwhile keep their delays until they close)."""
    if _Setting.original is not None:
        registry.backends["tcp"] = _Setting.original
        _Setting.original = None
    _Setting.links, _Setting.host = Links(), ""


def installed() -> bool:
    return _Setting.original is not None


def _from_environment() -> None:
    path, host = os.environ.get(LINKS_ENV), os.environ.get(HOST_ENV)
    if path and host:
        install(Links.from_json(Path(path).read_text()), host)


_from_environment()  # a preload: configure the process that imports it, if it was told how


def dask_setup(_: Any) -> None:
    """Dask calls this after importing a preload; the work was done on import (before any comm opened)."""
