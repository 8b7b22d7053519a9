"""The learner's side of grading: runs in the sandbox as its main.py and answers the checker's requests.

Standard library only, and nothing of agentlab imported: this file is the whole program the sandbox
runs (`agentlab.grading.session` sends its text). In order, it

1. finds hidden what learner code must not read: the sandbox itself covers the instructor notebooks,
   the project checkout and the submissions (`run_python(hide=...)`, from `agentlab.grading.session`);
2. listens on a socket in its working directory, which the checker reaches through /proc, and takes
   two connections: requests arrive on one; the other is a lifeline that a forked watcher holds,
   killing this process the moment the checker hangs up (even mid C loop);
3. serves requests, one JSON line each: run a cell, read a name, call a function. Values travel as
   data (`to_data` / `from_data`): numbers, strings, lists, dicts ... never objects that could lie
   about equality. Each request runs under an alarm; an answer that traps it is killed by the checker.

Nothing here decides a grade: the checker compares what comes back. What this does NOT protect
against is in `agentlab.grading.session`.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import socket
import sys
import types
from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["MAX_ITEMS", "MAX_LINE", "MESSAGE_CHARS", "SOCKET_NAME", "Opaque", "from_data", "to_data"]

MAX_LINE = 1 << 20
"""The longest request or reply, in bytes (a bigger reply is a failed check, never a read of 10 MB)."""
MAX_ITEMS = 10_000
"""How many values one reply may hold, all nesting counted."""
MAX_DEPTH = 20
MESSAGE_CHARS = 300
"""An error message is cut to this many characters on this side (the report cuts again)."""


class Opaque:
    """A value that is not plain data (a generator, a class instance ...): its type name and a short repr."""

    def __init__(self, type_name: str, text: str) -> None:
        self.type_name, self.text = type_name, text

    def __repr__(self) -> str:
        return f"<{self.type_name} {self.text}>"


def _numpy_scalar(value: Any) -> Any:
    """numpy's bool_, integer and floating scalars as Python's bool, int and float (documented as accepted)."""
    kind = type(value)
    if kind.__module__ != "numpy":
        return None
    if kind.__name__ in ("bool_", "bool"):
        return bool.__new__(bool, value.item())
    if hasattr(value, "item") and kind.__name__.startswith(("int", "uint", "float")):
        item = value.item()
        return item if type(item) in (int, float) else None
    return None


def _safe_repr(value: Any) -> str:
    try:
        return repr(value)[:80]
    except BaseException:  # a learner's __repr__ may raise anything
        return "?"


def to_data(value: Any, budget: list[int] | None = None, depth: int = 0) -> Any:
    """`value` as JSON-ready data; tuples, sets, dicts, namespaces and functions tagged with `$` keys."""
    budget = budget if budget is not None else [MAX_ITEMS]
    budget[0] -= 1
    if budget[0] < 0 or depth > MAX_DEPTH:
        raise ValueError(f"the value is too large or too deeply nested to check (over {MAX_ITEMS} items)")
    kind = type(value)
    if value is None or kind in (bool, str, int, float):
        return value
    # a subclass (bool has none): only its plain value travels, never its methods
    if isinstance(value, int):
        return int.__new__(int, value)
    if isinstance(value, float):
        return float.__new__(float, value)
    if isinstance(value, str):
        return str.__new__(str, value)
    if (plain := _numpy_scalar(value)) is not None:
        return plain

    def nested(items: Any) -> list[Any]:
        return [to_data(item, budget, depth + 1) for item in items]

    if isinstance(value, list):
        return nested(list.__iter__(value))
    if isinstance(value, tuple):
        return {"$tuple": nested(tuple.__iter__(value))}
    if isinstance(value, set | frozenset):
        return {"$set": nested(value)}
    if isinstance(value, dict):
        return {"$dict": [nested(pair) for pair in dict.items(value)]}
    if isinstance(value, types.SimpleNamespace):
        return {"$ns": {str(k): to_data(v, budget, depth + 1) for k, v in vars(value).items()}}
    if isinstance(value, types.FunctionType | types.BuiltinFunctionType | types.MethodType):
        return {"$callable": str(getattr(value, "__name__", "?"))}
    return {"$opaque": kind.__name__[:60], "repr": _safe_repr(value)}


def from_data(data: Any, callable_of: Callable[[str], Any] | None = None) -> Any:
    """The plain Python value for `data` (the inverse of `to_data`); `callable_of` turns `$callable` into a proxy."""
    if isinstance(data, list):
        return [from_data(item, callable_of) for item in data]
    if not isinstance(data, dict):
        return data
    if "$tuple" in data:
        return tuple(from_data(item, callable_of) for item in data["$tuple"])
    if "$set" in data:
        return {from_data(item, callable_of) for item in data["$set"]}
    if "$dict" in data:
        return {from_data(k, callable_of): from_data(v, callable_of) for k, v in data["$dict"]}
    if "$ns" in data:
        return types.SimpleNamespace(**{k: from_data(v, callable_of) for k, v in data["$ns"].items()})
    if "$callable" in data:
        name = str(data["$callable"])
        return callable_of(name) if callable_of else Opaque("function", name)
    return Opaque(str(data.get("$opaque", "object")), str(data.get("repr", "")))


# -- running cells and calls under an alarm --------------------------------------------------------


class TimeLimit(BaseException):
    """The alarm went off (a BaseException, so an answer's `except Exception` does not swallow it)."""


@contextlib.contextmanager
def _alarm(seconds: float | None) -> Iterator[None]:
    def expire(signum: int, frame: Any) -> None:
        raise TimeLimit()

    if not seconds:
        yield
        return
    signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def _innermost(tb: types.TracebackType | None) -> str:
    name = "<module>"
    while tb is not None:
        name, tb = tb.tb_frame.f_code.co_name, tb.tb_next
    return "" if name == "<module>" else name


def _text(error: BaseException) -> str:
    try:
        text = str(error)
    except BaseException:  # a hostile __str__
        text = ""
    return (text.strip().splitlines() or [""])[0][:MESSAGE_CHARS]


def describe(error: BaseException) -> dict[str, Any]:
    """An error as data: its type, the first line of its message (cut), and the function it came from."""
    return {
        "type": type(error).__name__[:60],
        "message": _text(error),
        "where": _innermost(error.__traceback__)[:60],
        "timeout": isinstance(error, TimeLimit),
        "not_implemented": isinstance(error, NotImplementedError),
        "exit": isinstance(error, SystemExit | KeyboardInterrupt),
    }


def _display(*objects: Any, **options: Any) -> None:
    """IPython's display(), as a grader sees it: shows nothing, returns None."""


class _Shell:
    """What get_ipython() returns while grading: magics do nothing and return None."""

    def run_line_magic(self, name: str, line: str) -> None:
        return None

    def run_cell_magic(self, name: str, line: str, cell: str) -> None:
        return None

    def system(self, command: str) -> None:
        return None


def namespace() -> dict[str, Any]:
    """The answers' module namespace, with the names a notebook has without importing them."""
    module = types.ModuleType("__main__")
    sys.modules["__answers__"] = module
    shell = _Shell()
    names = {"display": _display, "get_ipython": lambda: shell, "In": [], "Out": {}, "clear_output": _display}
    for name in ("HTML", "Markdown", "Math", "Latex", "Image", "JSON", "Code"):
        names[name] = type(name, (), {"__init__": lambda self, *a, **k: None})
    module.__dict__.update(names)
    return module.__dict__


def _stub_grading() -> None:
    """`from agentlab.grading import check` (the setup cell) imports this stand-in: check() shows nothing here."""
    stub = types.ModuleType("agentlab.grading")
    stub.check = lambda *args, **kwargs: None  # type: ignore[attr-defined]
    sys.modules["agentlab.grading"] = stub


class Server:
    """Answers the checker's requests against one namespace."""

    def __init__(self) -> None:
        self.names = namespace()

    def run(self, request: dict[str, Any]) -> dict[str, Any]:
        code = compile(request["source"], request["filename"], "exec", dont_inherit=True)
        with (
            _alarm(request.get("limit")),
            contextlib.redirect_stdout(io.StringIO()),
            contextlib.redirect_stderr(io.StringIO()),
        ):
            exec(code, self.names)
        return {"ok": True}

    def get(self, request: dict[str, Any]) -> dict[str, Any]:
        if request["name"] not in self.names:
            return {"missing": True}
        return {"value": to_data(self.names[request["name"]])}

    def call(self, request: dict[str, Any]) -> dict[str, Any]:
        function = self.names.get(request["name"])
        if not callable(function):
            return {"missing": True}
        args, kwargs = from_data(request["args"]), from_data(request["kwargs"])
        with (
            _alarm(request.get("limit")),
            contextlib.redirect_stdout(io.StringIO()),
            contextlib.redirect_stderr(io.StringIO()),
        ):
            value = function(*args, **kwargs)
        return {"value": to_data(value), "args": to_data(args)}

    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        try:
            return getattr(self, request["op"])(request)  # type: ignore[no-any-return]
        except SyntaxError as exc:
            return {"error": {**describe(exc), "line": exc.lineno, "message": str(exc.msg)[:MESSAGE_CHARS]}}
        except BaseException as exc:  # everything an answer raises is reported, as data
            return {"error": describe(exc)}


SOCKET_NAME = "grading.sock"
"""The socket in the answers' working directory; the checker reaches it as /proc/PID/cwd/grading.sock."""


def _watch(lifeline: socket.socket, parent: int) -> None:
    """The forked watcher: hold the lifeline; when the checker hangs up, kill the answers' process."""
    try:
        while lifeline.recv(1):
            pass
    finally:
        os.kill(parent, signal.SIGKILL)
        os._exit(0)


def serve() -> None:
    """Accept the checker's two connections, fork the watcher, then answer requests until it hangs up."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(SOCKET_NAME)  # only our own user (and root) may connect: the socket is 0755 under umask 022
    listener.listen(2)
    calls, _ = listener.accept()
    lifeline, _ = listener.accept()
    listener.close()
    os.unlink(SOCKET_NAME)
    parent = os.getpid()
    if os.fork() == 0:
        os.close(calls.fileno())  # only the answers' process holds the requests socket: its death is seen at once
        _watch(lifeline, parent)
    lifeline.close()
    _stub_grading()
    server = Server()
    reader, send = calls.makefile("rb"), calls.sendall  # bound now: learner code may replace module attributes
    dumps, loads = json.dumps, json.loads
    send(dumps({"ready": True}).encode() + b"\n")
    while line := reader.readline(MAX_LINE):
        request = loads(line)
        reply = {**server.handle(request), "id": request.get("id")}  # the checker matches replies to requests
        try:
            data = dumps(reply, allow_nan=True).encode()
        except BaseException as exc:
            data = dumps({"error": describe(exc)}).encode()
        send(data + b"\n")


def main() -> None:
    serve()
    os._exit(0)


if __name__ == "__main__":
    main()
