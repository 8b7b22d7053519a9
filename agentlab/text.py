"""Small text helpers shared by the retrieval index, the offline model and the budgets: tokens, terms, sentences.

Identifiers such as `INC-2041`, `NR-1001` or `eu-west` are kept whole (and also split into parts), so a
query for an incident id finds exactly that incident.

Model tokens are counted one way everywhere (`count_tokens`, from above, no tokenizer download): the
budgets reserve by it (`agentlab.memory.budget`), and the offline endpoint reports its usage and cuts its
replies at `max_tokens` by it (`agentlab.models.offline`), so what a step reserves and what it reports agree.
"""

from __future__ import annotations

import functools
import math
import re
from typing import Any

__all__ = [
    "IDENTIFIER",
    "STOPWORDS",
    "content_terms",
    "count_tokens",
    "distinctive_terms",
    "estimate_tokens",
    "identifiers",
    "sentences",
    "stem",
    "tokenize",
    "truncate_tokens",
]

STOPWORDS = frozenset(
    """a about above after again all also am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have
    having he her here hers him his how i if in into is it its itself just me more most my no nor not of
    off on once only or other our out over own same she should so some such than that the their them then
    there these they this those through to too under until up very was we were what when where which
    while who whom why will with would you your yours did does tell give show find please much many""".split()
)

IDENTIFIER = re.compile(r"\b[A-Z]{2,}-\d+\b")
"""An id such as `INC-2041` or `NR-1001`: two or more capitals, a hyphen, digits."""
_TOKEN = re.compile(r"[a-z0-9]+(?:[-.][a-z0-9]+)*")
_CAPITALISED = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z0-9]+\b")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\[])")
_WORD = re.compile(r"\S+")


def tokenize(text: str) -> list[str]:
    """Lower-case word tokens; hyphenated ids are kept whole and also as their parts."""
    tokens: list[str] = []
    for tok in _TOKEN.findall(text.lower()):
        tok = tok.strip(".")
        tokens.append(tok)
        if "-" in tok:
            tokens.extend(p for p in tok.split("-") if p)
    return tokens


def content_terms(text: str) -> list[str]:
    """Tokens that carry meaning (no stopwords), first occurrence order, no repeats."""
    return list(_content_terms(text))


@functools.lru_cache(maxsize=8192)
def _content_terms(text: str) -> tuple[str, ...]:
    """Made once per text: the offline model reads the same goals and documents for every agent."""
    seen: dict[str, None] = {}
    for tok in tokenize(text):
        if tok not in STOPWORDS and len(tok) > 1:
            seen.setdefault(tok, None)
    return tuple(seen)


def identifiers(text: str) -> list[str]:
    """The ids in `text` (`IDENTIFIER`), in order of first occurrence, no repeats."""
    return list(dict.fromkeys(IDENTIFIER.findall(text)))


def distinctive_terms(text: str) -> list[str]:
    """Terms that pin down *which* thing is meant: ids, numbers, region codes and proper names."""
    return list(_distinctive_terms(text))


@functools.lru_cache(maxsize=8192)
def _distinctive_terms(text: str) -> tuple[str, ...]:
    found: dict[str, None] = {}
    for ident in identifiers(text):
        found.setdefault(ident.lower(), None)
    for tok in _TOKEN.findall(text.lower()):
        tok = tok.strip(".")
        if any(ch.isdigit() for ch in tok) or "-" in tok:
            found.setdefault(tok, None)
    for word in _CAPITALISED.findall(text):
        if word.lower() not in STOPWORDS:
            found.setdefault(word.lower(), None)
    return tuple(found)


def sentences(text: str) -> list[str]:
    """Split text into sentences (good enough for the short, plain documents agentlab ships)."""
    out: list[str] = []
    for line in text.splitlines():
        out.extend(s.strip() for s in _SENTENCE.split(line) if s.strip())
    return out


def stem(word: str) -> str:
    """A crude suffix stripper, so "lasted" meets "last", "errors" "error" and "causes" "cause"."""
    if len(word) <= 3 or word[-1].isdigit():
        return word
    for suffix in ("ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    if word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    return word[:-1] if word.endswith("e") and len(word) > 3 else word


def count_tokens(text: str) -> int:
    """Model tokens in `text`, counted from above: the larger of its words and its characters / 4."""
    return max(len(text.split()), math.ceil(len(text) / 4))


def truncate_tokens(text: str, limit: int) -> str:
    """The longest start of `text` that counts at most `limit` tokens: where a model stops at max_tokens."""
    if count_tokens(text) <= limit:
        return text
    cut = text[: 4 * max(limit, 0)]  # now at most `limit` by characters
    words = list(_WORD.finditer(cut))
    return cut[: words[limit - 1].end()] if len(words) > limit else cut  # and at most `limit` words


def estimate_tokens(messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None) -> int:
    """An estimate from above of a chat request's prompt tokens: each message, its calls, the tool schemas."""
    total = 0
    for message in messages:
        total += 4 + count_tokens(str(message.get("content") or ""))
        for call in message.get("tool_calls") or ():
            total += count_tokens(str(call.get("function", {}).get("arguments", "")))
    return total + sum(count_tokens(str(schema)) for schema in tools or ())
