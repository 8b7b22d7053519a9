"""The memory server: a Dask actor in front of the SQLite file that holds the board and the budgets (lab 05).

Workers on any machine reach shared memory the way they reach everything else — through Dask. The
server is an actor (`client.submit(MemoryServer, ..., actor=True)`) on one worker; its calls run one at
a time on that worker's event loop (`acall`: no hop to the actor thread, measured about twice as fast
by benchmarks/memory.py), and each is one short SQLite transaction on the file beside it.

The actor is only the way in; the file is the truth. When the worker serving it dies, Dask cannot bring
an actor back, so a `ServerHandle` that finds its server gone starts a new one on the same host, which
opens the same file and carries on: every acknowledged write is still there (`agentlab.memory.store`).
Handles find the current server through a Dask `Variable` named after it, and the server's future is
published on the scheduler (`publish_dataset`), so it lives until `stop()` rather than until the task
that started it ends. Two handles may race to restart it and start two servers on one file: that is
safe, because every operation is a transaction of the file, not of the server's memory.

`ServerHandle.local(path)` serves the same file in-process with no Dask at all (tests, one machine).

Left out: moving the file to another host when its machine is lost (put it on a server database), and
authentication beyond the cluster's own (anyone who can reach the scheduler can reach the server).
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
import uuid
from typing import Any

from distributed import Client, Variable, Worker, get_client
from distributed.actor import Actor

from agentlab.errors import AgentlabError, MemoryUnavailable, UsageError
from agentlab.memory.ledger import LedgerStore
from agentlab.memory.store import BoardStore, open_db

__all__ = ["MemoryServer", "ServerHandle"]


class MemoryServer:
    """The board and budget tables of one SQLite file, served as a Dask actor (or in-process)."""

    def __init__(self, path: str | None = None) -> None:
        self.db = open_db(path)
        lock = threading.Lock()  # one connection, one transaction at a time: the board's and the ledger's
        self.board = BoardStore(self.db, lock)
        self.ledger = LedgerStore(self.db, lock)
        self.path, self.pid, self.host = path, os.getpid(), socket.gethostname()

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """Run `board.<method>` or `ledger.<method>` ("board.write", "ledger.reserve", ...)."""
        if method == "where":
            return self.where()
        part, _, name = method.partition(".")
        if part not in ("board", "ledger") or name.startswith("_"):
            raise UsageError(f"the memory server has no method {method!r}")
        return getattr(getattr(self, part), name)(*args, **kwargs)

    async def acall(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """`call`, run on the worker's event loop instead of its single actor thread: no thread hop per
        call. Safe because it never awaits: each call runs whole, one at a time, like on the thread."""
        return self.call(method, *args, **kwargs)

    def where(self) -> dict[str, Any]:
        """Which process serves this server, and its file: for tests that kill it, and for people."""
        return {"pid": self.pid, "host": self.host, "path": self.path}


# Failures that mean "the server's process is gone or going", never an answer from the server itself.
_LOST = (RuntimeError, OSError, KeyError, TimeoutError)


def _here() -> tuple[Client, Worker | None]:
    """A client, and the worker of this process if any — also in threads Dask did not start for a task
    (a lane's thread pool), where `get_client()` finds none."""
    try:
        return get_client(), None
    except ValueError:
        workers = [w for w in list(Worker._instances) if w.status.name == "running"]
        if not workers:
            raise MemoryUnavailable("no Dask client or worker in this process to reach the memory server") from None
        return workers[0]._get_client(), workers[0]


_PROXIES: dict[str, Any] = {}  # this process's proxy per server name: (key, Actor | MemoryServer)
_PROXY_LOCK = threading.Lock()


class ServerHandle:
    """How any process reaches the memory server named `name`; picklable, so it travels with a task."""

    def __init__(
        self,
        name: str,
        path: str | None,
        host: str | None,
        *,
        local: bool = False,
        call_timeout: float = 10.0,
        start_timeout: float = 60.0,
        attempts: int = 5,
    ) -> None:
        self.name, self.path, self.host, self.is_local = name, path, host, local
        self.start_timeout = start_timeout
        """Seconds to wait for a new server to start on its host (its host may be cut off: then it does not)."""
        self.attempts = attempts
        """How many times a call is tried (restarting the server in between) before MemoryUnavailable."""
        self.call_timeout = call_timeout
        """Seconds to wait for one answer before deciding the server is gone (a call to a dead worker's
        address can otherwise wait out Dask's 30 s connect timeout). A slow but live server restarted
        by mistake is harmless: two servers on one file stay consistent."""
        self.restarts = 0
        """How many times this handle started a new server because the old one was gone."""

    @classmethod
    def local(cls, path: str, name: str = "local") -> ServerHandle:
        """The server for `path` in this process (each process that unpickles it opens its own)."""
        return cls(f"{name}@{path}", path, None, local=True)

    @classmethod
    def start(
        cls, client: Client, name: str = "agentlab", *, path: str | None = None, worker: str | None = None
    ) -> ServerHandle:
        """Join the server called `name` on this cluster, or start it on `worker` (default: the first worker).

        `path` is the SQLite file on that worker's host (default: the journal's file there).
        """
        handle = cls(name, path, None)
        current = handle._published(client)
        if current is not None:
            handle.host = current["host"]
            return handle
        if worker is None:
            client.wait_for_workers(1, timeout=60)  # a cluster attached to a moment ago may have none yet
        address = worker or sorted(client.ncores())[0]
        handle.host = address.rsplit(":", 1)[0].split("://")[-1]
        handle._restart(client, failed_key=None)
        return handle

    @property
    def variable(self) -> str:
        return f"agentlab-memory-{self.name}"

    def _published(self, client: Client) -> dict[str, Any] | None:
        # the published dataset says a server exists; only then is the Variable read (it waits when unset)
        if self.variable not in client.list_datasets():
            return None
        value: dict[str, Any] = Variable(self.variable, client=client).get(timeout=30)
        return value

    def _restart(self, client: Client, failed_key: str | None, worker: Worker | None = None) -> tuple[str, Any]:
        """Adopt a newer server if another handle already started one, else start one on our host."""
        current = self._published(client)
        if current is not None and current["key"] != failed_key:
            return current["key"], Actor(MemoryServer, current["address"], current["key"], worker=worker)
        key = f"{self.variable}-{uuid.uuid4().hex[:8]}"
        future = client.submit(
            MemoryServer, self.path, actor=True, key=key, workers=[self.host], allow_other_workers=False
        )
        address = future.result(timeout=self.start_timeout)._address  # type: ignore[attr-defined]  # where the actor lives
        Variable(self.variable, client=client).set({"key": key, "address": address, "host": self.host})
        client.publish_dataset(**{self.variable: future}, override=True)  # keeps the actor alive
        self.restarts += failed_key is not None
        return key, Actor(MemoryServer, address, key, worker=worker)

    def _proxy(self) -> tuple[str, Any]:
        with _PROXY_LOCK:
            if self.name not in _PROXIES:
                if self.is_local:
                    _PROXIES[self.name] = ("local", MemoryServer(self.path))
                else:
                    client, worker = _here()
                    _PROXIES[self.name] = self._restart(client, failed_key="", worker=worker)
            return _PROXIES[self.name]  # type: ignore[no-any-return]

    def _replace(self, failed_key: str) -> None:
        with _PROXY_LOCK:
            if _PROXIES.get(self.name, ("",))[0] == failed_key:
                client, worker = _here()
                _PROXIES[self.name] = self._restart(client, failed_key, worker)

    def call(self, method: str, *args: Any, attempts: int | None = None, **kwargs: Any) -> Any:
        """Call `method` on the server; if its process is gone, start a new one and call again.

        Safe to repeat: reads are, and writes carry a `write_id` or are reservations the ledger counts once.
        """
        attempts = self.attempts if attempts is None else attempts
        for attempt in range(attempts):
            if self.is_local:
                return self._proxy()[1].call(method, *args, **kwargs)
            key = ""
            try:
                key, server = self._proxy()
                return server.acall(method, *args, **kwargs).result(timeout=self.call_timeout)
            except AgentlabError:
                raise
            except _LOST as exc:
                if attempt == attempts - 1:
                    raise MemoryUnavailable(
                        f"the memory server {self.name!r} on {self.host} is unreachable after {attempts} attempts "
                        f"({type(exc).__name__}: {exc}); a write that got no answer may or may not have landed: "
                        "retry it with the same write_id once the server is back"
                    ) from exc
                time.sleep(0.2 * attempt)  # give the scheduler a moment to notice a dead worker
                with contextlib.suppress(*_LOST):  # no new server either (its host is cut off?): the next attempt says
                    self._replace(key)
        raise UsageError(f"attempts must be at least 1, not {attempts}")  # each attempt returns or raises

    def where(self) -> dict[str, Any]:
        """{pid, host, path} of the process serving right now."""
        place: dict[str, Any] = self.call("where")
        return place

    def stop(self, client: Client) -> None:
        """Let the server go (its file stays): unpublish it and forget it in this process."""
        with _PROXY_LOCK:
            _PROXIES.pop(self.name, None)
        if not self.is_local:
            if self.variable in client.list_datasets():
                client.unpublish_dataset(self.variable)
            Variable(self.variable, client=client).delete()

    def __repr__(self) -> str:
        where = f"file {self.path}" if self.is_local else f"on {self.host}, file {self.path or '(journal default)'}"
        return f"ServerHandle({self.name!r} {where})"
