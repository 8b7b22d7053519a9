"""How the offline model answers from what tools other than search returned (lab 01).

A search's passages are read for the sentence that answers the question (`agentlab.models.offline.policy`).
Any other tool's output is reported, by these rules:

- the answer opens with what the goal is *for*: a sub-task goal `For <item>: <task>` (the planner's form,
  `agentlab.models.offline.skills`) is answered `<item>: <tool> -> <output>`, so a reduce step can line the
  items up;
- a goal that asks to summarize (summary, brief, key points) gets each document's key sentences: the lead
  sentence of every paragraph and every sentence that states a figure (extractive, like a news lede);
- a file the goal cites at a line (`path.py:53`) is quoted there: that line and the three before it;
- a long output keeps its telling lines (errors, failures, `file:line` references, `>` and `E` lines of
  a test report), else its first 300 characters; a short one is kept whole.

Left out: paraphrase. Every answer is the tools' own words.
"""

from __future__ import annotations

import re
from typing import Any

from agentlab.text import sentences, stem, tokenize

__all__ = ["outputs_answer"]

_SUMMARY_WORDS = frozenset({"summar", "summary", "brief", "key"})
_TELLING = re.compile(r"^(FAILED|ERROR|E\s|>\s)|Error\b|\S+\.py:\d+|\b\d+ (passed|failed)\b")
_CITED = re.compile(r"(\S+\.py):(\d+)")
_SHORT = 300


def _subject(goal: str) -> str | None:
    found = re.match(r"For (.+?): ", goal)
    return found.group(1) if found else None


def _summarizing(goal: str) -> bool:
    return any(stem(w) in _SUMMARY_WORDS or w in _SUMMARY_WORDS for w in tokenize(goal))


def key_sentences(text: str) -> str:
    """The lead sentence of each paragraph and every sentence stating a figure (headings left out)."""
    kept = []
    for paragraph in re.split(r"\n\s*\n", text):
        paragraph = " ".join(paragraph.split())
        if not paragraph or paragraph.startswith("#"):
            continue
        said = sentences(paragraph)
        kept += said[:1] + [s for s in said[1:] if re.search(r"\d", s)]
    return " ".join(kept)


def _quoted(goal: str, args: dict[str, Any], text: str) -> str | None:
    """The cited line of a file the goal cites at a line, and the three lines before it, numbered."""
    for path, line in _CITED.findall(goal):
        if any(isinstance(v, str) and v.endswith(path.split("/")[-1]) for v in args.values()):
            lines, n = text.splitlines(), int(line)
            window = range(max(1, n - 3), min(len(lines), n) + 1)
            return f"{path} at line {n}: " + " | ".join(f"{i}: {lines[i - 1].strip()}" for i in window)
    return None


def _telling(text: str) -> str:
    if len(text) <= _SHORT:
        return text
    lines = [ln.strip() for ln in text.splitlines() if _TELLING.search(ln.strip())]
    return " | ".join(dict.fromkeys(lines)) if lines else text[:_SHORT]


def outputs_answer(goal: str, outputs: list[tuple[str, dict[str, Any], str]]) -> str | None:
    """The answer the tools' outputs give (rules in the module docstring); None if there are none."""
    if not outputs:
        return None
    if _summarizing(goal):
        body = " ".join(key_sentences(text) for _, _, text in outputs)
    else:
        said = [(name, _quoted(goal, args, text) or _telling(text)) for name, args, text in outputs]
        body = "; ".join(f"{name} -> {text}" for name, text in dict.fromkeys(said))
    subject = _subject(goal)
    return f"{subject}: {body}" if subject else body
