"""Tool calling for a model that cannot call tools: one JSON object per turn (lab 01).

Many local models (llama.cpp and Ollama serving a model whose chat template has no tool support) get
`tools` silently dropped by their server and answer from nothing. In json mode agentlab does the
server's job itself:

    1. The tools are described in the system prompt, with the rule: reply with exactly one JSON
       object, {"tool": NAME, "arguments": {...}} to call a tool or {"answer": TEXT} to finish.
    2. The request asks for schema-constrained output (`response_format` with a JSON schema that
       allows exactly those objects; llama.cpp, vLLM, Ollama and OpenAI honour it).
    3. Earlier tool calls and results are rewritten as plain assistant/user turns, because a server
       without tool support may reject `tool` messages.
    4. The reply is parsed leniently (code fences, text around the object, an object cut off by
       max_tokens) into the same `ModelReply` a native tool call gives, so the loop, the trace and
       the RPC path cannot tell the difference.

Left out: several tool calls in one turn (one object, one call), and any guarantee that a small model
fills the arguments sensibly: the schema makes them well-formed, not right.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from agentlab.wire import Message, ModelReply, ToolCall

__all__ = ["STRING_CAP", "instructions", "json_messages", "parse_step", "response_format", "step_schema"]

STRING_CAP = 120
"""Longest string the schema lets a model write into an argument (a small model otherwise rambles)."""

_FENCE = re.compile(r"^```[a-zA-Z]*\s*|\s*```$")
_NAME_KEYS = ("tool", "name", "function", "tool_name")
_ARG_KEYS = ("arguments", "args", "parameters", "input")
_ANSWER_KEYS = ("answer", "final_answer", "final", "response", "content")


def _function(schema: dict[str, Any]) -> dict[str, Any]:
    return dict(schema.get("function") or {})


def _capped(schema: Any) -> Any:
    """A copy of a JSON schema whose unbounded strings get `maxLength` STRING_CAP."""
    if isinstance(schema, list):
        return [_capped(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _capped(v) for k, v in schema.items()}
    if out.get("type") == "string" and "maxLength" not in out and "enum" not in out:
        out["maxLength"] = STRING_CAP
    return out


def step_schema(tools: list[dict[str, Any]], tool_choice: str = "auto") -> dict[str, Any]:
    """The JSON schema of one step: a call of one of `tools`, or (unless tools are required) an answer."""
    options: list[dict[str, Any]] = []
    if tool_choice != "none":
        for entry in tools:
            fn = _function(entry)
            params = _capped(fn.get("parameters") or {"type": "object"})
            options.append(
                {
                    "type": "object",
                    "properties": {"tool": {"type": "string", "enum": [fn.get("name", "")]}, "arguments": params},
                    "required": ["tool", "arguments"],
                    "additionalProperties": False,
                }
            )
    if tool_choice != "required" or not options:
        options.append(
            {
                "type": "object",
                "properties": {"answer": {"type": "string", "minLength": 1}},
                "required": ["answer"],
                "additionalProperties": False,
            }
        )
    return options[0] if len(options) == 1 else {"anyOf": options}


def response_format(tools: list[dict[str, Any]], tool_choice: str = "auto") -> dict[str, Any]:
    """The request's `response_format`: OpenAI's json_schema form (llama.cpp, vLLM, Ollama read it too)."""
    return {"type": "json_schema", "json_schema": {"name": "agent_step", "schema": step_schema(tools, tool_choice)}}


def _signature(entry: dict[str, Any]) -> str:
    fn = _function(entry)
    params = fn.get("parameters") or {}
    required = set(params.get("required") or [])
    parts = []
    for name, spec in (params.get("properties") or {}).items():
        kind = spec.get("type", "any") if isinstance(spec, dict) else "any"
        parts.append(f"{name}: {kind}" + ("" if name in required else " (optional)"))
    return f"- {fn.get('name', '')}({', '.join(parts)}): {fn.get('description', '')}"


def instructions(tools: list[dict[str, Any]], tool_choice: str = "auto") -> str:
    """The system-prompt text that describes the tools and the one-JSON-object protocol."""
    if tool_choice == "none" or not tools:
        return 'Reply with exactly one JSON object and nothing else: {"answer": "<your final answer>"}.'
    lines = ["You can use these tools:", *(_signature(t) for t in tools), ""]
    lines.append("Reply with exactly one JSON object and nothing else, either")
    lines.append('  {"tool": "<tool name>", "arguments": {<the arguments>}}   to call a tool, or')
    lines.append('  {"answer": "<your final answer>"}   when you can answer.')
    lines.append('Tool results come back as user messages that start with "Result of".')
    if tool_choice == "required":
        lines.append("This turn you must call a tool.")
    return "\n".join(lines)


def _as_text(message: Message, names: dict[str, str]) -> Message:
    """One native-format message rewritten as plain text a template without tools can render."""
    if message.get("role") == "tool":
        name = names.get(str(message.get("tool_call_id")), "the tool")
        return {"role": "user", "content": f"Result of {name}: {message.get('content') or ''}"}
    if message.get("role") == "assistant" and message.get("tool_calls"):
        steps = []
        for call in message["tool_calls"]:
            fn = call.get("function") or {}
            names[str(call.get("id"))] = str(fn.get("name"))
            try:
                args: Any = json.loads(fn.get("arguments") or "{}")
            except json.JSONDecodeError:
                args = fn.get("arguments")
            steps.append(json.dumps({"tool": fn.get("name"), "arguments": args}))
        return {"role": "assistant", "content": "\n".join(steps)}
    return message


def json_messages(messages: list[Message], tools: list[dict[str, Any]], tool_choice: str = "auto") -> list[Message]:
    """The conversation as a model without tool support should see it: rules first, tool turns as text."""
    names: dict[str, str] = {}
    rewritten = [_as_text(m, names) for m in messages]
    rules = instructions(tools, tool_choice)
    if rewritten and rewritten[0].get("role") == "system":
        first = rewritten[0]
        return [{"role": "system", "content": f"{first.get('content') or ''}\n\n{rules}"}, *rewritten[1:]]
    return [{"role": "system", "content": rules}, *rewritten]


def _close(text: str) -> str:
    """Close the strings and brackets left open by an object cut off mid-way (say by max_tokens)."""
    stack: list[str] = []
    in_string = escaped = False
    for ch in text:
        if in_string:
            escaped = not escaped and ch == "\\"
            if ch == '"' and not escaped:
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "{[":
            stack.append("}" if ch == "{" else "]")
        elif ch in "}]" and stack:
            stack.pop()
    tail = text.rstrip().rstrip(",:") if not in_string else text + '"'
    return tail + "".join(reversed(stack))


def _first_object(text: str) -> dict[str, Any] | None:
    """The first JSON object in `text`: whole, embedded in prose, or cut off and closed."""
    start = text.find("{")
    if start < 0:
        return None
    decoder = json.JSONDecoder()
    for candidate in (text[start:], _close(text[start:])):
        try:
            value, _ = decoder.raw_decode(candidate)
        except (json.JSONDecodeError, RecursionError):
            continue
        if isinstance(value, dict):
            return value
    return None


def _pick(obj: dict[str, Any], keys: tuple[str, ...]) -> Any:
    return next((obj[k] for k in keys if obj.get(k) not in (None, "")), None)


def parse_step(content: str | None, reply: ModelReply, turn: int = 0) -> ModelReply:
    """One json-mode reply as a native one: a tool call, or a final answer (prose counts as an answer)."""
    text = _FENCE.sub("", (content or "").strip())
    obj = _first_object(text)
    name = _pick(obj, _NAME_KEYS) if obj else None
    if isinstance(name, str) and obj is not None:
        args = _pick(obj, _ARG_KEYS)
        arguments = args if isinstance(args, str) else json.dumps(args if args is not None else {})
        # a stable id: the same reply in the same place gets the same id (cassettes replay exactly)
        digest = hashlib.sha256(f"{turn}:{text}".encode()).hexdigest()[:10]
        call = ToolCall(f"call_{digest}", name, arguments)
        return ModelReply(None, (call,), "tool_calls", reply.usage)
    answer = _pick(obj, _ANSWER_KEYS) if obj else None
    final = answer if isinstance(answer, str) else text
    return ModelReply(final, (), reply.finish_reason, reply.usage)
