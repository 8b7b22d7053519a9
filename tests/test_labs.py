"""The labs the code points to exist: every "lab NN" named in a module docstring is a notebook labs/NN_*.ipynb."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LABS = ROOT / "labs"
# "lab 03", "labs 01 and 03", "labs 01-03", "labs 02, 03 and 04"
MENTION = re.compile(r"\blabs?\s+(\d\d(?:\s*(?:,|and|or|-|–|to)\s*\d\d)*)")


def _numbers(text: str) -> set[str]:
    found: set[str] = set()
    for match in MENTION.finditer(text):
        group = match.group(1)
        for low, high in re.findall(r"(\d\d)\s*(?:-|–|to)\s*(\d\d)", group):
            found.update(f"{n:02d}" for n in range(int(low), int(high) + 1))
        found.update(re.findall(r"\d\d", group))
    return found


def _mentions() -> dict[str, list[str]]:
    """Lab number -> the modules whose docstring names it."""
    named: dict[str, list[str]] = {}
    for path in sorted((ROOT / "agentlab").rglob("*.py")):
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        for number in _numbers(doc):
            named.setdefault(number, []).append(str(path.relative_to(ROOT)))
    return named


MENTIONS = _mentions()


def test_mentions_are_read_the_way_docstrings_write_them() -> None:
    assert _numbers("(labs 01 and 03; Figure 40.6.1)") == {"01", "03"}
    assert _numbers("Latency distributions (labs 01-03)") == {"01", "02", "03"}
    assert _numbers("the lab 04 journal, labs 02, 03 and 04") == {"02", "03", "04"}
    assert _numbers("no lab here, 40.6.2") == set()
    assert {"00", "01", "02", "03", "04"} <= set(MENTIONS)


@pytest.mark.parametrize("number", sorted(MENTIONS))
def test_every_lab_a_module_names_exists(number: str) -> None:
    found = sorted(LABS.glob(f"{number}_*.ipynb"))
    assert len(found) == 1, f"lab {number} is named by {', '.join(MENTIONS[number])} but labs/ has {found}"
