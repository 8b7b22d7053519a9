"""Tools: a typed Python function the model can call (labs 01 and 02).

Declare a tool once, as an ordinary function with type hints and a docstring::

    @tool
    def search_kb(query: str, k: int = 5) -> str:
        '''Search the company knowledge base.

        Args:
            query: words to look for.
            k: how many documents to return.
        '''

Its JSON schema (what the model sees) comes from the hints and the docstring, through a pydantic
model; the same pydantic model validates the model's arguments before the function runs. A bad call
(malformed JSON, unknown tool, wrong arguments) or a tool that raises becomes an `Observation` with
`ok=False` and a message written for the model to read. Nothing here raises into the loop.

Left out here (lab 02, `agentlab.rpc.contract`): timeouts, retries, idempotency keys and circuit breakers.
"""

from __future__ import annotations

import functools
import inspect
import json
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, get_type_hints

import docstring_parser
import pydantic

from agentlab.errors import InvalidArguments, MalformedArguments, ToolFailed, UnknownTool, UsageError
from agentlab.wire import ToolCall

__all__ = ["Observation", "Tool", "Toolbox", "tool"]


@functools.lru_cache(maxsize=1024)
def _parameters(arguments: type[pydantic.BaseModel]) -> dict[str, Any]:
    """A tool's JSON schema, made once per arguments model (pydantic takes ~1 ms; every model step sends it)."""
    parameters = arguments.model_json_schema()
    parameters.pop("title", None)
    for prop in parameters.get("properties", {}).values():
        prop.pop("title", None)
    return parameters


@dataclass(frozen=True)
class Tool:
    """A callable plus the schema the model sees and the validator its arguments pass through."""

    name: str
    description: str
    fn: Callable[..., Any]
    arguments: type[pydantic.BaseModel]

    def schema(self) -> dict[str, Any]:
        """The OpenAI function-tool entry for this tool (its `parameters` are shared: read, do not change)."""
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": _parameters(self.arguments)},
        }

    def canonical(self, args: Mapping[str, Any]) -> dict[str, Any]:
        """Validated arguments (what `Toolbox.bind` returns: defaults filled in, `10` for a float read as
        `10.0`) as JSON values, so equal calls give equal dicts however the model spelled them."""
        return self.arguments.model_construct(**args).model_dump(mode="json")  # validated once, in `bind`

    def __call__(self, **kwargs: Any) -> Any:
        return self.fn(**kwargs)


def tool(fn: Callable[..., Any] | None = None, *, name: str | None = None) -> Any:
    """Turn a typed function into a `Tool` (usable bare, `@tool`, or as `@tool(name=...)`)."""

    def build(f: Callable[..., Any]) -> Tool:
        doc = docstring_parser.parse(inspect.getdoc(f) or "")
        described = {p.arg_name: p.description or "" for p in doc.params}
        hints = get_type_hints(f)
        fields: dict[str, Any] = {}
        for pname, param in inspect.signature(f).parameters.items():
            if pname not in hints:
                raise UsageError(f"tool {f.__name__}: parameter {pname!r} needs a type hint")
            default = ... if param.default is inspect.Parameter.empty else param.default
            fields[pname] = (hints[pname], pydantic.Field(default, description=described.get(pname)))
        model = pydantic.create_model(
            f"{f.__name__}_arguments", __config__=pydantic.ConfigDict(extra="forbid"), **fields
        )
        summary = " ".join(p for p in (doc.short_description, doc.long_description) if p)
        return Tool(name=name or f.__name__, description=summary, fn=f, arguments=model)

    return build(fn) if fn is not None else build


@dataclass(frozen=True)
class Observation:
    """What the model reads back for one tool call, and how the call went."""

    call_id: str
    tool: str
    content: str
    ok: bool
    error: str | None = None
    start: float = 0.0
    end: float = 0.0


def _render(value: Any) -> str:
    """Tool results travel as text: strings as they are, anything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value, default=str)


def _validation_summary(exc: pydantic.ValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(x) for x in err["loc"]) or "arguments"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


class Toolbox:
    """The tools one agent may call, looked up by name; calls several at once in parallel."""

    def __init__(self, tools: Sequence[Tool] = ()) -> None:
        self._tools = {t.name: t for t in tools}
        if len(self._tools) != len(tools):
            raise UsageError("two tools share a name")

    @property
    def names(self) -> list[str]:
        return list(self._tools)

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def schemas(self) -> list[dict[str, Any]]:
        """The `tools` list for a chat-completions request."""
        return [t.schema() for t in self._tools.values()]

    def bind(self, call: ToolCall) -> tuple[Tool, dict[str, Any]]:
        """Check a call before running it: the tool exists and the arguments fit its schema."""
        if call.name not in self._tools:
            raise UnknownTool(f"unknown tool {call.name!r}; available tools: {', '.join(self._tools)}")
        found = self._tools[call.name]
        try:
            args = json.loads(call.arguments) if call.arguments.strip() else {}
        except (json.JSONDecodeError, RecursionError) as exc:
            raise MalformedArguments(f"arguments for {call.name} are not valid JSON ({exc})") from exc
        if not isinstance(args, dict):
            raise MalformedArguments(f"arguments for {call.name} must be a JSON object, got {type(args).__name__}")
        try:
            validated = found.arguments.model_validate(args)
        except pydantic.ValidationError as exc:
            raise InvalidArguments(f"invalid arguments for {call.name}: {_validation_summary(exc)}") from exc
        return found, {k: getattr(validated, k) for k in type(validated).model_fields}

    def call(self, call: ToolCall) -> Observation:
        """Validate and run one call; every failure comes back as an observation, never raised."""
        start = time.time()
        try:
            found, args = self.bind(call)
        except (UnknownTool, MalformedArguments, InvalidArguments) as exc:
            return Observation(call.id, call.name, f"error: {exc}", False, type(exc).__name__, start, time.time())
        try:
            content = _render(self.run_tool(found, args))
        except ToolFailed as exc:
            return Observation(call.id, call.name, f"error: {exc}", False, type(exc).__name__, start, time.time())
        except Exception as exc:  # a tool is foreign code: any failure is reported, not raised
            failed = ToolFailed(f"{call.name} failed: {type(exc).__name__}: {exc}")
            return Observation(call.id, call.name, f"error: {failed}", False, "ToolFailed", start, time.time())
        return Observation(call.id, call.name, content, True, None, start, time.time())

    def run_tool(self, found: Tool, args: dict[str, Any]) -> Any:
        """Run a validated call. Subclasses wrap this in policies (see `agentlab.rpc.guarded`)."""
        return found.fn(**args)

    def call_all(self, calls: Sequence[ToolCall]) -> list[Observation]:
        """Run one turn's calls, in parallel when there are several, keeping the model's order."""
        if len(calls) <= 1:
            return [self.call(c) for c in calls]
        with ThreadPoolExecutor(max_workers=min(len(calls), 32)) as pool:
            return list(pool.map(self.call, calls))
