"""How the offline model picks a tool it may never have seen, and fills its arguments from the goal (lab 01).

A learner who plugs in a tool (an MCP server, a function of their own) sees it used: the offline model reads
only the tool's name, description and JSON schema, as a real model would. The rules:

1. **Fill** each parameter from the goal, by the first rule that applies to it:
   - `enum`: the value the goal names (all of its words appear in the goal, a file's extension aside);
   - ids shaped like the schema's examples (`examples`, or "e.g. NR-1001" / "'Europe/London'" in its
     description): the goal's tokens of the same shape, same prefix for ids like `NR-1001` (several: one
     call each, in parallel); a parameter with examples takes nothing of another shape;
   - `pattern`: the first match in the goal; `format` (date-time, date, time, email, uri): likewise;
   - a search-like name (query, q, question, text, topic, search): the goal's words, reformulated by turn;
   - a code-like name (code, expression, source, program): the goal's arithmetic, if it has some (specific);
   - an id-like name (…id, …sku, …key, incident) with no examples: the goal's ids, one call each;
   - k / limit / top_k: 5 per turn, at most 15; another number: the goal's numbers in order (specific);
   - otherwise its `default`, if it has one; else it stays empty.
   A tool with an empty required parameter cannot be called.
2. **Choose** among the callable tools the most relevant: the stemmed words its name and description share
   with the goal, plus 2 for each argument filled from something specific (an enum value, an example's
   shape, a pattern, a format, an id). A tool that does not search must share something with the goal
   (relevance > 0); a search tool may be called for any question (searching is how a question starts).
3. No callable tool fits: the model says so, naming the tools it has (`agentlab.models.offline.policy`).

Left out: nested objects and arrays as arguments, and any understanding beyond matching words and shapes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from agentlab.text import IDENTIFIER, content_terms, distinctive_terms, stem, tokenize
from agentlab.wire import GIVE_UP

__all__ = ["QUERY_PARAMS", "Choice", "choose", "fill", "is_search", "tool_names"]

QUERY_PARAMS = ("query", "q", "question", "text", "topic", "search")
_CODE_PARAMS = ("code", "expression", "source", "program")
_EXPR = re.compile(r"[-+*/().\d\s]{3,}")
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?")
_QUOTED = re.compile(r"['\"`]([^'\"`\s]{2,})['\"`]")
_EG = re.compile(r"\be\.g\.,?\s*([^\s,;)]+)", re.IGNORECASE)
_FORMATS = {
    "date-time": r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2})?(?:Z|[+-]\d{2}:?\d{2})?",
    "date": r"\d{4}-\d{2}-\d{2}",
    "time": r"\b\d{1,2}:\d{2}(?::\d{2})?\b",
    "email": r"[\w.+-]+@[\w-]+\.[\w.-]+",
    "uri": r"\bhttps?://\S+",
}


@dataclass(frozen=True)
class Choice:
    """The tool chosen for a turn and its argument sets (one call per set)."""

    name: str
    calls: tuple[dict[str, Any], ...]


def tool_names(tools: list[dict[str, Any]]) -> list[str]:
    """The names of the tools offered, `give_up` left out (a way to stop, not a way to work)."""
    return [str((t.get("function") or {}).get("name")) for t in tools if _name(t) not in (GIVE_UP, "")]


def _name(entry: dict[str, Any]) -> str:
    return str((entry.get("function") or {}).get("name") or "")


def is_search(fn: dict[str, Any]) -> bool:
    """A tool that takes a free-text query (it can be asked anything)."""
    props = (fn.get("parameters") or {}).get("properties") or {}
    return any(p.lower() in QUERY_PARAMS for p in props)


def _shape(token: str) -> str:
    """A token's shape: words (joined by _ or spaces) become A, digit runs 9, punctuation stays."""
    return re.sub(r"\d+", "9", re.sub(r"[A-Za-z]+(?:[_ ][A-Za-z]+)*", "A", token))


def _examples(prop: dict[str, Any]) -> list[str]:
    """The example values a parameter's schema gives: `examples`, quoted values and "e.g. X" in its text."""
    found = [str(e) for e in prop.get("examples") or [] if isinstance(e, str | int | float)]
    about = str(prop.get("description") or "")
    found += _QUOTED.findall(about) + [e.rstrip(".") for e in _EG.findall(about)] + IDENTIFIER.findall(about)
    return [e for e in dict.fromkeys(found) if _shape(e) not in ("A", "9")]  # a bare word says nothing of shape


def _goal_tokens(goal: str) -> list[str]:
    return [t.strip("?,.;:!()[]'\"") for t in goal.split()]


def _like_examples(goal: str, examples: list[str]) -> list[str]:
    """The goal's tokens shaped like an example (an id like NR-1001 must also share its prefix)."""
    found = []
    for token in _goal_tokens(goal):
        for example in examples:
            if IDENTIFIER.fullmatch(example):
                same = IDENTIFIER.fullmatch(token) is not None and token.split("-")[0] == example.split("-")[0]
            else:
                same = bool(token) and _shape(token) == _shape(example)
            if same:
                found.append(token)
                break
    return list(dict.fromkeys(found))


_EXTENSIONS = frozenset({"txt", "md", "py", "json", "jsonl", "csv", "pdf", "html"})


def _words(text: str) -> set[str]:
    """Words and numbers, split at any punctuation (a file's extension left out), stemmed."""
    return {stem(w) for w in re.findall(r"[a-z]+|\d+", text.lower()) if w not in _EXTENSIONS}


def _enum_value(goal: str, values: list[Any]) -> Any:
    """The enum value the goal names: all its words in the goal (`stack_trace.txt`: "stack" and "trace");
    the value with the most words wins."""
    words = _words(goal)
    named = [v for v in values if _words(str(v)) and _words(str(v)) <= words]
    return max(named, key=lambda v: len(_words(str(v))), default=None)


REDO_MARK = re.compile(r" \(round \d+\)$")
"""The mark the offline planner puts on a redone sub-task's goal (`skills._again`): not a search term."""


def _query(goal: str, turn: int) -> str:
    """Reformulate the search by turn: all content words, then the distinctive ones, then the rest."""
    terms = content_terms(REDO_MARK.sub("", goal))
    distinctive = set(distinctive_terms(goal))
    special = [t for t in terms if t in distinctive]
    plain = [t for t in terms if t not in special]
    variants = [terms, special or terms, plain or terms]
    return " ".join(variants[(turn - 1) % len(variants)])


@dataclass
class _Filled:
    base: dict[str, Any]
    fan: tuple[str, list[str]] | None = None  # a parameter filled once per value
    specific: int = 0  # arguments filled from something specific in the goal


def _fill_specific(name: str, prop: dict[str, Any], goal: str, filled: _Filled) -> bool:
    """Fill a parameter from something specific in the goal (an enum value, an example's shape, a pattern,
    a format); False if none of those rules applies to it."""
    if prop.get("enum"):
        value = _enum_value(goal, list(prop["enum"]))
        if value is not None:
            filled.base[name], filled.specific = value, filled.specific + 1
        return True
    examples = _examples(prop)
    shaped = _like_examples(goal, examples)
    if shaped:
        if len(shaped) > 1 and filled.fan is None:
            filled.fan = (name, shaped)
        else:
            filled.base[name] = shaped[0]
        filled.specific += 1
    if examples:  # the examples say what fits: an id of another shape does not (INC-2108 is not a SKU)
        return True
    for regex in (prop.get("pattern"), _FORMATS.get(str(prop.get("format")))):
        found = re.search(str(regex).strip("^$"), goal) if regex else None
        if found:
            filled.base[name], filled.specific = found.group(0), filled.specific + 1
            return True
    return False


def _fill_one(name: str, prop: dict[str, Any], goal: str, turn: int, filled: _Filled, numbers: list[float]) -> None:
    """Fill one parameter by the first rule of the module docstring that applies."""
    lname, kind = name.lower(), prop.get("type")
    if _fill_specific(name, prop, goal, filled):
        return
    if lname in QUERY_PARAMS:
        filled.base[name] = _query(goal, turn)
    elif lname in _CODE_PARAMS:
        expr = max((e.strip() for e in _EXPR.findall(goal)), key=len, default="")
        if expr and any(op in expr for op in "+-*/"):
            filled.base[name] = f"print({expr})" if lname == "code" else expr
            filled.specific += 1
    elif (lname.endswith(("id", "sku", "key")) or lname == "incident") and IDENTIFIER.search(goal):
        ids = list(dict.fromkeys(IDENTIFIER.findall(goal)))
        if filled.fan is None and len(ids) > 1:
            filled.fan = (name, ids)
        else:
            filled.base[name] = ids[0]
        filled.specific += 1
    elif lname in ("k", "limit", "top_k") and kind == "integer":
        filled.base[name] = 5 * min(turn, 3)
    elif kind in ("integer", "number") and numbers:
        value = numbers.pop(0)
        filled.base[name] = int(value) if kind == "integer" and value.is_integer() else value
        filled.specific += 1


def fill(fn: dict[str, Any], goal: str, turn: int) -> tuple[list[dict[str, Any]], int] | None:
    """Argument sets for one tool filled from the goal, and how many came from something specific;
    None if a required argument cannot be filled."""
    params = fn.get("parameters") or {}
    props: dict[str, Any] = params.get("properties") or {}
    numbers = [float(n) for n in _NUMBER.findall(IDENTIFIER.sub(" ", goal))]
    filled = _Filled({})
    for name, prop in props.items():
        _fill_one(name, prop if isinstance(prop, dict) else {}, goal, turn, filled, numbers)
    fan_name = filled.fan[0] if filled.fan else None
    if any(r not in filled.base and r != fan_name for r in params.get("required") or []):
        return None
    if filled.fan is None:
        return [filled.base], filled.specific
    return [{**filled.base, filled.fan[0]: value} for value in filled.fan[1]], filled.specific


def choose(tools: list[dict[str, Any]], goal: str, turn: int) -> Choice | None:
    """The calls for this turn (rule 2 of the module docstring), or None if no callable tool fits."""
    words = {stem(w) for w in content_terms(goal)}
    ranked = []
    for entry in tools:
        fn = entry.get("function") or {}
        if _name(entry) in (GIVE_UP, ""):
            continue
        made = fill(fn, goal, turn)
        if made is None:
            continue
        arg_sets, specific = made
        about = {stem(w) for w in tokenize(f"{fn['name'].replace('_', ' ')} {fn.get('description', '')}")}
        score = len(words & about) + 2 * specific
        if score > 0 or is_search(fn):
            ranked.append((score, str(fn["name"]), arg_sets))
    if not ranked:
        return None
    _, name, arg_sets = max(ranked, key=lambda r: r[0])
    ids = list(dict.fromkeys(IDENTIFIER.findall(goal)))
    if len(arg_sets) == 1 and len(ids) > 1 and "query" in arg_sets[0]:
        # a search for several entities: one query per entity, run in parallel
        rest = " ".join(t for t in content_terms(goal) if t not in set(tokenize(" ".join(ids))))
        arg_sets = [{**arg_sets[0], "query": f"{e} {rest}"} for e in ids]
    return Choice(name, tuple(arg_sets))
