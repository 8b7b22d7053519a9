"""MCP tools as agentlab tools: names, schemas, contracts and results converted (lab 06).

An MCP server describes each tool with a name, a description, a JSON Schema for its arguments and
*annotations* (hints about its effects). This module turns one such description into what the rest of
agentlab already understands:

- a **name** the model may use (`^[A-Za-z0-9_-]{1,64}$`; MCP allows `.` and `/`, chat APIs do not);
- a **schema** passed to the model exactly as the server wrote it, and arguments checked against it
  (with `jsonschema`) before anything is sent, so a bad call is the model's error, not the server's;
- a **contract** (`ToolPolicy` + whether it needs approval) from the annotations, read the way the MCP
  spec defines their defaults: a tool is destructive and non-idempotent unless it says otherwise.
  Read-only or idempotent tools may be retried; the others are tried once and must be approved;
- a **result** as text for the model, block by block: text as is; a resource link as its name, URI, MIME
  type and size; an embedded text resource as its URI and text; an embedded blob, an image or audio as
  MIME type and size (not shown: the model reads text); with no blocks, the structured content as JSON.
  A result flagged `is_error` becomes a `ToolFailed`, which the toolbox turns into an error observation.

Annotations are hints from a server you may not trust: they can make a tool *safer* to call (fewer
retries, an approval), never less checked than a native tool. Left out: MCP Tasks (a tool that
*requires* task mode is not offered to the model: `needs_task_mode`), reading a linked resource
(`resources/read`), prompts.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import mcp_types
import pydantic

from agentlab.agent.tools import Tool
from agentlab.errors import InvalidArguments, ToolFailed
from agentlab.rpc.contract import RetryPolicy, ToolPolicy

__all__ = [
    "IDEMPOTENCY_META",
    "McpTool",
    "approved_names",
    "contract",
    "needs_task_mode",
    "public_name",
    "result_text",
    "to_tool",
]

IDEMPOTENCY_META = "agentlab.dev/idempotency-key"
"""The `_meta` key under which agentlab's client sends a call's idempotency key and its server reads it."""

_BAD = re.compile(r"[^A-Za-z0-9_-]")


def public_name(name: str, prefix: str = "") -> str:
    """A chat-API-safe tool name: bad characters become `_`, long names keep a hash suffix."""
    clean = _BAD.sub("_", f"{prefix}{name}") or "tool"
    if len(clean) <= 64:
        return clean
    return f"{clean[:55]}_{hashlib.sha1(clean.encode()).hexdigest()[:8]}"


def contract(
    annotations: mcp_types.ToolAnnotations | None, base: ToolPolicy, *, allowlisted: bool = False
) -> tuple[ToolPolicy, bool]:
    """The tool's RPC policy and whether a call needs approval, from its annotations.

    MCP's defaults (spec, "ToolAnnotations"): readOnlyHint false, destructiveHint true, idempotentHint
    false. So an un-annotated tool is treated as destructive: tried once, and refused unless approved.
    A read-only or idempotent tool is retried after a dropped connection or a dead server (the next
    attempt gets a fresh session), never after a timeout: three attempts at a 10 s timeout would keep
    the model waiting 30 s for the same "too slow".
    """
    ann = annotations or mcp_types.ToolAnnotations()
    read_only = ann.read_only_hint is True
    destructive = not read_only and ann.destructive_hint is not False
    idempotent = read_only or ann.idempotent_hint is True
    # a timeout is not retried: the server was too slow, not unlucky, and would be as slow again
    retry = replace(base.retry, on_timeout=False) if idempotent else RetryPolicy(attempts=1)
    policy = replace(base, idempotent=idempotent, retry=retry)
    return policy, (destructive or not idempotent) and not allowlisted


def _size(base64_text: str) -> int:
    """Bytes encoded by a base64 string (without decoding it)."""
    text = base64_text.strip()
    return max(0, len(text) * 3 // 4 - text[-2:].count("="))


def _block_text(block: object) -> str:
    """One content block as the model reads it (see the module docstring for each kind)."""
    if isinstance(block, mcp_types.TextContent):
        return block.text
    if isinstance(block, mcp_types.ImageContent | mcp_types.AudioContent):
        return f"[{block.type}: {block.mime_type}, {_size(block.data)} bytes]"
    if isinstance(block, mcp_types.ResourceLink):
        about = ", ".join(str(x) for x in (block.mime_type, block.size and f"{block.size} bytes") if x)
        said = f" - {block.description}" if block.description else ""
        return f"[resource link: {block.title or block.name} <{block.uri}>{f' ({about})' if about else ''}{said}]"
    if isinstance(block, mcp_types.EmbeddedResource):
        res = block.resource
        if isinstance(res, mcp_types.TextResourceContents):
            return f"[resource {res.uri}{f' ({res.mime_type})' if res.mime_type else ''}]\n{res.text}"
        return f"[resource {res.uri}: {res.mime_type or 'binary'}, {_size(res.blob)} bytes, not shown]"
    return f"[{getattr(block, 'type', 'content')}: a content type agentlab does not read]"


def result_text(result: mcp_types.CallToolResult) -> str:
    """What the model reads: every content block as text, else the structured content as JSON."""
    text = "\n".join(_block_text(block) for block in result.content)
    if not text and result.structured_content is not None:
        text = json.dumps(result.structured_content, default=str)
    return text


def needs_task_mode(listed: mcp_types.Tool) -> bool:
    """Does the tool *require* MCP Tasks (`execution.taskSupport: required`)? agentlab does not run tasks."""
    return listed.execution is not None and listed.execution.task_support == "required"


@dataclass(frozen=True)
class McpTool(Tool):
    """An agentlab `Tool` whose schema is the MCP server's own; `original` is its name on the server."""

    parameters: dict[str, Any] = field(default_factory=dict)
    original: str = ""
    server: str = ""
    annotations: mcp_types.ToolAnnotations | None = None

    def schema(self) -> dict[str, Any]:
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": self.parameters},
        }


def _arguments_model(name: str, schema: dict[str, Any]) -> tuple[type[pydantic.BaseModel], dict[str, str]]:
    """A pydantic model that checks arguments against the JSON Schema and keeps exactly what was sent.

    Field names are `a0, a1, ...` (a JSON property need not be a Python identifier); the returned map
    gives each field's property name. Properties the caller left out stay out (they come back as None).
    """
    props: dict[str, Any] = schema.get("properties") or {}
    required = set(schema.get("required") or [])
    fields: dict[str, Any] = {}
    names: dict[str, str] = {}
    for i, prop in enumerate(props):
        names[f"a{i}"] = prop
        fields[f"a{i}"] = (Any, pydantic.Field(... if prop in required else None, alias=prop))
    validator = jsonschema.Draft202012Validator(schema)

    def check(cls: type[pydantic.BaseModel], raw: Any) -> Any:
        errors = sorted(validator.iter_errors(raw), key=lambda e: list(e.path))
        if errors:
            where = ".".join(str(p) for p in errors[0].path) or "arguments"
            raise InvalidArguments(f"{where}: {errors[0].message}")  # a ValueError: pydantic reports it
        return raw

    validators: dict[str, Any] = {"_schema": pydantic.model_validator(mode="before")(check)}
    model: type[pydantic.BaseModel] = pydantic.create_model(
        f"{public_name(name)}_arguments",
        __config__=pydantic.ConfigDict(extra="forbid"),
        __validators__=validators,
        **fields,
    )
    return model, names


def to_tool(
    listed: mcp_types.Tool,
    call: Callable[[str, dict[str, Any]], mcp_types.CallToolResult],
    *,
    server: str,
    name: str | None = None,
) -> McpTool:
    """An agentlab tool for one listed MCP tool; `call(original_name, arguments)` reaches the server."""
    schema = dict(listed.input_schema or {})
    schema.setdefault("type", "object")
    schema.setdefault("properties", {})
    model, names = _arguments_model(listed.name, schema)
    given = set(schema.get("required") or [])

    def run(**kwargs: Any) -> str:
        # the toolbox hands every field back; send only what the model gave (absent optionals stay absent)
        arguments = {names[k]: v for k, v in kwargs.items() if k in names and (v is not None or names[k] in given)}
        result = call(listed.name, arguments)
        text = result_text(result)
        if result.is_error:
            raise ToolFailed(f"{listed.name} (MCP server {server}) reported an error: {text or '(no message)'}")
        return text

    description = listed.description or listed.title or listed.name
    return McpTool(
        name=name or public_name(listed.name),
        description=description,
        fn=run,
        arguments=model,
        parameters=schema,
        original=listed.name,
        server=server,
        annotations=listed.annotations,
    )


def approved_names(tools: Collection[McpTool], base: ToolPolicy, allow: Collection[str]) -> set[str]:
    """The names of `tools` a guarded toolbox may call without asking: safe ones, and allowlisted ones."""
    return {
        t.name
        for t in tools
        if not contract(t.annotations, base, allowlisted="*" in allow or t.name in allow or t.original in allow)[1]
    }
