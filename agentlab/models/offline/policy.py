"""The offline model's policy: a seeded rule-based reasoner that reads the conversation (lab 01).

It is what answers when no real model is configured. It sees exactly what a real model sees — the
goal, the tool schemas and every observation so far — and decides like a careful junior analyst:

1. Read the goal; pick the tool whose name and description best fit it and whose arguments it can
   fill from the goal, reading only the tool's schema: enums, patterns, formats, examples, names
   (`agentlab.models.offline.choose` has the rules), so a tool it has never seen is used too.
2. Call it — once per entity when the goal names several (parallel tool calls in one turn).
3. Read the observations. With probability `q` it *recognises* the evidence this turn; if the
   evidence is there, it answers: a search's best sentence, citing it, or what the other tools
   returned (`agentlab.models.offline.answers`: per item, summarized, quoted at a cited line).
   Otherwise it reformulates and acts again.
4. It answers only from evidence. When no tool fits the goal, or every reformulated search has come
   back without evidence, it calls `give_up` saying which tools it has and what it searched
   (`agentlab.wire.GIVE_UP_TOOL`, offered by the loop beside the agent's tools), so the run ends
   "gave_up" — never with an unrelated "answer". After three tool errors in a row it gives up too,
   with the last error as its reason. A client that does not offer `give_up` gets the reason as text.
5. A goal that asks for a fix, with a tool that runs tests after a patch, is repaired by trying small
   patches under the tests (`agentlab.models.offline.repair`).

So each turn that has not yet finished succeeds with probability q, and the number of
act-observe turns T is geometric with E[T] = 1/q (when the first search finds the evidence).
Every random draw comes from a generator seeded by (seed, the conversation so far), so a given
conversation always gets the same reply, whatever order or process asks.

Like a real model, it stops writing at the request's `max_tokens` (`within`): the reply is cut where
the tokens run out, counted by `agentlab.text.count_tokens`, and says so (finish_reason "length").

Left out: real language understanding. Answers are extractive (the best-matching sentence).
"""

from __future__ import annotations

import functools
import hashlib
import json
import random
import re
from dataclasses import dataclass, field
from typing import Any

from agentlab.errors import UsageError
from agentlab.latency import Latency
from agentlab.models.offline.answers import outputs_answer
from agentlab.models.offline.choose import QUERY_PARAMS, choose, is_search, tool_names
from agentlab.models.offline.repair import repair_step
from agentlab.models.offline.skills import offline_plan, offline_reduce, synthesize
from agentlab.text import (
    content_terms,
    count_tokens,
    distinctive_terms,
    identifiers,
    sentences,
    stem,
    tokenize,
    truncate_tokens,
)
from agentlab.wire import GIVE_UP

__all__ = ["Decision", "PolicyConfig", "decide", "within"]

_GIVE_UP_AFTER_ERRORS = 3
_QUERY_VARIANTS = 3  # the searches `agentlab.models.offline.choose` reformulates before it has tried them all
# the few paraphrases the offline model knows (stemmed): "root cause" is also "traced to", and so on
_ALIASES = {"caus": ("trac",), "last": ("duration",), "uptim": ("availability",), "availability": ("uptim",)}


@dataclass(frozen=True)
class PolicyConfig:
    """The offline model's knobs; all behaviour is a pure function of these and the conversation."""

    seed: int = 0
    q: float = 1.0
    """Probability that a turn recognises the evidence it has (the course's per-turn success q)."""
    latency: Latency = field(default_factory=Latency)
    """How long one model step takes (the server sleeps this long before replying)."""
    malformed_rate: float = 0.0
    """Probability that a tool-calling step emits a broken call (bad JSON, unknown tool, bad types)."""

    def __post_init__(self) -> None:
        if not 0.0 < self.q <= 1.0:
            raise UsageError(f"q must be in (0, 1], got {self.q}")
        if not 0.0 <= self.malformed_rate <= 1.0:
            raise UsageError(f"malformed_rate must be in [0, 1], got {self.malformed_rate}")


@dataclass(frozen=True)
class Decision:
    """One model step: final `content`, or `tool_calls` as (name, arguments-json) pairs; and its latency."""

    content: str | None
    tool_calls: tuple[tuple[str, str], ...]
    latency: float
    cut: bool = False
    """True when the reply stopped at the request's max_tokens (finish_reason "length")."""

    @property
    def tokens(self) -> int:
        """The completion tokens it writes: its content and its calls' arguments."""
        return count_tokens(self.content or "") + sum(count_tokens(arguments) for _, arguments in self.tool_calls)


def within(decision: Decision, max_tokens: int | None) -> Decision:
    """The decision as written by a model that stops at `max_tokens` (None: no limit): its content, then its
    calls' arguments, cut where the tokens run out. A call cut short has broken JSON, as from a real server."""
    if max_tokens is None or decision.tokens <= max_tokens:
        return decision
    content = None if decision.content is None else truncate_tokens(decision.content, max_tokens)
    left = max_tokens - count_tokens(content or "")
    calls = []
    for name, arguments in decision.tool_calls:
        kept = truncate_tokens(arguments, left)
        if not kept:
            break
        calls.append((name, kept))
        left -= count_tokens(kept)
    return Decision(content, tuple(calls), decision.latency, cut=True)


@dataclass
class _Reading:
    """What the policy extracts from the conversation before deciding."""

    goal: str
    turns: int = 0
    passages: list[str] = field(default_factory=list)
    """What searches returned, paragraph by paragraph (the evidence an answer is read from)."""
    outputs: list[tuple[str, dict[str, Any], str]] = field(default_factory=list)
    """What other tools returned: (tool, its arguments, its output)."""
    searches: list[str] = field(default_factory=list)
    """Each search made, as "tool 'query'" (what a refusal says it tried)."""
    trailing_errors: list[str] = field(default_factory=list)


def _read(messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> _Reading:
    goal = next((str(m.get("content") or "") for m in messages if m.get("role") == "user"), "")
    reading = _Reading(goal=goal)
    searching = {str((t.get("function") or {}).get("name")) for t in tools if is_search(t.get("function") or {})}
    made: dict[str, tuple[str, dict[str, Any]]] = {}
    for m in messages:
        if m.get("role") == "assistant" and m.get("tool_calls"):
            reading.turns += 1
            for c in m["tool_calls"]:
                fn = c.get("function") or {}
                made[str(c.get("id"))] = (str(fn.get("name")), _loaded(fn.get("arguments")))
        elif m.get("role") == "tool":
            text = str(m.get("content") or "")
            if text.startswith("error:"):
                reading.trailing_errors.append(text)
                continue
            reading.trailing_errors.clear()
            name, args = made.get(str(m.get("tool_call_id")), ("?", {}))
            if name in searching:
                query = " ".join(str(v) for k, v in args.items() if k.lower() in QUERY_PARAMS)
                reading.searches.append(f"{name} for {query!r}")
                reading.passages.extend(p.strip() for p in re.split(r"\n\s*\n", text) if p.strip())
            else:
                reading.outputs.append((name, args, text))
    return reading


def _loaded(arguments: Any) -> dict[str, Any]:
    try:
        loaded = json.loads(arguments) if isinstance(arguments, str) else arguments
    except ValueError:
        return {}
    return loaded if isinstance(loaded, dict) else {}


def _rng(config: PolicyConfig, messages: list[dict[str, Any]], salt: str = "") -> random.Random:
    digest = hashlib.sha256(json.dumps([config.seed, salt, messages], sort_keys=True, default=str).encode())
    return random.Random(int.from_bytes(digest.digest()[:8], "big"))


def _entities(goal: str) -> list[str]:
    return identifiers(goal)


def _without_entities(goal: str) -> str:
    """The goal's content words minus its ids (and their parts): what is asked about each entity."""
    ids = set(tokenize(" ".join(_entities(goal))))
    return " ".join(t for t in content_terms(goal) if t not in ids)


@functools.lru_cache(maxsize=4096)
def _passage(
    passage: str,
) -> tuple[frozenset[str], frozenset[str], tuple[tuple[str, frozenset[str], frozenset[str]], ...]]:
    """A passage as `_evidence` reads it: its terms, its title's terms, and each sentence with its words and
    their stems. Made once per passage text: a thousand agents read the same few documents."""
    title = passage.splitlines()[0] if passage.startswith("[") else ""
    read = []
    for sentence in sentences(passage[len(title) :]):
        words = frozenset(tokenize(sentence))
        read.append((sentence, words, frozenset(stem(w) for w in words)))
    return frozenset(tokenize(passage)), frozenset(tokenize(title)), tuple(read)


def _evidence(goal: str, passages: list[str]) -> tuple[str, str] | None:
    """The best answer sentence and its passage, among passages that mention every distinctive term.

    Distinctive terms (ids, names, weeks, regions) pick the document; the goal's other words pick the
    sentence inside it, so "What was the root cause of INC-2041?" lands on the root-cause sentence.
    """
    must = set(distinctive_terms(goal))
    plain = {stem(t) for t in content_terms(goal) if t not in set(tokenize(" ".join(must)))}
    plain |= {alias for t in plain for alias in _ALIASES.get(t, ())}
    best: tuple[float, str, str] | None = None
    for rank, passage in enumerate(passages):
        terms, title_terms, read = _passage(passage)
        if not must <= terms:
            continue
        in_title = must & title_terms
        for sentence, words, stems in read:
            overlap = len(stems & plain)
            # a sentence that only restates the document's identity (its title's terms) says little
            fresh = len((words & must) - in_title) - len(words & in_title)
            if plain and not overlap:
                continue  # a sentence that shares nothing with the question does not answer it
            score = overlap + 0.25 * fresh + 0.5 * len(in_title) - 0.01 * rank
            if best is None or score > best[0]:
                best = (score, sentence, passage)
    return None if best is None else (best[1], best[2])


def _answer(goal: str, reading: _Reading) -> str | None:
    """An answer built from the evidence, or None if the observations do not support one yet."""
    parts = _entities(goal) if len(_entities(goal)) > 1 else [goal]
    found = []
    for part in parts:
        sub_goal = part if part == goal else f"{part} {_without_entities(goal)}"
        hit = _evidence(sub_goal, reading.passages)
        if hit is None:
            return None
        sentence, passage = hit
        cite = re.match(r"\[([^\]]+)\]", passage)
        found.append(sentence + (f" [{cite.group(1)}]" if cite and cite.group(0) not in sentence else ""))
    return " ".join(found)


def _corrupt(name: str, args: dict[str, Any], rng: random.Random) -> tuple[str, str]:
    """A broken version of a call, as real models sometimes emit."""
    kind = rng.choice(["bad_json", "unknown_tool", "bad_types"])
    if kind == "bad_json":
        return name, json.dumps(args)[:-1]
    if kind == "unknown_tool":
        return f"{name}_v2", json.dumps(args)
    return name, json.dumps({k: [v] for k, v in args.items()} or {"unexpected": True})


def decide(
    config: PolicyConfig,
    messages: list[dict[str, Any]],
    tools: list[dict[str, Any]] | None = None,
    tool_choice: Any = "auto",
) -> Decision:
    """Read the conversation and decide the next step (see the module docstring for the rules)."""
    tools = tools or []
    rng = _rng(config, messages)
    latency = config.latency.sample(_rng(config, messages, "latency"))
    goal = next((str(m.get("content") or "") for m in messages if m.get("role") == "user"), "")
    supervising = _supervisor_step(tools, goal, latency)
    if supervising is not None:
        return supervising
    reading = _read(messages, tools)
    found = _answer(reading.goal, reading) if reading.passages else None
    if tool_choice == "none" or not tools:
        fallback = found or outputs_answer(reading.goal, reading.outputs) or synthesize(reading.goal)
        return Decision(fallback or f"I could not find an answer to: {reading.goal}", (), latency)
    if len(reading.trailing_errors) >= _GIVE_UP_AFTER_ERRORS:
        return _give_up(tools, f"the tools keep failing ({reading.trailing_errors[-1]})", latency)
    repairing = repair_step(tools, reading.goal, reading.outputs)
    if repairing is not None:
        return _repair_decision(tools, repairing, latency)
    recognised = rng.random() < config.q
    if reading.turns and not reading.trailing_errors and recognised:
        if found:
            return Decision(found, (), latency)
        if reading.outputs and not reading.searches:
            return Decision(outputs_answer(reading.goal, reading.outputs), (), latency)
    if found is None and reading.searches and not reading.outputs and reading.turns >= _QUERY_VARIANTS:
        return _give_up(tools, _refusal(tools, reading), latency)
    choice = choose(tools, reading.goal, reading.turns + 1)
    if choice is None:
        return _give_up(tools, _refusal(tools, reading), latency)
    encoded = [(choice.name, json.dumps(a)) for a in choice.calls]
    if rng.random() < config.malformed_rate:
        encoded[0] = _corrupt(choice.name, choice.calls[0], rng)
    return Decision(None, tuple(encoded), latency)


def _refusal(tools: list[dict[str, Any]], reading: _Reading) -> str:
    """Why the model stops without an answer: the tools it has, and what it searched."""
    names = ", ".join(tool_names(tools)) or "none"
    searched = "; ".join(dict.fromkeys(reading.searches))
    tried = f"I searched {searched} and found nothing that answers it" if searched else "no tool fits it"
    return f"I cannot answer this from my tools and data: {tried}. My tools: {names}."


def _repair_decision(tools: list[dict[str, Any]], step: tuple[str, Any], latency: float) -> Decision:
    kind, what = step
    if kind == "calls":
        return Decision(None, tuple((name, json.dumps(args)) for name, args in what), latency)
    if kind == "answer":
        return Decision(str(what), (), latency)
    return _give_up(tools, str(what), latency)


def _give_up(tools: list[dict[str, Any]], reason: str, latency: float) -> Decision:
    """Stop without an answer: a `give_up` call when the client offers it, else the reason as plain text."""
    if any((t.get("function") or {}).get("name") == GIVE_UP for t in tools):
        return Decision(None, ((GIVE_UP, json.dumps({"reason": reason})),), latency)
    return Decision(f"I could not finish: {reason}", (), latency)


def _supervisor_step(tools: list[dict[str, Any]], goal: str, latency: float) -> Decision | None:
    """The supervisor's planning and reducing steps, when offered their tools
    (agentlab.prompts, agentlab.models.offline.skills)."""
    names = {str((t.get("function") or {}).get("name")) for t in tools}
    if "make_plan" in names:
        return Decision(None, (("make_plan", json.dumps(offline_plan(goal))),), latency)
    if "finish" in names:
        name, args = offline_reduce(goal)
        return Decision(None, ((name, json.dumps(args)),), latency)
    return None
